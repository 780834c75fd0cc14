"""Questions as people type them, on plain-text health pages.

A seventh round of questions nobody here wrote, on MedicationQA label pages and an NHLBI
article on deep vein thrombosis: "my grandson is 2 months old, does he get the Prevnar?"
(refused for "grandson": a clause told before the question, and no yes/no question since
its first word is no auxiliary); "Any tips for the flight?" answered "Travel Tips [2]" (an
inner heading of a plain-text page, shown as an excerpt of its own); "…garlic, ginger,
ginkgo, St." (a sentence cut at a title's full stop) with its other half quoted twice;
"he also takes Xanax, is that one of the meds that can interact with it?" refused for
"meds"; and a price question answered with a dose count. A fake model writes the reply
(so each branch is reached on purpose); the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import AnswerSettings
from qa.conversation import asked_alone
from qa.evidence import select_evidence
from qa.scope import Lexicon, focus_of
from qa.text import heading_like, split_sentences, told_and_asked
from qa.types import Chunk, Passage

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {name: page_text(text) for name, text in {
    "warfarin.md": """# Warfarin

## Herbs

The herbs that showed the greatest potential to interact with warfarin include garlic,
ginger, ginkgo, St. John's wort, and ginseng.

## How should this medicine be used?

Warfarin comes as a tablet to take by mouth. It is usually taken once a day with or
without food. Take the warfarin exactly as directed. Warfarin takes 2 to 3 days before it
starts to work.""",
    "dvt.md": """# Deep Vein Thrombosis

## prevention

You can take steps to prevent deep vein thrombosis (DVT).

Travel Tips

The risk of developing DVT while traveling is low.

During long trips, it may help to:

Walk up and down the aisles of the bus, train, or airplane.

Move your legs and flex and stretch your feet to improve blood flow in your calves.

Drink plenty of fluids and avoid alcohol.""",
}.items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("typed"), PAGES, embedder)


LEXICON = Lexicon.build(
    {"c": "Clonazepam. Klonopin Wafers (clonazepam tablets) are white. The maximum dose of "
          "clonazepam is 20 mg. Tell your doctor about other medications you take.",
     "w": "Warfarin. Warfarin is taken once a day with or without food. " * 2},
    {"klonopin": {"clonazepam"}, "clonazepam": {"klonopin"}},
    {"c": "Clonazepam", "w": "Warfarin"})


@pytest.mark.parametrize(("message", "told", "asked"), [
    ("my grandson is 2 months old, does he get the Prevnar?",
     "my grandson is 2 months old", "does he get the Prevnar?"),
    ("I opened a tube a year ago. is it still ok to use?",
     "I opened a tube a year ago.", "is it still ok to use?"),
    # the clause is the question's own condition: asked, not told
    ("If I miss a dose, should I double up?", "", "If I miss a dose, should I double up?"),
    ("What are the side effects?", "", "What are the side effects?"),
    # told after the question, opening on who it is about (rounds 11 and 16)
    ("cant she just take b12 pills instead, she hates needles",
     "she hates needles", "cant she just take b12 pills instead"),
    ("is there a special flu shot for my grandma, shes 82",
     "shes 82", "is there a special flu shot for my grandma"),
    ("What dose of dantrolene should I take, I weigh 70kg?",
     "I weigh 70kg", "What dose of dantrolene should I take"),
    # ...not a clause asking again, nor a message asking nothing
    ("can he take it, he is 7 is that ok", "", "can he take it, he is 7 is that ok"),
    ("My mother's face is drooping and her speech is slurred, she takes memantine", "",
     "My mother's face is drooping and her speech is slurred, she takes memantine"),
])
def test_what_a_typed_message_tells_and_what_it_asks(message: str, told: str,
                                                     asked: str) -> None:
    assert told_and_asked(message) == (told, asked)


def test_a_clause_told_before_the_question_is_no_missing_topic_and_asks_yes_or_no() -> None:
    """"My grandson is 9, can he take Klonopin?" asks yes or no about Klonopin; "grandson"
    is told, not asked (it was refused naming it). A question setting its own condition is
    yes/no too."""
    for question in ("My grandson is 9, can he take Klonopin?",
                     "If I miss a dose of Klonopin, should I double up?"):
        focus = focus_of(question.lower(), LEXICON, question)
        assert focus.polar and focus.missing == (), (question, focus)
    asked = "Can my grandson take Klonopin?"
    assert focus_of(asked.lower(), LEXICON, asked).missing == ("grandson",)
    # told around something the pages name but no drug ("…, does he get the Prevnar?"),
    # and around nothing they name
    named = "My grandson is 9, does he get the wafers?"
    assert focus_of(named.lower(), LEXICON, named).missing == ()
    bare = "My grandson is 9, is that a problem?"
    assert "grandson" in focus_of(bare.lower(), LEXICON, bare).missing


def test_what_a_clause_tells_stays_with_the_question_it_conditions() -> None:
    """Asked alone, "…penicillin…, my doctor wants me on clonazepam, is that ok for me to
    take?" lost the allergy it is about; and an everyday word told is no drug for "he"
    to stand for ("…of grandson?")."""
    for message in ("I have a bad rash, my doctor wants me on clonazepam, is that ok for me "
                    "to take?",
                    "My grandson is 9. Can he chew them?"):
        assert asked_alone(message, LEXICON) == message


def test_meds_are_medicines() -> None:
    question = "Is Xanax one of the meds that can interact with clonazepam?"
    assert "meds" not in focus_of(question.lower(), LEXICON, question).missing


def test_a_question_asking_only_whether_to_take_it_gets_no_yes_from_an_instruction(
        pages: Path, embedder) -> None:
    """"Take the warfarin exactly as directed." does not say yes to "Is it ok for me to take
    warfarin?": nothing but taking is asked, so no excerpt settles it."""
    answer = answer_of(pages, embedder, "I have a rash from another pill. Is it ok for me to take "
                       "warfarin?", citing("exactly as directed", "Yes, you can take warfarin "
                                                                 "[n]."))
    assert not answer.text.startswith("Yes"), answer.text


def test_a_sentence_is_not_cut_at_a_titles_full_stop(pages: Path, embedder) -> None:
    assert split_sentences("They include ginkgo, St. John's wort, and ginseng. Ask Dr. Lee.") \
        == ["They include ginkgo, St. John's wort, and ginseng.", "Ask Dr. Lee."]
    answer = answer_of(pages, embedder, "Which herbs interact with warfarin?", citing(
        "ginseng", "The herbs that showed the greatest potential to interact with warfarin "
                        "include garlic, ginger, ginkgo, St. John's wort, and ginseng [n]."))
    assert "St. John's wort, and ginseng" in answer.text
    assert answer.text.count("ginseng") == 1, answer.text


@pytest.mark.parametrize(("line", "heading"), [
    ("Travel Tips", True), ("Other Types of Treatment", True),
    ("ear infections", False), ("NORCO® 5/325", False), ("SODIUM HYDROXIDE", False),
    ("Garlic, Ginger", False), ("Drink plenty of fluids.", False),
])
def test_a_heading_is_a_few_capitalised_words_saying_nothing(line: str, heading: bool) -> None:
    assert heading_like(line) is heading


def test_a_heading_is_no_answer_and_a_lead_in_brings_its_lines(pages: Path, embedder) -> None:
    """"Travel Tips [2]" was the whole answer to "Any tips for the flight?": the heading
    alone is no excerpt, and a model's sentence copying it says nothing. "During long
    trips, it may help to:" brings the lines after it, unmarked as they are."""
    answer = answer_of(pages, embedder, "How can I prevent DVT on a long journey?",
                       citing("travel tips", "Travel Tips [n]."))
    assert "Travel Tips" not in answer.text, answer.text
    chunk_text = PAGES["dvt.md"].split("## prevention\n\n", 1)[1]
    chunk = Chunk(chunk_id="d-0", doc_id="d", source="dvt.md", title="Deep Vein Thrombosis",
                  section="prevention", start=0, end=len(chunk_text), text=chunk_text)
    shown = select_evidence("What helps on long trips?", [Passage(chunk, 0.9)], embedder,
                            AnswerSettings(evidence_tokens=40))
    texts = [e.text for e in shown]
    assert "Travel Tips" not in texts
    lead_in = next(t for t in texts if t.startswith("During long trips"))
    assert "Walk up and down" in lead_in and "Drink plenty of fluids" in lead_in, texts


def test_a_heading_ending_a_chunk_is_no_excerpt(embedder) -> None:
    """A chunk cut right after a heading leaves it with nothing to head."""
    text = "Drink plenty of fluids and avoid alcohol.\n\nTravel Tips"
    chunk = Chunk(chunk_id="a-0", doc_id="a", source="a.md", title="Trips", section="tips",
                  start=0, end=len(text), text=text)
    shown = select_evidence("Any travel tips?", [Passage(chunk, 0.9)], embedder,
                            AnswerSettings())
    assert [e.text for e in shown] == ["Drink plenty of fluids and avoid alcohol."]


def test_the_same_line_in_two_passages_is_one_excerpt(embedder) -> None:
    text = "Drink plenty of fluids and avoid alcohol. Walk around every hour."
    chunks = [Chunk(chunk_id=f"{d}-0", doc_id=d, source=f"{d}.md", title="Trips",
                    section="tips", start=0, end=len(text), text=text) for d in ("a", "b")]
    shown = select_evidence("What helps on long trips?", [Passage(c, 0.9) for c in chunks],
                            embedder, AnswerSettings())
    assert len([e for e in shown if "Drink plenty" in e.text]) == 1, shown


def test_a_price_is_asked_only_of_a_text_on_money(pages: Path, embedder) -> None:
    """"How much does Shingrix cost without insurance?" was answered "You need two doses…":
    a number, no price."""
    answer = answer_of(pages, embedder, "How much does warfarin cost without insurance?",
                       citing("2 to 3 days", "Warfarin takes 2 to 3 days to start working [n]."))
    assert answer.refused, answer.text


def test_a_quote_about_this_vaccine_brings_what_this_vaccine_is() -> None:
    """"Is Zostavax a live vaccine?" was answered with "There is no live virus in this
    vaccine.", said of the recombinant vaccine on a page of both: the quote brings the
    sentences saying which vaccine "this" is."""
    from qa.finishing import Quote, with_antecedent
    from qa.types import Evidence

    text = ("Two doses of the recombinant vaccine are recommended for adults 50 and older. "
            "This vaccine is also recommended for people who have already gotten the live "
            "shingles vaccine (Zostavax). There is no live virus in this vaccine.")
    chunk = Chunk(chunk_id="s-0", doc_id="s", source="shingles.md", title="Shingles vaccines",
                  section="recombinant", start=0, end=len(text), text=text)
    last = text.index("There is")
    quote = Quote(Evidence(1, chunk, 0, len(text), text, 0.9), last, len(text), text[last:],
                  0.9)
    assert with_antecedent(quote).text == text
    plain = text.index("This vaccine")
    alone = Quote(quote.evidence, 0, plain - 1, text[:plain - 1], 0.9)
    assert with_antecedent(alone) == alone
