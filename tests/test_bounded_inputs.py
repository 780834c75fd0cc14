"""Bounded inputs: an over-long question is one line, and no prompt can overflow the
model's context window, whatever the question or the evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answer import Assistant
from qa.config import AnswerSettings, LLMSettings
from qa.errors import PromptTooLongError, QuestionTooLongError
from qa.llm import ChatPrompt

from .conftest import TEST_LLM, settings_for
from .fakes import FakeGenerator
from .test_cli import qa


@pytest.fixture(scope="module")
def fake_assistant(seed_index: Path, embedder) -> Assistant:
    return Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                          generator=FakeGenerator())  # any model call fails the test


def test_a_question_over_the_limit_is_refused_in_one_line(fake_assistant: Assistant) -> None:
    limit = AnswerSettings().max_question_chars
    with pytest.raises(QuestionTooLongError) as err:
        fake_assistant.ask("What is memantine? " * 1100)
    line = err.value.one_line()
    assert f"the limit is {limit:,} (setting answer.max_question_chars" in line
    assert "\n" not in line


def test_hidden_characters_never_reach_the_stages(fake_assistant: Assistant) -> None:
    answer = fake_assistant.ask("\x1b[31mWhat is the capital\u202e of France?\x00 ")
    assert answer.question == "What is the capital of France?"
    assert answer.refused


def test_cli_batch_reports_the_long_question_and_answers_the_rest(
    process_index: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("x" * 20_480 + "\nWhat is the capital of France?\n")
    result = qa("ask", "--index", str(process_index), "--json", "--batch", str(questions),
                env={"QA_LLM__MODEL": TEST_LLM})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: question 1: the question is 20,480 characters long; the limit "
                      "is 2,000 (setting answer.max_question_chars, "
                      "QA_ANSWER__MAX_QUESTION_CHARS). Ask a shorter question: one or two "
                      "sentences about the documents."]
    assert len(result.stdout.splitlines()) == 1 and '"refused": true' in result.stdout


@pytest.mark.slow
def test_the_prompt_never_exceeds_the_context_window() -> None:
    from qa.config import default_cache_dir
    from qa.llm import load_generator

    small = load_generator(LLMSettings(model=TEST_LLM, n_ctx=512, max_tokens=320),
                           default_cache_dir())
    with pytest.raises(PromptTooLongError, match=r"llm\.n_ctx\) holds 512"):
        list(small.generate(ChatPrompt("Answer briefly.", "字" * 600)))
    with pytest.raises(PromptTooLongError):
        small.label_logprobs(ChatPrompt("Answer.", "字" * 600), ["yes", "no"])
    # A prompt that fits leaves the answer what is left of the window, not max_tokens
    # (320 would overflow it: llama.cpp raised here before).
    user = "Count: " + "one two three four. " * 90 + "Now write a long story about ok."
    used = small.count_tokens(small.chat.render(ChatPrompt("Answer at length.", user)))
    assert 32 <= 512 - used < 80
    reply = "".join(small.generate(ChatPrompt("Answer at length.", user)))
    assert small.count_tokens(reply) <= 512 - used
