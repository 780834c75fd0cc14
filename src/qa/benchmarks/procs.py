"""Run a command and measure it: wall time, and the peak memory of its whole process tree.

Memory is read from /proc every 0.1 s over the process and all its descendants (the
ingest and its converter child): ``peak_tree_mb`` is the largest sum of their resident
sets seen, and ``peak_bound_mb`` the largest sum of each one's own high-water mark
(VmHWM), an upper bound that no short spike between two samples can escape.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    """One measured run."""

    returncode: int | None  # None: killed at the timeout (a hang)
    stdout: str
    stderr: str
    seconds: float
    peak_tree_mb: float
    peak_bound_mb: float

    @property
    def hung(self) -> bool:
        return self.returncode is None


def _status_kb(pid: int, key: str) -> int:
    """A ``Vm*`` line of /proc/<pid>/status in kB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc/<pid>/task/<tid>/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                todo.extend(int(child) for child in children)
        except OSError:
            continue
    return found


def tree_mb(pid: int, key: str = "VmRSS:") -> float:
    """``key`` (VmRSS: resident now, VmHWM: its peak) summed over ``pid`` and its
    descendants, in MB."""
    return sum(_status_kb(p, key) for p in _tree(pid)) / 1024


def run_measured(command: Sequence[str], timeout: float, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> Measured:
    """Run ``command`` to the end or the timeout (then kill its process group)."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd, start_new_session=True)
    peak, bound = [0.0], [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_mb(proc.pid))
            bound[0] = max(bound[0], tree_mb(proc.pid, "VmHWM:"))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        code = None
    done.set()
    sampler.join()
    return Measured(code, out, err, round(time.monotonic() - started, 2), round(peak[0], 1),
                    round(bound[0], 1))
