"""Label-style pages: the passage the model points at, and the setting a question names.

Drug labels say things in their own words ("postherpetic neuralgia", "initiated",
"substituted") and list doses per condition. A fake model writes the reply (so each branch
is reached on purpose); the index and the embedder are real.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.answer import Assistant
from qa.config import AnswerSettings
from qa.conversation import standalone
from qa.llm import ChatPrompt
from qa.scope import Lexicon, focus_of
from qa.types import EventKind

from .conftest import indexed_pages, page_text, settings_for
from .fakes import FakeGenerator

VALACYCLOVIR = """# Valacyclovir

## What are valacyclovir tablets?

Valacyclovir tablets are a prescription antiviral medicine. Valacyclovir tablets lower
the ability of herpes viruses to multiply in your body.

Valacyclovir tablets are used in adults:

- to treat cold sores (also called fever blisters or herpes labialis)
- to treat shingles (also called herpes zoster)

Valacyclovir tablets are used in children:

- to treat cold sores (for children 12 years of age and older)
- to treat chickenpox (for children 2 to 18 years of age)

## Dosage and administration

Cold Sores: The recommended dosage of valacyclovir tablets for treatment of cold sores
is 2 grams twice daily for 1 day taken 12 hours apart.

Genital Herpes: The recommended dosage of valacyclovir tablets for treatment of initial
genital herpes is 1 gram twice daily for 10 days."""
GABAPENTIN = """# Gabapentin

## Dosage and administration

In adults with postherpetic neuralgia, gabapentin capsules therapy may be initiated as a
single 300 mg dose on Day 1, 600 mg/day on Day 2 (divided BID), and 900 mg/day on Day 3
(divided TID). The dose can subsequently be titrated up as needed for pain relief to a
daily dose of 1800 mg (divided TID).

## Administration information

If the gabapentin dose is reduced, discontinued, or substituted with an alternative
medication, this should be done gradually over a minimum of 1 week."""
CYANOCOBALAMIN = """# Cyanocobalamin

## How should this medicine be used?

Cyanocobalamin comes as a solution to be injected into a muscle or just under the skin.
You will probably receive cyanocobalamin injection once a day for the first 6-7 days of
your treatment. After your anemia has been treated, you will probably receive the
medication once a month. If you stop receiving cyanocobalamin injections, your anemia
may return and your nerves may be damaged. The injections supply vitamin B12."""


PAGES = {name: page_text(text) for name, text in (
    ("valacyclovir.md", VALACYCLOVIR), ("gabapentin.md", GABAPENTIN),
    ("cyanocobalamin.md", CYANOCOBALAMIN))}


@pytest.fixture(scope="module")
def labels(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("labels"), PAGES, embedder)


def _assistant(index_dir: Path, embedder, *replies, **answer: float) -> Assistant:
    return Assistant.load(settings=settings_for(index_dir, answer=AnswerSettings(**answer)),
                          embedder=embedder, generator=FakeGenerator(*replies))


def _excerpt(prompt: ChatPrompt, words: str) -> int:
    """The [n] of the excerpt in the prompt that contains ``words``."""
    for match in re.finditer(r"^\[(\d+)\] (.*?)(?=\n\n\[\d+\] |\n\nQuestion: )", prompt.user,
                             re.MULTILINE | re.DOTALL):
        if words in " ".join(match.group(2).split()).lower():
            return int(match.group(1))
    raise AssertionError(f"no excerpt with {words!r} in {prompt.user!r}")


def test_a_restated_yes_citing_the_excerpt_that_answers_gets_that_excerpt_quoted(
        labels: Path, embedder) -> None:
    """"Yes, children can take valacyclovir [n]." restates the question; the excerpt it
    cites lists the children's uses. That excerpt, scoring below the quote bar, is quoted
    because the model pointed at it; cited elsewhere, or not at all, it is not."""
    def citing(words: str):
        return lambda prompt: f"Yes, children can take valacyclovir [{_excerpt(prompt, words)}]."

    question = "Can children take valacyclovir?"
    pointed = _assistant(labels, embedder, citing("chickenpox"), quote_score=99.0,
                         vouch_score=0.0).ask(question)
    assert not pointed.refused and "chickenpox" in pointed.text
    assert "chickenpox" in pointed.citations[0].text
    elsewhere = _assistant(labels, embedder, citing("initial genital herpes"),
                           quote_score=99.0, vouch_score=0.0).ask(question)
    assert elsewhere.refused
    unpointed = _assistant(labels, embedder, "Yes, children can take valacyclovir.",
                           quote_score=99.0, vouch_score=0.0).ask(question)
    assert unpointed.refused
    below = _assistant(labels, embedder, citing("chickenpox"), quote_score=99.0,
                       vouch_score=99.0).ask(question)
    assert below.refused


def test_a_removed_sentence_copying_an_excerpt_sentence_is_replaced_by_that_sentence(
        labels: Path, embedder) -> None:
    """The model's "…starting dose for nerve pain following shingles is 300 mg on Day 1…"
    is removed (the gabapentin page never says "shingles"), but it copies the page's
    "In adults with postherpetic neuralgia, … initiated as a single 300 mg dose on Day 1…":
    that sentence is quoted in its place, cited, before the model's next sentence."""
    def reply(prompt: ChatPrompt) -> str:
        return ("The starting dose for nerve pain following shingles is 300 mg on Day 1, "
                "600 mg/day on Day 2 (divided BID), and 900 mg/day on Day 3 (divided TID). "
                "The dose can subsequently be titrated up as needed for pain relief to a "
                f"daily dose of 1800 mg (divided TID) [{_excerpt(prompt, 'titrated')}].")

    question = "How much gabapentin does someone start on for nerve pain that follows shingles?"
    answer = _assistant(labels, embedder, reply, vouch_score=0.0).ask(question)
    assert answer.text.startswith("The documents say: \u201cIn adults with postherpetic")
    assert "300 mg" in answer.text and "1800 mg" in answer.text
    assert any("postherpetic neuralgia" in c.text for c in answer.citations)
    without = _assistant(labels, embedder, reply, quote_score=99.0,
                         vouch_score=99.0).ask(question)
    assert "postherpetic" not in without.text


def test_another_conditions_dose_is_not_given_for_the_condition_asked_about(
        labels: Path, embedder) -> None:
    """The valacyclovir page names shingles among its uses and gives doses for cold sores
    and genital herpes only. Asked the shingles dose, the model's "…for treatment of
    shingles is 1 gram twice daily for 10 days" (the genital herpes line) does not hold, no
    other condition's dose is quoted, and "used to treat shingles" alone states no amount:
    the question is refused, and nothing was streamed before."""
    def reply(prompt: ChatPrompt) -> str:
        uses, dose = _excerpt(prompt, "to treat shingles"), _excerpt(prompt, "1 gram")
        return (f"Valacyclovir tablets are used in adults to treat shingles [{uses}]. The "
                f"recommended dosage of valacyclovir tablets for treatment of shingles is "
                f"1 gram twice daily for 10 days [{dose}].")

    events = list(_assistant(labels, embedder, reply, vouch_score=0.0).stream(
        "How much valacyclovir is taken for shingles?"))
    answer = events[-1].answer
    assert answer is not None and answer.refused
    assert "1 gram" not in answer.text and "2 grams" not in answer.text
    assert not [e for e in events if e.kind is EventKind.SENTENCE]  # nothing sent, taken back


def test_a_pronoun_after_a_question_naming_no_drug_stands_for_what_it_asked_about() -> None:
    """"How often are B12 shots given?" names no drug the documents know; "What happens if
    I stop them?" asks about B12 shots. A question about a feeling names no thing: its
    follow-up is left as it is."""
    lexicon = Lexicon.build(PAGES, {})
    follow_up = standalone("How often are B12 shots given?", "What happens if I stop them?",
                           lexicon)
    assert follow_up == "What happens if I stop B12 shots?"
    assert standalone("What should I do if I feel dizzy?", "Is it serious?",
                      lexicon) == "Is it serious?"


def test_a_word_the_documents_say_otherwise_is_not_a_missing_topic() -> None:
    """"swap" where the page says "substituted": the question is not refused for naming
    something the documents never mention."""
    lexicon = Lexicon.build(PAGES, {})
    assert focus_of("can i swap gabapentin for another medicine", lexicon).missing == ()
    assert focus_of("can i swap gabapentin for a placebo", lexicon).missing == ("placebo",)


HYDROXYCHLOROQUINE = """# Hydroxychloroquine

## Eye problems

Long-term use of hydroxychloroquine can damage the retina. This damage affects the
light-sensitive cells of the macula, the part of the eye that gives sharp central vision.
Have an eye exam within the first year of treatment and every year after five years.

## Uses

Hydroxychloroquine is used to treat lupus and rheumatoid arthritis."""


@pytest.fixture(scope="module")
def eye_page(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("eye"),
                         {"hydroxychloroquine.md": page_text(HYDROXYCHLOROQUINE)}, embedder)


def test_a_removed_answer_in_the_questions_words_points_to_the_sentence_holding_its_fact(
        eye_page: Path, embedder) -> None:
    """"The macula, which gives sharp central vision, is the region mentioned as suffering
    from…" does not hold (the page never says "region", "mentioned" or "suffering"), but
    every word it adds
    to the question is in the page's sentence on the macula: that sentence is quoted, with
    the one before it that says what "this damage" is. Adding a word no one sentence holds
    ("peripheral") points nowhere: the macula's sentence is not quoted for it."""
    question = ("Which region of the eye is mentioned as suffering from years of "
                "hydroxychloroquine treatment?")
    pointed = _assistant(eye_page, embedder,
                         "The macula, which gives sharp central vision, is the region mentioned "
                         "as suffering from years of hydroxychloroquine treatment [1].",
                         quote_score=99.0, vouch_score=0.0).ask(question)
    assert not pointed.refused and "macula" in pointed.text
    assert "damage the retina" in pointed.text  # what "this damage" points back to
    assert any("macula" in c.text for c in pointed.citations)
    nowhere = _assistant(eye_page, embedder,
                         "The macula, which gives sharp peripheral vision, is the region "
                         "mentioned as suffering from years of hydroxychloroquine treatment [1].",
                         quote_score=99.0, vouch_score=0.0).ask(question)
    assert "macula" not in nowhere.text


METHOTREXATE = """# Methotrexate for rheumatoid arthritis

## Why methotrexate

Methotrexate is the medicine most often prescribed first for rheumatoid arthritis. In
rheumatoid arthritis, methotrexate calms the immune system that attacks the lining of the
joints, so the joints swell less and are damaged more slowly. Many people with rheumatoid
arthritis keep taking methotrexate for years, alone or with other medicines for the
disease.

## Taking it

Most people with rheumatoid arthritis take methotrexate once a week, on the same day each
week, as tablets or as an injection under the skin. Taking it every day by mistake is
dangerous. A folic acid tablet on the other days lowers the side effects of methotrexate in
rheumatoid arthritis.

## When it helps

It can take six to eight weeks before methotrexate helps the pain and stiffness of
rheumatoid arthritis, and up to three months for its full effect on the joints.

## Safety

Blood counts and liver enzymes are checked with regular tests while on methotrexate.
Do not drink alcohol while taking methotrexate, and tell your doctor about any cough,
fever or mouth sores."""


@pytest.fixture(scope="module")
def one_condition_page(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("methotrexate"),
                         {"methotrexate.md": page_text(METHOTREXATE)}, embedder)


def test_a_condition_the_whole_page_is_about_does_not_keep_out_its_other_lines(
        one_condition_page: Path, embedder) -> None:
    """Asked which tests are run for people given methotrexate for rheumatoid arthritis, on
    a page about methotrexate for rheumatoid arthritis: the monitoring line does not repeat
    "rheumatoid arthritis", yet it is no line for another condition (as a dose line for
    genital herpes is to a question on shingles), and it answers the question without its
    setting better than the question whole. The model's right answer, whose wording does
    not hold, points to it, and that line is quoted."""
    question = ("Which tests should doctors run for patients given methotrexate for "
                "rheumatoid arthritis?")
    answer = _assistant(one_condition_page, embedder,
                        "Blood count and liver enzyme tests should be run for patients given "
                        "methotrexate for rheumatoid arthritis [1].",
                        quote_score=99.0).ask(question)
    assert not answer.refused
    assert "liver enzymes" in answer.text
    assert any("liver enzymes" in c.text for c in answer.citations)
