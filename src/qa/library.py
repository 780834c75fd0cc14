"""The document library behind a running assistant: list, add and remove documents.

The corpus folder stays the one truth, as for `qa ingest`: an uploaded file is checked,
then saved under ``<corpus>/uploads/`` and indexed incrementally (only new or changed files
are embedded); a removed document's file moves to ``<corpus>/.removed/`` (hidden folders
are never indexed, so it can be restored by moving it back). Either way the index is
brought up to date by ``ingestion.ingest`` and the live Assistant reopened (``reopen``),
which ``AnswerService.update_index`` does between two requests.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from qa.config import Settings
from qa.embeddings import Embedder
from qa.errors import DocumentError, LibraryError
from qa.index import open_index, read_manifest
from qa.ingestion import IngestReport, ingest
from qa.loaders import load_document
from qa.retrieval import Retriever

if TYPE_CHECKING:
    from qa.answer import Assistant

UPLOADS = "uploads"
REMOVED = ".removed"


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document as people see it in a list."""

    source: str
    title: str
    chunks: int
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    """Step ``done`` of ``total`` of a library change, and what it is doing."""

    done: int
    total: int
    step: str


@dataclass
class Change:
    """What a library change did: sources added, updated, removed; skipped ones with the
    one-line reason; flagged ones with their warnings."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    flagged: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def absorb(self, report: IngestReport) -> None:
        self.added += report.added
        self.updated += report.updated
        self.removed += report.removed
        self.skipped.update(report.skipped)
        self.flagged.update(report.flagged)


def list_documents(index_dir: Path) -> list[DocumentInfo]:
    """The live index's documents, sorted by source."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return []
    return [DocumentInfo(e.source, e.title, e.chunks, e.flags)
            for e in sorted(manifest.documents.values(), key=lambda e: e.source)]


def check_corpus(settings: Settings) -> None:
    """Refuse to change an index that was not built from ``settings.corpus_dir``: ingesting
    that folder would drop every document it lacks."""
    missing = [d.source for d in list_documents(settings.index_dir)
               if not (settings.corpus_dir / d.source).is_file()]
    if missing:
        raise LibraryError(
            f"the index {settings.index_dir} was not built from {settings.corpus_dir} "
            f"({len(missing)} of its documents are not there, e.g. {missing[0]})",
            hint="Set QA_CORPUS_DIR to the folder the index was built from.")


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, no hidden files."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return base or "upload"


def _checked(path: Path, name: str) -> str | None:
    """Why the file cannot be indexed (one line), or None when it can."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / name
        shutil.copyfile(path, staged)
        try:
            load_document(staged, Path(tmp))
        except DocumentError as err:
            return str(err).replace(staged.as_posix(), name)
    return None


def add_files(files: Sequence[Path], settings: Settings,
              embedder: Embedder) -> Iterator[Progress | Change]:
    """Check each file, save the good ones under uploads/, index them; yields progress,
    then the Change. A file that cannot be read is skipped with its reason."""
    check_corpus(settings)
    change, total = Change(), len(files) + 1
    folder = settings.corpus_dir / UPLOADS
    for done, path in enumerate(files):
        name = safe_name(path.name)
        yield Progress(done, total, f"checking {name}")
        reason = _checked(path, name)
        if reason is not None:
            change.skipped[f"{UPLOADS}/{name}"] = reason
            continue
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.part"  # hidden until complete: never half-indexed
        shutil.copyfile(path, partial)
        os.replace(partial, folder / name)
    yield Progress(len(files), total, "indexing")
    change.absorb(_ingest(settings, embedder))
    yield change


def remove_document(source: str, settings: Settings, embedder: Embedder) -> Change:
    """Take one document out of the index; its file moves to <corpus>/.removed/."""
    check_corpus(settings)
    known = {d.source for d in list_documents(settings.index_dir)}
    if source not in known:
        raise LibraryError(f"no document {source!r} in the index")
    if len(known) == 1:
        raise LibraryError("cannot remove the last document",
                           hint="Add another document first.")
    target = settings.corpus_dir / REMOVED / source
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(settings.corpus_dir / source, target)
    change = Change()
    change.absorb(_ingest(settings, embedder))
    return change


def _ingest(settings: Settings, embedder: Embedder) -> IngestReport:
    return ingest(settings.corpus_dir, settings.index_dir, embedder, settings.chunking,
                  store_cfg=settings.store)


def reopen(assistant: Assistant) -> Assistant:
    """A new Assistant over the index as it is now on disk, sharing the loaded models."""
    from qa.answer import Assistant

    settings = assistant.settings
    index = open_index(settings.index_dir, assistant.embedder.name, assistant.embedder.sha256,
                       settings.store)
    retriever = Retriever(index, assistant.embedder, settings.retrieval,
                          reranker=assistant.retriever.reranker)
    return Assistant(settings, index, assistant.embedder, assistant.generator,
                     assistant.prompts, retriever)
