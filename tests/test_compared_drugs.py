"""A question comparing drugs is answered one drug at a time (``Assistant._parts``): shown
both drugs' excerpts at once, the 1.5B model merged them into one claim that held for
neither ("Memantine and dantrolene are used for depression…", dev q189, refused)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.scope import Lexicon, Relevance, focus_of
from qa.text import renumbered

from .conftest import settings_for
from .fakes import FakeGenerator, first_sentence_cited

MARKER_NUMBER = re.compile(r"\[(\d+)\]")
LEXICON = Lexicon.build({"k": "Ketamine acts on NMDA receptors in the brain.",
                         "d": "Dantrolene acts on muscle cells directly.",
                         "m": "Memantine is used in Alzheimer disease."}, {})


def _sides(question: str) -> list[str]:
    return Relevance.of(question, focus_of(question, LEXICON), LEXICON).side_questions(question)


@pytest.mark.parametrize(("question", "sides"), [
    ("Compare the side effects of dantrolene and ketamine.",
     ["Describe the side effects of dantrolene.", "Describe the side effects of ketamine."]),
    ("How do the side effects of memantine differ from those of dantrolene?",
     ["What are the side effects of dantrolene?", "What are the side effects of memantine?"]),
    ("How does the mechanism of dantrolene differ from that of memantine?",
     ["What is the mechanism of dantrolene?", "What is the mechanism of memantine?"]),
    ("What does each article say needs monitoring for dantrolene and for ketamine?",
     ["What does article say needs monitoring for dantrolene?",
      "What does article say needs monitoring for ketamine?"]),
    ("Which needs liver tests, dantrolene or memantine?",
     ["Which needs liver tests, dantrolene?", "Which needs liver tests, memantine?"]),
    # it was "What's the actual dantrolene?"
    ("What's the actual difference between dantrolene and ketamine?",
     ["What is dantrolene?", "What is ketamine?"]),
])
def test_each_drug_is_asked_the_question_alone(question: str, sides: list[str]) -> None:
    assert _sides(question) == sides


PRODUCTS = Lexicon.build({"c": "Clopidogrel prevents clots.", "a": "Aspirin relieves pain."}, {})


@pytest.mark.parametrize(("question", "split"), [
    ("What are the side effects of clopidogrel versus aspirin?", True),
    ("Which one thins the blood more, clopidogrel or aspirin?", True),
    ("Clopidogrel and aspirin: what is the difference?", True),
    # two drugs asked about together, not side by side (MedicationQA questions)
    ("How long can you be on clopidogrel & aspirin combined?", False),
    ("What are the side effects of taking clopidogrel and aspirin together?", False),
    ("What is in clopidogrel and aspirin tablets?", False),  # one product
    # names side by side with nothing joining or comparing them: one thing asked about
    ("What is the clopidogrel aspirin pill used for?", False),
    ("What is clopidogrel aspirin used for?", False),
])
def test_only_drugs_compared_side_by_side_are_answered_one_at_a_time(question: str,
                                                                     split: bool) -> None:
    relevance = Relevance.of(question, focus_of(question, PRODUCTS), PRODUCTS)
    assert len(relevance.compared) == 2
    assert bool(relevance.contrasted) is split


def test_markers_of_a_later_part_are_numbered_after_the_earlier_parts() -> None:
    assert renumbered("Dizziness [1]. Nausea [2, 3].", 5) == "Dizziness [6]. Nausea [7, 8]."
    assert renumbered("Dizziness [1].", 0) == "Dizziness [1]."


@pytest.fixture(scope="module")
def compared(seed_index: Path, embedder):
    """The real index and embedder; the model copies the first excerpt's first sentence."""
    from qa.answer import Assistant

    generator = FakeGenerator(first_sentence_cited, first_sentence_cited)
    assistant = Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                               generator=generator)
    events = list(assistant.stream(
        "How do the side effects of memantine differ from those of dantrolene?"))
    return generator, events


def test_each_compared_drug_gets_its_own_generation_and_excerpts(compared) -> None:
    generator, events = compared
    asked = [p.user.rsplit("Question: ", 1)[1] for p in generator.prompts]
    assert asked == ["What are the side effects of dantrolene?",
                     "What are the side effects of memantine?"]
    for prompt, drug, other in zip(generator.prompts, ("dantrolene", "memantine"),
                                   ("memantine", "dantrolene"), strict=True):
        assert drug in prompt.user.lower() and other not in prompt.user.lower()


def test_the_answer_names_each_drug_and_cites_each_ones_excerpts(compared) -> None:
    generator, events = compared
    answer = events[-1].answer
    assert answer.text.startswith("Dantrolene: ") and " Memantine: " in answer.text
    first, second = answer.text.split(" Memantine: ")
    shown_first = len(generator.prompts[0].excerpts)  # the memantine part's are numbered after
    excerpts = {e.n: e for e in answer.excerpts}
    assert sorted(excerpts) == list(range(1, len(answer.excerpts) + 1))
    assert [int(n) for n in MARKER_NUMBER.findall(first)] and all(
        int(n) <= shown_first for n in MARKER_NUMBER.findall(first))
    assert [int(n) for n in MARKER_NUMBER.findall(second)] and all(
        int(n) > shown_first for n in MARKER_NUMBER.findall(second))
    for citation in answer.citations:
        assert excerpts[citation.n].text == citation.text
    assert "memantine" in " ".join(c.text for c in answer.citations if c.n > shown_first).lower()


def test_the_streamed_sentences_are_the_compared_answer(compared) -> None:
    _, events = compared
    kinds = [e.kind for e in events]
    assert kinds[0] == "evidence" and kinds.count("evidence") == 1
    sent = " ".join(e.text for e in events if e.kind == "sentence")
    assert sent == events[-1].answer.text


def test_a_yes_no_comparison_stays_one_question(seed_index: Path, embedder) -> None:
    """"Does dantrolene or memantine need liver tests?" has one answer: one generation."""
    from qa.answer import Assistant

    generator = FakeGenerator(first_sentence_cited)
    assistant = Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                               generator=generator)
    assistant.ask("Do dantrolene and memantine both need liver function tests?")
    assert len(generator.prompts) == 1


def _no_quotes(index_dir: Path):
    """No excerpt is good enough to be quoted in place of the model's refusal."""
    from qa.config import AnswerSettings

    return settings_for(index_dir, answer=AnswerSettings(quote_score=99.0))


def test_a_compared_drug_the_documents_say_nothing_about_is_named(seed_index: Path,
                                                                  embedder) -> None:
    """One part holds, the other's model reply holds nothing: the answer says so for that
    drug instead of leaving it out; the streamed sentences are still the answer."""
    from qa.answer import Assistant

    refusal = "I could not find the answer in the indexed documents."
    generator = FakeGenerator(first_sentence_cited, refusal)
    assistant = Assistant.load(settings=_no_quotes(seed_index), embedder=embedder,
                               generator=generator)
    events = list(assistant.stream("Which needs liver tests, dantrolene or memantine?"))
    answer = events[-1].answer
    assert not answer.refused and answer.text.startswith("Dantrolene: ")
    assert answer.text.endswith(f"Memantine: {refusal}")
    assert " ".join(e.text for e in events if e.kind == "sentence") == answer.text


def test_nothing_found_for_any_compared_drug_is_a_refusal(seed_index: Path, embedder) -> None:
    from qa.answer import Assistant

    refusal = "I could not find the answer in the indexed documents."
    assistant = Assistant.load(settings=_no_quotes(seed_index), embedder=embedder,
                               generator=FakeGenerator(refusal, refusal))
    events = list(assistant.stream("Which needs liver tests, dantrolene or memantine?"))
    assert events[-1].answer.refused
    assert not [e for e in events if e.kind == "sentence"]
