"""Answer a sample of benchmark questions through ``Assistant.ask`` and score the answers.

Scores: ROUGE-L and embedding cosine against the best-matching reference answer, citation
validity (cited documents that are gold rows), and how often the assistant refused.
"""

from __future__ import annotations

import statistics

import numpy as np

from qa.benchmarks.metrics import rouge_l
from qa.benchmarks.runner import BenchContext
from qa.index import Index


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def evaluate_answers(ctx: BenchContext, index: Index, sample: list, rows_by_source: dict) -> dict:
    """Run each sampled query (``.question``, ``.gold`` sources) through the Assistant."""
    from tqdm import tqdm

    embedder = ctx.get_embedder()
    assistant = ctx.assistant_for(index)
    rouge, cosine, valid, cited_any, refused, seconds, examples = [], [], [], [], 0, [], []
    for query in tqdm(sample, desc="answer", unit="q", disable=not ctx.progress):
        answer = assistant.ask(query.question)
        seconds.append(answer.timings.total_ms / 1000)
        references = [rows_by_source[s].answer for s in sorted(query.gold)]
        if answer.refused or not answer.citations:
            refused += answer.refused
            examples.append({"question": query.question, "refused": answer.refused})
            continue
        body = answer.text
        rouge.append(max(rouge_l(ref, body) for ref in references))
        vectors = embedder.embed([body, *references])
        cosine.append(float(np.max(vectors[1:] @ vectors[0])))
        cited = {c.source for c in answer.citations}
        valid.append(len(cited & query.gold) / len(cited))
        cited_any.append(bool(cited & query.gold))
        examples.append({"question": query.question, "answer": body[:400],
                         "cited": sorted(cited), "gold": sorted(query.gold)})
    n = len(sample)
    return {
        "n": n, "answered": len(rouge), "refusal_rate": refused / (n or 1),
        "rouge_l": _mean(rouge), "embedding_cosine": _mean(cosine),
        "citation_precision": _mean(valid),
        "answers_citing_a_gold_row": _mean([float(x) for x in cited_any]),
        "median_seconds": statistics.median(seconds) if seconds else None,
        "examples": examples[:20],
    }
