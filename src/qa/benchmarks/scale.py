"""`qa bench scale`: vector stores at a million chunks, and the default index type chosen.

Real chunk embeddings come from indexing MedQuAD, PubMedQA (PQA-L abstracts) and
MedicationQA answers through the normal ingestion path. They are extended to
``--chunks`` vectors with perturbed copies: copy ``j`` of real vector ``v`` (drawn
uniformly, seeded, so every run builds the same set) is ``normalise(v + e)`` with ``e``
drawn from N(0, sigma^2 I), sigma = NOISE / sqrt(dim): |e| is about NOISE, the cosine of a
copy to its source about 1 / sqrt(1 + NOISE^2) = 0.80 and between two copies of one source
1 / (1 + NOISE^2) = 0.64. NOISE = 0.75 matches the real chunks: a real chunk's nearest
other chunk has median cosine 0.81 and its 10th 0.66 (measured on the real vectors and
reported as ``real_neighbours``). Smaller noise makes copies near-ties of each other,
which no approximate index can rank exactly (at 0.5, HNSW recall@10 stayed under 0.8).
Queries are real questions (MedicationQA, MedQuAD) embedded by the same model; ground
truth is exact inner-product search over all vectors.

Each store configuration is built in one fresh process and served from another
(``scale_worker``); the keyword side (bm25s persisted vs rebuilt, and Milvus full-text
search) and an end-to-end one-document ingest into the real index are measured here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from qa.benchmarks import scale_keyword
from qa.benchmarks.data import (
    load_medicationqa,
    load_medquad,
    load_pubmedqa,
    medication_document,
    medquad_document,
    pubmed_document,
)
from qa.benchmarks.report import BenchReport
from qa.benchmarks.runner import BenchContext
from qa.benchmarks.scale_report import choose_defaults, plots, render
from qa.config import StoreSettings
from qa.types import Document

NOISE = 0.75
SEED = 13
K = 10
EF_CONSTRUCTION = 80  # faiss's default 40 builds a weaker graph on a million vectors
QUERIES = 300


def real_documents(ctx: BenchContext) -> list[Document]:
    """MedQuAD answers, PQA-L abstracts and MedicationQA answers (a slice with --limit)."""
    medquad = [medquad_document(r) for r in load_medquad(ctx.data_dir)]
    pubmed = [pubmed_document(r) for r in load_pubmedqa(ctx.data_dir)]
    mqa = [medication_document(r) for r in load_medicationqa(ctx.data_dir)
           if not r.is_placeholder]
    if ctx.limit:
        return medquad[: 10 * ctx.limit] + pubmed[: ctx.limit] + mqa[: ctx.limit]
    return medquad + pubmed + mqa


def query_texts(ctx: BenchContext) -> list[str]:
    """Real consumer questions: MedicationQA first, then MedQuAD, distinct, in file order."""
    texts = [r.question for r in load_medicationqa(ctx.data_dir)]
    texts += [r.question for r in load_medquad(ctx.data_dir)]
    unique = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    return unique[: 20 if ctx.limit else QUERIES]


def synthetic(real: np.ndarray, total: int, path: Path) -> np.ndarray:
    """``total`` vectors: the real ones, then seeded perturbed copies (see module doc)."""
    if path.is_file():
        cached = np.load(path, mmap_mode="r")
        if cached.shape == (total, real.shape[1]):
            return cached
    rng = np.random.default_rng(SEED)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(total, real.shape[1]))
    out[: min(total, len(real))] = real[:total]
    sigma = NOISE / np.sqrt(real.shape[1])
    for start in range(len(real), total, 100_000):
        n = min(100_000, total - start)
        block = real[rng.integers(0, len(real), n)] + rng.normal(0, sigma, (n, real.shape[1]))
        out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()
    return np.load(path, mmap_mode="r")


def real_neighbours(real: np.ndarray, sample: int = 2000) -> dict[str, float]:
    """Median cosine of a real chunk to its 1st and 10th nearest other real chunk."""
    rng = np.random.default_rng(SEED)
    rows = rng.choice(len(real), min(sample, len(real)), replace=False)
    sims = real[rows] @ real.T
    sims[np.arange(len(rows)), rows] = -1.0
    top = -np.sort(-sims, axis=1)
    k = min(10, top.shape[1])
    return {"nn1_median": float(np.median(top[:, 0])),
            f"nn{k}_median": float(np.median(top[:, k - 1]))}


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row ids of the exact top ``k`` for each query (blocked matrix products)."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), 200_000):
        sims = queries @ np.asarray(vectors[start : start + 200_000]).T
        s = np.concatenate([best_s, sims], axis=1)
        i = np.concatenate([best_i, np.arange(start, start + sims.shape[1])[None, :]
                            .repeat(len(queries), 0)], axis=1)
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(s, order, 1), np.take_along_axis(i, order, 1)
    return best_i


def configurations(total: int, smoke: bool) -> list[dict[str, Any]]:
    """Every store configuration measured: name, settings, the search breadth swept."""
    ef = [16, 32, 64, 128] if smoke else [16, 32, 64, 128, 256, 512]
    probe = [4, 16] if smoke else [8, 16, 32, 64, 128]
    nlist = 64 if smoke else max(1, int(4 * total**0.5))
    out: list[dict[str, Any]] = [
        {"name": "faiss flat", "cfg": {"backend": "faiss", "index": "flat"}},
        {"name": f"faiss ivf nlist={nlist}", "sweep_field": "ivf_nprobe", "sweep": probe,
         "cfg": {"backend": "faiss", "index": "ivf", "ivf_nlist": nlist}},
    ]
    hnsw = [{"name": f"faiss hnsw M={m}", "sweep_field": "hnsw_ef_search", "sweep": ef,
             "cfg": {"backend": "faiss", "index": "hnsw", "hnsw_m": m,
                     "hnsw_ef_construction": EF_CONSTRUCTION}} for m in (16, 32)]
    out += hnsw[:1] + [{"name": "milvus-lite hnsw M=16", "sweep_field": "hnsw_ef_search",
                        "sweep": ef, "cfg": {"backend": "milvus", "index": "hnsw",
                                             "hnsw_m": 16,
                                             "hnsw_ef_construction": EF_CONSTRUCTION}}]
    out += hnsw[1:]  # the slowest build last
    if smoke:
        out.append({"name": "milvus-lite flat", "cfg": {"backend": "milvus", "index": "flat"}})
    return out


def _run_phase(phase: str, job: dict[str, Any], work: Path, in_process: bool) -> dict[str, Any]:
    from qa.benchmarks import scale_worker

    if in_process:  # the smoke run: seconds matter more than separate peak memory
        return scale_worker.build(job) if phase == "build" else scale_worker.serve(job)
    job_file, out_file = work / f"{phase}.job.json", work / f"{phase}.out.json"
    job_file.write_text(json.dumps(job))
    subprocess.run([sys.executable, "-m", "qa.benchmarks.scale_worker", phase, str(job_file),
                    str(out_file)], check=True)
    return dict(json.loads(out_file.read_text()))


def _result_key(job: dict[str, Any], total: int, queries: np.ndarray) -> str:
    """What a configuration's numbers depend on: its settings, the vectors, the queries."""
    import hashlib

    digest = hashlib.sha256(json.dumps([job["name"], job["cfg"], job.get("sweep"), total,
                                        NOISE, SEED, K]).encode())
    digest.update(np.ascontiguousarray(queries).tobytes())
    return digest.hexdigest()[:16]


def measure_stores(vectors_path: Path, queries: Path, truth: Path, work: Path,
                   smoke: bool, cache: Path | None = None,
                   only: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every configuration (or those whose names start with one of ``only``), built and
    served; a full run keeps each one's numbers in ``cache`` so that an interrupted run
    resumes where it stopped (marked ``reused``)."""
    total = int(np.load(vectors_path, mmap_mode="r").shape[0])
    query_vectors = np.load(queries)
    results = []
    chosen = [c for c in configurations(total, smoke)
              if not only or c["name"].startswith(only)]
    for config in chosen:
        folder = work / config["name"].replace(" ", "_").replace("=", "")
        cfg = StoreSettings.model_validate(config["cfg"]).model_dump(mode="json")
        job = {**config, "cfg": cfg, "vectors": str(vectors_path), "queries": str(queries),
               "truth": str(truth), "folder": str(folder), "k": K}
        saved = cache / f"{_result_key(job, total, query_vectors)}.json" if cache else None
        if saved is not None and saved.is_file():
            results.append({**json.loads(saved.read_text()), "reused": saved.name})
            continue
        built = _run_phase("build", job, work, smoke)
        served = _run_phase("serve", job, work, smoke)
        results.append({"name": config["name"], **built, **served})
        shutil.rmtree(folder, ignore_errors=True)
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps(results[-1]))
    return results


def run(ctx: BenchContext) -> BenchReport:
    """Real vectors -> ``ctx.chunks`` vectors -> every store configuration, then report."""
    smoke = bool(ctx.limit)
    total = ctx.chunks if not smoke else min(ctx.chunks, 3000)
    index = ctx.index_for("scale-real" + (f"-limit{ctx.limit}" if smoke else ""),
                          real_documents(ctx))
    real = index.store.vectors_for(index.store.ids())
    embedder = ctx.get_embedder()
    questions = query_texts(ctx)
    query_vectors = embedder.embed(questions).astype(np.float32)
    ctx.index_root.mkdir(parents=True, exist_ok=True)
    vectors = synthetic(real, total, ctx.index_root / f"scale-vectors-{total}.npy")
    with tempfile.TemporaryDirectory(dir=ctx.index_root) as tmp:
        work = Path(tmp)
        np.save(work / "queries.npy", query_vectors)
        np.save(work / "truth.npy", exact_top(vectors, query_vectors, K))
        stores = measure_stores(ctx.index_root / f"scale-vectors-{total}.npy",
                                work / "queries.npy", work / "truth.npy", work, smoke,
                                None if smoke else ctx.index_root / "scale-results",
                                ctx.stores)
        ingest_one = scale_keyword.add_one_document(ctx, index, work)
    keyword = scale_keyword.measure(ctx, index, questions)
    metrics = {"vectors": total, "real_vectors": len(real), "dim": int(real.shape[1]),
               "real_neighbours": real_neighbours(real),
               "queries": len(questions), "k": K, "noise": NOISE, "stores": stores,
               "keyword": keyword, "ingest_one_document": ingest_one,
               "left_out": [c["name"] for c in configurations(total, smoke)
                            if c["name"] not in {s["name"] for s in stores}]}
    metrics["choice"] = choose_defaults(metrics)
    return BenchReport(suite="scale", metrics=metrics, settings=ctx.settings_dump(),
                       models=ctx.models(False), limit=ctx.limit, markdown=render(metrics),
                       plots=plots(metrics))
