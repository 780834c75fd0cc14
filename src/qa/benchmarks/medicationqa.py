"""MedicationQA: retrieval of the trusted answer for real consumer medication questions.

Corpus: the 677 real answer passages (one Document per row; placeholders dropped). Queries:
every distinct question with at least one real answer; gold: every row with that question.
A fixed seeded half of the questions is the dev split (used to tune retrieval), the other
half is test; both and their union are reported. Optionally, a seeded sample of questions
is answered through ``Assistant.ask`` and scored against the reference answers.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from qa.benchmarks.data import MedicationRow, load_medicationqa, medication_document
from qa.benchmarks.metrics import first_hit, latency_summary, ranking_metrics, unique_in_order
from qa.benchmarks.report import BenchReport, Plot, table
from qa.benchmarks.runner import BenchContext
from qa.config import RetrievalSettings
from qa.index import Index
from qa.retrieval import Retriever

SEED = 20190825  # fixed: the dev/test split and the generation sample never move
KS = (1, 5, 10)
# Ablations run on the same index, so the report shows what each retrieval choice buys.
ABLATIONS: dict[str, dict] = {
    "dense only": {"bm25_weight": 0.0, "spelling": False, "aliases": False},
    "bm25 only": {"dense_weight": 0.0, "spelling": False, "aliases": False},
    "hybrid, raw query": {"spelling": False, "aliases": False},
    "hybrid + spelling": {"aliases": False},
}


@dataclass(frozen=True)
class Query:
    question: str
    gold: frozenset[str]  # document sources
    split: str


def _text_key(text: str) -> str:
    return " ".join(text.lower().split())


def build_queries(rows: list[MedicationRow]) -> list[Query]:
    """Distinct questions with their gold rows, split 50/50 dev/test by a fixed seed.

    Identical answer texts are collapsed (as the dataset README suggests): a row whose
    answer is word-for-word a gold answer is gold too. Ingestion keeps only one copy of
    identical passages, so without this the copy that survives would count as a miss.
    """
    gold: dict[str, set[str]] = defaultdict(set)
    same_text: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if not row.is_placeholder:
            gold[row.question].add(row.source)
            same_text[_text_key(row.answer)].add(row.source)
    by_source = {r.source: r for r in rows}
    for sources in gold.values():
        for source in list(sources):
            sources |= same_text[_text_key(by_source[source].answer)]
    questions = sorted(gold)
    dev = set(random.Random(SEED).sample(questions, len(questions) // 2))
    return [Query(q, frozenset(gold[q]), "dev" if q in dev else "test") for q in questions]


def corpus(ctx: BenchContext) -> tuple[list[MedicationRow], list[Query]]:
    """Rows and queries; a ``--limit`` run keeps a small slice of the corpus."""
    rows = load_medicationqa(ctx.data_dir)
    if ctx.limit:
        rows = rows[: max(40, 8 * ctx.limit)]
    queries = build_queries(rows)
    return rows, queries[: ctx.limit] if ctx.limit else queries


def rank_all(retriever: Retriever, queries: list[Query], progress: bool = False,
             desc: str = "retrieve") -> tuple[list[int | None], list[float]]:
    """First-gold rank (documents, de-duplicated) and latency in ms for each query."""
    from tqdm import tqdm

    ranks, latencies = [], []
    for query in tqdm(queries, desc=desc, unit="q", disable=not progress):
        started = time.perf_counter()
        passages = retriever.retrieve(query.question, top_k=3 * max(KS))
        latencies.append((time.perf_counter() - started) * 1000)
        sources = unique_in_order(p.chunk.source for p in passages)[: max(KS)]
        ranks.append(first_hit(sources, set(query.gold)))
    return ranks, latencies


def split_metrics(queries: list[Query], ranks: list[int | None]) -> dict[str, dict[str, Any]]:
    out = {}
    for split in ("dev", "test", "all"):
        picked = [r for q, r in zip(queries, ranks, strict=True) if split in (q.split, "all")]
        out[split] = {"n": len(picked), **ranking_metrics(picked, KS)}
    return out


def evaluate_retrieval(ctx: BenchContext, index: Index,
                       queries: list[Query]) -> dict[str, Any]:
    """The configured retriever on every query, plus each ablation on the same index."""
    embedder = ctx.get_embedder()
    embedder.embed(["warm-up"])  # the first call pays one-off allocation
    configured = Retriever(index, embedder, ctx.settings.retrieval)
    ranks, latencies = rank_all(configured, queries, ctx.progress)
    ablations: dict[str, dict[str, dict[str, Any]]] = {}
    for name, changes in ABLATIONS.items():
        cfg = ctx.settings.retrieval.model_copy(update=changes)
        retriever = Retriever(index, embedder, RetrievalSettings(**cfg.model_dump()))
        ablation_ranks, _ = rank_all(retriever, queries, ctx.progress, desc=name)
        ablations[name] = split_metrics(queries, ablation_ranks)
    return {"configured": split_metrics(queries, ranks), "latency": latency_summary(latencies),
            "ablations": ablations}


def run(ctx: BenchContext) -> BenchReport:
    """Index the answers, rank every question, optionally answer a sample."""
    from qa.benchmarks.answering import evaluate_answers

    rows, queries = corpus(ctx)
    documents = [medication_document(r) for r in rows if not r.is_placeholder]
    index = ctx.index_for("medicationqa", documents)
    retrieval = evaluate_retrieval(ctx, index, queries)
    metrics: dict[str, Any] = {"corpus": {"documents": len(documents), "chunks": len(index.chunks),
                          "placeholder_rows_dropped": sum(r.is_placeholder for r in rows),
                          "questions": len(queries)},
               "retrieval": retrieval}
    plots = [_plot(retrieval)]
    if ctx.compare:
        from qa.benchmarks import comparison

        metrics["variants"] = comparison.compare(ctx, documents, queries)
        plots.append(comparison.plot(metrics["variants"]))
    if ctx.generate:
        by_source = {r.source: r for r in rows}
        sample = random.Random(SEED).sample(queries, min(ctx.generate_sample, len(queries)))
        metrics["generation"] = evaluate_answers(ctx, index, sample, by_source)
    return BenchReport(
        suite="medicationqa", metrics=metrics, settings=ctx.settings_dump(),
        models=ctx.models(ctx.generate), limit=ctx.limit, markdown=render(metrics),
        plots=plots,
    )


def _plot(retrieval: dict) -> Plot:
    rows = {"configured": retrieval["configured"]["test"]}
    rows.update({k: v["test"] for k, v in retrieval["ablations"].items()})
    return Plot(title="MedicationQA test split: hit@5 by retriever",
                values={k: v["hit@5"] for k, v in rows.items()}, ylabel="hit@5",
                reference={"target 0.90": 0.90})


def render(metrics: dict) -> str:
    """Markdown body: retrieval by split, ablations, and generation when run."""
    r = metrics["retrieval"]
    cols = ["split", "n", "hit@1", "hit@5", "hit@10", "mrr@10"]
    lines = ["## Retrieval (configured retriever)", "",
             table([{"split": s, **m} for s, m in r["configured"].items()], cols), "",
             f"Latency per query: median {r['latency']['median_ms']:.1f} ms, "
             f"p99 {r['latency']['p99_ms']:.1f} ms. Targets: hit@5 >= 0.90, MRR@10 >= 0.78.",
             "", "Fusion weights and query normalisation were chosen on the dev split only; "
             "test is held out. Gold: every row with the same question (identical answer "
             "texts collapsed).",
             "", "## Ablations (same index)", ""]
    rows = [{"retriever": "configured", **r["configured"][s], "split": s}
            for s in ("dev", "test")]
    for name, m in r["ablations"].items():
        rows += [{"retriever": name, **m[s], "split": s} for s in ("dev", "test")]
    lines.append(table(rows, ["retriever", *cols]))
    if "variants" in metrics:
        from qa.benchmarks import comparison

        lines += ["", comparison.render(metrics["variants"])]
    if "generation" in metrics:
        g = metrics["generation"]
        lines += ["", f"## Generated answers (seeded sample, n={g['n']})", "",
                  table([{k: v for k, v in g.items() if not isinstance(v, list | dict)}],
                        [k for k, v in g.items() if not isinstance(v, list | dict)])]
    return "\n".join(lines)
