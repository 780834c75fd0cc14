"""Asked for the most one may take, the answer's number must be the page's limit.

Round 11 of questions nobody here wrote asked "my dad was put on allopurinol for his gout,
whats the most he can take in a day" and got "The most he can take in a day is 300 mg",
a number the page gives for splitting doses ("Dosage requirements in excess of 300 mg
should be administered in divided doses"); its limit is "the maximal recommended dosage is
800 mg daily". A fake model writes the replies; the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

ALLOPURINOL = """# Allopurinol

Allopurinol lowers uric acid and prevents gout attacks.

## Dose

The average is 200 to 300 mg/day for patients with mild gout and 400 to 600 mg/day for
those with moderately severe tophaceous gout. Dosage requirements in excess of 300 mg
should be administered in divided doses.

The minimal effective dosage is 100 to 200 mg daily and the maximal recommended dosage is
800 mg daily. Patients start with 100 mg daily and increase at weekly intervals by 100 mg.

## Food

Take allopurinol after a meal to reduce stomach upset."""
QUESTION = "my dad was put on allopurinol for his gout, whats the most he can take in a day"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("limit"),
                         {"allopurinol.md": page_text(ALLOPURINOL)}, embedder)


def test_a_number_the_page_states_for_something_else_is_no_limit(index: Path,
                                                                  embedder) -> None:
    answer = answer_of(index, embedder, QUESTION, citing(
        "in excess of 300 mg", "The most he can take in a day is 300 mg [n]."))
    assert "800 mg" in answer.text
    assert "most he can take in a day is 300 mg" not in answer.text


def test_a_range_for_usual_doses_gives_way_to_the_limit_however_it_scores(
        index: Path, embedder) -> None:
    """Round 11 again, with the reply to a later prompt: "…is 400 to 600 mg/day", the
    page's usual range for severe gout. The limit's line is quoted even when no quote
    reaches the scores quoting needs (set out of reach here)."""
    answer = answer_of(index, embedder, QUESTION, citing(
        "400 to 600", "The most your dad can take in a day of allopurinol is 400 to 600 "
                      "mg/day [n]."), quote_score=9.0, vouch_score=9.0)
    assert "800 mg" in answer.text and "400 to 600" not in answer.text


def test_the_page_s_limit_in_the_model_s_words_stands(index: Path, embedder) -> None:
    answer = answer_of(index, embedder, QUESTION, citing(
        "800 mg daily", "The most he can take is 800 mg a day [n]."))
    assert answer.text.startswith("The most he can take is 800 mg a day")


def test_the_limit_in_words_the_page_does_not_use_points_to_the_page_s_line(
        tmp_path: Path, embedder) -> None:
    """"The highest amount of tramadol you can take in one day is 400 mg" does not hold
    (the question's words are not the page's), but its figure is the page's limit: that
    line is quoted, not a refusal."""
    index = indexed_pages(tmp_path, {"tramadol.md": page_text(TRAMADOL)}, embedder)
    answer = answer_of(index, embedder,
                       "whats the highest amount of tramadol you can take in one day",
                       citing("not to exceed", "The highest amount of tramadol you can take "
                                               "in one day is 400 mg [n]."))
    assert "not to exceed 400 mg per day" in answer.text


TRAMADOL = """# Tramadol

Tramadol is an opioid used for moderate to moderately severe pain.

## Dosage

For patients with chronic pain, the total daily dose may be increased by 50 mg as
tolerated every 3 days to reach 200 mg/day (50 mg q.i.d.). After titration, tramadol
hydrochloride tablets 50 mg to 100 mg can be administered as needed for pain relief every
four to six hours, not to exceed 400 mg per day.

## Appearance

Each tablet contains 50 mg of tramadol hydrochloride and is white in color."""


def test_without_a_line_stating_a_limit_the_model_s_range_stands(tmp_path: Path,
                                                                  embedder) -> None:
    """Dev c042: the lorazepam page states no limit, only that "the daily dosage may vary
    from 1 to 10 mg/day"; the model's sentence saying so is the answer, not nothing."""
    page = ("# Lorazepam\n\nLorazepam treats anxiety.\n\n## Dosage\n\nThe usual range is 2 to "
            "6 mg/day given in divided doses, the largest dose being taken before bedtime, "
            "but the daily dosage may vary from 1 to 10 mg/day.")
    index = indexed_pages(tmp_path, {"lorazepam.md": page}, embedder)
    answer = answer_of(index, embedder, "what's the most lorazepam someone can take in a day?",
                       citing("1 to 10", "The daily dosage may vary from 1 to 10 mg/day [n]."))
    assert "1 to 10 mg/day" in answer.text
