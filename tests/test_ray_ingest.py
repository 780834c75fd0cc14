"""`qa ingest --engine ray`: a local Ray gives byte-identical chunk files, ids and vectors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.config import ChunkSettings, EmbedderSettings
from qa.index import current_generation, open_index
from qa.ingestion import ingest

from .conftest import STORE

pytest.importorskip("ray.data", reason="ray[data] is not installed")


@pytest.fixture(scope="module")
def ray_engine():
    import ray

    from qa.config import default_cache_dir
    from qa.ray_ingest import RayEngine

    engine = RayEngine(EmbedderSettings(), default_cache_dir(), actors=2)
    yield engine
    ray.shutdown()


def test_ray_ingest_writes_the_same_index_as_the_local_one(corpus: Path, tmp_path: Path,
                                                           embedder, ray_engine) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not a pdf")  # skipped the same way
    local = ingest(corpus, tmp_path / "local", embedder, ChunkSettings(), store_cfg=STORE)
    remote = ingest(corpus, tmp_path / "ray", embedder, ChunkSettings(), store_cfg=STORE,
                    engine=ray_engine)
    assert remote.skipped == local.skipped and list(remote.skipped) == ["broken.pdf"]
    assert (remote.added, remote.chunks) == (local.added, local.chunks)
    gens = {name: current_generation(tmp_path / name) for name in ("local", "ray")}
    for name in ("chunks.jsonl", "documents.jsonl"):
        assert (gens["ray"] / name).read_bytes() == (gens["local"] / name).read_bytes()
    a = open_index(tmp_path / "local", embedder.name, embedder.sha256)
    b = open_index(tmp_path / "ray", embedder.name, embedder.sha256)
    assert a.store.ids() == b.store.ids() == [c.chunk_id for c in b.chunks]
    assert np.array_equal(a.store.vectors_for(a.store.ids()), b.store.vectors_for(a.store.ids()))


def test_ray_ingest_is_incremental_too(corpus: Path, tmp_path: Path, embedder,
                                       ray_engine) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE, engine=ray_engine)
    shutil.copy(corpus / "000_caeb206a0aa03600.txt", corpus / "copy_of_000.txt")
    report = ingest(corpus, index_dir, embedder, ChunkSettings(), store_cfg=STORE,
                    engine=ray_engine)
    assert report.added == ["copy_of_000.txt"] and report.delta
    assert report.near_duplicates > 0  # every chunk repeats one already indexed


class _SlowRay:
    """Ray whose local node misses its startup wait ``misses`` times, then starts."""

    def __init__(self, misses: int, error: str = "The current node timed out during startup."):
        self.misses, self.error, self.calls = misses, error, []

    def init(self, **_: object) -> None:
        self.calls.append("init")
        if self.calls.count("init") <= self.misses:
            raise Exception(self.error)

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_a_local_node_that_misses_its_startup_wait_is_started_again() -> None:
    """Ray waits a fixed 30 s for its raylet; under the full test suite on two cores it
    once missed that and the ingest failed."""
    from qa.ray_ingest import _start

    once = _SlowRay(misses=1)
    _start(once, None)
    assert once.calls == ["init", "shutdown", "init"]
    always = _SlowRay(misses=5)
    with pytest.raises(Exception, match="timed out during startup"):
        _start(always, None)
    assert always.calls.count("init") == 2
    other = _SlowRay(misses=1, error="address not reachable")
    with pytest.raises(Exception, match="not reachable"):
        _start(other, None)
    assert other.calls == ["init"]  # any other failure is reported at once
