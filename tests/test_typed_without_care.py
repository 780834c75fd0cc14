"""Messages typed fast: no apostrophes, misspelled names, the question after what is told.

An eighth round of questions nobody here wrote (MedicationQA label pages on aspirin,
clopidogrel, alprazolam, amiodarone and others, asked as pharmacy customers type) was
answered for 6 of 35 turns: "isnt aspirin an nsaid too tho?" and "arent they both just
blood thinners" were refused naming "isnt" and "aren"; "a drug eluting stent" naming
"eluting" (the page says "drug-eluting"); "what about pantoprazole then?" after "im on
plavix… is it ok to take prilosec…?" searched for Plavix swapped out too; "ive been on
amiodarone about 8 months and im seeing halos around lights at night. is that a known
thing with it??" and "been on xanax 1mg twice a day for about a year. can i just quit cold
turkey?" were refused though the label answers both (the told words outweighed the asked
ones, and the told "a day" and "a year" made every excerpt say neither yes nor no); "can i
give my 6 year old asprin…" took "asprin" for something asked besides the drug. A fake
model writes the replies (so each branch is reached on purpose); index and embedder are
real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.conversation import standalone
from qa.query import QueryNormaliser
from qa.questions import in_plain_words
from qa.scope import Lexicon, Vocabulary, focus_of, mistyped
from qa.text import terms, told_and_asked

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {name: page_text(text) for name, text in {
    "alprazolam.md": """# Alprazolam (Xanax)

## Stopping alprazolam

Because of the danger of withdrawal, abrupt discontinuation of treatment should be avoided.
In all patients, dosage should be reduced gradually when discontinuing therapy.

## Side effects

Drowsiness and light-headedness are the most common side effects.""",
    "amiodarone.md": """# Amiodarone

## Eyes

Asymptomatic corneal microdeposits are present in virtually all adult patients who have
been on drug for more than 6 months. Some patients develop eye symptoms of halos,
photophobia, and dry eyes.

## Skin

Dermatological adverse reactions occur in about 15% of patients, with photosensitivity
being most common.""",
    "aspirin.md": """# Aspirin

## Aspirin, fever and children

A fever is a body temperature that is higher than normal. It is part of your body's defense
against infection. Fever also activates your body's immune system.
Adults can also take aspirin, but children with fevers should not take aspirin.

## Pain relievers

Aspirin, naproxen (Aleve), and ibuprofen (Advil, Motrin) are examples of OTC NSAIDs.""",
}.items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("fast"), PAGES, embedder)


LEXICON = Lexicon.build(
    {"c": "Plavix (clopidogrel) after a drug-eluting stent. Avoid Plavix with omeprazole. "
          "Pantoprazole had less effect. Clopidogrel is a P2Y12 inhibitor.",
     "a": "Aspirin. Aspirin is a blood thinner. Children with fevers should not take aspirin."
          " Aspirin is a salicylate and an NSAID."},
    {"plavix": {"clopidogrel"}, "clopidogrel": {"plavix"}},
    {"c": "Clopidogrel", "a": "Aspirin"})


@pytest.mark.parametrize(("typed", "read"), [
    ("isnt aspirin an nsaid too tho?", "is aspirin an nsaid too tho?"),
    ("my mom takes clopidogrel and shes having knee surgery",
     "my mom takes clopidogrel and she's having knee surgery"),
    ("Whats the difference? arent they both thinners", "What's the difference? aren't they "
                                                       "both thinners"),
    # "IM" is intramuscular; "its", "well", "were" are words of their own
    ("IM injection ok? im on plavix", "IM injection ok? I'm on plavix"),
    ("its fine, we were well", "its fine, we were well"),
    ("can amiodarone mess with your thyroid?", "can amiodarone affect your thyroid?"),
    ("im bruising alot, is that normal?", "I'm bruising a lot, is that normal?"),
    # coming off a medicine is stopping it; coming off work is not
    ("Is it alright to come off gabapentin suddenly?",
     "Is it alright to stop gabapentin suddenly?"),
    ("getting off of it too fast", "stopping it too fast"),
    ("will that go away if he comes off it?", "will that go away if he stops it?"),
    ("i get off work at 5, can i take it then?", "i get off work at 5, can i take it then?"),
])
def test_contractions_typed_without_apostrophes_are_read_as_meant(typed: str,
                                                                  read: str) -> None:
    assert in_plain_words(typed) == read


@pytest.mark.parametrize("question", [
    "whats the actual difference between aspirin and plavix? arent they both just blood "
    "thinners",
    "isnt aspirin an nsaid too tho?",
    "i got a drug eluting stent. how long do i stay on plavix?",
])
def test_what_is_left_of_a_contraction_or_a_compound_is_nothing_missing(question: str) -> None:
    asked = in_plain_words(question)
    assert focus_of(" ".join(terms(asked)), LEXICON, asked).missing == ()


def test_the_parts_of_a_hyphenated_word_are_known() -> None:
    vocabulary = Vocabulary.from_texts(["After drug-eluting stent implantation"])
    assert vocabulary.knows("eluting") and vocabulary.knows("drug-eluting")
    assert not vocabulary.knows("bare-metal")


def test_a_follow_up_swaps_the_drug_the_question_asked_about() -> None:
    previous = "im on plavix since they put my stent in. is it ok to take aspirin for pain?"
    assert standalone(previous, "what about pantoprazole then?", LEXICON) == \
        "I'm on plavix since they put my stent in. is it ok to take pantoprazole for pain?"
    # the question names no drug: the told one is what it asks about
    assert standalone("My dad is on plavix. What are its side effects?", "and aspirin?",
                      LEXICON) == "My dad is on aspirin. What are its side effects?"


def test_instead_asks_instead_of_what_was_asked_before() -> None:
    assert standalone("Can children with a fever take aspirin?",
                      "ok so what can i give her instead", LEXICON) == \
        "Ok so what can i give her instead of aspirin"


def test_a_misspelled_drug_is_spelled_as_the_documents_spell_it() -> None:
    normaliser = QueryNormaliser.from_texts(["Aspirin is a salicylate.",
                                             "Children with fevers should not take aspirin."])
    assert normaliser.spell_names("can i give my 6 year old asprin for her fever?",
                                  {"aspirin"}) == "can i give my 6 year old aspirin for her fever?"
    # only into a name asked for: "fevre" is left to the search's own spelling fixes
    assert normaliser.spell_names("a fevre", {"aspirin"}) == "a fevre"


def test_what_is_told_counts_by_the_things_it_names(pages: Path, embedder) -> None:
    """The told "8 months", "around", "at night" outweighed "halos": the best excerpt
    scored under the quote bar and the question was refused."""
    answer = answer_of(pages, embedder, "ive been on amiodarone about 8 months and im seeing "
                       "halos around lights at night. is that a known thing with it??",
                       citing("photosensitivity", "Yes, halos around lights at night are a "
                                                  "known side effect of amiodarone [n]."))
    assert "eye symptoms of halos" in answer.text and not answer.refused, answer.text


def test_the_asking_sentence_decides_yes_or_no(pages: Path, embedder) -> None:
    """"…twice a day for about a year. can i just quit cold turkey?": the told time spans
    made "abrupt discontinuation … should be avoided" say neither yes nor no, and the
    dosing question, which may only be answered by a quote saying one, was refused."""
    answer = answer_of(pages, embedder, "been on xanax 1mg twice a day for about a year. can "
                       "i just quit cold turkey?",
                       citing("drowsiness", "Yes, you can just quit abruptly [n]."))
    assert answer.text.startswith("No.") and "should be avoided" in answer.text, answer.text


def test_a_misspelled_drug_is_no_topic_of_the_question(pages: Path, embedder) -> None:
    """"alprazolm", taken for a rare word asked about besides the drug, weighed most in
    the question's topic: no excerpt used enough of it to say yes or no."""
    answer = answer_of(pages, embedder, "Can I stop alprazolm abruptly?",
                       citing("drowsiness", "Yes, you can stop it abruptly [n]."))
    assert answer.text.startswith("No.") and "should be avoided" in answer.text, answer.text



def test_a_childs_age_is_a_child(pages: Path, embedder) -> None:
    """Round 8: "can i give my 6 year old asprin for her fever?" kept the model's fever
    sentences once its "Yes" fell: "6 year old" was a time span and two topic words, so
    "…children with fevers should not take aspirin" said neither yes nor no, and the
    model's "…can be given to a 6-year-old…" no yes either."""
    answer = answer_of(pages, embedder, "can i give my 6 year old aspirin for her fever?",
                       citing("defense", "Yes, aspirin can be given to a 6-year-old for a "
                                         "fever [n]. It is part of your body's defense "
                                         "against infection [n]."))
    assert "children with fevers should not take aspirin" in answer.text, answer.text
    assert "Yes" not in answer.text and "defense" not in answer.text, answer.text


def test_words_typed_for_emphasis_are_not_what_is_asked(pages: Path, embedder) -> None:
    """Round 8: "isnt aspirin an nsaid too tho?" weighed "too" and "tho" as topic words
    no excerpt uses, so no excerpt said yes and the model's right "Yes, aspirin is an
    NSAID" (an echo of the question) gave way to a quote without its "Yes."."""
    answer = answer_of(pages, embedder, "isnt aspirin an nsaid too tho?",
                       citing("nsaids", "Yes, aspirin is an NSAID [n]."))
    assert answer.text.startswith("Yes.") and "examples of OTC NSAIDs" in answer.text, \
        answer.text


def test_a_question_typed_without_its_question_mark_still_asks() -> None:
    """Round 9: "my grandpa had an epidural and now hes on enoxaparin shots. what symptoms
    should we watch for" was refused naming "grandpa": with no "?", no sentence asked, so
    the told one was taken for the question and its everyday words had to be the
    documents'."""
    lexicon = Lexicon.build({"e": "Enoxaparin injection. Epidural or spinal hematomas may "
                                  "occur. Watch for symptoms such as tingling or numbness."},
                            {}, {"e": "Enoxaparin"})
    question = ("my grandpa had an epidural and now hes on enoxaparin shots. what symptoms "
                "should we watch for")
    asked = in_plain_words(question)
    assert focus_of(" ".join(terms(asked)), lexicon, asked).missing == ()


def test_a_clause_told_before_a_question_without_its_question_mark_is_told() -> None:
    """Round 10: "my grandpa has an irregular heart rhythm and needs an antidepressant, is
    sertraline one of the ones that doesnt mess with the qt thing" (one sentence, no "?")
    was refused naming "grandpa" and "irregular", though the page names sertraline among
    the antidepressants that do not increase the Q-T interval; "my mom is 72 and uses
    premarin cream for vaginal dryness…, how often is she supposed to use it" naming
    "dryness"."""
    lexicon = Lexicon.build({"s": "Sertraline (Zoloft) is one of the antidepressants that do "
                                  "not increase the Q-T interval; citalopram can affect "
                                  "the heart's rhythm."}, {}, {"s": "Sertraline"})
    question = ("my grandpa has an irregular heart rhythm and needs an antidepressant, is "
                "sertraline one of the ones that doesnt mess with the qt thing")
    assert told_and_asked(question) == (
        "my grandpa has an irregular heart rhythm and needs an antidepressant",
        "is sertraline one of the ones that doesnt mess with the qt thing")
    asked = in_plain_words(question)
    assert focus_of(" ".join(terms(asked)), lexicon, asked).missing == ()
    # a message of one sentence with nothing told before its question asks as a whole
    assert told_and_asked("sertraline side effects") == ("", "sertraline side effects")
    # its question's own condition is asked, not told
    assert told_and_asked("if i miss a dose, should i double up") == \
        ("", "if i miss a dose, should i double up")


def test_a_follow_up_carries_the_thing_not_a_count_or_a_typo() -> None:
    """Round 10: "my cholesterols already good now so can i just quit it?" after "started
    rosuvastin 2 weeks ago, what side effects are kinda normal" was asked as "…quit
    rosuvastin 2 weeks?"; "and if he forgets a pill can he just take 2 the next day" after
    "ok what other foods or drinks shoud he keep small and steady then" as "…the next day
    of shoud?"."""
    lexicon = Lexicon.build({"r": "Rosuvastatin may cause side effects. Rosuvastatin tablets "
                                  "are taken once a day to lower cholesterol; after 2 weeks "
                                  "the dose may change. Warfarin and vitamin K foods."},
                            {}, {"r": "Rosuvastatin"})
    assert standalone("started rosuvastin 2 weeks ago, what side effects are kinda normal",
                      "my cholesterols already good now so can i just quit it?", lexicon) \
        == "My cholesterols already good now so can i just quit rosuvastin?"
    assert "shoud" not in standalone("ok what other foods or drinks shoud he keep small and "
                                     "steady then", "and if he forgets a pill can he just "
                                     "take 2 the next day", lexicon)
    # round 16: "it" after "should i take 2 today" had become "take" ("can i take take with
    # my calcium tabs"), then "today"
    thyroid = Lexicon.build({"t": "Levothyroxine. Take the missed pill as soon as you "
                                  "remember; do not take 2 pills today to make up for it. "
                                  "Take it 4 hours apart from calcium in the morning."},
                            {}, {"t": "Levothyroxine"})
    follow = standalone("i forgot yesterdays pill, should i take 2 today",
                        "also can i take it with my calcium tabs in the morning", thyroid)
    assert "take take" not in follow and "take today" not in follow


@pytest.mark.parametrize(("word", "typed_for_another"), [
    ("shoud", True), ("wiht", True), ("becuase", True),
    ("xanax", False), ("aleve", False), ("lantus", False), ("plavix", False),
])
def test_a_word_a_letter_from_an_everyday_one_is_a_typo_not_a_name(
        word: str, typed_for_another: bool) -> None:
    assert mistyped(word) is typed_for_another


def test_a_question_about_what_the_clause_before_names_together_asks_with_it() -> None:
    """Round 10: "my husband is on lovastatin and another doctor wants to add gemfibrozil,
    is that combo ok" asks of the two drugs the clause names: read as "is that combo ok"
    alone, "…the combined use of lovastatin with other fibrates … should be carefully
    weighed…" answered it yes, and the model's "should be avoided" was replaced by it."""
    message = ("my husband is on lovastatin and another doctor wants to add gemfibrozil, is "
               "that combo ok")
    assert told_and_asked(message) == ("", message)
    assert told_and_asked("my mom takes lisinopril and metformin, can she take them together?") \
        == ("", "my mom takes lisinopril and metformin, can she take them together?")
    # one thing pointed back to: what is told before it is told
    assert told_and_asked("my grandpa gets panic attacks, is it used for that") == \
        ("my grandpa gets panic attacks", "is it used for that")
