"""Proof that nothing leaves the machine: run commands without a network, or under strace.

``run_traced`` runs a command under ``strace -f -e trace=network`` and ``outside_attempts``
reads the trace: any connect/send to an IPv4 or IPv6 address outside loopback, and any
DNS query (port 53) even to a loopback resolver (which would forward it), is an attempt
to leave the machine. Unix sockets and netlink never leave it. ``run_offline`` runs a
command in a fresh network namespace (``unshare -n``, root): no interface but a loopback
that is down, so nothing could leave even if something tried.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_CALL = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\(")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_INET4 = re.compile(r'sin_addr=inet_addr\("([\d.]+)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')


@dataclass(frozen=True)
class Traced:
    """A command run under strace: its result and every attempt to reach outside."""

    returncode: int
    stdout: str
    stderr: str
    attempts: tuple[str, ...]
    calls: int  # network calls seen in all


def strace_available() -> bool:
    """True when strace can trace here (it needs ptrace permission)."""
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-qq", "-e", "trace=none", "true"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def unshare_available() -> bool:
    """True when a process can get a network namespace of its own (root, or user ns)."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True,
                          timeout=30).returncode == 0


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1") \
        or address.startswith("::ffff:127.")


def outside_attempts(trace: str) -> list[str]:
    """The trace lines that try to reach beyond this machine (see the module docstring)."""
    found = []
    for line in trace.splitlines():
        if not _CALL.search(line) or "AF_INET" not in line:
            continue
        port = _PORT.search(line)
        address = _INET4.search(line) or _INET6.search(line)
        if (port and port.group(1) == "53") or (address and not _loopback(address.group(1))):
            found.append(line.strip())
    return found


def network_calls(trace: str) -> int:
    """How many connect/send calls with an inet address the trace holds."""
    return sum(1 for line in trace.splitlines() if _CALL.search(line) and "AF_INET" in line)


def run_traced(command: Sequence[str], log: Path, timeout: float,
               env: dict[str, str] | None = None, cwd: Path | None = None) -> Traced:
    """Run ``command`` under strace (children followed), trace written to ``log``."""
    full = ["strace", "-f", "-qq", "-e", "trace=network", "-e", "signal=none", "-s", "64",
            "-o", str(log), *command]
    result = subprocess.run(full, capture_output=True, text=True, timeout=timeout, env=env,
                            cwd=cwd)
    trace = log.read_text(errors="replace") if log.exists() else ""
    return Traced(result.returncode, result.stdout, result.stderr,
                  tuple(outside_attempts(trace)), network_calls(trace))


def run_offline(command: Sequence[str], timeout: float, env: dict[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a network namespace of its own: no network at all."""
    return subprocess.run(["unshare", "-n", *command], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


# A Python session that loads the assistant, asks one question, and stays up long enough
# for delayed telemetry (onnxruntime looked its host up ~9 s after its first session). The
# loopback connection at the end is a canary: a trace that misses it traced nothing.
ASK_AND_LINGER = """
import json, socket, sys, time
from qa.answer import Assistant
assistant = Assistant.load(sys.argv[1])
answer = assistant.ask(sys.argv[2])
print(json.dumps({"refused": answer.refused, "answer": answer.answer}))
time.sleep(float(sys.argv[3]))
with socket.socket() as probe:
    probe.connect_ex(("127.0.0.1", 9))
"""


@dataclass(frozen=True)
class ServedPage:
    """The web page served under strace for a while: what it sent, what it tried."""

    status: int
    page_bytes: int
    attempts: tuple[str, ...]
    calls: int
    seconds: float


def trace_ui(command: Sequence[str], url: str, log: Path, linger: float, startup: float,
             env: dict[str, str] | None = None, cwd: Path | None = None) -> ServedPage:
    """Serve the page under strace, fetch it, keep it up ``linger`` seconds, stop it."""
    import os
    import signal
    import time
    import urllib.request

    full = ["strace", "-f", "-qq", "-e", "trace=network", "-e", "signal=none", "-s", "64",
            "-o", str(log), *command]
    proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=cwd, start_new_session=True)
    started, status, size = time.monotonic(), 0, 0
    try:
        while time.monotonic() - started < startup and proc.poll() is None and not status:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    status, size = response.status, len(response.read())
            except OSError:
                time.sleep(1)
        time.sleep(linger)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # strace and the server it runs: one group
        proc.wait(30)
    trace = log.read_text(errors="replace") if log.exists() else ""
    return ServedPage(status, size, tuple(outside_attempts(trace)), network_calls(trace),
                      round(time.monotonic() - started, 1))
