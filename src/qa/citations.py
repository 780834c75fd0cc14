"""Citation markers, sentences and words: the shared vocabulary of evidence and verification.

The model cites excerpts as ``[n]``; ``MARKER`` also accepts the ``[1, 2]`` and ``【1】``
forms small models emit. Markers that point to no excerpt are dropped in verification.
"""

from __future__ import annotations

import re

# "[1]", "[1, 2]", "[1][3]" and the fullwidth/【】 variants small models sometimes emit.
MARKER = re.compile(r"[\[【]\s*(\d+(?:\s*[,;]\s*\d+)*)\s*[\]】]")
# A sentence ends at . ! ? followed by optional markers and whitespace.
SENTENCE_END = re.compile(r"(?<=[.!?])((?:\s*\[\d+(?:,\s*\d+)*\])*)\s+(?=[A-Z0-9\"'(])")
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if
    in into is it its may might more most no not yes of on or our should so such than that the
    their them then there these they this those to was were what when where which while who
    why will with would you your also other some any each about after before over under
    very often used use using however passage passages according document documents""".split()
) | frozenset(
    # How answers refer to their sources ("the article states that…"): not claims to check.
    """article articles text texts source sources author authors state states stated say says
    said mention mentions mentioned describe describes described explain explains explained
    note notes noted report reports reported suggest suggests""".split()
)
NEGATION_REFUSALS = (
    "could not find", "couldn't find", "cannot find", "can't find", "not found in",
    "do not contain", "does not contain", "don't contain", "doesn't contain",
    "do not provide", "does not provide", "do not mention", "does not mention",
    "no information", "not mentioned", "not provided", "not specified", "cannot answer",
    "can't answer", "unable to answer", "do not say", "does not say", "not stated",
)


def content_words(text: str) -> set[str]:
    """Lower-case content words with a crude plural fold ('receptors' -> 'receptor')."""
    words = set()
    for word in WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return words


def lexical_support(sentence: str, passage_text: str) -> float:
    """Share of the sentence's content words that the passage contains (0..1)."""
    words = content_words(MARKER.sub(" ", sentence))
    if not words:
        return 0.0
    return len(words & content_words(passage_text)) / len(words)


def split_sentences(text: str) -> list[str]:
    """Sentences (and list lines) with their trailing citation markers kept attached."""
    pieces = []
    for line in text.splitlines():
        last = 0
        for match in SENTENCE_END.finditer(line):
            pieces.append(line[last : match.end(1)].strip())
            last = match.end()
        pieces.append(line[last:].strip())
    return [p.lstrip("-*• ").strip() for p in pieces if p.strip("-*• ")]


def looks_like_refusal(text: str, refusal_phrase: str) -> bool:
    """True when the model says the passages do not answer the question."""
    lowered = text.lower().replace("’", "'")
    if refusal_phrase.lower().rstrip(".") in lowered:
        return True
    return any(phrase in lowered for phrase in NEGATION_REFUSALS)
