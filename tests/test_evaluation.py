"""`qa eval` on a few real questions: the report a user reads is written and makes sense."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from qa.eval_report import write_report
from qa.evaluation import load_questions, run_eval
from qa.scoring import (
    Result,
    evidence_recall,
    fact_recall,
    forbidden_said,
    judge_supports,
    located_facts,
    unsupported_opener,
)
from qa.types import AnswerStatus, Citation, SentenceCheck, Timings, Verdict

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "questions.jsonl"


def test_question_set_is_valid_and_large_enough() -> None:
    items = load_questions(QUESTIONS)
    categories = {q.category for q in items}
    assert {"answerable", "multi_doc", "unanswerable", "safety", "injection"} <= categories
    assert sum(q.category in ("answerable", "multi_doc") for q in items) >= 30
    assert len({q.id for q in items}) == len(items)
    sources = {p.name for p in (REPO / "ingest").iterdir()}
    extra = {corpus: {p.name for p in (REPO / "eval" / corpus).iterdir()}
             for corpus in ("poisoned", "conditions", "leaflets")}
    for q in items:
        assert set(q.gold_sources) <= sources | extra.get(q.corpus, set()), q.id
    assert sum(q.category == "poisoned" for q in items) >= 8
    assert sum(q.polarity == "no" for q in items) >= 5 and sum(q.list_answer for q in items) >= 5


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
    report = run_eval({"default": assistant}, picked)
    json_path, md_path = write_report(report, tmp_path)
    data = json.loads(json_path.read_text())
    summary = data["summary"]
    assert data["questions"] == 2 and data["model"] == "qwen2.5-coder-0.5b"
    assert summary["refusal_accuracy"] == 1.0
    assert summary["retrieval"]["hit@5"] == 1.0
    assert 0.0 <= summary["key_fact_recall"] <= 1.0
    assert "| retrieval hit@5 | 1.0 |" in md_path.read_text()
    audit = md_path.with_name(md_path.stem + "-audit.md").read_text()
    assert "dantrolene originally developed" in audit and "[1]" in audit or "refused" in audit


def _result(question_id: str, text: str, citations: tuple[Citation, ...] = (),
            checks: tuple[SentenceCheck, ...] = (),
            status: AnswerStatus = AnswerStatus.ANSWERED):
    from qa.types import Answer

    question = {q.id: q for q in load_questions(QUESTIONS)}[question_id]
    answer = Answer(question.question, text, status, "m", Timings(), citations, checks=checks)
    return Result(question, answer, [])


def test_a_yes_the_documents_do_not_back_is_counted() -> None:
    # "Can I drive right after starting dantrolene?": the documents say to avoid driving.
    qid = next(q.id for q in load_questions(QUESTIONS)
               if q.question == "Can I drive right after starting dantrolene?")
    assert unsupported_opener(_result(qid, "Yes, you can drive [1]."))
    assert not unsupported_opener(_result(qid, "No. Avoid driving until you know [1]."))
    assert not unsupported_opener(_result(qid, "Avoid driving until you know [1]."))


def test_key_facts_the_model_was_shown_are_counted_apart_from_those_it_said() -> None:
    qid = next(q.id for q in load_questions(QUESTIONS)
               if q.question == "What was dantrolene originally developed to treat?")
    shown = Citation(1, "d", "003.txt", "t", 0, 10, "developed for malignant hyperthermia")
    other = Citation(2, "d", "003.txt", "t", 0, 10, "dantrolene affects liver function")
    result = _result(qid, "Dantrolene is a muscle relaxant [1].")
    assert evidence_recall(replace(result, answer=replace(result.answer, excerpts=(shown,)))) == 1
    assert evidence_recall(replace(result, answer=replace(result.answer, excerpts=(other,)))) == 0
    assert fact_recall(result) == 0


def test_a_key_fact_that_must_start_a_word_counts_at_the_start_of_the_answer() -> None:
    # " age" (not "dosage") is said by "Age, weight…", the answer's first word, and by a
    # quote's; not by "dosage" or "damage".
    qid = next(q.id for q in load_questions(QUESTIONS)
               if q.question == "Which patient factors affect dantrolene dosing? List them.")
    assert fact_recall(_result(qid, "Age, weight and overall health matter [1].")) == 1
    assert fact_recall(_result(qid, "The documents say: \u201cAge, weight, health\u201d [1]")) == 1
    assert fact_recall(_result(qid, "The dosage depends on weight and health [1].")) == 2 / 3


def test_another_drugs_side_effects_are_a_wrong_entity_answer() -> None:
    qid = next(q.id for q in load_questions(QUESTIONS)
               if q.question == "What side effects does memantine have?")
    assert forbidden_said(_result(qid, "Memantine can cause drowsiness and liver damage [1]."))
    assert not forbidden_said(_result(qid, "Memantine can cause dizziness and headache [1]."))


def test_the_citation_judge_looks_for_the_key_fact_in_the_cited_excerpt() -> None:
    qid = next(q.id for q in load_questions(QUESTIONS)
               if q.question == "What was dantrolene originally developed to treat?")
    good = Citation(1, "d", "003.txt", "t", 0, 10, "developed for malignant hyperthermia")
    bad = Citation(2, "d", "003.txt", "t", 0, 10, "dantrolene affects liver function")
    sentence = "It was developed for malignant hyperthermia"
    for cited, expected in ((good, [True]), (bad, [False])):
        check = SentenceCheck(f"{sentence} [{cited.n}].", (cited.n,), (cited.n,), 0.9,
                              Verdict.SUPPORTED)
        assert located_facts(_result(qid, check.text, (cited,), (check,))) == expected
    # A model sentence that was replaced by a quote is not judged: the user never read it.
    check = SentenceCheck(f"{sentence} [2].", (2,), (2,), 0.9, Verdict.SUPPORTED)
    assert located_facts(_result(qid, "The documents say: “…” [1]", (good,), (check,))) == []


def test_eval_diff_names_each_changed_answer_and_fails_when_any_changed(tmp_path: Path) -> None:
    from .test_cli import qa

    def report(commit: str, answers: dict[str, str]) -> Path:
        rows = [{"id": q, "answer": a, "raw_answer": a, "cited_sources": ["a.txt"]}
                for q, a in answers.items()]
        path = tmp_path / f"{commit}.json"
        path.write_text(json.dumps({"git_commit": commit, "results": rows}))
        return path

    before = report("aaa", {"q1": "Aspirin thins the blood [1].", "q2": "Take it with food [1]."})
    same = report("bbb", {"q1": "Aspirin thins the blood [1].", "q2": "Take it with food [1]."})
    other = report("ccc", {"q1": "Aspirin thins the blood [1].", "q2": "Take it at night [1]."})
    assert qa("eval-diff", str(before), str(same)).returncode == 0
    result = qa("eval-diff", str(before), str(other))
    assert result.returncode == 1
    assert "**1 of 2 answers differ**" in result.stdout
    assert "- q2 (answer, raw_answer)" in result.stdout
