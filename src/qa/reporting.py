"""What every committed report carries: the code's commit, the machine, and its statistics.

A number in eval/reports must be traceable to the commit and machine that produced it;
absolute times differ between machines, so the CPU is recorded beside them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def git_commit() -> str:
    """Short commit of the code that is running, ``-dirty`` when tracked files changed;
    "unknown" outside a git checkout (an installed package)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=here).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, cwd=here).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, object]:
    """Python, CPU model, usable cores and whether AVX-512 is there (it doubles llama.cpp)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"python": platform.python_version(), "cpu": cpu_model(), "cpus": cores,
            "avx512": " avx512f" in flags}


def stamp() -> str:
    """A file-name timestamp, e.g. 20261201-214500."""
    return time.strftime("%Y%m%d-%H%M%S")


def percentile(values: Sequence[float], q: float, ndigits: int | None = None) -> float | None:
    """Nearest-rank percentile, ``q`` in [0, 100] (50 = the median's nearest rank),
    rounded to ``ndigits`` if given; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    found = ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]
    return found if ndigits is None else round(found, ndigits)


def write_json(path: Path, data: object) -> None:
    """Pretty UTF-8 JSON with a final newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
