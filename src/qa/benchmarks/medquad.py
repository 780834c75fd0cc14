"""MedQuAD: ingestion at scale, embedding throughput, and retrieval latency with distractors.

The 16,423 MedQuAD answers are chunked and indexed together with the MedicationQA answers;
the MedicationQA questions are then asked against the mixed index (latency, hit@5). The
plain sentence-transformers encoder and the configured (optimised) embedder encode the same
sample of chunks side by side; FAISS exact and HNSW search are compared on the same vectors.
"""

from __future__ import annotations

import random
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.benchmarks import medicationqa
from qa.benchmarks.data import load_medquad, medication_document, medquad_document
from qa.benchmarks.metrics import latency_summary, ranking_metrics
from qa.benchmarks.report import BenchReport, Plot, table
from qa.benchmarks.runner import BenchContext
from qa.chunking import chunk_document, embedding_text, make_splitter
from qa.config import StoreSettings
from qa.embeddings import SentenceTransformerEmbedder
from qa.faiss_store import FaissStore
from qa.index import Index
from qa.retrieval import Retriever

SEED = 16423
THROUGHPUT_SAMPLE = 1200  # chunks encoded by both paths (plain runs ~30 chunks/s here)


def peak_memory_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def throughput(ctx: BenchContext, documents: list, sample_size: int) -> dict:
    """Chunking speed, then plain vs optimised encoding of the same sampled chunks."""
    embedder = ctx.get_embedder()
    splitter = make_splitter(embedder.count_tokens, ctx.settings.chunking)
    embedder.count_tokens("load the tokenizer before the clock starts")
    started = time.perf_counter()
    chunks = [c for doc in documents for c in chunk_document(doc, splitter)]
    chunk_s = time.perf_counter() - started
    texts = [embedding_text(c) for c in chunks]
    sample = random.Random(SEED).sample(texts, min(sample_size, len(texts)))
    plain = getattr(embedder, "base", embedder)
    assert isinstance(plain, SentenceTransformerEmbedder)
    plain.model.encode(sample[:8])  # warm both paths up: load, first allocation
    embedder.embed(sample[:8])
    started = time.perf_counter()
    reference = plain.model.encode(sample, batch_size=32, normalize_embeddings=True)
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    optimised = embedder.embed(sample)
    optimised_s = time.perf_counter() - started
    cosine = np.sum(np.asarray(reference) * optimised, axis=1)
    return {
        "documents": len(documents), "chunks": len(chunks),
        "chunking_docs_per_s": len(documents) / chunk_s,
        "sample_chunks": len(sample), "distinct_in_sample": len(set(sample)),
        "plain_chunks_per_s": len(sample) / plain_s,
        "optimised_chunks_per_s": len(sample) / optimised_s,
        "speedup": plain_s / optimised_s,
        "cosine_to_plain_mean": float(cosine.mean()), "cosine_to_plain_min": float(cosine.min()),
    }


def faiss_comparison(index: Index, queries: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Exact vs HNSW on the same vectors: recall@k of HNSW against exact, and query time."""
    ids = index.store.ids()
    vectors = index.store.vectors_for(ids)
    stores = {}
    for name, exact_limit in (("exact", len(ids)), ("hnsw", 0)):
        store = FaissStore(vectors.shape[1], StoreSettings(exact_limit=exact_limit))
        store.add(ids, vectors)
        started = time.perf_counter()
        store.search(queries[:1], 1)  # builds the FAISS index
        stores[name] = (store, time.perf_counter() - started)
    out: dict[str, Any] = {"vectors": len(ids), "hnsw_build_s": stores["hnsw"][1]}
    found = {}
    for name, (store, _) in stores.items():
        started = time.perf_counter()
        found[name] = store.search(queries, k)
        out[f"{name}_ms_per_query"] = (time.perf_counter() - started) * 1000 / len(queries)
    overlap = [len({i for i, _ in a} & {i for i, _ in b}) / k
               for a, b in zip(found["exact"], found["hnsw"], strict=True)]
    out[f"hnsw_recall@{k}"] = float(np.mean(overlap))
    return out


def mixed_retrieval(ctx: BenchContext, index: Index, queries: list) -> dict:
    """MedicationQA questions against MedicationQA + MedQuAD: latency and hit@k."""
    retriever = Retriever(index, ctx.get_embedder(), ctx.settings.retrieval)
    retriever.retrieve("warm-up question")
    ranks, latencies = medicationqa.rank_all(retriever, queries, ctx.progress, "mixed")
    vectors = ctx.get_embedder().embed([retriever.rewrite(q.question) for q in queries])
    return {"latency": latency_summary(latencies),
            "medicationqa": ranking_metrics(ranks, medicationqa.KS),
            "faiss": faiss_comparison(index, vectors)}


def run(ctx: BenchContext) -> BenchReport:
    """Chunk + embed + index MedQuAD (with MedicationQA), then measure."""
    rows = load_medquad(ctx.data_dir)
    if ctx.limit:
        rows = rows[: 20 * ctx.limit]
    documents = [medquad_document(r) for r in rows]
    sample = THROUGHPUT_SAMPLE if not ctx.limit else 16
    speed = throughput(ctx, documents, sample)
    mqa_rows, queries = medicationqa.corpus(ctx)
    mixed = documents + [medication_document(r) for r in mqa_rows if not r.is_placeholder]
    index = ctx.index_for("medquad-mixed", mixed, rebuild=True)  # timed: always built
    ingest_s = ctx.last_build_seconds("medquad-mixed") or float("nan")
    ingest = {"documents": len(mixed), "chunks": len(index.chunks), "seconds": ingest_s,
              "docs_per_s": len(mixed) / ingest_s, "chunks_per_s": len(index.chunks) / ingest_s,
              "index_mb": folder_mb(index.path)}
    metrics = {"throughput": speed, "ingest": ingest,
               "retrieval": mixed_retrieval(ctx, index, queries),
               "peak_memory_mb": peak_memory_mb()}
    return BenchReport(suite="medquad", metrics=metrics, settings=ctx.settings_dump(),
                       models=ctx.models(False), limit=ctx.limit, markdown=render(metrics),
                       plots=_plots(metrics))


def _plots(m: dict) -> list[Plot]:
    t, lat = m["throughput"], m["retrieval"]["latency"]
    return [
        Plot("Embedding throughput (same chunks)", {
            "plain sentence-transformers": t["plain_chunks_per_s"],
            "optimised": t["optimised_chunks_per_s"]}, "chunks/s",
            {"3x plain (target)": 3 * t["plain_chunks_per_s"]}),
        Plot("Retrieval latency, MedQuAD + MedicationQA index",
             {"median": lat["median_ms"], "p99": lat["p99_ms"]}, "ms", {"p99 target": 50.0}),
    ]


def render(m: dict) -> str:
    t, i, r = m["throughput"], m["ingest"], m["retrieval"]
    f = r["faiss"]
    lines = [
        "## Embedding throughput (same sampled chunks, one run)", "",
        table([t], ["sample_chunks", "distinct_in_sample", "plain_chunks_per_s",
                    "optimised_chunks_per_s", "speedup", "cosine_to_plain_min"]),
        "", "Target: speedup >= 3.", "", "## Ingestion (MedQuAD + MedicationQA answers)", "",
        table([{**i, "chunking_docs_per_s": t["chunking_docs_per_s"],
                "peak_memory_mb": m["peak_memory_mb"]}],
              ["documents", "chunks", "seconds", "docs_per_s", "chunks_per_s",
               "chunking_docs_per_s", "index_mb", "peak_memory_mb"]),
        "", "## Retrieval with MedQuAD as distractors (MedicationQA questions)", "",
        table([{**r["latency"], **r["medicationqa"]}],
              ["median_ms", "p99_ms", "max_ms", "hit@1", "hit@5", "hit@10", "mrr@10"]),
        "", "Target: p99 < 50 ms.", "", "## FAISS: exact vs HNSW on the same vectors", "",
        table([f], ["vectors", "exact_ms_per_query", "hnsw_ms_per_query", "hnsw_recall@10",
                    "hnsw_build_s"]),
    ]
    return "\n".join(lines)
