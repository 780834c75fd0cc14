"""A leaflet that leaves a choice open answers whether a medicine must be taken so.

A ninth round of questions nobody here wrote got "Yes." to "hi my dad just started the
lantus solostar pen, does he have to take it in the morning?" beside the label's
"Administer LANTUS subcutaneously once daily at any time of day": the line uses none of
the asked words ("take", "morning"), and the pen's name, a rare word, weighed most of what
was asked, so "Refrigerate unused LANTUS vials and SoloStar prefilled pens" read as a yes.
A fake model writes the replies (so each branch is reached on purpose); index and embedder
are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.finishing import polarity_of
from qa.scope import Lexicon, Relevance, focus_of

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {name: page_text(text) for name, text in {
    "lantus.md": """# Lantus (insulin glargine)

## Important administration instructions

Administer LANTUS subcutaneously once daily at any time of day but at the same time every
day. Rotate injection sites within the same region from one injection to the next.

## Storage

Refrigerate unused (unopened) LANTUS vials and SoloStar prefilled pens.""",
    "aripiprazole.md": """# Aripiprazole

## How should this medicine be used?

Aripiprazole comes as a tablet, a solution, and an orally disintegrating tablet to take by
mouth. It is usually taken once a day with or without food. Take aripiprazole at around
the same time every day.

## Side effects

Aripiprazole may cause drowsiness, headache, an upset stomach and restlessness.""",
}.items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("open"), PAGES, embedder)


def test_a_time_of_day_left_open_says_it_need_not_be_the_morning(pages: Path,
                                                                  embedder) -> None:
    answer = answer_of(pages, embedder, "hi my dad just started the lantus solostar pen, does "
                       "he have to take it in the morning?",
                       citing("any time of day", "Yes, he should take Lantus once daily at any "
                              "time of day [n]."))
    assert answer.text.startswith("No.")
    assert "any time of day" in answer.text


def test_with_or_without_food_says_a_meal_is_not_needed(pages: Path, embedder) -> None:
    answer = answer_of(pages, embedder, "do i have to take my aripiprazole with food?",
                       citing("without food", "Yes, take aripiprazole with food [n]."))
    assert answer.text.startswith("No.")
    assert "with or without food" in answer.text


def test_with_or_without_food_gives_leave_for_an_empty_stomach(pages: Path, embedder) -> None:
    """…and the product's name beside the drug's is no thing the page must mention."""
    answer = answer_of(pages, embedder, "my son just got aripiprazole discmelt, is it ok for "
                       "him to take it on an empty stomach?",
                       citing("without food", "Yes, it can be taken with or without food [n]."))
    assert not answer.refused
    assert answer.text.startswith("Yes.")


def test_asked_for_advice_the_choice_left_open_is_neither_yes_nor_no(pages: Path,
                                                                      embedder) -> None:
    """"Should I…?" asks what is best: "at any time of day" does not say no to it."""
    answer = answer_of(pages, embedder, "should i take my lantus in the morning?",
                       citing("any time of day", "Yes, take Lantus in the morning [n]."))
    assert not answer.text.startswith(("Yes", "No"))


LEXICON = Lexicon.build(
    {"l": "Lantus (insulin glargine). Administer LANTUS once daily at any time of day. "
          "Refrigerate unused LANTUS vials and SoloStar prefilled pens.",
     "a": "Aripiprazole is usually taken once a day with or without food."},
    {"lantus": {"insulin glargine"}},
)


def _relevance(question: str) -> Relevance:
    return Relevance.of(question, focus_of(question, LEXICON, question), LEXICON)


def test_a_choice_left_open_settles_only_what_it_speaks_of() -> None:
    food = "It is usually taken once a day with or without food."
    asked = "do i have to take aripiprazole in the morning?"
    assert polarity_of(asked, food, _relevance(asked)) is None
    asked = "can i take aripiprazole on an empty stomach?"
    assert polarity_of(asked, food, _relevance(asked)) == "yes"


def test_the_products_name_is_part_of_the_subject() -> None:
    question = "does he have to take his lantus solostar in the morning?"
    relevance = _relevance(question)
    assert "solostar" in relevance.product_words
    assert polarity_of(question, "Refrigerate unused LANTUS vials and SoloStar prefilled "
                       "pens.", relevance) is None


def test_a_brand_before_the_drug_or_apart_from_it_is_still_missing() -> None:
    assert focus_of("can he use his lantus zembrilo pen at night?", LEXICON).missing == ()
    assert focus_of("can i take zembrilo with lantus?", LEXICON).missing == ("zembrilo",)


def test_what_a_question_says_the_drug_is_is_no_products_name() -> None:
    """"Is memantine teratogenic in pregnancy?" asks whether it is: the documents must say."""
    assert focus_of("is lantus zembrilo?", LEXICON).missing == ("zembrilo",)
    assert "teratogenic" in focus_of("do lantus teratogenic effects show up?", LEXICON).missing


def test_taking_the_drug_alone_does_not_speak_to_a_question_about_food(pages: Path,
                                                                      embedder) -> None:
    """Round 10: "do i take my statin with food or on an empty stomach" was answered with
    why not to stop taking it: "take" was the only word of the question it used."""
    answer = answer_of(pages, embedder, "do i take my lantus with food or on an empty stomach",
                       citing("rotate injection sites", "Take care to rotate injection sites "
                              "from one injection to the next [n]."))
    assert "rotate injection sites" not in answer.text.lower()
