"""Convert files in a child process, so that no file can hang, crash or exhaust an ingest.

The parent reads each file itself (``qa.loaders.read_document_bytes``: a regular file inside
the corpus, within the size limit) and sends the bytes; the child converts them
(``qa.loaders.document_from_bytes``) under an address-space limit and answers with a
Document or a one-line reason. A file that takes longer than ``ingest.seconds_per_file``
has its child killed (SIGKILL) and the next file gets a fresh one; a child that dies (out
of memory, a crash inside a C library) costs only that file. The child ignores Ctrl-C (the
parent handles it and kills the child), dies with its parent, and prints nothing: library
warnings stay out of the ingest's one line per skipped file.

The child is started on the first file that needs converting, so an ingest with nothing
new starts none.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from qa.config import IngestSettings
from qa.errors import DocumentError
from qa.loaders import document_from_bytes
from qa.types import Document

log = logging.getLogger(__name__)

ConvertFn = Callable[[bytes, str, IngestSettings], Document]
# The function children run; a module attribute, so a test can put a slow one in its place.
CONVERT: ConvertFn = document_from_bytes
_PR_SET_PDEATHSIG = 1


class Converter:
    """A child process that turns file bytes into Documents, one file at a time."""

    def __init__(self, cfg: IngestSettings | None = None) -> None:
        self.cfg = cfg or IngestSettings()
        self._convert = CONVERT
        self._proc: Any = None
        self._conn: Connection | None = None

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def convert(self, raw: bytes, source: str) -> Document:
        """The Document of one file; DocumentError (one line) for a bad, slow or fatal one."""
        conn = self._connection()
        try:
            conn.send((raw, source))
            if conn.poll(self.cfg.seconds_per_file):
                status, value = conn.recv()
                if status == "ok":
                    return value
                raise DocumentError(value)
        except (EOFError, OSError):
            reason = self._death()
        else:
            reason = (f"took longer than {self.cfg.seconds_per_file:g} s to convert (setting "
                      "ingest.seconds_per_file, QA_INGEST__SECONDS_PER_FILE)")
        self.close()
        raise DocumentError(f"cannot read {source}: {reason}")

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (benchmarks read its memory)."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def close(self) -> None:
        """Stop the child (killed at once: it holds nothing worth saving)."""
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def _connection(self) -> Connection:
        if self._proc is None or not self._proc.is_alive():
            self.close()
            context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
            parent, child = context.Pipe()
            self._proc = context.Process(target=_serve, args=(child, self.cfg, self._convert),
                                         name="qa-convert", daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        assert self._conn is not None
        return self._conn

    def _death(self) -> str:
        """Why the child died, from its exit status."""
        self._proc.join(5)
        code = self._proc.exitcode
        if code == -signal.SIGKILL or code == _OUT_OF_MEMORY:
            return (f"needed more than {self.cfg.memory_mb} MB of memory to convert (setting "
                    "ingest.memory_mb, QA_INGEST__MEMORY_MB)")
        return f"the converter crashed on it (exit status {code})"


_OUT_OF_MEMORY = 3  # the child's exit status after a MemoryError


def _serve(conn: Connection, cfg: IngestSettings, convert: ConvertFn) -> None:
    """The child: convert files until the parent closes the pipe."""
    _quiet_child(cfg)
    while True:
        try:
            raw, source = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", convert(raw, source, cfg)))
        except DocumentError as err:
            conn.send(("error", str(err)))
        except MemoryError:
            raise SystemExit(_OUT_OF_MEMORY) from None
        except Exception as exc:  # a converter bug must cost one file, not the ingest
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            conn.send(("error", f"cannot read {source}: unexpected error ({reason})"))


def _quiet_child(cfg: IngestSettings) -> None:
    """Ignore Ctrl-C, die with the parent, cap the address space, print nothing."""
    import ctypes
    import resource
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's kill on exit still applies
        pass
    # On top of what the child already maps (its interpreter and whatever the parent's main
    # module imported when the child re-imported it): the limit is on what a file costs.
    limit = _mapped_bytes() + cfg.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)


def _mapped_bytes() -> int:
    """The address space this process maps now (Linux /proc; 0 elsewhere)."""
    import os

    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
