"""`qa eval` on a few real questions: the report a user reads is written and makes sense."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.evaluation import judge_supports, load_questions, run_eval, write_report

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "questions.jsonl"


def test_question_set_is_valid_and_large_enough() -> None:
    items = load_questions(QUESTIONS)
    categories = {q.category for q in items}
    assert {"answerable", "multi_doc", "unanswerable", "safety", "injection"} <= categories
    assert sum(q.category in ("answerable", "multi_doc") for q in items) >= 30
    assert len({q.id for q in items}) == len(items)
    sources = {p.name for p in (REPO / "ingest").iterdir()}
    assert all(set(q.gold_sources) <= sources for q in items)


def test_judge_needs_words_and_numbers_from_the_excerpt() -> None:
    excerpt = "The 5mg dosage of memantine is often considered a starting point for treatment."
    assert judge_supports("A 5mg dosage of memantine is a starting point [1].", excerpt)
    assert not judge_supports("A 10mg dosage of memantine is a starting point [1].", excerpt)
    assert not judge_supports("Memantine cures diabetes and heart failure.", excerpt)


@pytest.mark.slow
def test_eval_writes_json_and_markdown_reports(assistant, tmp_path: Path) -> None:
    by_id = {q.id: q for q in load_questions(QUESTIONS)}
    picked = [q for q in by_id.values() if q.category == "unanswerable"][:1] + [
        by_id["q014"]]  # "What was dantrolene originally developed to treat?"
    report = run_eval(assistant, picked)
    json_path, md_path = write_report(report, tmp_path)
    data = json.loads(json_path.read_text())
    summary = data["summary"]
    assert data["questions"] == 2 and data["model"] == "qwen2.5-coder-0.5b"
    assert summary["refusal_accuracy"] == 1.0
    assert summary["retrieval"]["hit@5"] == 1.0
    assert 0.0 <= summary["key_fact_recall"] <= 1.0
    assert "| retrieval hit@5 | 1.0 |" in md_path.read_text()
