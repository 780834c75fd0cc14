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
from .fakes import citing

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


PROLACTINOMA = """# Prolactinoma medicines

## Cabergoline

Cabergoline (Dostinex) is taken twice a week; the usual starting dose is 0.25 mg twice a
week.

- Recent studies suggest prolactin levels are more likely to remain normal after
  discontinuing long-term cabergoline therapy than after discontinuing other treatment.
- Cabergoline should not be stopped without consulting a qualified endocrinologist.

## Whipple disease

The health care provider usually prescribes IV ceftriaxone for the first 2 weeks of
treatment. After a patient completes the IV antibiotics, the provider prescribes long-term
antibiotics by mouth for 1 to 2 years.

Patients should finish the prescribed course of antibiotics to make sure the medicine
destroyed all the bacteria. Patients who feel better may still have the bacteria in the
body."""


@pytest.fixture(scope="module")
def stop_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("stop"),
                         {"prolactinoma.md": page_text(PROLACTINOMA)}, embedder)


def test_asked_whether_to_quit_a_line_saying_not_to_answers_no(stop_index: Path,
                                                                 embedder) -> None:
    """Round 15: "ok and once my levels are back to normal can i just quit taking it" was
    refused: the model said yes (dropped), and the study of levels after stopping, sharing
    "levels" and "normal", outscored the line saying not to stop; nor was the message read
    as a yes/no question, its condition running into it without a comma."""
    answer = answer_of(stop_index, embedder, "ok and once my levels are back to normal can i "
                       "just quit taking dostinex", "Yes, you can just quit taking it [1].")
    assert answer.text.startswith("No.")
    assert "should not be stopped without consulting" in answer.text
    assert "can just quit" not in answer.text


def test_asked_whether_to_be_done_with_it_the_line_to_finish_answers(stop_index: Path,
                                                                      embedder) -> None:
    """Round 15: "…after the 2 weeks of iv, so can he be done with antibiotics now?" got
    the IV line: "done with" asked no stop."""
    answer = answer_of(stop_index, embedder, "hes feeling way better after the 2 weeks of iv, "
                       "so can he be done with the antibiotics now?",
                       "Yes, he can be done with antibiotics now [1].")
    assert "should finish the prescribed course" in answer.text


@pytest.mark.parametrize("question", [
    "ok and once my levels are back to normal can i just quit taking it",
    "so can i just stop it",
    "once she feels better should she stop the cream",
])
def test_a_yes_no_question_after_fillers_or_a_condition_without_comma(question: str) -> None:
    lexicon = Lexicon.build({"b": page_text(BLADDER)}, {})
    assert focus_of(" ".join(terms(question)), lexicon, question).polar


def test_a_question_opening_with_when_asks_when() -> None:
    """Dev c051: "When in the day should he take metformin" was read as the condition "When
    in the day" of the yes/no question "should he take metformin", and refused."""
    lexicon = Lexicon.build({"b": page_text(BLADDER)}, {})
    question = "When in the day should he take cefuroxime"
    assert not focus_of(" ".join(terms(question)), lexicon, question).polar


QUITTING = """# Quitting smoking

## E-cigarettes

Some people think that switching to e-cigarettes can help you quit smoking, but that has
not been proven. They contain nicotine, which is addictive.

## Nicotine gum

Nicotine gum is chewed slowly until it tingles."""


def test_a_claim_the_page_reports_only_to_deny_it_is_no_answer(tmp_path: Path,
                                                                embedder) -> None:
    """Round 16: "do e cigs actually help u quit smoking?" got the model's "E-cigarettes
    can help you quit smoking", held by "Some people think that switching to e-cigarettes
    can help you quit smoking, but that has not been proven"."""
    index = indexed_pages(tmp_path, {"quitting.md": page_text(QUITTING)}, embedder)
    answer = answer_of(index, embedder, "do e cigs actually help u quit smoking?",
                       "Yes, e-cigarettes can help you quit smoking [1].")
    assert not answer.text.startswith("Yes")
    assert "E-cigarettes can help you quit smoking [" not in answer.text
    assert "not been proven" in answer.text or answer.refused


BLADDER_MEDICINES = """# Bladder control medicines

## Trospium

Trospium chloride tablets should be dosed at least one hour before meals or given on an
empty stomach. The recommended dose is 20 mg twice daily.

## Oxybutynin

Oxybutynin chloride (Ditropan) tablets may be taken with or without food. Dry mouth is its
most common side effect."""


def test_asked_to_take_it_with_a_meal_a_line_for_an_empty_stomach_says_no(
        tmp_path: Path, embedder) -> None:
    """Round 16: "should i take my trospium with breakfast" was refused: "trospium" was no
    known drug (its salt was), "breakfast" no word for a meal, and the line for an empty
    stomach read "yes" once it used every asked word. The model's "Yes" gives way to "No."
    and the line; asked for a medicine left open, the line says so."""
    index = indexed_pages(tmp_path, {"bladder.md": page_text(BLADDER_MEDICINES)}, embedder)
    answer = answer_of(index, embedder, "should i take my trospium with breakfast",
                       "Yes, you can take trospium with breakfast [1].")
    assert answer.text.startswith("No.")
    assert "one hour before meals" in answer.text
    assert "with breakfast" not in answer.text
    answer = answer_of(index, embedder, "does my ditropan have to be taken with dinner",
                       "Yes, Ditropan must be taken with dinner [1].")
    assert answer.text.startswith("No.")
    assert "with or without food" in answer.text


THYROID_AND_BLADDER = """# Thyroid and bladder medicines

## Levothyroxine

Calcium carbonate may form an insoluble chelate with levothyroxine; take levothyroxine at
least 4 hours apart from it.

## Trospium

Trospium chloride tablets should be dosed at least one hour before meals or given on an
empty stomach.

## Bedwetting

Desmopressin (DDAVP) is a medicine approved for use in children who wet the bed."""


def test_a_yes_no_question_naming_no_drug_gets_no_line_on_a_drug_it_never_named(
        tmp_path: Path, embedder) -> None:
    """Round 16: the follow-up "Also can i take take with my calcium tabs in the morning"
    (its drug lost to a typo) got the model's "Yes, you can take trospium chloride
    tablets…", then the trospium line it cited, quoted: a drug the asker never named. A
    question asking for a medicine still gets one."""
    index = indexed_pages(tmp_path, {"meds.md": page_text(THYROID_AND_BLADDER)}, embedder)
    answer = answer_of(index, embedder, "Also can i take take with my calcium tabs in the "
                       "morning", citing("trospium", "Yes, you can take trospium chloride "
                                         "tablets with your calcium tabs in the morning [n]."))
    assert "rospium" not in answer.text
    answer = answer_of(index, embedder, "my son wets the bed, is there any medicine for that",
                       citing("ddavp", "Yes, desmopressin (DDAVP) is a medicine approved for "
                              "use in children who wet the bed [n]."))
    assert "DDAVP" in answer.text
