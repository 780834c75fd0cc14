"""Ingestion interrupted on purpose: kill -9 and Ctrl-C at random moments, and index loads
racing repeated commits.

Each trial changes the corpus (a new document, an edited one), starts `qa ingest`, and
after a seeded random delay sends SIGKILL to the ingest process alone (its converter child
must die with it) or SIGINT to its process group (what Ctrl-C in a terminal does). Then:
the index must load and answer a search, every document it held before must still be
there (unless the trial's own commit replaced it), no process may be left behind, and a
Ctrl-C message must say truly whether the new index was committed.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa import index as idx
from qa.benchmarks.hostile_bytes import LEAFLET

_DRUGS = ("Aspirin Ibuprofen Naproxen Codeine Morphine Tramadol Diclofenac Celecoxib Meloxicam "
          "Ketorolac Indomethacin Etoricoxib Nabumetone Piroxicam Sulindac Oxaprozin "
          "Fenoprofen Flurbiprofen Ketoprofen Mefenamic Tolmetin Etodolac Salsalate Diflunisal "
          "Loratadine Cetirizine Fexofenadine Omeprazole Lansoprazole Pantoprazole").split()


def make_corpus(root: Path, seed_dir: Path) -> None:
    """The seed articles plus thirty generated leaflets: an ingest of a few seconds."""
    root.mkdir(parents=True)
    for path in sorted(seed_dir.glob("*.txt")):
        (root / path.name).write_bytes(path.read_bytes())
    for n, drug in enumerate(_DRUGS):
        body = " ".join(LEAFLET.replace("Paracetamol", drug) + f" Batch {n}." for _ in range(6))
        (root / f"leaflet_{n:02d}_{drug.lower()}.txt").write_text(f"{drug} leaflet\n\n{body}\n")


def snapshot(index_dir: Path) -> dict[str, Any]:
    """The live index as its files say (generation and deltas folded in): what is live
    (one name), documents (source -> sha256), chunk ids (-> source), the embedder."""
    live = idx.live_generation(index_dir)
    if live is None:
        return {"gen": None, "documents": {}, "chunks": {}}
    index = idx.read_generation(live)
    return {"gen": "/".join(p.name for p in (live.base, *live.deltas)),
            "documents": {e.source: e.sha256 for e in index.manifest.documents.values()},
            "chunks": {c.chunk_id: c.source for c in index.chunks},
            "embedder": index.manifest.embedder.model_dump()}


def usable(index_dir: Path, embedder: dict[str, Any]) -> tuple[bool, str]:
    """Load the live index the way `qa ask` does and run a search on it."""
    try:
        loaded = idx.open_index(index_dir, embedder["name"], embedder["sha256"])
        probe = np.ones((1, loaded.store.dim), dtype=np.float32) / np.sqrt(loaded.store.dim)
        hits = loaded.store.search(probe, 5)[0]
        ok = bool(hits) and len(loaded.chunks) == len(loaded.store) and all(
            c.doc_id in loaded.documents for c in loaded.chunks)
        return ok, "" if ok else "loaded, but chunks, vectors or documents disagree"
    except Exception as exc:  # every failure is a finding, whatever its type
        return False, f"{type(exc).__name__}: {exc}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _change(root: Path, trial: int) -> None:
    """A new leaflet and an edited one."""
    (root / f"trial_{trial:02d}.txt").write_text(
        f"Trial {trial} leaflet\n\n{LEAFLET} Trial number {trial} of the crash benchmark.\n")
    edited = sorted(root.glob("leaflet_*.txt"))[trial % len(_DRUGS)]
    edited.write_text(edited.read_text() + f"\nEdited in trial {trial}: store below 25 °C.\n")


def one_trial(root: Path, index_dir: Path, env: dict[str, str], trial: int, delay: float,
              interrupt: bool) -> dict[str, Any]:
    """One interrupted ingest and what it left (see the module docstring)."""
    before = snapshot(index_dir)
    _change(root, trial)
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ingest", str(root), "--index",
                             str(index_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    time.sleep(delay)
    finished_first = proc.poll() is not None
    if not finished_first:
        if interrupt:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = _group_alive(proc.pid)
    if orphans:
        os.killpg(proc.pid, signal.SIGKILL)
    after = snapshot(index_dir)
    ok, why = usable(index_dir, after.get("embedder") or before["embedder"])
    committed = after["gen"] != before["gen"]
    # A document is lost when it is gone, or holds neither its old text nor the file's
    # current one (an edit made before an earlier, killed trial is legitimately picked up).
    lost = [s for s, sha in before["documents"].items() if s not in after["documents"]
            or after["documents"][s] not in (sha, _file_sha256(root / s))]
    same = {s for s, sha in before["documents"].items() if after["documents"].get(s) == sha}
    lost_chunks = [cid for cid, src in before["chunks"].items()
                   if src in same and cid not in after["chunks"]]
    message = next((ln for ln in err.splitlines() if ln.startswith("Interrupted")), "")
    truthful = None
    if interrupt and message:
        truthful = ("committed and is live" in message) == committed
    return {"trial": trial, "signal": "SIGINT" if interrupt else "SIGKILL",
            "delay_s": round(delay, 2), "finished_before_signal": finished_first,
            "exit_status": proc.returncode, "committed": committed, "usable": ok,
            "why_unusable": why, "lost_documents": lost, "lost_chunks": len(lost_chunks),
            "orphan_processes": orphans, "message": message, "message_truthful": truthful,
            "tracebacks": err.count("Traceback")}


def run_trials(work: Path, env: dict[str, str], seed_dir: Path, kills: int,
               interrupts: int) -> dict[str, Any]:
    """``kills`` SIGKILL and ``interrupts`` SIGINT trials; then a clean ingest and the
    garbage check (one generation left, no temporary files)."""
    root, index_dir = work / "corpus", work / "index"
    make_corpus(root, seed_dir)
    cli = [sys.executable, "-m", "qa.cli", "ingest", str(root), "--index", str(index_dir)]
    subprocess.run(cli, env=env, capture_output=True, check=True, timeout=1800)
    started = time.monotonic()
    _change(root, 99)
    subprocess.run(cli, env=env, capture_output=True, check=True, timeout=1800)
    typical = time.monotonic() - started  # an incremental ingest: the window to hit
    rng = random.Random(14)
    plan = [False] * kills + [True] * interrupts
    trials = [one_trial(root, index_dir, env, n, rng.uniform(0.3, typical), sigint)
              for n, sigint in enumerate(plan)]
    final = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=1800)
    after = snapshot(index_dir)
    sources = {p.name for p in root.iterdir()}
    return {
        "incremental_ingest_s": round(typical, 1), "trials": trials,
        "final_exit_status": final.returncode,
        "final_has_every_file": sources == set(after["documents"]),
        "generations_left": len(list(index_dir.glob("gen-*"))),
        "temporary_files_left": len(list(index_dir.glob(".CURRENT.*"))),
    }


# The writer of the load race: one process, the embedder loaded once, ingesting in a loop
# with one document toggled each time (so each ingest commits a generation) until told to
# stop by a file; prints how many commits it made.
_WRITER = """
import sys
from pathlib import Path
from qa.config import ChunkSettings, Settings
from qa.embeddings import load_embedder
from qa.ingestion import ingest
root, index_dir, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
settings = Settings()
embedder = load_embedder(settings.embedder, settings.cache_dir)
commits = 0
while not stop.exists():
    (root / "toggle.txt").write_text(f"Toggle {commits}\\n\\nToggled leaflet {commits}: "
                                     "store tablets in a dry place below room temperature.\\n")
    commits += ingest(root, index_dir, embedder, ChunkSettings()).wrote
print(commits)
"""


def race_loads(work: Path, env: dict[str, str], seed_dir: Path, loads: int) -> dict[str, Any]:
    """``loads`` index loads (as `qa ask` does at start) while a writer commits in a loop."""
    root, index_dir, stop = work / "corpus", work / "index", work / "stop"
    root.mkdir(parents=True)
    for path in sorted(seed_dir.glob("*.txt")):
        (root / path.name).write_bytes(path.read_bytes())
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(root), str(index_dir),
                               str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    while idx.current_generation(index_dir) is None and writer.poll() is None:
        time.sleep(0.5)
    embedder = snapshot(index_dir)["embedder"]
    failures: dict[str, int] = {}
    seconds = []
    for _ in range(loads):
        started = time.perf_counter()
        try:
            idx.open_index(index_dir, embedder["name"], embedder["sha256"])
        except Exception as exc:  # every failure is a finding, whatever its type
            failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
        seconds.append(time.perf_counter() - started)
    stop.touch()
    out, err = writer.communicate(timeout=600)
    commits = int(out.strip() or 0) if writer.returncode == 0 else None
    return {"loads": loads, "failed": sum(failures.values()), "failures": failures,
            "commits_during_loads": commits, "writer_exit_status": writer.returncode,
            "writer_error": err.strip().splitlines()[-1:] if writer.returncode else [],
            "load_ms_median": round(float(np.median(seconds)) * 1000, 2),
            "load_ms_max": round(max(seconds) * 1000, 1)}
