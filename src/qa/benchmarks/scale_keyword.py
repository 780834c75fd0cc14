"""`qa bench scale`, the parts on real text: the keyword side and a one-document ingest.

Keyword side, on the real chunks: bm25s built in memory at start-up (what every Retriever
did before), the persisted bm25s index loaded from the generation, and Milvus Lite's own
BM25 full-text search (English analyser), each with its start-up time and single-query
latency, and Milvus's top-10 overlap with bm25s's (their analysers differ).

One-document ingest: the real index is copied and one new document (a MedQuAD-like
answer) is added through ``ingestion.add_documents``, as an ingest of a changed folder
would; the time is split into loading the live index and writing the change.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from qa.benchmarks.runner import BenchContext
from qa.index import Index, live_generation, read_generation
from qa.ingestion import add_documents
from qa.keyword import KeywordIndex, keyword_text
from qa.reporting import percentile
from qa.types import Document

NEW_DOCUMENT = (
    "Ibuprofen and kidney health\n\nIbuprofen is a non-steroidal anti-inflammatory drug. "
    "Taken for a long time or in high doses it can reduce blood flow to the kidneys, "
    "especially in older people, in people who are dehydrated and in people who also take "
    "diuretics or ACE inhibitors. Symptoms of kidney problems include swelling of the legs, "
    "passing less urine and tiredness. People with kidney disease should ask a doctor or "
    "pharmacist before taking ibuprofen, and should not take it for more than a few days.")


def _latency(search: Any, questions: list[str]) -> dict[str, float | None]:
    search(questions[0])
    ms = []
    for question in questions:
        started = time.perf_counter()
        search(question)
        ms.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99)}


def _timed(make: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = make()
    return out, time.perf_counter() - started


def measure(ctx: BenchContext, index: Index, questions: list[str]) -> dict[str, Any]:
    """Start-up time and latency of the three keyword indexes over the real chunks."""
    from qa.milvus_store import MilvusFullText

    chunks = index.chunks
    built, build_s = _timed(lambda: KeywordIndex.build([keyword_text(c) for c in chunks]))
    loaded, load_s = _timed(lambda: KeywordIndex.for_chunks(chunks, index.path))
    rows: list[dict[str, Any]] = [
        {"name": "bm25s rebuilt at start-up", "startup_s": build_s,
         **_latency(lambda q: built.search(q, 30), questions)},
        {"name": "bm25s persisted (loaded)", "startup_s": load_s,
         **_latency(lambda q: loaded.search(q, 30), questions),
         "same_top30_as_rebuilt": all(built.search(q, 30) == loaded.search(q, 30)
                                      for q in questions)},
    ]
    uri = str(ctx.index_root / "scale-fulltext.db")
    shutil.rmtree(uri, ignore_errors=True)
    _, insert_s = _timed(lambda: MilvusFullText(uri, [keyword_text(c) for c in chunks]))
    milvus, reopen_s = _timed(lambda: MilvusFullText.reopen(uri))
    overlap = [len(set(milvus.search(q, 10)) & set(built.search(q, 10))) / 10
               for q in questions]
    rows.append({"name": "Milvus Lite full-text (BM25)", "startup_s": reopen_s,
                 "index_s": insert_s, **_latency(lambda q: milvus.search(q, 30), questions),
                 "top10_overlap_with_bm25s": sum(overlap) / len(overlap)})
    shutil.rmtree(uri, ignore_errors=True)
    return {"chunks": len(chunks), "indexes": rows}


def add_one_document(ctx: BenchContext, index: Index, work: Path) -> dict[str, Any]:
    """Copy the real index, add one document as an ingest would, and time it."""
    target = work / "ingest-one"
    shutil.copytree(index.path.parent, target, ignore=shutil.ignore_patterns(".lock"))
    doc = Document(doc_id="bench-new-ibuprofen", source="bench/new-ibuprofen.txt",
                   title="Ibuprofen and kidney health", text=NEW_DOCUMENT,
                   sha256="bench-new-ibuprofen")
    live = live_generation(target)
    assert live is not None
    _, load_s = _timed(lambda: read_generation(live, ctx.settings.store))
    report = add_documents([doc], target, ctx.get_embedder(), ctx.settings.chunking,
                           store_cfg=ctx.settings.store)
    after = live_generation(target)
    delta = after.deltas[-1] if after and after.deltas else None
    written = sum(f.stat().st_size for f in delta.rglob("*")) / 2**10 if delta else None
    return {"index_chunks": len(index.chunks), "seconds": report.seconds,
            "load_live_index_s": load_s, "as_delta": report.delta, "delta_kib": written,
            "chunks_added": report.chunks - len(index.chunks)}
