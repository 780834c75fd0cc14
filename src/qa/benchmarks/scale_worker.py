"""One vector-store configuration of `qa bench scale`, measured in a process of its own.

``build`` adds every vector to an empty store and saves it (build time, disk, peak memory
of that process); ``serve`` loads the saved store in another fresh process (load time,
peak memory when serving) and times single queries for each search breadth of a sweep
(recall@k against exact search), then adds one document's vectors as a delta. A fresh
process per phase is what makes the peak memory and the load time honest: nothing is
left warm in the benchmark's own process.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import StoreSettings
from qa.reporting import percentile
from qa.vectorstore import load_store, make_store

ADD_DOC_CHUNKS = 8  # one leaflet: the median MedQuAD answer makes 1-2 chunks, long ones 8+


def peak_rss_mb() -> float:
    """Peak resident memory of this process's own memory map (VmHWM), in MiB.

    Not ``getrusage``: Linux carries ru_maxrss over fork and exec, so a child started by
    the benchmark would report the benchmark's own peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def build(job: dict[str, Any]) -> dict[str, Any]:
    """Build and save the store of ``job`` from the vectors file; return the measurements."""
    cfg = StoreSettings.model_validate(job["cfg"])
    vectors = np.load(job["vectors"], mmap_mode="r")
    folder = Path(job["folder"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    store = make_store(cfg, int(vectors.shape[1]))
    store.add([f"v{i}" for i in range(len(vectors))], np.ascontiguousarray(vectors))
    store.save(folder)
    seconds = time.perf_counter() - started
    return {"build_s": seconds, "disk_mb": folder_mb(folder), "build_peak_mb": peak_rss_mb(),
            "described": store.describe()}


def _recall(found: list[list[str]], truth: np.ndarray, k: int) -> float:
    hits = [len({int(i[1:]) for i in row[:k]} & set(t[:k].tolist())) / k
            for row, t in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def _timed_queries(store: Any, queries: np.ndarray, k: int) -> tuple[list[list[str]], list[float]]:
    found, ms = [], []
    for q in queries:
        started = time.perf_counter()
        hits = store.search(q[None, :], k)[0]
        ms.append((time.perf_counter() - started) * 1000)
        found.append([i for i, _ in hits])
    return found, ms


def _sweep(store: Any, base_cfg: StoreSettings, job: dict[str, Any], queries: np.ndarray,
           truth: np.ndarray) -> list[dict[str, Any]]:
    k, out = int(job["k"]), []
    for value in job.get("sweep") or [None]:
        if value is not None:  # search breadth is read from the store's settings per query
            store.cfg = base_cfg.model_copy(update={job["sweep_field"]: value})
        _timed_queries(store, queries[:5], k)  # warm-up: first-touch of pages, gRPC channel
        found, ms = _timed_queries(store, queries, k)
        out.append({"param": job.get("sweep_field"), "value": value,
                    "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
                    f"recall@{k}": _recall(found, truth, k)})
    return out


def _add_one_document(store: Any, folder: Path, dim: int) -> dict[str, Any]:
    """Add one document's chunk vectors and write them as a delta, as an ingest would."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(ADD_DOC_CHUNKS, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    delta = folder / "delta-bench"
    shutil.rmtree(delta, ignore_errors=True)
    delta.mkdir()
    started = time.perf_counter()
    store.add([f"new{i}" for i in range(ADD_DOC_CHUNKS)], vectors)
    store.save_delta(delta)
    seconds = time.perf_counter() - started
    found = store.search(vectors[:1], 1)[0][0][0] == "new0"
    shutil.rmtree(delta, ignore_errors=True)
    return {"add_doc_s": seconds, "add_doc_found": found}


def serve(job: dict[str, Any]) -> dict[str, Any]:
    """Load the saved store, sweep its search breadth, then add one document."""
    cfg = StoreSettings.model_validate(job["cfg"])
    queries = np.load(job["queries"])
    truth = np.load(job["truth"])
    folder = Path(job["folder"])
    started = time.perf_counter()
    store = load_store(cfg.backend, cfg, folder)
    store.search(queries[:1], 1)  # a store may finish loading on its first search
    load_s = time.perf_counter() - started
    sweep = _sweep(store, cfg, job, queries, truth)
    store.cfg = cfg  # type: ignore[attr-defined]
    added = _add_one_document(store, folder, int(queries.shape[1]))
    return {"load_s": load_s, "serve_peak_mb": peak_rss_mb(), "sweep": sweep, **added}


def main(phase: str, job_file: str, out_file: str) -> None:
    """Entry point of the child process: run one phase, write its JSON result."""
    job = json.loads(Path(job_file).read_text())
    result = build(job) if phase == "build" else serve(job)
    Path(out_file).write_text(json.dumps(result))


if __name__ == "__main__":  # python -m qa.benchmarks.scale_worker PHASE JOB OUT
    import sys

    main(*sys.argv[1:4])
