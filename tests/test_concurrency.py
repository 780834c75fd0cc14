"""Concurrent sessions over one Assistant: no crash, no cross-talk (one llama.cpp context
aborted the process when two threads decoded at once), and with ``llm.parallel = 1`` the
very answers each question gets alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import TEST_LLM, settings_for

pytestmark = pytest.mark.slow

QUESTIONS = ("What was dantrolene originally developed to treat?",
             "What is memantine used for?", "How does ketamine help depression?")


def _together(assistant) -> dict:
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        return dict(zip(QUESTIONS, pool.map(assistant.ask, QUESTIONS), strict=True))


def test_one_at_a_time_gives_the_answers_each_gets_alone(assistant) -> None:
    """Decoded one after another (llm.parallel = 1, the default), a question's answer does
    not depend on who else asks."""
    assert assistant.generator.engine.peak <= 1
    alone = {q: assistant.ask(q) for q in QUESTIONS}
    for question, answer in _together(assistant).items():
        assert answer.question == question
        assert answer.answer == alone[question].answer
        assert {c.source for c in answer.citations} == \
            {c.source for c in alone[question].citations}


def test_answers_decoded_together_stay_with_their_questions(seed_index: Path,
                                                            embedder) -> None:
    """With parallel sequences the answers are decoded in the same steps; each still answers
    its own question from its own evidence (wording may differ from the answer alone: a
    batched step rounds differently)."""
    from qa.answer import Assistant
    from qa.config import LLMSettings

    settings = settings_for(seed_index).model_copy(
        update={"llm": LLMSettings(model=TEST_LLM, max_tokens=160, parallel=3)})
    assistant = Assistant.load(settings=settings, embedder=embedder)
    engine = assistant.generator.engine
    for question, answer in _together(assistant).items():
        assert answer.question == question
        assert all(any(e.source == c.source and e.start <= c.start and c.end <= e.end
                       for e in answer.excerpts) for c in answer.citations)
    assert engine.peak >= 2  # at least two answers were in flight in the same steps
