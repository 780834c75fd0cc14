"""`qa speed`: first-token latency and decode speed under a few generation set-ups.

Timed unit tests would be flaky and prove little; this benchmark writes a report instead.
Each set-up answers the same questions through ``Assistant.stream`` (the UI's path).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.reporting import git_commit, machine, percentile, stamp, write_json
from qa.types import Answer, EventKind

SETUPS: dict[str, dict[str, dict[str, Any]]] = {
    # The top passages whole (max_passages of them): what the pipeline did before evidence
    # selection.
    "whole_passages": {"answer": {"evidence_tokens": 2000}, "llm": {"prompt_lookup": False}},
    "selected_evidence": {"answer": {}, "llm": {"prompt_lookup": False}},
    "selected_evidence+prompt_lookup": {"answer": {}, "llm": {"prompt_lookup": True}},
}


@dataclass
class Sample:
    evidence_ms: float
    first_token_ms: float
    last_token_ms: float
    total_ms: float
    tokens: int

    @property
    def decode_tps(self) -> float | None:
        """Tokens after the first over the time between first and last token (verification,
        which runs after the last token, is not decoding)."""
        seconds = (self.last_token_ms - self.first_token_ms) / 1000
        return (self.tokens - 1) / seconds if self.tokens > 1 and seconds > 0 else None


def _settings(base: Settings, setup: dict[str, dict[str, Any]]) -> Settings:
    return base.model_copy(update={
        "answer": base.answer.model_copy(update=setup["answer"]),
        "llm": base.llm.model_copy(update=setup["llm"]),
    })


def measure(base: Settings, questions: list[str],
            setup: dict[str, dict[str, Any]]) -> list[Sample]:
    """Answer each question once (after one warm-up question) and time the stream."""
    from qa.answer import Assistant

    assistant = Assistant.load(settings=_settings(base, setup))
    assistant.ask(questions[0])  # warm caches; not measured
    samples = []
    for question in questions:
        started = time.perf_counter()
        evidence_ms: float | None = None
        first_ms: float | None = None
        last_ms = 0.0
        answer: Answer | None = None
        for event in assistant.stream(question, drafts=True):
            now = (time.perf_counter() - started) * 1000
            if event.kind is EventKind.EVIDENCE and evidence_ms is None:
                evidence_ms = now
            elif event.kind is EventKind.TOKEN:
                first_ms = first_ms if first_ms is not None else now
                last_ms = now
            elif event.answer is not None:
                answer = event.answer
        if first_ms is None or answer is None:  # refused before the model ran
            continue
        tokens = assistant.generator.count_tokens(answer.raw_answer)
        samples.append(Sample(evidence_ms or 0.0, first_ms, last_ms, answer.timings.total_ms,
                              tokens))
    return samples


def summarise(samples: list[Sample]) -> dict[str, Any]:
    rates = [r for s in samples if (r := s.decode_tps)]
    return {
        "n": len(samples),
        "evidence_ms_median": percentile([s.evidence_ms for s in samples], 50, 1),
        "evidence_ms_p90": percentile([s.evidence_ms for s in samples], 90, 1),
        "first_token_ms_median": percentile([s.first_token_ms for s in samples], 50, 1),
        "first_token_ms_p90": percentile([s.first_token_ms for s in samples], 90, 1),
        "decode_tokens_per_s_median": round(statistics.median(rates), 1) if rates else None,
        "answer_tokens_median": statistics.median([s.tokens for s in samples]) if samples
        else None,
    }


def run_speed(base: Settings, questions: list[str], out_dir: Path) -> tuple[Path, Path]:
    """Measure every set-up and write speed-<timestamp>.json/.md; return both paths."""
    results = {name: summarise(measure(base, questions, setup))
               for name, setup in SETUPS.items()}
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_commit": git_commit(),
        "machine": machine(),
        "model": base.llm.model,
        "questions": len(questions),
        "setups": SETUPS,
        "results": results,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    name = stamp()
    json_path, md_path = out_dir / f"speed-{name}.json", out_dir / f"speed-{name}.md"
    write_json(json_path, report)
    lines = [
        f"# qa speed {report['created']}", "",
        f"model `{report['model']}` · {len(questions)} questions · commit "
        f"`{report['git_commit']}`", "",
        "| set-up | n | evidence ms (median/p90) | first token ms (median/p90) "
        "| decode tok/s (median) | answer tokens |",
        "|---|---|---|---|---|---|",
        *[f"| {name} | {r['n']} | {r['evidence_ms_median']} / {r['evidence_ms_p90']} | "
          f"{r['first_token_ms_median']} / {r['first_token_ms_p90']} | "
          f"{r['decode_tokens_per_s_median']} | {r['answer_tokens_median']} |"
          for name, r in results.items()],
        "",
    ]
    md_path.write_text("\n".join(lines))
    return json_path, md_path
