"""Questions asking whether to stop a medicine, and answers that give leave.

A fourteenth round of questions nobody here wrote asked "my daughter is 6, her
pediatrician put her on antibiotics for a uti 2 days ago and shes acting totally fine now.
ok to just stop the rest of it?". The model wrote "It is safe to stop the antibiotics
after 2 days of treatment", held by an excerpt on short courses for recurrent infections
that calls nothing safe but what is not ("Some antibiotics are not safe to take during
pregnancy"); and "ok to …?" was not read as a yes/no question. A fake model writes the
replies; the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.scope import Lexicon, focus_of
from qa.text import terms
from qa.verification import gives_leave

from .conftest import answer_of, indexed_pages, page_text

BLADDER = """# Bladder infection antibiotics

## Treatment

Bladder infections are treated with antibiotics such as cefuroxime for 3 to 7 days.
Antibiotics should not be stopped because the symptoms have gone away, or the infection
may come back.

## Short courses

Take a short course (2 or 3 days) of an antibiotic when symptoms appear again. Some
antibiotics are not safe to take during pregnancy."""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("leave"),
                         {"bladder.md": page_text(BLADDER)}, embedder)


def test_leave_no_excerpt_gives_is_not_an_answer(index: Path, embedder) -> None:
    answer = answer_of(index, embedder, "i have had a bladder infection for a while, is it "
                       "ok to stop the antibiotic after 2 or 3 days?",
                       "It is safe to stop the antibiotic after 2 or 3 days [2].")
    assert "safe to stop" not in answer.text


def test_asked_whether_to_go_on_the_line_on_stopping_answers(index: Path, embedder) -> None:
    """The short-course line shares more words with the question; the line saying when not
    to stop answers it."""
    answer = answer_of(index, embedder, "been on antibiotics for a bladder infection for 2 "
                       "days, feel fine. should i keep taking them?", "I don't know.")
    assert "should not be stopped" in answer.text


@pytest.mark.parametrize(("sentence", "leave"), [
    ("It is safe to stop the antibiotic after 2 days.", True),
    ("You can safely take it with food.", True),
    ("It's fine to skip the last doses.", True),
    ("It is not safe to stop the antibiotic early.", False),
    ("Some antibiotics are not safe to take during pregnancy.", False),
    ("Take the antibiotic for 3 to 7 days.", False),
])
def test_what_gives_leave(sentence: str, leave: bool) -> None:
    assert gives_leave(sentence) is leave


def test_ok_to_asks_yes_or_no() -> None:
    lexicon = Lexicon.build({"b": page_text(BLADDER)}, {})
    question = "she feels fine now. ok to just stop the rest of it?"
    assert focus_of(" ".join(terms(question)), lexicon, question).polar
