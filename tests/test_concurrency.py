"""Concurrent sessions over one Assistant: no crash, no cross-talk (one llama.cpp context
aborted the process when two threads decoded at once)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.slow

QUESTIONS = ("What was dantrolene originally developed to treat?",
             "What is memantine used for?", "How does ketamine help depression?")


def test_three_threads_get_the_answers_they_would_get_alone(assistant) -> None:
    alone = {q: assistant.ask(q) for q in QUESTIONS}
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        together = dict(zip(QUESTIONS, pool.map(assistant.ask, QUESTIONS), strict=True))
    for question, answer in together.items():
        assert answer.question == question
        assert answer.answer == alone[question].answer
        assert {c.source for c in answer.citations} == \
            {c.source for c in alone[question].citations}
