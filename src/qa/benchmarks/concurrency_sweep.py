"""1, 2, 4 and 8 questions at once: serial service against parallel sequences.

Part of `qa bench concurrency`. For each way of serving (``llm.parallel = 1``: one answer
at a time; ``llm.parallel = N``: up to N answers decoded in the same steps), one
`qa serve` is started and, for each level, that many `openai` clients ask a question each
at the same moment, a few rounds in a row. Reported per level: end-to-end p50/p95 per
request, errors, and the aggregate answer tokens per second. The target of issue 12 reads
the shipped serving's (``llm.parallel``) 4-client p95 against its own 1-client median.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from qa.reporting import percentile

LEVELS = (1, 2, 4, 8)
ROUNDS = 3
QUESTIONS = (
    "How does memantine work?", "What is ketamine used for?",
    "What was dantrolene originally developed to treat?", "What are the side effects of memantine?",
    "How fast does ketamine relieve depression?", "What organ can dantrolene damage?",
    "What class of drug is memantine?", "How is ketamine given?",
    "Why might older adults need a lower dose of dantrolene?", "What is excitotoxicity?",
    "What are the side effects of ketamine?", "How does dantrolene work?",
)


@dataclass
class Ask:
    """One request in the sweep."""

    level: int
    round: int
    question: str
    seconds: float = 0.0
    tokens: int = 0
    error: str | None = None


def _one(client: Any, ask: Ask) -> None:
    started = time.perf_counter()
    try:
        reply = client.chat.completions.create(
            model="qa", messages=[{"role": "user", "content": ask.question}])
        ask.tokens = reply.usage.completion_tokens if reply.usage else 0
    except Exception as err:  # every failure is counted, none stops the run
        ask.error = f"{type(err).__name__}: {err}"
    ask.seconds = time.perf_counter() - started


def _round(base_url: str, level: int, number: int) -> tuple[list[Ask], float]:
    """``level`` clients, released together, one question each; the round's wall time."""
    from openai import OpenAI

    asks = [Ask(level, number, QUESTIONS[(number * level + i) % len(QUESTIONS)])
            for i in range(level)]
    clients = [OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=900)
               for _ in asks]
    start = threading.Barrier(level + 1)

    def run(i: int) -> None:
        start.wait()
        _one(clients[i], asks[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(level)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return asks, time.perf_counter() - began


def sweep(base_url: str, levels: tuple[int, ...] = LEVELS,
          rounds: int = ROUNDS) -> dict[str, Any]:
    """Every level against one running server: per-level figures and every request."""
    _round(base_url, 1, -1)  # warm-up, unmeasured
    out: dict[str, Any] = {"levels": {}, "requests": []}
    for level in levels:
        asks: list[Ask] = []
        wall = 0.0
        for number in range(rounds):
            found, seconds = _round(base_url, level, number)
            asks += found
            wall += seconds
        ok = [a for a in asks if a.error is None]
        seconds_ok = [a.seconds for a in ok]
        out["levels"][str(level)] = {
            "requests": len(asks), "errors": len(asks) - len(ok),
            "p50_s": percentile(seconds_ok, 50, 2), "p95_s": percentile(seconds_ok, 95, 2),
            "tokens_per_s": round(sum(a.tokens for a in ok) / wall, 1) if wall else None,
        }
        out["requests"] += [vars(a) for a in asks]
    return out


def against_target(results: dict[str, dict[str, Any]], serving: str) -> dict[str, Any]:
    """Issue 12: with 4 clients, p95 end to end <= 3x the single-user median, 0 errors."""
    levels = results[serving]["levels"]
    single, four = levels.get("1", {}).get("p50_s"), levels.get("4", {}).get("p95_s")
    ratio = round(four / single, 2) if single and four else None
    return {"single_median_s": single, "four_p95_s": four, "ratio": ratio,
            "errors_at_four": levels.get("4", {}).get("errors"),
            "met": ratio is not None and ratio <= 3 and levels["4"]["errors"] == 0}


def render(results: dict[str, dict[str, Any]], target: dict[str, Any]) -> str:
    rows = ["| serving | clients at once | requests | errors | p50 s | p95 s | answer tokens/s |",
            "|---|---|---|---|---|---|---|"]
    for mode, found in results.items():
        for level, r in found["levels"].items():
            rows.append(f"| {mode} | {level} | {r['requests']} | {r['errors']} | {r['p50_s']} "
                        f"| {r['p95_s']} | {r['tokens_per_s']} |")
    verdict = "met" if target["met"] else "not met"
    return "\n".join([
        *rows, "",
        f"Target (4 clients: p95 <= 3x the single-user median, 0 errors): p95 "
        f"{target['four_p95_s']} s against a single-user median of "
        f"{target['single_median_s']} s = **{target['ratio']}x**, {verdict}.",
    ])
