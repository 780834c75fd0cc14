"""The index on disk: generations of chunk store, documents, vector store and manifest.

Layout of ``index/``::

    CURRENT              name of the live generation; replaced atomically (os.replace)
    gen-<time>-<rand>/   manifest.json, chunks.jsonl, documents.jsonl, and the vector
                         store's own files (FAISS: vectors.npy, ids.json, faiss.index)

A new generation is written completely, flushed to disk, and only then named in CURRENT,
so a crash or Ctrl-C at any point leaves the previous index usable.

Readers never see a half-gone generation: a reader holds a shared lock (flock) on the
generation's folder while it loads it, and an old generation is deleted only under an
exclusive lock taken without waiting, so one being loaded is kept until the next ingest.
A reader that read CURRENT just before a commit and finds its generation gone retries
with the new one; only after several failed attempts is the load an IndexLoadError.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from qa.config import ChunkSettings, StoreSettings
from qa.errors import IndexLoadError, IndexMismatchError, IndexMissingError, QAError
from qa.types import Chunk, Document, Section
from qa.vectorstore import VectorStore, load_store

log = logging.getLogger(__name__)
T = TypeVar("T")

FORMAT_VERSION = 2  # 2: typed manifest, the vector store behind the VectorStore protocol
CURRENT = "CURRENT"
LOAD_ATTEMPTS = 5  # a commit between reading CURRENT and opening the generation costs one


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbedderRecord(_Record):
    name: str
    sha256: str
    dim: int


class DocumentRecord(_Record):
    source: str
    sha256: str
    title: str
    chunks: int
    flags: tuple[str, ...] = ()  # see Document.flags


class StoreRecord(_Record):
    """What the vector store built, as it reports it (``VectorStore.describe``)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    backend: str
    index: str
    vectors: int


class Counts(_Record):
    documents: int
    chunks: int


class Manifest(_Record):
    """manifest.json: what a generation was built from and with."""

    format: int
    created: str
    embedder: EmbedderRecord
    chunking: ChunkSettings
    cleaning: int
    store: StoreRecord
    documents: dict[str, DocumentRecord]
    counts: Counts


@dataclass
class Index:
    """A loaded index generation: everything retrieval and citations need."""

    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    documents: dict[str, Document]
    store: VectorStore = field(repr=False)

    @property
    def embedder_name(self) -> str:
        return self.manifest.embedder.name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _document_row(doc: Document) -> dict[str, Any]:
    row = asdict(doc)
    row["sections"] = [asdict(s) for s in doc.sections]
    return row


def _document_from_row(row: dict[str, Any]) -> Document:
    sections = tuple(Section(**s) for s in row.pop("sections", []))
    flags = tuple(row.pop("flags", ()))
    return Document(**row, sections=sections, flags=flags)


def write_generation(
    index_dir: Path, manifest: Manifest, chunks: list[Chunk], store: VectorStore,
    documents: dict[str, Document],
) -> Path:
    """Write a complete generation, then atomically make it current. Returns its path."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    gen = index_dir / name
    gen.mkdir()
    _write_jsonl(gen / "chunks.jsonl", (asdict(c) for c in chunks))
    _write_jsonl(gen / "documents.jsonl", (_document_row(d) for d in documents.values()))
    store.save(gen)
    (gen / "manifest.json").write_text(manifest.model_dump_json(indent=2))
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
    """Delete generations that are not current (left by earlier runs or interrupted ones),
    except one a reader is loading right now (the next ingest deletes it)."""
    live = current_generation(index_dir)
    for path in index_dir.glob("gen-*"):
        if path != live and path.is_dir():
            _remove_unpinned(path)
    for path in index_dir.glob(f".{CURRENT}.*"):
        path.unlink(missing_ok=True)


def _remove_unpinned(gen: Path) -> None:
    """Delete ``gen`` under an exclusive lock, or leave it if a reader holds it."""
    try:
        fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shutil.rmtree(gen, ignore_errors=True)
    except BlockingIOError:
        log.debug("kept %s: a reader is loading it", gen.name)
    finally:
        os.close(fd)


@contextmanager
def _pinned(gen: Path) -> Iterator[None]:
    """Hold ``gen`` against deletion while it is read (a shared lock on its folder)."""
    fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _live_generation(index_dir: Path, read: Callable[[Path], T]) -> T:
    """``read(gen)`` of the live generation, pinned; retried when a commit replaced it."""
    failure: Exception | None = None
    for attempt in range(LOAD_ATTEMPTS):
        gen = current_generation(index_dir)
        if gen is None and not (index_dir / CURRENT).is_file():
            raise IndexMissingError(f"no index in {index_dir}")
        try:
            if gen is None:  # CURRENT named a generation a commit has just replaced
                raise FileNotFoundError(f"{index_dir / CURRENT} names a removed generation")
            with _pinned(gen):
                return read(gen)
        except QAError:
            raise
        except Exception as exc:  # missing, half-written or corrupt files: retried, then one line
            failure = exc
            log.debug("loading %s failed (%s); attempt %d", gen or CURRENT, exc, attempt + 1)
            time.sleep(0.05 * (attempt + 1))
    reason = " ".join(f"{type(failure).__name__}: {failure}".split())[:300]
    raise IndexLoadError(f"could not load the index in {index_dir} ({reason})")


def read_manifest(index_dir: Path) -> Manifest | None:
    """The live generation's manifest; None when there is none or it has another format."""
    try:
        data = _live_generation(index_dir, lambda gen: json.loads(
            (gen / "manifest.json").read_text()))
    except IndexMissingError:
        return None
    if data.get("format") != FORMAT_VERSION:
        return None
    try:
        return Manifest.model_validate(data)
    except ValidationError:
        return None


def read_generation(gen: Path, store_cfg: StoreSettings | None = None) -> Index:
    """Load every file of a generation (no compatibility checks: see ``open_index``)."""
    manifest = Manifest.model_validate_json((gen / "manifest.json").read_text())
    chunks = [Chunk(**row) for row in _read_jsonl(gen / "chunks.jsonl")]
    documents = {
        row["doc_id"]: _document_from_row(row) for row in _read_jsonl(gen / "documents.jsonl")
    }
    store = load_store(manifest.store.backend, store_cfg or StoreSettings(), gen)
    return Index(gen, manifest, chunks, documents, store)


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time: a second `qa ingest` on the same index waits for the first
    (and says so)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another ingest is updating %s; waiting for it to finish", index_dir)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _label(name: str, sha256: str) -> str:
    """'name' or 'name (onnx-int8)': the same weights run by another backend differ."""
    backend = sha256.partition("+")[2]
    return f"{name} ({backend})" if backend else name


def open_index(
    index_dir: Path, embedder_name: str, embedder_sha256: str,
    store_cfg: StoreSettings | None = None,
) -> Index:
    """Load the live index, refusing one built with another embedder (its vectors mean
    nothing to this one) or in another format; IndexLoadError if it cannot be read."""
    def read(gen: Path) -> Index:
        _check_compatible(gen, index_dir, embedder_name, embedder_sha256)
        return read_generation(gen, store_cfg)

    return _live_generation(index_dir, read)


def _check_compatible(gen: Path, index_dir: Path, embedder_name: str,
                      embedder_sha256: str) -> None:
    """IndexMismatchError unless ``gen`` has this format and was built by this embedder."""
    data = json.loads((gen / "manifest.json").read_text())
    if data.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index in {index_dir} has format {data.get('format')}, expected {FORMAT_VERSION}"
        )
    built = data["embedder"]
    if built["name"] != embedder_name or (
        built.get("sha256") and embedder_sha256 and built["sha256"] != embedder_sha256
    ):
        was = _label(built["name"], built.get("sha256", ""))
        raise IndexMismatchError(
            f"index in {index_dir} was built with embedder '{was}', "
            f"but '{_label(embedder_name, embedder_sha256)}' is configured"
        )
