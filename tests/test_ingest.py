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

from .conftest import STORE


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
    exact = {"faiss": "IndexFlatIP", "milvus": "FLAT"}[STORE.backend]
    assert manifest.store.index == exact and manifest.store.vectors == len(idx.chunks)
    assert manifest.store.backend == STORE.backend
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
    first = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert first.wrote and len(first.added) == 5
    gen = store.current_generation(index_dir)
    again = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert not again.wrote and len(again.unchanged) == 5
    assert store.current_generation(index_dir) == gen


def test_changed_document_replaces_its_chunks_and_deleted_one_leaves(
    corpus: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    before = _open(index_dir, embedder)
    untouched = {c.chunk_id for c in before.chunks if c.source.startswith("000_")}
    dantrolene = corpus / "003_ff34f6fd0d9cc91e.txt"
    dantrolene.write_text(
        "Dantrolene Update\n\nDantrolene sodium capsules are stored at room temperature "
        "away from moisture, according to this updated leaflet.\n"
    )
    (corpus / "002_9f9ee1f17dced111.txt").unlink()
    report = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert report.updated == ["003_ff34f6fd0d9cc91e.txt"]
    assert report.removed == ["002_9f9ee1f17dced111.txt"]
    after = _open(index_dir, embedder)
    texts = [c.text for c in after.chunks if c.source.startswith("003_")]
    assert texts and all("malignant hyperthermia" not in t for t in texts)
    assert any("room temperature" in t for t in texts)
    assert not any(c.source.startswith("002_") for c in after.chunks)
    assert untouched <= {c.chunk_id for c in after.chunks}  # reused, not re-embedded


@pytest.mark.parametrize("rebuild", [False, True], ids=["delta", "new-generation"])
def test_interrupted_ingest_leaves_previous_index_usable(
    corpus: Path, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch, rebuild: bool
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    before = _open(index_dir, embedder)
    (corpus / "005_new.txt").write_text("Aspirin Leaflet\n\nAspirin thins the blood and "
                                        "can upset the stomach when taken without food.\n")
    (corpus / "002_9f9ee1f17dced111.txt").unlink()
    calls: list[str] = []

    def ctrl_c(path: Path) -> None:  # Ctrl-C after the files are on disk, before the swap
        calls.append(path.name)
        if path.name.startswith(("delta-", "gen-")):
            raise KeyboardInterrupt

    monkeypatch.setattr(store, "_fsync_dir", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE, rebuild=rebuild)
    monkeypatch.undo()
    assert calls[-1].startswith("gen-" if rebuild else "delta-")
    survivor = _open(index_dir, embedder)
    assert [c.chunk_id for c in survivor.chunks] == [c.chunk_id for c in before.chunks]
    assert survivor.store.ids() == [c.chunk_id for c in before.chunks]
    vector = embedder.embed(["aspirin thins the blood"])
    hits = survivor.store.search(vector, len(before.chunks) + 5)[0]
    assert sorted(i for i, _ in hits) == sorted(c.chunk_id for c in before.chunks)
    report = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert report.added == ["005_new.txt"] and report.removed == ["002_9f9ee1f17dced111.txt"]
    assert len(list(index_dir.glob("gen-*"))) == 1  # the half-written generation is gone
    assert len(list(index_dir.glob("gen-*/delta-*"))) == 1  # and so is the half-written delta
    after = _open(index_dir, embedder)
    assert after.store.ids() == [c.chunk_id for c in after.chunks]
    assert after.store.search(vector, 1)[0][0][0] in {
        c.chunk_id for c in after.chunks if c.source == "005_new.txt"}


def _state(index: store.Index) -> tuple:
    """What readers see: chunks, documents, manifest documents and counts."""
    return (sorted((c.chunk_id, c.text) for c in index.chunks), sorted(index.documents),
            index.manifest.documents, index.manifest.counts)


def test_small_changes_are_deltas_equal_to_a_rebuild(
    corpus: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    base = {p.name for p in store.current_generation(index_dir).iterdir()}
    (corpus / "005_new.txt").write_text("Aspirin Leaflet\n\nAspirin thins the blood and "
                                        "can upset the stomach when taken without food.\n")
    first = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    (corpus / "003_ff34f6fd0d9cc91e.txt").write_text(
        "Dantrolene Update\n\nDantrolene sodium capsules are stored at room temperature "
        "away from moisture, according to this updated leaflet.\n")
    (corpus / "001_b02498c2b6e64695.txt").unlink()
    second = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert first.delta and second.delta and second.removed == ["001_b02498c2b6e64695.txt"]
    gen = store.current_generation(index_dir)
    assert {p.name for p in gen.iterdir() if not p.name.startswith("delta-")} == base
    deltas = store.live_generation(index_dir).deltas
    assert len(deltas) == 2
    written = [json.loads(line) for line in (deltas[0] / "chunks.jsonl").open()]
    assert written and {row["source"] for row in written} == {"005_new.txt"}
    incremental = _open(index_dir, embedder)
    assert incremental.manifest.deltas == 2
    assert incremental.store.ids() == [c.chunk_id for c in incremental.chunks]
    rebuilt_dir = tmp_path / "rebuilt"
    ingest(corpus, rebuilt_dir, embedder, ChunkSettings(), store_cfg=STORE)
    assert _state(incremental) == _state(_open(rebuilt_dir, embedder))
    # Searching base + delta rows finds what an exact search over the same vectors finds
    # (the vectors themselves differ from the rebuild's in the 2nd decimal: the int8
    # embedder's output depends on the batch it was padded in).
    ids = incremental.store.ids()
    vectors = incremental.store.vectors_for(ids)
    queries = embedder.embed(["dantrolene storage", "ketamine depression", "aspirin stomach"])
    expected = [[ids[i] for i in np.argsort(-(vectors @ q), kind="stable")[:8]]
                for q in queries]
    assert [[i for i, _ in row] for row in incremental.store.search(queries, 8)] == expected


def test_deltas_are_compacted_into_a_new_generation(
    corpus: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    cfg = STORE.model_copy(update={"max_deltas": 1})
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=cfg)
    first_gen = store.current_generation(index_dir)
    for n in (1, 2):
        (corpus / f"new_{n}.txt").write_text(f"Leaflet {n}\n\nThis leaflet number {n} says "
                                             "aspirin should be taken with food and water.\n")
        report = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=cfg)
        assert report.delta == (n == 1)
    gen = store.current_generation(index_dir)
    assert gen != first_gen and not list(gen.glob("delta-*")) and not first_gen.exists()
    index = _open(index_dir, embedder)
    assert index.manifest.deltas == 0 and len(index.documents) == 7
    assert index.store.ids() == [c.chunk_id for c in index.chunks]


def test_unreadable_file_is_skipped_and_reported(corpus: Path, tmp_path: Path, embedder) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01")
    report = ingest(corpus, tmp_path / "index", embedder, ChunkSettings(), store_cfg=STORE)
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
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
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
    report = ingest(corpus, tmp_path / "index", embedder, ChunkSettings(), store_cfg=STORE)
    assert report.near_duplicates == 2
    idx = _open(tmp_path / "index", embedder)
    kept = [c for c in idx.chunks if "zolpidem" in c.text]
    assert [c.source for c in kept] == ["copy_a.txt"]  # the first copy wins
    assert np.allclose(np.linalg.norm(idx.store.vectors_for(idx.store.ids()), axis=1), 1.0,
                       atol=1e-4)


def test_label_rows_that_embed_alike_but_say_different_things_are_both_kept(
        tmp_path: Path, embedder) -> None:
    """A label's rows for two tablet strengths embed alike (cosine above the near-duplicate
    bar) but state different sizes and imprints: neither is dropped. A copy adding no word
    of its own still goes (see the test above)."""
    rows = ["Color - WHITE, Shape - ROUND, Score - no score, Size - 6mm, Imprint Code - M;103",
            "Color - WHITE, Shape - ROUND, Score - no score, Size - 8mm, Imprint Code - M;104"]
    page = "# Memantine\n\n" + "".join(f"## INGREDIENTS AND APPEARANCE\n\n{r}\n\n"
                                         for r in rows)
    vectors = embedder.embed([f"Memantine\nINGREDIENTS AND APPEARANCE\n\n{r}" for r in rows])
    assert float(vectors[0] @ vectors[1]) >= ChunkSettings().near_duplicate
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "memantine.md").write_text(page)
    report = ingest(folder, tmp_path / "index", embedder, ChunkSettings(), store_cfg=STORE)
    assert report.near_duplicates == 0
    texts = " ".join(c.text for c in _open(tmp_path / "index", embedder).chunks)
    assert "M;103" in texts and "M;104" in texts


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
