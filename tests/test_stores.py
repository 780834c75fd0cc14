"""Both vector stores behind one protocol: same answers, deltas that round-trip, Milvus = FAISS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import ChunkSettings, RetrievalSettings, StoreSettings
from qa.index import open_index
from qa.ingestion import ingest
from qa.retrieval import Retriever
from qa.vectorstore import load_store, make_store

from .conftest import REPO, SEED


def _unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _exact(ids: list[str], vectors: np.ndarray, queries: np.ndarray, k: int) -> list[list[str]]:
    return [[ids[i] for i in np.argsort(-(vectors @ q), kind="stable")[:k]] for q in queries]


@pytest.mark.parametrize("backend,index", [("faiss", "flat"), ("faiss", "hnsw"),
                                           ("faiss", "ivf"), ("milvus", "flat")])
def test_deltas_round_trip_and_search_like_one_store(
    tmp_path: Path, backend: str, index: str
) -> None:
    cfg = StoreSettings(backend=backend, index=index, ivf_nlist=4, ivf_nprobe=4)  # type: ignore[arg-type]
    vectors = _unit(240)
    ids = [f"c{i}" for i in range(240)]
    store = make_store(cfg, 16)
    store.add(ids[:200], vectors[:200])
    base = tmp_path / "gen"
    base.mkdir()
    store.save(base)
    store.remove(["c3", "c150", "nope"])
    store.add(ids[200:], vectors[200:])
    store.add(["c3"], vectors[3:4])  # a removed id may come back (a changed document)
    delta = base / "delta-1"
    delta.mkdir()
    store.save_delta(delta)
    again = load_store(backend, cfg, base, [delta])
    live = [i for i in ids if i not in ("c3", "c150")] + ["c3"]
    assert again.ids() == store.ids() == live and len(again) == 239
    kept = np.array([int(i[1:]) for i in live])
    queries = _unit(6, seed=1)
    expected = _exact(live, vectors[kept], queries, 10)
    for found in (store, again):
        got = [[i for i, _ in row] for row in found.search(queries, 10)]
        if index == "flat":
            assert got == expected
        else:  # approximate, but tombstones never come back and the tail is always searched
            assert all("c150" not in row for row in got)
            assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, expected,
                                                                        strict=True)]) >= 0.8
    assert again.search(vectors[220:221], 1)[0][0][0] == "c220"
    assert np.allclose(again.vectors_for(["c220", "c3"]), vectors[[220, 3]])
    assert again.search(vectors[:1], 3, allowed={"c150", "c7", "c9"})[0][0][0] in {"c7", "c9"}


def test_a_store_never_saved_has_no_delta(tmp_path: Path) -> None:
    store = make_store(StoreSettings(), 16)
    store.add(["a"], _unit(1))
    with pytest.raises(ValueError, match="never saved"):
        store.save_delta(tmp_path)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vector store backend"):
        load_store("annoy", StoreSettings(), Path("."))


@pytest.fixture(scope="module")
def both_indexes(tmp_path_factory: pytest.TempPathFactory, embedder) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stores")
    out = {}
    for backend in ("faiss", "milvus"):
        out[backend] = root / backend
        ingest(SEED, out[backend], embedder, ChunkSettings(),
               store_cfg=StoreSettings(backend=backend))  # type: ignore[arg-type]
    return out


def _eval_questions() -> list[str]:
    import json

    with (REPO / "eval" / "questions.jsonl").open() as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def test_milvus_lite_and_faiss_give_the_same_top_10(both_indexes: dict[str, Path],
                                                    embedder) -> None:
    """On every question of the eval set, the exact index types of both stores agree."""
    indexes = {b: open_index(p, embedder.name, embedder.sha256) for b, p in both_indexes.items()}
    assert indexes["milvus"].manifest.store.backend == "milvus"
    assert (both_indexes["milvus"] / indexes["milvus"].path.name / "milvus.db").exists()
    questions = _eval_questions()
    assert len(questions) > 100
    queries = embedder.embed(questions)
    faiss_hits = indexes["faiss"].store.search(queries, 10)
    milvus_hits = indexes["milvus"].store.search(queries, 10)
    for f, m in zip(faiss_hits, milvus_hits, strict=True):
        assert [i for i, _ in f] == [i for i, _ in m]
        assert np.allclose([s for _, s in f], [s for _, s in m], atol=1e-5)
    retrievers = {b: Retriever(i, embedder, RetrievalSettings()) for b, i in indexes.items()}
    for question in questions:
        passages = {b: [p.chunk.chunk_id for p in r.retrieve(question, top_k=10)]
                    for b, r in retrievers.items()}
        assert passages["faiss"] == passages["milvus"]


def test_many_queries_at_once_are_batched(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Near-duplicate checks search every new chunk at once: more than one Milvus call."""
    from qa import milvus_store

    cfg = StoreSettings(backend="milvus")
    vectors = _unit(50)
    store = make_store(cfg, 16)
    store.add([f"c{i}" for i in range(50)], vectors)
    store.save(tmp_path)
    queries = _unit(30, seed=3)
    monkeypatch.setattr(milvus_store, "QUERY_BATCH", 7)
    hits = store.search(queries, 3)
    assert [[i for i, _ in row] for row in hits] == _exact(
        [f"c{i}" for i in range(50)], vectors, queries, 3)


def test_an_index_build_retried_after_a_dropped_connection_is_not_an_error(
        tmp_path: Path) -> None:
    """A long Milvus index build can outlive its gRPC connection; pymilvus then retries
    create_index, which finds the index the first call registered (seen at a million
    vectors). The retry must be taken as done, not fail the whole save; an index of
    another type is still an error."""

    vectors = _unit(300)
    store = make_store(StoreSettings(backend="milvus", index="hnsw"), 16)
    store.add([f"c{i}" for i in range(300)], vectors)
    store.save(tmp_path)
    client, collection = store._client, store._collection  # type: ignore[attr-defined]
    store._build_index(client, collection, "hnsw", 300)  # type: ignore[attr-defined]
    assert client.describe_index(collection, "vector")["indexed_rows"] == 300
    queries = _unit(5, seed=4)
    assert [[i for i, _ in row] for row in store.search(queries, 5)] == _exact(
        [f"c{i}" for i in range(300)], vectors, queries, 5)
    with pytest.raises(Exception, match="already exists"):
        store._build_index(client, collection, "ivf", 300)  # type: ignore[attr-defined]


def test_a_milvus_lite_file_open_in_another_process_is_one_clear_line(tmp_path: Path) -> None:
    """Milvus Lite opens a file in one process at a time: a second `qa` on the same index
    (say `qa ask` beside a running `qa ui`) is told so in one line, without a traceback."""
    import subprocess
    import sys

    store = make_store(StoreSettings(backend="milvus"), 16)
    store.add([f"c{i}" for i in range(20)], _unit(20))
    store.save(tmp_path)  # this process keeps the file open
    code = ("import sys\nfrom pathlib import Path\nfrom qa.config import StoreSettings\n"
            "from qa.errors import QAError\nfrom qa.vectorstore import load_store\ntry:\n"
            f"    load_store('milvus', StoreSettings(backend='milvus'), Path({str(tmp_path)!r}))\n"
            "except QAError as err:\n    print(err.one_line())\n    sys.exit(1)\n")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)
    assert other.returncode == 1, other.stderr[-500:]
    assert "open in another process" in other.stdout
    assert other.stdout.count("\n") == 1 and "QA_STORE__MILVUS_URI" in other.stdout
    assert "Traceback" not in other.stderr
