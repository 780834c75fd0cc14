"""Map the model's ``[n]`` markers to the passages it was shown; drop keys never retrieved.

A small model sometimes forgets to cite, or cites a number it was never given. Markers
that point to no passage are removed; a sentence with no marker is attributed to the
passage that lexically supports it best, if any does well enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.types import Citation, Passage

# "[1]", "[1, 2]", "[1][3]" and the fullwidth/【】 variants small models sometimes emit.
MARKER = re.compile(r"[\[【]\s*(\d+(?:\s*[,;]\s*\d+)*)\s*[\]】]")
# A sentence ends at . ! ? followed by optional markers and whitespace.
SENTENCE_END = re.compile(r"(?<=[.!?])((?:\s*\[\d+(?:,\s*\d+)*\])*)\s+(?=[A-Z0-9\"'(])")
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if
    in into is it its may might more most no not of on or our should so such than that the
    their them then there these they this those to was were what when where which while who
    why will with would you your also other some any each about after before over under
    very often used use using however passage passages according document documents""".split()
)
NEGATION_REFUSALS = (
    "could not find", "couldn't find", "cannot find", "can't find", "not found in",
    "do not contain", "does not contain", "don't contain", "doesn't contain",
    "do not provide", "does not provide", "do not mention", "does not mention",
    "no information", "not mentioned", "not provided", "not specified", "cannot answer",
    "can't answer", "unable to answer", "do not say", "does not say", "not stated",
)
ATTRIBUTION_THRESHOLD = 0.5


@dataclass(frozen=True)
class ResolvedAnswer:
    text: str
    citations: tuple[Citation, ...]


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
    """Sentences with their trailing citation markers kept attached."""
    pieces, last = [], 0
    for match in SENTENCE_END.finditer(text):
        pieces.append(text[last : match.end(1)].strip())
        last = match.end()
    pieces.append(text[last:].strip())
    return [p for p in pieces if p]


def _clean_markers(sentence: str, valid: range) -> tuple[str, list[int]]:
    """Rewrite markers as canonical ``[n]``, dropping numbers outside ``valid``."""
    cited: list[int] = []

    def swap(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"[,;]", match.group(1))]
        keep = [n for n in numbers if n in valid]
        cited.extend(n for n in keep if n not in cited)
        return "".join(f"[{n}]" for n in keep)

    cleaned = MARKER.sub(swap, sentence)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, cited


def _best_passage(sentence: str, passages: list[Passage]) -> tuple[int, float]:
    scores = [lexical_support(sentence, p.chunk.text) for p in passages]
    best = max(range(len(scores)), key=scores.__getitem__)
    return best + 1, scores[best]


def _attach(sentence: str, n: int) -> str:
    """Put a marker before the sentence's final punctuation: 'It works [2].'"""
    match = re.search(r"([.!?]*)$", sentence)
    cut = match.start() if match else len(sentence)
    return f"{sentence[:cut].rstrip()} [{n}]{sentence[cut:]}"


def resolve_citations(raw: str, passages: list[Passage]) -> ResolvedAnswer:
    """Turn model output into display text plus the citations its markers point to."""
    valid = range(1, len(passages) + 1)
    sentences: list[str] = []
    used: list[int] = []
    for sentence in split_sentences(raw.strip()):
        cleaned, cited = _clean_markers(sentence, valid)
        if not cited and passages and len(content_words(cleaned)) >= 2:
            n, score = _best_passage(cleaned, passages)
            if score >= ATTRIBUTION_THRESHOLD:
                cleaned, cited = _attach(cleaned, n), [n]
        used.extend(n for n in cited if n not in used)
        sentences.append(cleaned)
    citations = tuple(
        _citation(n, passages[n - 1], sentences) for n in sorted(used)
    )
    return ResolvedAnswer(" ".join(sentences).strip(), citations)


def _citation(n: int, passage: Passage, sentences: list[str]) -> Citation:
    chunk = passage.chunk
    cited_by = [s for s in sentences if f"[{n}]" in s]
    support = max((lexical_support(s, chunk.text) for s in cited_by), default=0.0)
    return Citation(
        n=n, doc_id=chunk.doc_id, source=chunk.source, title=chunk.title, start=chunk.start,
        end=chunk.end, text=chunk.text, section=chunk.section, support=round(support, 3),
    )


def looks_like_refusal(text: str, refusal_phrase: str) -> bool:
    """True when the model says the passages do not answer the question."""
    lowered = text.lower().replace("’", "'")
    if refusal_phrase.lower().rstrip(".") in lowered:
        return True
    return any(phrase in lowered for phrase in NEGATION_REFUSALS)
