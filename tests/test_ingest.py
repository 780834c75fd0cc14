"""Ingestion and the index: offsets, incremental updates, atomic writes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa import index as store
from qa.config import ChunkSettings
from qa.errors import EmptyCorpusError, IndexMismatchError, IndexMissingError
from qa.ingestion import ingest
from qa.text import fold


def _open(index_dir: Path, embedder) -> store.Index:
    return store.open_index(index_dir, embedder.name, embedder.sha256)


def test_every_chunk_points_at_its_exact_text(seed_index: Path, embedder) -> None:
    idx = _open(seed_index, embedder)
    assert len(idx.documents) == 5
    assert len(idx.chunks) == len(idx.store) > 20
    assert idx.store.ids() == [c.chunk_id for c in idx.chunks]
    for chunk in idx.chunks:
        doc = idx.documents[chunk.doc_id]
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.source == doc.source and chunk.title == doc.title
    manifest = idx.manifest
    assert manifest.embedder.name == "all-MiniLM-L6-v2"
    assert manifest.chunking == ChunkSettings()
    assert manifest.store.index == "IndexFlatIP" and manifest.store.vectors == len(idx.chunks)
    assert manifest.counts.documents == 5


def test_chunks_stay_within_the_token_budget(seed_index: Path, embedder) -> None:
    idx = _open(seed_index, embedder)
    limit = ChunkSettings().chunk_tokens
    assert max(embedder.count_tokens(c.text) for c in idx.chunks) <= limit


def test_boilerplate_is_not_indexed(seed_index: Path, embedder) -> None:
    text = " ".join(c.text for c in _open(seed_index, embedder).chunks)
    for junk in ("Continue Reading", "#mentalhealth", "Jonny Richards"):
        assert junk not in text


def test_reingest_unchanged_does_nothing(corpus: Path, tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "index"
    first = ingest(corpus, index_dir, embedder, ChunkSettings())
    assert first.wrote and len(first.added) == 5
    gen = store.current_generation(index_dir)
    again = ingest(corpus, index_dir, embedder, ChunkSettings())
    assert not again.wrote and len(again.unchanged) == 5
    assert store.current_generation(index_dir) == gen


def test_changed_document_replaces_its_chunks_and_deleted_one_leaves(
    corpus: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings())
    before = _open(index_dir, embedder)
    untouched = {c.chunk_id for c in before.chunks if c.source.startswith("000_")}
    dantrolene = corpus / "003_ff34f6fd0d9cc91e.txt"
    dantrolene.write_text(
        "Dantrolene Update\n\nDantrolene sodium capsules are stored at room temperature "
        "away from moisture, according to this updated leaflet.\n"
    )
    (corpus / "002_9f9ee1f17dced111.txt").unlink()
    report = ingest(corpus, index_dir, embedder, ChunkSettings())
    assert report.updated == ["003_ff34f6fd0d9cc91e.txt"]
    assert report.removed == ["002_9f9ee1f17dced111.txt"]
    after = _open(index_dir, embedder)
    texts = [c.text for c in after.chunks if c.source.startswith("003_")]
    assert texts and all("malignant hyperthermia" not in t for t in texts)
    assert any("room temperature" in t for t in texts)
    assert not any(c.source.startswith("002_") for c in after.chunks)
    assert untouched <= {c.chunk_id for c in after.chunks}  # reused, not re-embedded


def test_interrupted_ingest_leaves_previous_index_usable(
    corpus: Path, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings())
    before = _open(index_dir, embedder)
    (corpus / "005_new.txt").write_text("Aspirin Leaflet\n\nAspirin thins the blood and "
                                        "can upset the stomach when taken without food.\n")

    def ctrl_c(*_: object) -> None:  # Ctrl-C after the vectors are on disk, before the swap
        raise KeyboardInterrupt

    import faiss

    monkeypatch.setattr(faiss, "write_index", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        ingest(corpus, index_dir, embedder, ChunkSettings())
    monkeypatch.undo()
    survivor = _open(index_dir, embedder)
    assert [c.chunk_id for c in survivor.chunks] == [c.chunk_id for c in before.chunks]
    report = ingest(corpus, index_dir, embedder, ChunkSettings())
    assert report.added == ["005_new.txt"]
    assert len(list(index_dir.glob("gen-*"))) == 1  # the half-written generation is gone


def test_unreadable_file_is_skipped_and_reported(corpus: Path, tmp_path: Path, embedder) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01")
    report = ingest(corpus, tmp_path / "index", embedder, ChunkSettings())
    assert list(report.skipped) == ["broken.pdf"]
    assert "broken.pdf" in report.skipped["broken.pdf"]
    assert len(report.added) == 5


def test_empty_folder_is_a_clear_error(tmp_path: Path, embedder) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyCorpusError, match="no supported documents"):
        ingest(tmp_path / "empty", tmp_path / "index", embedder, ChunkSettings())
    with pytest.raises(EmptyCorpusError, match="does not exist"):
        ingest(tmp_path / "missing", tmp_path / "index", embedder, ChunkSettings())


def test_index_from_another_embedder_is_refused(
    corpus: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings())
    manifest_path = store.current_generation(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["embedder"]["name"] = "all-mpnet-base-v2"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="all-mpnet-base-v2"):
        _open(index_dir, embedder)
    with pytest.raises(IndexMissingError):
        _open(tmp_path / "nowhere", embedder)


def test_near_duplicate_chunks_are_dropped(corpus: Path, tmp_path: Path, embedder) -> None:
    para = ("Our pharmacy stocks zolpidem tablets in two strengths and reminds customers "
            "to store them in a dry place below room temperature.")
    near = para.replace("reminds customers", "reminds its customers")
    assert fold(near) != fold(para)  # not an exact copy: only the cosine can catch it
    # Scraped copies of one page: same title, the paragraph repeated or lightly edited.
    (corpus / "copy_a.txt").write_text(f"Pharmacy Notice\n\n{para}\n")
    (corpus / "copy_b.txt").write_text(f"Pharmacy Notice\n\n{near}\n")
    (corpus / "copy_c.txt").write_text(f"Pharmacy Notice\n\n{para}\n")  # an exact copy
    report = ingest(corpus, tmp_path / "index", embedder, ChunkSettings())
    assert report.near_duplicates == 2
    idx = _open(tmp_path / "index", embedder)
    kept = [c for c in idx.chunks if "zolpidem" in c.text]
    assert [c.source for c in kept] == ["copy_a.txt"]  # the first copy wins
    assert np.allclose(np.linalg.norm(idx.store.vectors_for(idx.store.ids()), axis=1), 1.0,
                       atol=1e-4)


def test_greedy_unique_matches_brute_force_across_blocks() -> None:
    from qa.faiss_store import greedy_unique

    rng = np.random.default_rng(3)
    base = rng.normal(size=(12, 16)).astype(np.float32)
    vectors = np.repeat(base, 5, axis=0) + rng.normal(0, 0.05, (60, 16)).astype(np.float32)
    vectors = vectors[rng.permutation(60)]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kept: list[int] = []
    for i in range(len(vectors)):  # the definition: no earlier kept row as similar as 0.95
        if all(float(vectors[i] @ vectors[j]) < 0.95 for j in kept):
            kept.append(i)
    assert 8 <= len(kept) <= 20
    for block in (1, 3, 7, 256):
        assert np.flatnonzero(greedy_unique(vectors, 0.95, block=block)).tolist() == kept
