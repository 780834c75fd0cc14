"""The index on disk: generations of chunk store, documents, vector store and manifest.

Layout of ``index/``::

    CURRENT              the live generation's name, then its live deltas' names, one a
                         line; replaced atomically (os.replace)
    gen-<time>-<rand>/   manifest.json, chunks.jsonl, documents.jsonl, and the vector
                         store's own files (FAISS: vectors.npy, ids.json, faiss.index)
      delta-<time>-<rand>/  delta.json, and only what one incremental ingest changed:
                         the new documents and chunks, the store's delta files

A generation is written completely; a delta holds just the documents one ingest added or
changed and the ids of those it dropped, so adding a document to a large index writes in
proportion to that document. Either is flushed to disk and only then named in CURRENT, so
a crash or Ctrl-C at any point leaves the previous index usable; a folder CURRENT does not
name is left over from such a crash and is deleted by the next ingest. Reading applies the
deltas in order to the generation; ingestion compacts them into a new generation once they
grow (``StoreSettings.max_deltas``, ``delta_chunks``, ``delta_fraction``).

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from qa.config import ChunkSettings, StoreSettings
from qa.errors import IndexLoadError, IndexMismatchError, IndexMissingError, QAError
from qa.types import Chunk, Document, Section
from qa.vectorstore import VectorStore, discard_store, load_store

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
    deltas: int = 0  # delta segments applied (read_manifest folds them in)
    delta_chunks: int = 0  # chunks those deltas added


class DeltaRecord(_Record):
    """delta.json: what one incremental ingest changed, and the store and counts after it."""

    created: str
    store: StoreRecord
    documents: dict[str, DocumentRecord]  # added or changed
    removed: tuple[str, ...]  # doc ids dropped (changed ones are dropped, then added)
    counts: Counts
    chunks_added: int


@dataclass(frozen=True)
class Live:
    """The live generation folder and its delta folders, oldest first."""

    base: Path
    deltas: tuple[Path, ...] = ()


@dataclass
class Index:
    """A loaded index generation: everything retrieval and citations need."""

    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    documents: dict[str, Document]
    store: VectorStore = field(repr=False)
    deltas: tuple[Path, ...] = ()
    delta_docs: frozenset[str] = frozenset()  # doc ids the deltas added, changed or dropped

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
    pages = tuple(row.pop("pages", ()))
    return Document(**row, sections=sections, flags=flags, pages=pages)


def write_generation(
    index_dir: Path, manifest: Manifest, chunks: list[Chunk], store: VectorStore,
    documents: dict[str, Document], extras: Sequence[Callable[[Path], None]] = (),
) -> Path:
    """Write a complete generation, then atomically make it current. Returns its path.

    ``extras`` write more files into the generation folder before it is committed (the
    persisted keyword index)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    gen = index_dir / name
    gen.mkdir()
    _write_jsonl(gen / "chunks.jsonl", (asdict(c) for c in chunks))
    _write_jsonl(gen / "documents.jsonl", (_document_row(d) for d in documents.values()))
    store.save(gen)
    for extra in extras:
        extra(gen)
    (gen / "manifest.json").write_text(manifest.model_dump_json(indent=2))
    _fsync_dir(gen)
    _point(index_dir, Live(gen))
    remove_stale_generations(index_dir)
    return gen


def write_delta(
    index_dir: Path, live: Live, record: DeltaRecord, chunks: list[Chunk],
    store: VectorStore, documents: dict[str, Document],
) -> Path:
    """Write one delta (the new ``chunks`` and ``documents``, the store's changes) into the
    live generation, then atomically add it to CURRENT. Returns its path."""
    delta = live.base / f"delta-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    delta.mkdir()
    _write_jsonl(delta / "chunks.jsonl", (asdict(c) for c in chunks))
    _write_jsonl(delta / "documents.jsonl", (_document_row(d) for d in documents.values()))
    store.save_delta(delta)
    (delta / "delta.json").write_text(record.model_dump_json(indent=2))
    _fsync_dir(delta)
    _fsync_dir(live.base)
    _point(index_dir, Live(live.base, (*live.deltas, delta)))
    return delta


def _point(index_dir: Path, live: Live) -> None:
    """Name ``live`` in CURRENT: the commit point of every write."""
    pointer = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
    pointer.write_text("".join(f"{p.name}\n" for p in (live.base, *live.deltas)))
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)


def live_generation(index_dir: Path) -> Live | None:
    """The live generation and its deltas, or None when no complete index exists."""
    try:
        names = (index_dir / CURRENT).read_text().split()
    except OSError:
        return None
    if not names or not (index_dir / names[0] / "manifest.json").is_file():
        return None
    base = index_dir / names[0]
    return Live(base, tuple(base / name for name in names[1:]))


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when no complete index exists."""
    live = live_generation(index_dir)
    return live.base if live else None


def remove_stale_generations(index_dir: Path, store_cfg: StoreSettings | None = None) -> None:
    """Delete generations and deltas that are not live (left by earlier or interrupted
    runs), except a generation a reader is loading right now (the next ingest deletes it)."""
    live = live_generation(index_dir)
    for path in index_dir.glob("gen-*"):
        if live and path == live.base:
            for delta in path.glob("delta-*"):
                if delta not in live.deltas:
                    shutil.rmtree(delta, ignore_errors=True)
        elif path.is_dir():
            _remove_unpinned(path, store_cfg or StoreSettings())
    for path in index_dir.glob(f".{CURRENT}.*"):
        path.unlink(missing_ok=True)


def _remove_unpinned(gen: Path, store_cfg: StoreSettings) -> None:
    """Delete ``gen`` (and its store's data) under an exclusive lock, or leave it if a
    reader holds it."""
    try:
        fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _discard(gen, store_cfg)
        shutil.rmtree(gen, ignore_errors=True)
    except BlockingIOError:
        log.debug("kept %s: a reader is loading it", gen.name)
    finally:
        os.close(fd)


def _discard(gen: Path, store_cfg: StoreSettings) -> None:
    try:
        backend = json.loads((gen / "manifest.json").read_text())["store"]["backend"]
    except (OSError, ValueError, KeyError, TypeError):
        backend = "milvus" if (gen / "milvus.json").is_file() else ""
    discard_store(backend, store_cfg, gen)


@contextmanager
def _pinned(gen: Path) -> Iterator[None]:
    """Hold ``gen`` against deletion while it is read (a shared lock on its folder)."""
    fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _read_live(index_dir: Path, read: Callable[[Live], T]) -> T:
    """``read(live)`` of the live generation and its deltas, pinned; retried when a commit
    replaced it while it was being read."""
    failure: Exception | None = None
    for attempt in range(LOAD_ATTEMPTS):
        live = live_generation(index_dir)
        if live is None and not (index_dir / CURRENT).is_file():
            raise IndexMissingError(f"no index in {index_dir}")
        try:
            if live is None:  # CURRENT named a generation a commit has just replaced
                raise FileNotFoundError(f"{index_dir / CURRENT} names a removed generation")
            with _pinned(live.base):
                return read(live)
        except QAError:
            raise
        except Exception as exc:  # missing, half-written or corrupt files: retried, then one line
            failure = exc
            log.debug("loading %s failed (%s); attempt %d", live or CURRENT, exc, attempt + 1)
            time.sleep(0.05 * (attempt + 1))
    reason = " ".join(f"{type(failure).__name__}: {failure}".split())[:300]
    raise IndexLoadError(f"could not load the index in {index_dir} ({reason})")


def _fold(manifest: Manifest, records: list[DeltaRecord]) -> Manifest:
    """The manifest after the deltas: their documents applied, their store and counts."""
    if not records:
        return manifest
    documents = dict(manifest.documents)
    for record in records:
        for doc_id in record.removed:
            documents.pop(doc_id, None)
        documents.update(record.documents)
    last = records[-1]
    return manifest.model_copy(update={
        "documents": documents, "store": last.store, "counts": last.counts,
        "created": last.created, "deltas": len(records),
        "delta_chunks": sum(r.chunks_added for r in records)})


def _records(live: Live) -> list[DeltaRecord]:
    return [DeltaRecord.model_validate_json((d / "delta.json").read_text())
            for d in live.deltas]


def read_manifest(index_dir: Path) -> Manifest | None:
    """The live manifest (deltas folded in); None when there is none or in another format."""
    def read(live: Live) -> tuple[dict[str, Any], list[DeltaRecord]]:
        return json.loads((live.base / "manifest.json").read_text()), _records(live)

    try:
        data, records = _read_live(index_dir, read)
    except IndexMissingError:
        return None
    if data.get("format") != FORMAT_VERSION:
        return None
    try:
        return _fold(Manifest.model_validate(data), records)
    except ValidationError:
        return None


def _read_documents(folder: Path) -> dict[str, Document]:
    return {row["doc_id"]: _document_from_row(row)
            for row in _read_jsonl(folder / "documents.jsonl")}


def read_generation(gen: Path | Live, store_cfg: StoreSettings | None = None) -> Index:
    """Load every file of a generation and its deltas (no compatibility checks: see
    ``open_index``)."""
    live = gen if isinstance(gen, Live) else Live(gen)
    records = _records(live)
    manifest = _fold(Manifest.model_validate_json((live.base / "manifest.json").read_text()),
                     records)
    chunks = [Chunk(**row) for row in _read_jsonl(live.base / "chunks.jsonl")]
    documents = _read_documents(live.base)
    for record, delta in zip(records, live.deltas, strict=True):
        gone = set(record.removed)
        chunks = [c for c in chunks if c.doc_id not in gone]
        chunks += [Chunk(**row) for row in _read_jsonl(delta / "chunks.jsonl")]
        documents = {d: doc for d, doc in documents.items() if d not in gone}
        documents.update(_read_documents(delta))
    store = load_store(manifest.store.backend, store_cfg or StoreSettings(), live.base,
                       live.deltas)
    touched = frozenset(d for r in records for d in (*r.documents, *r.removed))
    return Index(live.base, manifest, chunks, documents, store, live.deltas, touched)


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
    def read(live: Live) -> Index:
        _check_compatible(live.base, index_dir, embedder_name, embedder_sha256)
        return read_generation(live, store_cfg)

    return _read_live(index_dir, read)


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
