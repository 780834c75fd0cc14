"""An age the asker gives, against the ages a page says a medicine is for.

Round 12 of questions nobody here wrote asked "my son is 7, is he old enough to use qvar";
the page says "QVAR is indicated … in patients 5 years of age and older". The model's
sentence copying that line held, but used none of the question's words ("old", "enough"),
so it was taken as not speaking to the question, and the answer was refused. A fake model
writes the replies; the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.finishing import age_answer

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

INHALERS = """# Asthma inhalers

## Qvar (beclomethasone)

QVAR is indicated in the maintenance treatment of asthma as prophylactic therapy in
patients 5 years of age and older. Important limitation of use: QVAR is NOT indicated for
the relief of acute bronchospasm.

## Storage

Store the inhaler at room temperature. Do not puncture the canister."""
REPLY = ("Yes, QVAR is indicated in the maintenance treatment of asthma as prophylactic "
         "therapy in patients 5 years of age and older [n].")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("ages"),
                         {"inhalers.md": page_text(INHALERS)}, embedder)


def test_an_age_over_the_page_s_threshold_is_answered_yes(index: Path, embedder) -> None:
    answer = answer_of(index, embedder, "my son is 7, is he old enough to use qvar",
                       citing("5 years of age", REPLY))
    assert answer.text.startswith("Yes. ")
    assert "5 years of age and older" in answer.text


def test_an_age_under_the_page_s_threshold_is_never_answered_yes(index: Path,
                                                                 embedder) -> None:
    answer = answer_of(index, embedder, "my son is 4, can he use qvar",
                       citing("5 years of age", REPLY))
    assert not answer.text.startswith("Yes")
    assert "5 years of age and older" in answer.text


@pytest.mark.parametrize(("question", "text", "expected"), [
    ("can my 6 year old use it", "for children 2 years and older", "yes"),
    # under the ages a text is for, it says nothing: other lines may cover younger ones
    ("my baby is 10 months old, can she use it", "for patients 2 years of age and older",
     None),
    ("My grandson is 9, can he take Zithromax?", "ZITHROMAX is … used in adults 18 years or "
     "older to treat certain infections", None),
    ("my baby is 10 months old, can she use it", "approved in persons 6 months of age and "
     "older", "yes"),
    ("my daughter is 18 months old, can i use it", "Do not use in children under 2 years.",
     "no"),
    # under the age a text warns about, it says nothing of those older
    ("my son is 3, can i use it on him", "Do not use in children under 2 years.", None),
    # a text about younger children that forbids nothing leaves it open
    ("my son is 7, can he take it", "children under 12 years: ask a doctor", None),
    # an amount, a reading or a pregnancy is no age
    ("she takes 20 mg, can she use it", "for patients 12 years and older", None),
    ("his sugar is 62, can he use it", "for adults 18 years or older", None),
    ("she is 5 months pregnant, can she use it", "for persons 2 months of age and older",
     None),
    ("my son weighs 40 lbs, can he take it", "for patients 12 years and older", None),
    # as labels write it
    ("my son is 14, can he take it", "to treat cold sores (for children ≥ 12 years of age)",
     "yes"),
])
def test_ages_are_compared_in_months(question: str, text: str, expected: str | None) -> None:
    assert age_answer(question, text) == expected


ANTIVIRALS = """# Antivirals for cold sores

Valacyclovir tablets are used in children:

- to treat cold sores (for children ≥ 12 years of age)"""


def test_a_label_s_age_sign_above_the_asked_age_gives_no_yes(tmp_path: Path,
                                                              embedder) -> None:
    """Round 16: "can my 10 yr old take valacyclovir for his cold sores?" was answered
    "Yes." beside "(for children ≥ 12 years of age)": the sign was read as no age, and the
    line, restating the question, said yes."""
    index = indexed_pages(tmp_path, {"antivirals.md": page_text(ANTIVIRALS)}, embedder)
    answer = answer_of(index, embedder, "can my 10 yr old take valacyclovir for his cold sores?",
                       citing("cold sores", "Yes, valacyclovir is used in children to treat "
                              "cold sores [n]."))
    assert not answer.text.startswith("Yes")
    assert "12 years of age" in answer.text


FUNGAL = """# Fungal skin infections

Clotrimazole and betamethasone dipropionate cream is a prescription medication used on the
skin to treat fungal infections of the feet, groin, and body in people 17 years of age and
older. Clotrimazole cream alone is used twice a day for 2 to 8 weeks."""


def test_a_sentence_letting_a_child_use_what_is_for_older_people_is_not_shown(
        tmp_path: Path, embedder) -> None:
    """Round 16: "my son is 12 and has jock itch, can he use my clotrimazole betamethasone
    cream" got "For kids, your son can use your clotrimazole betamethasone dipropionate
    cream", held by the line that says "17 years of age and older"."""
    index = indexed_pages(tmp_path, {"fungal.md": page_text(FUNGAL)}, embedder)
    answer = answer_of(index, embedder, "my son is 12 and has jock itch, can he use my "
                       "clotrimazole betamethasone cream",
                       citing("17 years", "For kids, your son can use your clotrimazole "
                              "betamethasone dipropionate cream [n]. It is a prescription "
                              "medication used on the skin to treat fungal infections of "
                              "the feet, groin, and body in people 17 years of age and "
                              "older [n]."))
    assert "can use" not in answer.text
    assert "17 years of age and older" in answer.text


DIARRHEA = """# Diarrhea

## Medicines

Over-the-counter medicines such as loperamide may help stop diarrhea in adults. Stop
taking loperamide if the diarrhea lasts more than 2 days.

Medicines for diarrhea in adults can be dangerous for infants and children and should
only be given to them with a doctor's guidance."""


BLADDER = """# Bladder infections

## Treatment

Women who have repeated bladder infections may be advised to take a low dose of an
antibiotic daily for 6 months or longer.

Cefuroxime tablets are usually taken twice a day, every 12 hours, for 7 days."""


@pytest.mark.parametrize(("name", "page", "other", "own", "absent", "present"), [
    # Round 13: asked "my 3 year old has had the runs since yesterday, can i give him one of
    # those anti diarrhea meds like imodium", the answer quoted "…may help stop diarrhea in
    # adults" (the page's line on children was the answer); for an adult it may answer.
    ("diarrhea.md", DIARRHEA,
     "my 3 year old has diarrhea, can loperamide help stop it?",
     "im 30 and have diarrhea, can loperamide help me stop it?", "in adults", "in adults"),
    # Round 14: "my dad is 67 and got levaquin for a complicated uti … how often is he
    # supposed to take it" was answered with "Women who have recurrent UTIs may be advised
    # to … take low doses … daily for 6 months or longer"; asked for a woman, it answers.
    ("bladder.md", BLADDER,
     "my husband keeps getting bladder infections, what can he take for them",
     "my wife keeps getting bladder infections, what can she take for them",
     "Women", "Women who have repeated bladder infections"),
])
def test_a_line_only_for_others_is_not_quoted(tmp_path: Path, embedder, name: str, page: str,
                                               other: str, own: str, absent: str,
                                               present: str) -> None:
    """A line only for adults is no quote for a child, one only about women none for a man;
    for those it is about, it answers."""
    index = indexed_pages(tmp_path, {name: page_text(page)}, embedder)
    assert absent not in answer_of(index, embedder, other, "I don't know.").text
    assert present in answer_of(index, embedder, own, "I don't know.").text
