"""The concurrency benchmark's own judgement: which answers are about their question, and
that its conversations are ones the rewrite rules turn into the intended questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.benchmarks.concurrency import CONVERSATIONS, DRUGS, documents_by_drug, judge
from qa.conversation import Turn, standalone_questions

from .conftest import settings_for
from .fakes import FakeGenerator

DOCS = {"m.txt": "memantine", "k.txt": "ketamine"}


@pytest.mark.parametrize(("drug", "searched", "sources", "problems"), [
    ("memantine", "What are memantine's side effects?", ["m.txt"], 0),
    ("memantine", "What are memantine's side effects?", [], 0),  # a refusal cites nothing
    ("memantine", "What are its side effects?", ["m.txt"], 1),  # not made to stand alone
    ("memantine", "What are ketamine's side effects?", ["k.txt"], 3),  # another client's
    ("memantine", "How do memantine and ketamine differ?", ["m.txt"], 1),
    ("ketamine", "How is ketamine given?", ["k.txt", "unknown.txt"], 1),
])
def test_an_answer_is_about_its_question_when_search_and_sources_name_its_drug(
        drug: str, searched: str, sources: list[str], problems: int) -> None:
    assert len(judge(drug, searched, sources, DOCS)) == problems


def test_each_seed_document_is_about_one_drug(seed_index: Path) -> None:
    found = documents_by_drug(seed_index)
    assert found["000_caeb206a0aa03600.txt"] == "memantine"
    assert found["003_ff34f6fd0d9cc91e.txt"] == "dantrolene"
    assert set(found.values()) == set(DRUGS)


def test_every_benchmark_question_is_searched_about_its_drug(seed_index, embedder) -> None:
    from qa.answer import Assistant

    lexicon = Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                             generator=FakeGenerator()).lexicon
    assert len(CONVERSATIONS) == 10 and all(len(c) == 3 for c in CONVERSATIONS)
    for conversation in CONVERSATIONS:
        forms = standalone_questions([Turn("user", q) for q, _ in conversation], lexicon)
        for form, (_, drug) in zip(forms, conversation, strict=True):
            assert judge(drug, form, [], {}) == [], form
