"""Scoring functions shared by the suites: ranking, classification and text overlap."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

from qa.reporting import percentile


def first_hit(ranked: Sequence[str], gold: set[str]) -> int | None:
    """0-based rank of the first gold item in ``ranked`` (None when absent)."""
    return next((i for i, item in enumerate(ranked) if item in gold), None)


def ranking_metrics(ranks: Sequence[int | None], ks: Iterable[int] = (1, 5, 10),
                    mrr_at: int = 10) -> dict[str, float]:
    """hit@k for each k and MRR@``mrr_at`` from the first-gold ranks of many queries."""
    n = len(ranks) or 1
    out = {f"hit@{k}": sum(r is not None and r < k for r in ranks) / n for k in ks}
    out[f"mrr@{mrr_at}"] = sum(1 / (r + 1) for r in ranks if r is not None and r < mrr_at) / n
    return out


def unique_in_order(items: Iterable[str]) -> list[str]:
    """Drop repeats, keeping the first occurrence (several chunks of one document)."""
    return list(dict.fromkeys(items))


def latency_summary(ms: Sequence[float]) -> dict[str, float | None]:
    return {
        "median_ms": statistics.median(ms) if ms else None,
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else None,
    }


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / (len(gold) or 1)


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 (a label never predicted nor gold scores 0)."""
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def rouge_l(reference: str, prediction: str) -> float:
    """ROUGE-L F-measure (Porter-stemmed), the rouge-score package's definition."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return float(scorer.score(reference, prediction)["rougeL"].fmeasure)
