"""Readers never see a half-gone index: generations being loaded are kept, a load that
loses the race with a commit is retried, and what cannot be loaded is one line."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from qa import index as idx
from qa.config import ChunkSettings
from qa.errors import IndexLoadError
from qa.ingestion import ingest

from .fakes import FakeEmbedder


def _built(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Aspirin thins the blood and can upset the stomach.\n")
    ingest(docs, tmp_path / "index", FakeEmbedder(), ChunkSettings())
    return tmp_path / "index"


def _recommit(index_dir: Path) -> Path:
    """Write the live generation again as a new one (what an ingest with changes does)."""
    old = idx.read_generation(idx.current_generation(index_dir))
    return idx.write_generation(index_dir, old.manifest, old.chunks, old.store, old.documents)


def test_a_generation_being_loaded_outlives_the_commit_that_retires_it(tmp_path: Path) -> None:
    index_dir = _built(tmp_path)
    first = idx.current_generation(index_dir)
    with idx._pinned(first):  # a reader in the middle of loading it
        second = _recommit(index_dir)
        assert first.is_dir() and (first / "vectors.npy").is_file()
    assert idx.current_generation(index_dir) == second
    _recommit(index_dir)
    assert not first.exists() and not second.exists()  # unpinned: removed by the next one
    assert len(list(index_dir.glob("gen-*"))) == 1


def test_a_load_that_loses_the_race_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = _built(tmp_path)
    real = idx.read_generation
    calls: list[Path] = []

    def racy(gen: Path, cfg: object = None) -> idx.Index:
        calls.append(gen)
        if len(calls) == 1:  # the commit deleted it between CURRENT and the vectors
            raise FileNotFoundError(2, "No such file or directory", str(gen / "vectors.npy"))
        return real(gen, cfg)

    monkeypatch.setattr(idx, "read_generation", racy)
    loaded = idx.open_index(index_dir, "fake-embedder", "fake")
    assert len(calls) == 2 and loaded.chunks


def test_an_index_that_cannot_be_loaded_is_one_line(tmp_path: Path) -> None:
    index_dir = _built(tmp_path)
    (idx.current_generation(index_dir) / "vectors.npy").write_bytes(b"not numpy")
    with pytest.raises(IndexLoadError) as err:
        idx.open_index(index_dir, "fake-embedder", "fake")
    line = err.value.one_line()
    assert "could not load the index" in line and "qa ingest --rebuild" in line
    assert "\n" not in line


def _commit_loop(index_dir: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _recommit(Path(index_dir))


def test_loads_during_repeated_commits_never_fail(tmp_path: Path) -> None:
    # The benchmark (`qa bench reliability`) does 10,000 loads; this is the quick version.
    index_dir = _built(tmp_path)
    writer = multiprocessing.get_context("spawn").Process(
        target=_commit_loop, args=(str(index_dir), 6.0))
    writer.start()
    loads, failures = 0, []
    try:
        time.sleep(1.0)  # let the writer start committing
        while writer.is_alive() and loads < 2000:
            try:
                idx.open_index(index_dir, "fake-embedder", "fake")
            except Exception as exc:  # counting every kind of failure
                failures.append(repr(exc))
            loads += 1
    finally:
        writer.join(30)
    assert loads > 50 and failures == []
