"""The chat page's handlers without a browser: queue notices, conversation turns, inert
answers, and the Markdown export."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.service import AnswerService
from qa.types import Answer, AnswerStatus, Citation, Timings

from .conftest import settings_for
from .fakes import FakeGenerator, first_sentence_cited

QUESTION = "What was dantrolene originally developed to treat?"


_reply = first_sentence_cited


@pytest.fixture
def page(seed_index: Path, embedder) -> Iterator[object]:
    from qa.answer import Assistant
    from qa.ui.app import ChatPage

    generator = FakeGenerator(*[_reply] * 4)
    settings = settings_for(seed_index)
    service = AnswerService(Assistant.load(settings=settings, embedder=embedder,
                                           generator=generator))
    yield ChatPage(service, settings)
    service.close()


def test_a_queued_question_says_how_many_come_first_then_is_answered(page) -> None:
    started, release = threading.Event(), threading.Event()

    def hold(_assistant) -> Iterator[str]:
        started.set()
        release.wait(30)
        yield "done"

    page.service.run(hold)
    assert started.wait(30)
    updates = page.respond(QUESTION, [])
    assert next(updates)[1][-1]["content"] == "*Searching the documents…*"
    assert next(updates)[1][-1]["content"] == "*Waiting for 1 earlier question…*"
    release.set()
    *_, (box, chat, exchanges, sources) = updates
    assert box == "" and len(exchanges) == 1 and exchanges[0].question == QUESTION
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "Searched for: <b>" in sources


def test_the_whole_conversation_reaches_the_core(page) -> None:
    from qa.ui.app import Exchange

    *_, (_, _, exchanges, _) = page.respond("How does memantine work?", [])
    assert isinstance(exchanges[0], Exchange)
    *_, (_, chat, exchanges, sources) = page.respond("What about its side effects?", exchanges)
    assert exchanges[1].answer.standalone_question == "What are the side effects of memantine?"
    assert "Searched for: <b>What are the side effects of memantine?" in html.unescape(sources)
    assert len(chat) == 4


@pytest.mark.parametrize("text", [
    "<b>bold</b> <img src=x onerror=alert(1)>",
    "see https://evil.example/a?q=1) and www.evil.example/b.",
    "![pixel](https://evil.example/p.png?d=secret) [click](https://evil.example)",
])
def test_answers_are_shown_inert(text: str) -> None:
    import re

    from qa.ui.render import inert

    shown = inert(text)
    assert "<" not in shown and ">" not in shown  # no HTML survives
    assert "](" not in shown and "![" not in shown  # no Markdown link or image
    outside_code = re.sub(r"`[^`]*`", "", shown)
    assert "http" not in outside_code and "www." not in outside_code  # addresses never live


def test_the_export_has_every_question_its_search_and_its_sources() -> None:
    from qa.ui.export import Exchange, conversation_markdown

    citation = Citation(n=1, doc_id="m", source="m.txt", title="Memantine", start=5, end=40,
                        text="Side effects include dizziness.", section="Side effects",
                        support=0.9)
    answer = Answer(question="What about its side effects?", text="Dizziness [1].",
                    status=AnswerStatus.ANSWERED, model="m", timings=Timings(),
                    citations=(citation,), disclaimer="Not advice.",
                    standalone_question="What are the side effects of memantine?",
                    settings_hash="abc")
    text = conversation_markdown([Exchange(answer.question, answer)])
    assert "## 1. What about its side effects?" in text
    assert "*Searched for:* What are the side effects of memantine?" in text
    assert "Dizziness [1].\n\nNot advice." in text
    assert "**[1] Memantine** (m.txt, section “Side effects”, chars 5–40, support 0.90)" in text
    assert "> Side effects include dizziness." in text
