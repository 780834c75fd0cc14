"""A yes or no answers the sentence that asks, not the ones that tell.

A twelfth round of questions nobody here wrote asked "he uses nitroglycerin for angina. can
he try viagra" of a page on erectile dysfunction pills and got "Yes." from "Nitroglycerin is
a nitrate used for chest pain (angina).": every word of what was told, nothing of what was
asked. The page's answer ("men who use nitroglycerin should not take ED pills") says no.
"""

from __future__ import annotations

import pytest

from qa.finishing import polarity_of
from qa.query import QueryNormaliser
from qa.scope import Lexicon, Relevance, focus_of
from qa.text import terms

ED = """# Erectile dysfunction pills: Viagra (sildenafil), Cialis (tadalafil)

Sildenafil (Viagra) and tadalafil (Cialis) treat erectile dysfunction. Nitroglycerin is a
nitrate used for chest pain (angina). Men who use nitroglycerin should not take ED pills."""
LEVOTHYROXINE = """# Levothyroxine

Levothyroxine (Synthroid) is a thyroid hormone."""
TOPIRAMATE = """# Topiramate

Topiramate (Topamax) is used to treat seizures."""
ACETAMINOPHEN = """# Acetaminophen

Acetaminophen (Tylenol) relieves pain and fever. Drinking alcohol with acetaminophen can
damage the liver."""


def _relevance(question: str) -> Relevance:
    texts = {"ed": ED, "apap": ACETAMINOPHEN, "topa": TOPIRAMATE,
             "levo": LEVOTHYROXINE}
    aliases = QueryNormaliser.from_texts(list(texts.values())).aliases
    lexicon = Lexicon.build(texts, aliases, {"ed": "Erectile dysfunction pills",
                                             "apap": "Acetaminophen", "topa": "Topiramate",
                                             "levo": "Levothyroxine"})
    return Relevance.of(question, focus_of(" ".join(terms(question)), lexicon, question),
                        lexicon)


@pytest.mark.parametrize(("question", "text", "way"), [
    # what was told, restated: no answer to what was asked
    ("he uses nitroglycerin for angina. can he try viagra",
     "Nitroglycerin is a nitrate used for chest pain (angina).", None),
    # the asked drug named: the text speaks to the asking sentence
    ("he uses nitroglycerin for angina. can he try viagra",
     "Men who use nitroglycerin for angina should not take sildenafil (Viagra).", "no"),
    # asked alone, the same text still says yes to what it restates
    ("is nitroglycerin used for angina?",
     "Nitroglycerin is a nitrate used for chest pain (angina).", "yes"),
    # an asking sentence of bare words, or pointing back, leaves the topic to what was told
    ("my mom has a fever. is that normal?", "Fever is normal after a flu shot.", "yes"),
    ("my mom has heart failure and her cough is worse at night. is that a known thing with "
     "it??", "The cough can be worse at night and when lying down.", "yes"),
])
def test_a_yes_or_no_is_read_against_the_sentence_that_asks(question: str, text: str,
                                                              way: str | None) -> None:
    assert polarity_of(question, text, _relevance(question)) == way


@pytest.mark.parametrize(("question", "way"), [
    # neither side says "help": it is not told which way
    ("does topiramate help with migraines?", None),
    ("does topiramate prevent migraine headaches?", "yes"),
    ("can topiramate relieve the pain of migraine headaches?", "no"),
])
def test_a_text_granting_one_thing_and_denying_another_answers_by_the_asked_side(
        question: str, way: str | None) -> None:
    """Round 12: "she gets migraines too, does topamax help with those" got "No." from
    "…used to prevent migraine headaches but not to relieve the pain of migraine headaches
    when they occur."."""
    text = ("Topiramate is also used to prevent migraine headaches but not to relieve the "
            "pain of migraine headaches when they occur.")
    assert polarity_of(question, text, _relevance(question)) == way


@pytest.mark.parametrize(("question", "way"), [
    ("will levothyroxine cure my hypothyroidism?", "no"),
    ("does levothyroxine help control the symptoms of hypothyroidism?", "yes"),
])
def test_the_side_saying_what_is_asked_answers_whatever_the_other_names(
        question: str, way: str | None) -> None:
    text = ("Levothyroxine helps control the symptoms of hypothyroidism, but does not cure "
            "this condition.")
    assert polarity_of(question, text, _relevance(question)) == way
