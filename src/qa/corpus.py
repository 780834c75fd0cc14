"""Which files in the corpus folder are documents, and reading one without surprises.

``scan_corpus`` walks the folder once and sorts every entry into a document to load or an
ignored entry with its reason (one line each, so the CLI can list them all):

- only regular files are documents: named pipes, devices and sockets are never opened
  (a FIFO would block the ingest forever, ``/dev/zero`` would fill the memory);
- a symlink is followed only when its target is a regular file inside the corpus folder
  and not itself a document here (no duplicates); symlinked folders are not followed, so
  no loop and no escape is possible;
- hidden files and folders (a leading ".") and files without a supported extension are
  ignored, and said so;
- any file name works: bytes that are not UTF-8 and invisible or control characters are
  written as ``\\xNN`` / ``\\uNNNN`` escapes in the document's source name.

``read_file`` opens a document without following it out of the corpus (the checks are
repeated on the open descriptor, so a file swapped for a FIFO or a symlink after the scan
is still refused) and refuses files over the size limit before reading them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from qa.characters import escape_invisible

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a folder"))  # fmt: skip


class Unreadable(ValueError):
    """A file that must not or cannot be read; ``str(err)`` is the one-line reason."""


@dataclass(frozen=True)
class Candidate:
    """A file to load: where it is, and its source name (relative, display-safe)."""

    path: Path
    source: str


@dataclass
class Scan:
    """What the corpus folder holds: documents to load, and everything else with a reason."""

    documents: list[Candidate] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)  # source -> one-line reason


def source_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, POSIX separators, every byte and character visible."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.name
    return escape_invisible(rel)


def kind_of(mode: int) -> str | None:
    """What a non-regular file is ("a named pipe (FIFO)"); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def supported_reason(name: str) -> str | None:
    """Why a file name is not a document type we read; None when it is."""
    suffix = Path(name).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    supported = ", ".join(SUPPORTED_SUFFIXES)
    if not suffix:
        return f"no file extension, so its type is unknown (supported: {supported})"
    return f"unsupported file type {escape_invisible(suffix)!r} (supported: {supported})"


def scan_corpus(root: Path) -> Scan:
    """Sort everything under ``root`` into documents and ignored entries (see module doc)."""
    scan = Scan()
    if not root.is_dir():
        return scan
    top = root.resolve()
    for folder, dirnames, filenames in os.walk(root, onerror=lambda e: _unwalkable(e, root,
                                                                                     scan)):
        here = Path(folder)
        for name in sorted(dirnames):
            reason = _folder_reason(here / name, name)
            if reason:
                dirnames.remove(name)
                scan.ignored[source_name(here / name, root) + "/"] = reason
        for name in filenames:
            _sort_file(here / name, root, top, scan)
    _drop_clashes(scan)
    scan.documents.sort(key=lambda c: c.source)
    scan.ignored = dict(sorted(scan.ignored.items()))
    return scan


def _unwalkable(err: OSError, root: Path, scan: Scan) -> None:
    where = source_name(Path(err.filename), root) if err.filename else str(root)
    scan.ignored[where + "/"] = f"folder cannot be read ({err.strerror or err})"


def _folder_reason(path: Path, name: str) -> str | None:
    if name.startswith("."):
        return "hidden folder, not searched"
    if path.is_symlink():
        return "symlink to a folder, not followed (its files are indexed where they live)"
    return None


def _sort_file(path: Path, root: Path, top: Path, scan: Scan) -> None:
    """Add one file to the scan as a document or with the reason it is ignored."""
    source = source_name(path, root)
    if path.name.startswith("."):
        scan.ignored[source] = "hidden file (its name starts with '.')"
        return
    try:
        if path.is_symlink():
            reason = _link_reason(path, top)
        elif kind := kind_of(path.lstat().st_mode):
            reason = f"{kind}, not a regular file (never opened)"
        else:
            reason = None
    except OSError as exc:
        reason = f"cannot be examined ({exc.strerror or type(exc).__name__})"
    reason = reason or supported_reason(path.name)
    if reason:
        scan.ignored[source] = reason
    else:
        scan.documents.append(Candidate(path, source))


def _link_reason(path: Path, top: Path) -> str | None:
    """Why the symlink ``path`` is not followed; None when its target may be read."""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "broken symlink (its target does not exist)"
    except (RuntimeError, OSError):  # RuntimeError: a symlink loop (Python 3.11)
        return "symlink loop"
    if not target.is_relative_to(top):
        return "symlink to a file outside the corpus folder, not followed"
    kind = kind_of(target.stat().st_mode)
    if kind:
        return f"symlink to {kind}, not followed"
    inside = target.relative_to(top)
    if not any(part.startswith(".") for part in inside.parts) and \
            supported_reason(target.name) is None:
        return f"symlink to {escape_invisible(inside.as_posix())}, which is indexed itself"
    return None


def _drop_clashes(scan: Scan) -> None:
    """Two names that escape to the same source name: the second one is ignored."""
    seen: set[str] = set()
    kept: list[Candidate] = []
    for candidate in sorted(scan.documents, key=lambda c: os.fsencode(c.path)):
        if candidate.source in seen:
            key = candidate.source
            while key in scan.ignored or key in seen:
                key += " (again)"
            scan.ignored[key] = (
                "its name reads the same as another file's once undecodable bytes are "
                "escaped; rename it")
            continue
        seen.add(candidate.source)
        kept.append(candidate)
    scan.documents = kept


def read_file(path: Path, root: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file inside ``root``, at most ``max_bytes`` of them.

    Raises Unreadable (never blocks: a FIFO is opened non-blocking, then refused).
    """
    try:
        if kind := kind_of(path.stat().st_mode):  # never open a device or a pipe
            raise Unreadable(f"is {kind}, not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from None
    try:
        return _read_checked(fd, root, max_bytes)
    finally:
        os.close(fd)


def _read_checked(fd: int, root: Path, max_bytes: int) -> bytes:
    """Read an open descriptor after checking it again: regular, inside root, small enough."""
    info = os.fstat(fd)
    if kind := kind_of(info.st_mode):
        raise Unreadable(f"is {kind}, not a regular file")
    opened = _opened_path(fd)
    if opened is not None and not opened.is_relative_to(root.resolve()):
        raise Unreadable("resolves to a file outside the corpus folder")
    if info.st_size > max_bytes:
        raise TooLarge(info.st_size)
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes and (chunk := os.read(fd, min(1 << 20, max_bytes + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:  # it grew while we read it
        raise TooLarge(size)
    return b"".join(chunks)


def _opened_path(fd: int) -> Path | None:
    """The real path of an open descriptor (Linux /proc), or None where unavailable."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)"))
    except OSError:
        return None


class TooLarge(Unreadable):
    """Over the size limit; ``size`` is how many bytes were seen."""

    def __init__(self, size: int) -> None:
        super().__init__(f"is {size / 1e6:.1f} MB")
        self.size = size
