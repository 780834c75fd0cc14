"""Follow-ups made to stand alone: pronouns, ellipsis, topic switches, safety in context."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answer import Assistant
from qa.conversation import Conversation, Turn, standalone, standalone_questions
from qa.errors import QAError
from qa.query import QueryNormaliser
from qa.scope import Lexicon
from qa.types import TriageKind

from .conftest import settings_for
from .fakes import FakeGenerator
from .leaflets import LEAFLETS, TITLES

LEXICON = Lexicon.build({"m": "memantine " * 5 + "glutamate", "k": "ketamine " * 5,
                         "d": "dantrolene " * 5 + "muscle"}, {})
FIRST = "How does memantine work?"


@pytest.mark.parametrize(("message", "expected"), [
    ("What about its side effects?", "What are the side effects of memantine?"),
    ("and for ketamine?", "How does ketamine work?"),
    ("What about dantrolene?", "How does dantrolene work?"),
    ("What are the side effects?", "What are the side effects of memantine?"),
    ("What about the side effects?", "What are the side effects of memantine?"),
    ("How about its usual dose?", "What is the usual dose of memantine?"),
    ("What about taking it with food?", "What about taking memantine with food?"),
    ("Can I take it with food?", "Can I take memantine with food?"),
    ("Is it safe to drive after taking it?", "Is it safe to drive after taking memantine?"),
    ("How does dantrolene work?", "How does dantrolene work?"),  # a new topic
    ("What is the capital of France?", "What is the capital of France?"),  # nothing carried
    ("and for metformin?", "How does metformin work?"),  # unknown drug: asked, then refused
])
def test_a_follow_up_becomes_a_question_of_its_own(message: str, expected: str) -> None:
    assert standalone(FIRST, message, LEXICON) == expected


def test_a_pronoun_beside_a_condition_still_stands_for_the_earlier_drug() -> None:
    """"Does it cure shingles?" after a valacyclovir question was left as it was (it names
    shingles, so it looked like a new topic), and the answer was about the vaccine."""
    lexicon = Lexicon.build(LEAFLETS, {}, TITLES)
    assert standalone("What is valacyclovir used for?", "Does it cure shingles?",
                      lexicon) == "Does valacyclovir cure shingles?"
    assert standalone("What are the symptoms of shingles?", "Does valacyclovir treat it?",
                      lexicon) == "Does valacyclovir treat shingles?"
    # a drug after a drug is a new topic; a condition named without a pronoun too
    assert standalone("What is valacyclovir used for?", "Is memantine safe for it?",
                      lexicon) == "Is memantine safe for it?"
    assert standalone("What is valacyclovir used for?", "Is shingles contagious?",
                      lexicon) == "Is shingles contagious?"


@pytest.mark.parametrize(("previous", "message", "expected"), [
    ("What is shingles?", "What are the symptoms?", "What are the symptoms of shingles?"),
    ("What is shingles?", "Is there a cure?", "Is there a cure for shingles?"),
    # The aspect has its own subject: a new question.
    ("What is shingles?", "What are the symptoms of a stroke?",
     "What are the symptoms of a stroke?"),
    # A subject no document has as its own name: what "What is X?" asked about.
    ("What is depression?", "What are the treatments?",
     "What are the treatments for depression?"),
    ("What is the capital of France?", "What are the symptoms?", "What are the symptoms?"),
])
def test_a_follow_up_about_a_condition_carries_it(previous: str, message: str,
                                                  expected: str) -> None:
    """"What is hypothyroidism?" then "What are the symptoms?" searched for "What are the
    symptoms?" (NIDDK's pages): only a drug's aspects were carried."""
    lexicon = Lexicon.build(LEAFLETS, {}, TITLES)
    assert standalone(previous, message, lexicon) == expected


def test_a_follow_up_names_a_condition_as_the_question_did() -> None:
    """"How is it treated?" after "What is neuroleptic malignant syndrome?" searched for
    "How is neuroleptic treated?": the condition is known by its rarest word only."""
    text = "Neuroleptic malignant syndrome is a reaction to neuroleptic drugs. " * 4
    lexicon = Lexicon.build({"nms": text}, {}, {"nms": "Neuroleptic Malignant Syndrome"})
    assert standalone("What is neuroleptic malignant syndrome?", "How is it treated?",
                      lexicon) == "How is neuroleptic malignant syndrome treated?"


def test_a_pronoun_stands_for_the_brand_a_question_named_not_for_its_other_words() -> None:
    """A brand no document pairs with its generic, and a drug named before its generic in
    brackets: "it" had become "Zithromax treat" and "normal daily dose"."""
    docs = {"a": "Azithromycin. ZITHROMAX is a macrolide antibiotic. ZITHROMAX treats ear "
                 "infections and other infections in children. " * 2,
            "l": "Lorazepam. The usual daily dose of Ativan (lorazepam) is 2 to 6 mg. " * 3}
    lexicon = Lexicon.build(docs, {"ativan": {"lorazepam"}, "lorazepam": {"ativan"}},
                            {"a": "Azithromycin", "l": "Lorazepam"})
    assert standalone("What kind of infections does Zithromax treat?",
                      "Can my son take it for an ear infection?",
                      lexicon) == "Can my son take Zithromax for an ear infection?"
    assert standalone("What's the normal daily dose of Ativan?",
                      "And what's the most of it someone could be given in a day?",
                      lexicon).lower() == ("and what's the most of ativan someone could be "
                                           "given in a day?")


def test_a_brand_before_its_generic_in_brackets_is_the_same_drug() -> None:
    """"Ativan (lorazepam)" pairs the names as "lorazepam (Ativan)" does; a common word in
    brackets ("Depression (sadness)") pairs nothing."""
    aliases = QueryNormaliser.from_texts(["The dose of Ativan (lorazepam) is 2 mg.",
                                          "Depression (sadness) is common."]).aliases
    assert aliases == {"ativan": {"lorazepam"}, "lorazepam": {"ativan"}}


def test_the_first_question_is_left_as_it_is() -> None:
    assert standalone(None, "what about its side effects?", LEXICON) == (
        "what about its side effects?")


def test_each_turn_builds_on_the_standalone_form_before_it() -> None:
    turns = [Turn("user", FIRST), Turn("assistant", "Memantine blocks NMDA receptors [1]."),
             Turn("user", "and for ketamine?"), Turn("assistant", "..."),
             Turn("user", "What are its side effects?")]
    assert standalone_questions(turns, LEXICON) == [
        FIRST, "How does ketamine work?", "What are ketamine's side effects?"]


def _assistant(seed_index: Path, embedder, *replies: str) -> tuple[Assistant, FakeGenerator]:
    generator = FakeGenerator(*replies)
    return Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                          generator=generator), generator


def test_only_the_standalone_question_reaches_the_model(seed_index, embedder) -> None:
    assistant, generator = _assistant(seed_index, embedder, "I could not find the answer in "
                                      "the indexed documents.")
    answer = assistant.chat([Turn("user", FIRST), Turn("assistant", "EARLIER ANSWER TEXT"),
                             Turn("user", "What about its side effects?")])
    assert answer.question == "What about its side effects?"
    assert answer.standalone_question == "What are the side effects of memantine?"
    assert answer.to_dict()["standalone_question"] == answer.standalone_question
    [prompt] = generator.prompts
    assert "Question: What are the side effects of memantine?" in prompt.user
    assert "EARLIER ANSWER" not in prompt.user


def test_too_many_of_them_after_a_drug_turn_is_an_emergency(seed_index, embedder) -> None:
    assistant, generator = _assistant(seed_index, embedder)  # the model must not be called
    chat = Conversation(assistant)
    chat.turns = [Turn("user", "What is memantine used for?"), Turn("assistant", "...")]
    answer = chat.ask("my dad swallowed a lot of them and I can't get him to respond")
    assert answer.triage is TriageKind.EMERGENCY and generator.prompts == []
    assert [t.role for t in chat.turns] == ["user", "assistant", "user", "assistant"]
    chat.reset()
    assert chat.turns == []


def test_a_conversation_without_a_user_message_is_a_clear_error(seed_index, embedder) -> None:
    assistant, _ = _assistant(seed_index, embedder)
    with pytest.raises(QAError, match="no user message"):
        assistant.chat([Turn("assistant", "Hello")])


def test_it_is_the_subject_unless_what_it_stands_for_follows() -> None:
    """"Is it more common in women?" after "What is depression?" was searched as typed
    ("is it … common" read as the "it" of "Is it common to…") and refused; "Is it safe to
    take it with food?" keeps its first "it"."""
    text = "Depression is a common illness. Depression is more common in women. " * 3
    lexicon = Lexicon.build({"d": text}, {}, {"d": "Depression"})
    assert standalone("What is depression?", "Is it more common in women?",
                      lexicon) == "Is depression more common in women?"
    assert standalone("What is depression?", "Is it normal to feel tired with it?",
                      lexicon) == "Is it normal to feel tired with depression?"


# Round 8's follow-ups (pharmacy customers' chats on label pages nobody here wrote): each
# was searched as typed, as if it were the first question, and refused or answered
# beside the point.
CHAT = Lexicon.build({
    "w": "warfarin " * 5 + "Warfarin thins the blood. Ibuprofen raises the risk of bleeding.",
    "i": "ibuprofen " * 5 + "Ibuprofen is for pain.",
    "a": "amiodarone " * 5 + "Amiodarone can cause thyroid problems and goiter.",
    "x": "alprazolam " * 5 + "Reduce the dose gradually. Diazepam is a benzodiazepine too.",
    "f": "Atrial fibrillation (afib). Caffeine or stress may trigger afib. Even modest "
         "amounts of alcohol can trigger afib. Palpitations are a sign. Drink coffee in the "
         "morning. Some people do not feel their heart racing. Tea has caffeine. Turn it off.",
    "b": "B12 shots are given once a month. Side effects of the shots are mild."}, {})


@pytest.mark.parametrize(("previous", "message", "expected"), [
    # a pronoun before the name the message gives, or beside an everyday thing
    ("what is warfarin used for", "can i take it with ibuprofen?",
     "Can i take warfarin with ibuprofen?"),
    ("can amiodarone mess with your thyroid?", "ok and is grapefruit juice a problem with it?",
     "Ok and is grapefruit juice a problem with amiodarone?"),
    # "it" is the drug the question asked about, not the one told before it (round 9)
    ("im on warfarin. can ibuprofen upset my stomach?", "could it also be bad for my heart?",
     "Could ibuprofen also be bad for my heart?"),
    # a message going on from the last one, naming nothing
    ("been on alprazolam for a year. can i just quit cold turkey?",
     "ok how fast can i come down then", "Ok how fast can i come down then (alprazolam)?"),
    # "which one" of the two drugs the question named
    ("is alprazolam the same type of drug as diazepam?", "which one stays in your system longer",
     "Which of alprazolam and diazepam stays in your system longer"),
    # the everyday thing asked about, swapped for the one the message names
    ("i have afib. can my morning coffee set it off?", "what about a glass of wine with dinner",
     "I have afib. can a glass of wine with dinner set it off?"),
    # "off" is no thing: still one thing asked about where the pages use the word "off"
    ("i have afib. can my coffee set it off?", "what about a glass of wine with dinner",
     "I have afib. can a glass of wine with dinner set it off?"),
    # "it" is the condition asked about; "their" is not ("everyone" has the heart)
    ("what are the signs of afib",
     "but isnt it true that everyone who has it can feel their heart racing?",
     "But isn't it true that everyone who has afib can feel their heart racing?"),
    # "both of them" are the two drugs the question named (round 12)
    ("whats the difference between alprazolam and diazepam?",
     "can he take both of them at the same time?",
     "Can he take alprazolam and diazepam at the same time?"),
    # a pronoun caught is the illness, and "does it not matter" stands for nothing (round 13)
    ("can i use ivermectin on my daughter",
     "i think i caught them from her. can i use the old alprazolam my mom has",
     "i think i caught them from her. can i use the old alprazolam my mom has"),
    ("whats the most diazepam i can take on the first day",
     "do i have to take it with food or does it not matter",
     "Do i have to take diazepam with food or does it not matter"),
    # "if she does" does what the question before asked about (round 12)
    ("my mom takes warfarin for her heart, can she just stop it all at once",
     "what could happen if she does",
     "What could happen if she does stop warfarin all at once?"),
])
def test_a_follow_up_typed_in_a_hurry_carries_what_it_goes_on_from(
        previous: str, message: str, expected: str) -> None:
    assert standalone(previous, message, CHAT) == expected


@pytest.mark.parametrize(("previous", "message"), [
    ("what is warfarin used for", "Does it matter if I take ibuprofen?"),  # "it" is no drug
    ("what is warfarin used for", "Is ibuprofen safe for it?"),  # the name comes first
    # what "what about X" swaps may be either thing: left alone
    ("Is coffee bad for afib?", "what about tea"),
    ("Does coffee raise the risk of bleeding?", "what about alcohol"),
    ("How often are B12 shots given?", "what about the side effects?"),  # an aspect
    # long enough to stand alone, though it goes on ("then")
    ("what is warfarin used for", "ok so I will ask my pharmacist about the rest tomorrow "
                                  "then"),
])
def test_a_follow_up_that_goes_on_from_nothing_is_left_as_typed(previous: str,
                                                                message: str) -> None:
    assert standalone(previous, message, CHAT) == message
