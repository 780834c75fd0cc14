"""The persisted BM25 index: loads without a rebuild, ranks as the in-memory one, follows deltas."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.config import ChunkSettings, RetrievalSettings
from qa.index import open_index
from qa.ingestion import ingest
from qa.keyword import FOLDER, KeywordIndex, keyword_text, save_keyword_index
from qa.retrieval import Retriever

from .conftest import STORE

QUERIES = ("ketamine depression dose", "dantrolene malignant hyperthermia", "store capsules",
           "side effects nausea", "antidepressant withdrawal", "zzzunknownword")


def test_persisted_index_ranks_exactly_as_one_built_in_memory(seed_index: Path,
                                                              embedder) -> None:
    index = open_index(seed_index, embedder.name, embedder.sha256)
    assert (index.path / FOLDER).is_dir()  # written by ingestion with the generation
    loaded = KeywordIndex.for_chunks(index.chunks, index.path)
    built = KeywordIndex.build([keyword_text(c) for c in index.chunks])
    assert loaded._base_rows is not None and built._base_rows is None
    for query in QUERIES:
        assert loaded.search(query, 30) == built.search(query, 30)
    persisted = Retriever(index, embedder, RetrievalSettings())
    index.path = index.path / "elsewhere"  # no persisted index there: built in memory
    rebuilt = Retriever(index, embedder, RetrievalSettings())
    for query in QUERIES[:5]:
        assert ([p.chunk.chunk_id for p in persisted.retrieve(query, 10)]
                == [p.chunk.chunk_id for p in rebuilt.retrieve(query, 10)])


def test_added_rows_are_scored_with_the_bm25_formula(seed_index: Path, embedder,
                                                     tmp_path: Path) -> None:
    chunks = open_index(seed_index, embedder.name, embedder.sha256).chunks
    save_keyword_index(chunks, tmp_path)
    built = KeywordIndex.build([keyword_text(c) for c in chunks])
    # Every document marked changed: all rows are scored by our formula with the same
    # statistics bm25s used, so the scores must be bm25s's own.
    everything = KeywordIndex.for_chunks(chunks, tmp_path,
                                         changed_docs=frozenset(c.doc_id for c in chunks))
    assert everything._base_rows is not None and (everything._base_rows == -1).all()
    scored = 0
    for query in QUERIES:
        tokens = everything._analyse(query)
        ours, theirs = everything.scores(tokens), built.scores(tokens)
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert np.allclose(ours, theirs, atol=1e-5)
            scored += 1
    assert scored >= 3


def test_a_delta_is_searched_and_a_dropped_document_is_not(corpus: Path, tmp_path: Path,
                                                           embedder) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    (corpus / "005_new.txt").write_text("Aspirin Leaflet\n\nAspirin thins the blood and "
                                        "can upset the stomach when taken without food.\n")
    dropped = sorted(corpus.glob("00[0-4]_*.txt"))[0]
    dropped_id = dropped.stem
    dropped.unlink()
    report = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert report.delta
    index = open_index(index_dir, embedder.name, embedder.sha256)
    keyword = KeywordIndex.for_chunks(index.chunks, index.path, changed_docs=index.delta_docs)
    top = keyword.search("aspirin stomach blood", 5)
    assert top and index.chunks[top[0]].source == "005_new.txt"
    for query in QUERIES:
        assert all(index.chunks[i].doc_id != dropped_id for i in keyword.search(query, 50))
    assert len(keyword.search("ketamine", 50)) > 0
