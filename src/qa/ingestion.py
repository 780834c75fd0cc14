"""Files in the corpus folder -> an index update, doing only the work that changed.

Unchanged documents (same bytes, same embedder, same chunking) keep their chunks and
vectors; changed ones are re-chunked and re-embedded; deleted ones drop out. A small change
is written as a delta of the live generation (in proportion to the change); once the
deltas grow past the ``StoreSettings`` limits, everything is compacted into a new one. A file that
cannot be read is skipped and reported; if an earlier version of it was indexed, that
version stays (ingestion never loses data it had). Entries that are not documents (hidden,
unsupported, special files, symlinks leaving the folder) are ignored and reported too
(``qa.corpus``); files are converted in a child process with a time and memory limit
(``qa.isolation``), so no file can hang or exhaust the ingest.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import index as idx
from qa.cleaning import CLEANING_VERSION
from qa.config import ChunkSettings, IngestSettings, StoreSettings
from qa.corpus import Candidate, Scan, scan_corpus
from qa.embeddings import Embedder
from qa.errors import DocumentError, EmptyCorpusError, IndexMismatchError
from qa.faiss_store import greedy_unique
from qa.ingest_engine import Engine, LocalEngine
from qa.keyword import save_keyword_index
from qa.loaders import read_document_bytes
from qa.text import STOPWORDS, fold
from qa.types import Chunk, Document
from qa.vectorstore import VectorStore, make_store

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one ingestion did, for the CLI summary and tests."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # source -> one-line reason
    ignored: dict[str, str] = field(default_factory=dict)  # not documents: source -> reason
    flagged: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source -> flags
    chunks: int = 0
    near_duplicates: int = 0
    seconds: float = 0.0
    wrote: bool = False
    delta: bool = False  # written as a delta of the live generation, not a new one

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class _Kept:
    """Chunks, vectors and documents carried into the new generation."""

    chunks: list[Chunk]
    store: VectorStore
    documents: dict[str, Document] = field(default_factory=dict)
    entries: dict[str, idx.DocumentRecord] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()  # previous doc ids not carried over
    fresh: list[Chunk] = field(default_factory=list)  # chunks added by this ingest
    changed: list[str] = field(default_factory=list)  # doc ids added or changed by it


def _compatible(previous: idx.Manifest | None, embedder: Embedder, cfg: ChunkSettings,
                store_cfg: StoreSettings) -> bool:
    if previous is None:
        return False
    built = previous.embedder
    same_model = built.name == embedder.name and built.sha256 == embedder.sha256
    return (same_model and previous.cleaning == CLEANING_VERSION and previous.chunking == cfg
            and previous.store.backend == store_cfg.backend)


def _delta_fits(manifest: idx.Manifest, added: int, cfg: StoreSettings) -> bool:
    """Whether one more delta of ``added`` chunks stays within the compaction limits."""
    limit = max(cfg.delta_chunks, int(cfg.delta_fraction * manifest.counts.chunks))
    return manifest.deltas < cfg.max_deltas and manifest.delta_chunks + added <= limit


def _carry_over(previous: idx.Index | None, doc_ids: set[str], dim: int,
                store_cfg: StoreSettings) -> _Kept:
    """The previous generation's chunks, vectors and records of ``doc_ids``; nothing else."""
    if previous is None:
        return _Kept([], make_store(store_cfg, dim))
    previous.store.remove([c.chunk_id for c in previous.chunks if c.doc_id not in doc_ids])
    return _Kept(
        [c for c in previous.chunks if c.doc_id in doc_ids], previous.store,
        {d: doc for d, doc in previous.documents.items() if d in doc_ids},
        {d: e for d, e in previous.manifest.documents.items() if d in doc_ids},
        tuple(sorted(set(previous.manifest.documents) - doc_ids)),
    )


def drop_near_duplicates(
    chunks: list[Chunk], vectors: np.ndarray, existing: VectorStore, threshold: float,
    existing_texts: Mapping[str, str] | None = None,
) -> tuple[list[Chunk], np.ndarray, int]:
    """Drop chunks that repeat a kept one: exactly, or with cosine >= threshold while
    adding no word or number of their own (``adds_nothing``; ``existing_texts``: the
    stored chunks' texts by id, without which the cosine alone decides against the store).

    Scraped pages repeat captions and boilerplate paragraphs; indexing them twice only
    crowds the top-k with copies. Greedy in document order, so the first copy wins. Short
    label rows embed alike whatever they say: "Color - WHITE, Shape - ROUND, …" (one
    drug's tablet) and "Color WHITE … Shape OVAL" (another drug's, on another page) scored
    above 0.96, and the second was dropped, so "What does metoprolol look like?" could not
    be answered.
    """
    if not chunks:
        return [], vectors, 0
    # One batched search against the existing store, exact-text duplicates by a set, then
    # the greedy pass (qa.faiss_store.greedy_unique) over what is left, in linear memory.
    candidates = np.ones(len(chunks), dtype=bool)
    if len(existing):
        known = existing_texts or {}
        best = existing.search(vectors, 1 if existing_texts is None else 8)
        candidates &= ~np.array([any(
            score >= threshold and (existing_texts is None
                                    or adds_nothing(chunk.text, known.get(hit, "")))
            for hit, score in hits) for chunk, hits in zip(chunks, best, strict=True)])
    seen: set[str] = set()
    for i, chunk in enumerate(chunks):
        key = fold(chunk.text)
        if candidates[i] and key in seen:
            candidates[i] = False
        seen.add(key)
    rows = np.flatnonzero(candidates)
    words = [_content(chunks[i].text) for i in rows]
    keep = rows[greedy_unique(vectors[rows], threshold,
                              same=lambda i, j: words[i] <= words[j])].tolist()
    return [chunks[i] for i in keep], vectors[keep], len(chunks) - len(keep)


def adds_nothing(text: str, kept: str) -> bool:
    """Every word and number of ``text`` (stopwords aside) is in ``kept``: a copy, lightly
    edited ("reminds its customers"), not another fact ("Shape OVAL" beside "Shape ROUND")."""
    return _content(text) <= _content(kept)


def _content(text: str) -> frozenset[str]:
    return frozenset(fold(text).split()) - STOPWORDS


def _skip(report: IngestReport, keep: set[str], source: str, err: DocumentError,
          old_id: str | None) -> None:
    """Report an unreadable file; keep its last good version rather than lose it."""
    report.skipped[source] = str(err)
    log.debug("skipped %s", err)
    if old_id:
        keep.add(old_id)


def _load_changed(
    candidates: list[Candidate], corpus_dir: Path, previous: idx.Index | None,
    report: IngestReport, limits: IngestSettings, engine: Engine,
) -> tuple[set[str], list[tuple[Document, str]]]:
    """The previous documents to keep as they are, and the new or changed ones, loaded
    (each with 'added' or 'updated')."""
    old = previous.manifest.documents if previous else {}
    by_source = {entry.source: doc_id for doc_id, entry in old.items()}
    keep: set[str] = set()
    changed: list[tuple[Candidate, str | None]] = []
    for candidate in candidates:
        source = candidate.source
        old_id = by_source.get(source)
        try:
            raw = read_document_bytes(candidate.path, corpus_dir, source, limits)
        except DocumentError as err:
            _skip(report, keep, source, err, old_id)
            continue
        if old_id and old[old_id].sha256 == hashlib.sha256(raw).hexdigest():
            keep.add(old_id)
            report.unchanged.append(source)
        else:
            changed.append((candidate, old_id))
    fresh: list[tuple[Document, str]] = []
    loaded = engine.load([candidate.path for candidate, _ in changed], corpus_dir, limits)
    for (candidate, old_id), doc in zip(changed, loaded, strict=True):
        if isinstance(doc, DocumentError):
            _skip(report, keep, candidate.source, doc, old_id)
            continue
        fresh.append((doc, "updated" if old_id else "added"))
    return keep, fresh


def _manifest(embedder: Embedder, cfg: ChunkSettings, kept: _Kept) -> idx.Manifest:
    return idx.Manifest(
        format=idx.FORMAT_VERSION,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        embedder=idx.EmbedderRecord(name=embedder.name, sha256=embedder.sha256,
                                      dim=embedder.dim),
        chunking=cfg,
        cleaning=CLEANING_VERSION,
        store=idx.StoreRecord.model_validate(kept.store.describe()),
        documents=kept.entries,
        counts=idx.Counts(documents=len(kept.documents), chunks=len(kept.chunks)),
    )


def ingest(  # noqa: PLR0913 - keyword-only options, each with a default
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    cfg: ChunkSettings,
    *,
    store_cfg: StoreSettings | None = None,
    rebuild: bool = False,
    progress: bool = False,
    limits: IngestSettings | None = None,
    engine: Engine | None = None,
) -> IngestReport:
    """Bring the index in ``index_dir`` up to date with the files in ``corpus_dir``; the
    per-document work runs on ``engine`` (default: this process)."""
    engine = engine or LocalEngine()
    started = time.perf_counter()
    store_cfg = store_cfg or StoreSettings()
    if not corpus_dir.is_dir():
        raise EmptyCorpusError(f"document folder {corpus_dir} does not exist")
    scan = scan_corpus(corpus_dir)
    if not scan.documents:
        raise EmptyCorpusError(f"no supported documents in {corpus_dir}{_ignored_note(scan)}")
    candidates = scan.documents
    report = IngestReport(ignored=scan.ignored)
    with idx.ingest_lock(index_dir):
        idx.remove_stale_generations(index_dir, store_cfg)
        manifest = idx.read_manifest(index_dir)
        previous = None
        if not rebuild and _compatible(manifest, embedder, cfg, store_cfg):
            current = idx.live_generation(index_dir)
            previous = idx.read_generation(current, store_cfg) if current else None
        keep, fresh = _load_changed(candidates, corpus_dir, previous, report,
                                    limits or IngestSettings(), engine)
        live = {candidate.source for candidate in candidates}
        old_sources = {e.source for e in (manifest.documents.values() if manifest else ())}
        report.removed = sorted(old_sources - live)
        for doc, how in fresh:
            getattr(report, how).append(doc.source)
        if not keep and not fresh:
            raise EmptyCorpusError(f"none of the {len(candidates)} documents in {corpus_dir} "
                                   f"could be read{_skipped_note(report)}")
        if previous is not None and not report.changed:
            report.chunks = len(previous.chunks)
            report.seconds = time.perf_counter() - started
            return report
        kept = _carry_over(previous, keep, embedder.dim, store_cfg)
        _add_fresh(fresh, embedder, cfg, kept, report, progress, engine)
        if previous is not None and _delta_fits(previous.manifest, len(kept.fresh), store_cfg):
            _commit_delta(index_dir, previous, embedder, cfg, kept, report)
        else:
            _commit(index_dir, embedder, cfg, kept, report)
    report.seconds = time.perf_counter() - started
    return report


def _ignored_note(scan: Scan) -> str:
    """" (3 entries ignored, e.g. notes.docx: unsupported ...)" for the empty-corpus error."""
    if not scan.ignored:
        return ""
    source, reason = next(iter(scan.ignored.items()))
    return f" ({len(scan.ignored)} entries ignored, e.g. {source}: {reason})"


def _skipped_note(report: IngestReport) -> str:
    """" (first: <reason>)" for the nothing-readable error."""
    return f" (first: {next(iter(report.skipped.values()))})" if report.skipped else ""
def _commit_delta(index_dir: Path, previous: idx.Index, embedder: Embedder,
                  cfg: ChunkSettings, kept: _Kept, report: IngestReport) -> None:
    """Write only what changed as a delta of the live generation."""
    manifest = _manifest(embedder, cfg, kept)
    record = idx.DeltaRecord(
        created=manifest.created, store=manifest.store, removed=kept.dropped,
        documents={d: kept.entries[d] for d in kept.changed},
        counts=manifest.counts, chunks_added=len(kept.fresh))
    live = idx.Live(previous.path, previous.deltas)
    idx.write_delta(index_dir, live, record, kept.fresh, kept.store,
                    {d: kept.documents[d] for d in record.documents})
    report.wrote = report.delta = True
    report.chunks = len(kept.chunks)


def index_documents(
    documents: list[Document],
    index_dir: Path,
    embedder: Embedder,
    cfg: ChunkSettings,
    *,
    store_cfg: StoreSettings | None = None,
    progress: bool = False,
) -> IngestReport:
    """Build a fresh index from documents made in memory (benchmarks, other data sources)."""
    started = time.perf_counter()
    if not documents:
        raise EmptyCorpusError("no documents to index")
    report = IngestReport()
    with idx.ingest_lock(index_dir):
        kept = _carry_over(None, set(), embedder.dim, store_cfg or StoreSettings())
        fresh = [(doc, "added") for doc in documents]
        report.added = [doc.source for doc in documents]
        _add_fresh(fresh, embedder, cfg, kept, report, progress)
        _commit(index_dir, embedder, cfg, kept, report)
    report.seconds = time.perf_counter() - started
    return report


def add_documents(
    documents: list[Document], index_dir: Path, embedder: Embedder, cfg: ChunkSettings,
    *, store_cfg: StoreSettings | None = None,
) -> IngestReport:
    """Add documents made in memory to the live index, replacing any with the same doc_id;
    written as a delta when it fits (other data sources, benchmarks)."""
    started = time.perf_counter()
    store_cfg = store_cfg or StoreSettings()
    report = IngestReport()
    with idx.ingest_lock(index_dir):
        idx.remove_stale_generations(index_dir, store_cfg)
        live = idx.live_generation(index_dir)
        if live is None or not _compatible(idx.read_manifest(index_dir), embedder, cfg,
                                           store_cfg):
            raise IndexMismatchError(f"index in {index_dir} is missing or was built with "
                                     "other settings")
        previous = idx.read_generation(live, store_cfg)
        old = previous.manifest.documents
        fresh = [(d, "updated" if d.doc_id in old else "added") for d in documents]
        for doc, how in fresh:
            getattr(report, how).append(doc.source)
        kept = _carry_over(previous, set(old) - {d.doc_id for d in documents}, embedder.dim,
                           store_cfg)
        _add_fresh(fresh, embedder, cfg, kept, report, progress=False)
        if _delta_fits(previous.manifest, len(kept.fresh), store_cfg):
            _commit_delta(index_dir, previous, embedder, cfg, kept, report)
        else:
            _commit(index_dir, embedder, cfg, kept, report)
    report.seconds = time.perf_counter() - started
    return report


def _commit(
    index_dir: Path, embedder: Embedder, cfg: ChunkSettings, kept: _Kept, report: IngestReport
) -> None:
    """Write what was kept as the new live generation."""
    idx.write_generation(index_dir, _manifest(embedder, cfg, kept), kept.chunks, kept.store,
                         kept.documents,
                         extras=(lambda gen: save_keyword_index(kept.chunks, gen),))
    report.wrote = True
    report.chunks = len(kept.chunks)


def _add_fresh(
    fresh: list[tuple[Document, str]], embedder: Embedder, cfg: ChunkSettings, kept: _Kept,
    report: IngestReport, progress: bool, engine: Engine | None = None,
) -> None:
    """Chunk, embed and de-duplicate the new documents into ``kept``."""
    if not fresh:
        return
    engine = engine or LocalEngine()
    chunks, vectors = engine.chunk_and_embed([doc for doc, _ in fresh], embedder, cfg,
                                             progress)
    chunks, vectors, dropped = drop_near_duplicates(
        chunks, vectors, kept.store, cfg.near_duplicate,
        {c.chunk_id: c.text for c in kept.chunks})
    report.near_duplicates = dropped
    kept.chunks.extend(chunks)
    kept.fresh.extend(chunks)
    kept.store.add([c.chunk_id for c in chunks], vectors)
    per_doc: dict[str, int] = {}
    for chunk in chunks:
        per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
    for doc, _ in fresh:
        kept.changed.append(doc.doc_id)
        kept.documents[doc.doc_id] = doc
        kept.entries[doc.doc_id] = idx.DocumentRecord(
            source=doc.source, sha256=doc.sha256, title=doc.title,
            chunks=per_doc.get(doc.doc_id, 0), flags=doc.flags,
        )
        if doc.flags:
            report.flagged[doc.source] = doc.flags
