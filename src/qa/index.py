"""Build, save and load the index: FAISS vectors, chunk store, documents and manifest.

Layout of ``index/``::

    CURRENT              name of the live generation; replaced atomically (os.replace)
    gen-<time>-<rand>/   manifest.json, chunks.jsonl, documents.jsonl, vectors.npy, faiss.index

A new generation is written completely, flushed to disk, and only then named in CURRENT,
so a crash or Ctrl-C at any point leaves the previous index usable.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import IndexMismatchError, IndexMissingError
from qa.types import Chunk, Document, Section

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
# Below this many vectors exact search is both fastest to build and exact (ms per query).
EXACT_SEARCH_LIMIT = 200_000


@dataclass
class Index:
    """A loaded index generation: everything retrieval and citations need."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    documents: dict[str, Document]
    faiss_index: object = field(repr=False, default=None)

    @property
    def embedder_name(self) -> str:
        return self.manifest["embedder"]["name"]


# HNSW graph degree and search breadth: recall@10 vs exact measured by `qa bench medquad`.
HNSW_M = 32
HNSW_EF_SEARCH = 128


def make_faiss_index(vectors: np.ndarray, exact_limit: int = EXACT_SEARCH_LIMIT) -> object:
    """Inner-product search (vectors are normalised, so this is cosine).

    Exact (``IndexFlatIP``) up to ``exact_limit`` vectors: at 30k MiniLM vectors a flat
    search takes about a millisecond. Above it, an HNSW graph keeps queries sub-linear at
    a small recall cost.
    """
    import faiss

    dim = vectors.shape[1]
    if len(vectors) <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if len(vectors):
        index.add(vectors)
    return index


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _document_row(doc: Document) -> dict:
    row = asdict(doc)
    row["sections"] = [asdict(s) for s in doc.sections]
    return row


def _document_from_row(row: dict) -> Document:
    sections = tuple(Section(**s) for s in row.pop("sections", []))
    return Document(**row, sections=sections)


def write_generation(
    index_dir: Path,
    manifest: dict,
    chunks: list[Chunk],
    vectors: np.ndarray,
    documents: dict[str, Document],
) -> Path:
    """Write a complete generation, then atomically make it current. Returns its path."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    gen = index_dir / name
    gen.mkdir()
    _write_jsonl(gen / "chunks.jsonl", (asdict(c) for c in chunks))
    _write_jsonl(gen / "documents.jsonl", (_document_row(d) for d in documents.values()))
    with (gen / "vectors.npy").open("wb") as fh:
        np.save(fh, vectors)
        fh.flush()
        os.fsync(fh.fileno())
    faiss.write_index(make_faiss_index(vectors), str(gen / "faiss.index"))
    (gen / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _fsync_dir(gen)
    pointer = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
    pointer.write_text(name + "\n")
    os.replace(pointer, index_dir / CURRENT)  # the commit point
    _fsync_dir(index_dir)
    remove_stale_generations(index_dir)
    return gen


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when no complete index exists."""
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except OSError:
        return None
    gen = index_dir / name
    return gen if (gen / "manifest.json").is_file() else None


def remove_stale_generations(index_dir: Path) -> None:
    """Delete generations that are not current (left by earlier runs or interrupted ones)."""
    live = current_generation(index_dir)
    for path in index_dir.glob("gen-*"):
        if path != live and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(f".{CURRENT}.*"):
        path.unlink(missing_ok=True)


def read_manifest(index_dir: Path) -> dict | None:
    gen = current_generation(index_dir)
    return json.loads((gen / "manifest.json").read_text()) if gen else None


def read_generation(gen: Path) -> Index:
    """Load every file of a generation (no compatibility checks: see ``open_index``)."""
    import faiss

    manifest = json.loads((gen / "manifest.json").read_text())
    chunks = [Chunk(**row) for row in _read_jsonl(gen / "chunks.jsonl")]
    documents = {
        row["doc_id"]: _document_from_row(row) for row in _read_jsonl(gen / "documents.jsonl")
    }
    vectors = np.load(gen / "vectors.npy")
    faiss_index = faiss.read_index(str(gen / "faiss.index"))
    return Index(gen, manifest, chunks, vectors, documents, faiss_index)


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time: a second `qa ingest` on the same index waits for the first."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _label(name: str, sha256: str) -> str:
    """'name' or 'name (onnx-int8)': the same weights run by another backend differ."""
    backend = sha256.partition("+")[2]
    return f"{name} ({backend})" if backend else name


def open_index(index_dir: Path, embedder_name: str, embedder_sha256: str) -> Index:
    """Load the live index, refusing one built with another embedder (its vectors mean
    nothing to this one)."""
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexMissingError(f"no index in {index_dir}")
    manifest = json.loads((gen / "manifest.json").read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index in {index_dir} has format {manifest.get('format')}, expected {FORMAT_VERSION}"
        )
    built = manifest["embedder"]
    if built["name"] != embedder_name or (
        built.get("sha256") and embedder_sha256 and built["sha256"] != embedder_sha256
    ):
        was = _label(built["name"], built.get("sha256", ""))
        raise IndexMismatchError(
            f"index in {index_dir} was built with embedder '{was}', "
            f"but '{_label(embedder_name, embedder_sha256)}' is configured"
        )
    return read_generation(gen)
