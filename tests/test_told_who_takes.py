"""A question telling who takes the drug, and how much, asks what its asking part asks.

Rounds 11 and 12 of questions nobody here wrote: "my daughter takes topamax 50 mg. what
color is that pill supposed to be?" was triaged as personal dosing (whose answer states no
amount and quotes only a yes or no), the told "50 mg" made it ask for an amount, and the
told words lowered the colour line's score under the bar: refused. "how many tums can i
take in a day" asks for the label's limit, the same for everyone, and was refused the same
way. A fake model writes the replies; the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.types import TriageKind

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

BUMETANIDE = """# Bumetanide

Bumetanide is a loop diuretic used to treat fluid retention (edema).

## Ingredients and appearance

Color - WHITE (White to off white); Shape - ROUND; Score - 2 pieces; Size - 6mm; Imprint
Code - A16

## Directions

The usual total daily dosage of bumetanide is 0.5 mg to 2 mg, in most patients given as a
single dose. Do not take more than 10 mg in 24 hours.

## Storage

Store at room temperature away from light and moisture."""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("told"),
                         {"bumetanide.md": page_text(BUMETANIDE)}, embedder)


@pytest.mark.parametrize("question", [
    "my dad takes bumetanide 1 mg, what color is the pill supposed to be?",
    "my mom has been taking bumetanide 2 mg once a day for years. what color is the pill "
    "supposed to be?",
])
def test_a_told_dose_does_not_make_a_question_on_looks_ask_for_an_amount(
        index: Path, embedder, question: str) -> None:
    """The model's sentence does not hold (the page never says "supposed to be"); it cited
    the colour row, which answers: quoted, as for the question without the told dose."""
    reply = citing("color - white", "The pill is supposed to be WHITE [n].")
    told = answer_of(index, embedder, question, reply)
    plain = answer_of(index, embedder, "what color is the bumetanide pill supposed to be?",
                      reply)
    assert told.triage is None
    assert "WHITE" in told.text and "WHITE" in plain.text


def test_the_most_anyone_may_take_in_a_day_is_the_label_s_limit(index: Path,
                                                                embedder) -> None:
    answer = answer_of(index, embedder, "how much bumetanide can i take in a day",
                       citing("not take more than", "You can take up to 10 mg in 24 hours [n]."))
    assert answer.triage is None
    assert "10 mg" in answer.text


def test_the_most_a_named_person_may_take_stays_personal(index: Path, embedder) -> None:
    answer = answer_of(index, embedder, "how much bumetanide can my son take in a day",
                       citing("not take more than", "He can take up to 10 mg in 24 hours [n]."))
    assert answer.triage is TriageKind.PERSONAL_DOSING
    assert "10 mg" not in answer.text
