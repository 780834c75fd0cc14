"""Questions with what their asker tells around them, on label pages.

A sixth round of questions nobody here wrote: "My neurologist just started me on Klonopin
for seizures. What's the most I could ever end up taking in a day?" was refused for
"neurologist"; "I've been on lorazepam for a few months. Can I just quit it cold
turkey?" for the told words crowding out the asked ones; a reader's question heading a
page ("…Is it safe to take all of these meds together?") held "It is safe to take all of
these meds together"; and the elderly's dose was given as the normal one. A fake model
writes the reply (so each branch is reached on purpose); the index and the embedder are
real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.conversation import asked_alone, standalone
from qa.query import QueryNormaliser
from qa.scope import Lexicon, focus_of
from qa.verification import for_other_case, moved_to_case

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {name: page_text(text) for name, text in {
    "clonazepam.md": """# Clonazepam

## INGREDIENTS AND APPEARANCE

Klonopin Wafers (clonazepam orally disintegrating tablets) are white, round and debossed
with the tablet strength.

## DOSAGE AND ADMINISTRATION

The initial dose for adults with seizure disorders should not exceed 1.5 mg/day divided
into three doses. Dosage may be increased in increments of 0.5 to 1 mg every 3 days until
seizures are adequately controlled. Maximum recommended daily dose is 20 mg.""",
    "lorazepam.md": """# Lorazepam

## DOSAGE AND ADMINISTRATION

The usual range is 2 to 6 mg/day given in divided doses, the largest dose being taken
before bedtime, but the daily dosage may vary from 1 to 10 mg/day. For elderly or
debilitated patients, an initial dosage of 1 to 2 mg/day in divided doses is recommended,
to be adjusted as needed and tolerated.

## WARNINGS

Abrupt discontinuation of product should be avoided and a gradual dosage-tapering schedule
followed after extended therapy.""",
    "amoxicillin.md": """# Amoxicillin

## CONTRAINDICATIONS

A history of allergic reaction to any of the penicillins is a contraindication.

## I am on Norco, amoxicillin and Adipex. Is it safe to take all of these meds together?

There are no direct drug interactions between Norco (acetaminophen, hydrocodone),
amoxicillin (Amoxil) and Adipex (phentermine). Take the amoxicillin until finished.""",
}.items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("told"), PAGES, embedder)


LEXICON = Lexicon.build(
    {"c": "Clonazepam. Klonopin Wafers (clonazepam tablets) are white. The maximum dose of "
          "clonazepam is 20 mg. Alcohol may add to the effects of clonazepam.",
     "l": "Lorazepam. Abrupt discontinuation of lorazepam should be avoided. " * 2},
    {"klonopin": {"clonazepam"}, "clonazepam": {"klonopin"}},
    {"c": "Clonazepam", "l": "Lorazepam"})


def test_what_is_told_around_a_question_about_a_known_drug_is_no_missing_topic() -> None:
    """The asker's "neurologist" (or "grandpa", "hives") sets the scene for a question
    about a drug the pages know; a told name still counts ("I take Zoloft": the answer
    would be another drug's), and so does a told word when no known drug is asked about
    (the told words may then be the subject)."""
    told = ("My neurologist just started me on Klonopin for seizures. What's the most I "
            "could take in a day?")
    assert focus_of(told.lower(), LEXICON, told).missing == ()
    daycare = "My son got seizures at daycare again. Can he take Klonopin?"
    assert focus_of(daycare.lower(), LEXICON, daycare).missing == ()
    zoloft = "I take Zoloft for my nerves. Can I drink alcohol with clonazepam?"
    assert focus_of(zoloft.lower(), LEXICON, zoloft).missing == ("zoloft",)
    unknown = "My neurologist is new. What is the most I could take in a day?"
    assert "neurologist" in focus_of(unknown.lower(), LEXICON, unknown).missing
    asked = "Can my neurologist change the dose of Klonopin?"
    assert focus_of(asked.lower(), LEXICON, asked).missing == ("neurologist",)


def test_words_told_after_the_question_or_around_a_vitamin_are_no_missing_topic() -> None:
    """Round 16: "cant she just take b12 pills instead, she hates needles" and "im 24 and
    vegan, how much b12 do i actualy need a day" were refused naming "needles" and "vegan"
    (told after the question; and "b12", letters and digits, was no name the pages know).
    Asked, the same words still count."""
    lexicon = Lexicon.build({"b": "Vitamin B12. Adults need 2.4 micrograms of vitamin B12 a "
                                  "day. Large doses of B12 pills may be used instead of "
                                  "shots. " * 2}, {}, {"b": "Vitamin B12"})
    for told in ("cant she just take b12 pills instead, she hates needles",
                 "im 24 and vegan, how much b12 do i actualy need a day"):
        assert focus_of(told.lower(), lexicon, told).missing == ()
    asked = "can vegans take b12 pills?"
    assert focus_of(asked.lower(), lexicon, asked).missing == ("vegans",)


def test_a_question_after_what_is_told_asks_about_the_told_drug() -> None:
    """"I've been on lorazepam for a few months. Can I just quit it cold turkey?" is asked
    as "Can I just quit lorazepam abruptly?" (either order; read as meant,
    ``in_plain_words``, as every question is before it is asked alone); unchanged when its
    pronoun refers to nothing told, or when two drugs are told."""
    assert asked_alone("I've been on lorazepam for a few months. Can I just quit it cold "
                       "turkey?", LEXICON) == "Can I just quit lorazepam abruptly?"
    assert asked_alone("Can I just quit it cold turkey? I've been on lorazepam for a few "
                       "months.", LEXICON) == "Can I just quit lorazepam abruptly?"
    # a second "it" stands for another thing
    assert asked_alone("I have seizures and take lorazepam. Will it cure it?", LEXICON) == \
        "Will lorazepam cure it?"
    # what else is told stays, after the question: it may be the question's condition
    assert asked_alone("I take lorazepam for seizures. I just found out I'm pregnant. Can I "
                       "keep taking it?", LEXICON) == \
        "Can I keep taking lorazepam? I just found out I'm pregnant."
    for kept in ("I've been on lorazepam for a while. Can I drink alcohol?",
                 "I take lorazepam and clonazepam. Can I stop them at once?",
                 "Can I stop lorazepam at once?"):
        assert asked_alone(kept, LEXICON) == kept


def test_a_pronoun_after_a_told_question_stands_for_its_drug_not_for_the_asker() -> None:
    """After "My neurologist just started me on Klonopin…", "they" had become
    "neurologist" (a word the pages never use, taken for a drug before Klonopin)."""
    follow = standalone("My neurologist just started me on Klonopin for seizures. What's "
                        "the most I could take in a day?",
                        "ok and what do they usually start you on?", LEXICON)
    assert "klonopin" in follow.lower() and "neurologist" not in follow.lower()


def test_a_told_drug_is_the_one_a_question_after_it_asks_about(pages: Path, embedder) -> None:
    """Asked with the told sentence before it, the question was refused: its words were
    crowded out by the told ones, and its "it" named nothing."""
    answer = answer_of(pages, embedder, "I've been on lorazepam for a few months. Can I just "
                       "quit it cold turkey?", citing("abrupt", "No, you should not stop "
                                                       "lorazepam abruptly [n]."))
    assert answer.text.startswith("No.") and "Abrupt discontinuation" in answer.text, \
        answer.text


def test_a_brand_joined_to_its_generic_through_a_dosage_form_is_paired() -> None:
    """"Klonopin Wafers (clonazepam orally disintegrating tablets)": no pair, so a question
    about Klonopin found no clonazepam page; and a generic named in every chunk of its
    own (long) page is still rare across the documents."""
    form = QueryNormaliser.from_texts(["Klonopin Wafers (clonazepam orally disintegrating "
                                       "tablets) are white."] + ["Other text."] * 5)
    assert form.aliases == {"klonopin": {"clonazepam"}, "clonazepam": {"klonopin"}}
    chunks = ["Ativan (lorazepam) tablets.", *(["Lorazepam is a benzodiazepine."] * 5)]
    by_chunk = QueryNormaliser.from_texts(chunks)
    by_document = QueryNormaliser.from_texts(chunks, ["l"] * len(chunks))
    assert by_chunk.aliases == {}
    assert by_document.aliases == {"ativan": {"lorazepam"}, "lorazepam": {"ativan"}}
    assert QueryNormaliser.from_texts(["Depression (type 2 or other) is common."]
                                      ).aliases == {}


def test_the_most_one_could_end_up_taking_asks_for_the_maximum(pages: Path, embedder) -> None:
    """The told asker's question, answered by the label's maximum: it was refused for
    "neurologist"; and where the model's sentence states no limit, the initial limit was
    quoted in its place ("the most … taking" was no limit, then "should not exceed" was)."""
    question = ("My neurologist just started me on Klonopin for seizures. What's the most I "
                "could ever end up taking in a day?")
    answer = answer_of(pages, embedder, question, citing(
        "maximum", "Maximum recommended daily dose is 20 mg [n]."))
    assert "20 mg" in answer.text, answer.text
    wrong = answer_of(pages, embedder, question, citing("maximum", "You can take up to 40 mg a "
                                                         "day [n]."))
    assert "20 mg" in wrong.text and "1.5 mg/day" not in wrong.text, wrong.text


def test_a_question_in_a_document_backs_no_statement(pages: Path, embedder) -> None:
    """A reader's question heading the page held the model's "It is safe to take all of
    these meds together" for a penicillin-allergic asker; a question states nothing, and
    is never quoted."""
    answer = answer_of(pages, embedder, "I'm allergic to penicillin, broke out in hives from "
                       "it as a kid. My doctor wants to put me on amoxicillin for an ear "
                       "infection, is that ok for me to take?",
                       citing("norco", "It is safe to take all of these meds together [n]."))
    assert "safe to take all" not in answer.text.lower(), answer.text
    assert "?" not in answer.text, answer.text


def test_an_amount_given_for_a_case_is_not_the_dose_for_everyone(pages: Path, embedder) -> None:
    """"The normal daily dose of lorazepam is 1 to 2 mg/day" was held by "For elderly or
    debilitated patients, an initial dosage of 1 to 2 mg/day…"; asked about the elderly,
    it stands."""
    normal = answer_of(pages, embedder, "What's the usual daily dose of lorazepam?",
                       citing("elderly", "The usual daily dose of lorazepam is 1 to 2 mg/day "
                               "in divided doses, to be adjusted as needed and tolerated [n]."))
    assert "is 1 to 2 mg/day" not in normal.text, normal.text
    elderly = answer_of(pages, embedder, "What dose of lorazepam is used for elderly patients?",
                        citing("elderly", "Elderly patients start on 1 to 2 mg/day of lorazepam "
                                "[n]."))
    assert "1 to 2 mg/day" in elderly.text, elderly.text


def test_only_an_amount_stated_for_an_unnamed_case_alone_is_for_another_case() -> None:
    line = ("The usual range is 2 to 6 mg/day. For elderly or debilitated patients, an "
            "initial dosage of 1 to 2 mg/day is recommended.")
    question = "What's the normal daily dose of lorazepam?"
    assert for_other_case("The normal dose is 1 to 2 mg/day.", line, question)
    assert not for_other_case("The usual range is 2 to 6 mg/day.", line, question)
    assert not for_other_case("The normal dose is 1 mg.", line, question)  # stated nowhere
    assert not for_other_case("Elderly patients take 1 to 2 mg/day.", line, question)
    assert not for_other_case("The normal dose is 1 to 2 mg/day.", line,
                              "What dose do debilitated patients take?")


def test_an_amount_moved_to_a_case_the_excerpt_gives_another_is_for_another_case() -> None:
    """Round 16: "The usual dose for oxybutynin is one 5-mg tablet two or three times a day
    for the frail elderly" was held by a leaflet giving the frail elderly 2.5 mg (the case
    named at its line's start or end, the amount typed "5-mg")."""
    usual = "The usual dose is one 5-mg tablet two to three times a day."
    for frail in ("A lower starting dose of 2.5 mg two or three times a day is recommended "
                  "for the frail elderly.",
                  "For the frail elderly, a lower starting dose of 2.5 mg is recommended."):
        line = f"{usual} {frail}"
        assert moved_to_case("The usual dose is one 5-mg tablet two or three times a day "
                             "for the frail elderly.", line)
        assert not moved_to_case("The frail elderly start on 2.5 mg two or three times a "
                                 "day.", line)
        assert not moved_to_case("The usual dose is one 5-mg tablet two to three times a "
                                 "day.", line)


def test_a_dose_count_under_a_label_for_a_case_is_for_that_case() -> None:
    """"Vaccination Schedule for Adults 18 Years of Age and Older: Prevnar 13 is
    administered as a single dose." held "Prevnar is administered as a single dose" for a
    2-month-old (seventh round); asked about adults, it stands."""
    label = ("Vaccination Schedule for Adults 18 Years of Age and Older: Prevnar 13 is "
             "administered as a single dose.")
    said = "Prevnar is administered as a single dose."
    assert for_other_case(said, label, "My grandson is 2 months old, does he get the Prevnar?")
    assert not for_other_case(said, label, "How many doses of Prevnar do adults get?")
