"""The scope gate: what the indexed documents can possibly speak about.

``Vocabulary`` holds the stems of every word in the index. Before retrieval, a yes/no
question whose subject the documents never mention is refused (``unmentioned_focus``);
after generation, verification drops a sentence with a specific word the documents never
use (``Vocabulary.novel_terms``), such as a drug swapped into a sentence copied from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qa.text import MARKER, STOPWORDS, stem, stems, words

# Words this long are specific enough that the corpus must contain them (after stemming).
NOVEL_TERM_LEN = 6
# A question opening with one of these asks for "yes" or "no".
POLAR_OPENERS = frozenset(
    "is are am was were does do did can could should shall will would may might has have had"
    .split()
)
FOCUS_TERM_LEN = 4
PRONOUNS = frozenset("myself yourself himself herself itself ourselves themselves".split())


@dataclass(frozen=True)
class Vocabulary:
    """Stems of every word in the indexed text."""

    stems: frozenset[str]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        found: set[str] = set()
        for text in texts:
            found.update(stems(words(text)))
        return cls(frozenset(found))

    def novel_terms(self, sentence: str) -> set[str]:
        """Specific words of the sentence that appear nowhere in the corpus."""
        candidates = [w for w in words(MARKER.sub(" ", sentence))
                      if len(w) >= NOVEL_TERM_LEN and w not in STOPWORDS]
        return {w for w, s in zip(candidates, stems(candidates), strict=True)
                if s not in self.stems}


def unmentioned_focus(query: str, vocabulary: Vocabulary) -> list[str]:
    """For a yes/no question, the words of its subject the documents never use.

    "Is ketamine safe during pregnancy?" over documents that never say "pregnancy": the "Yes"
    or "No" is the whole answer and verification cannot check it (it has no content words),
    so a small model's guess would pass as a grounded answer. Such a question is refused.
    ``query`` is the question after spelling correction (``Retriever.rewrite``).
    """
    tokens = words(query)
    if not tokens or tokens[0] not in POLAR_OPENERS:
        return []
    missing: list[str] = []
    for token in dict.fromkeys(tokens[1:]):
        if stem(token) in vocabulary.stems:  # "anti-inflammatory" as a whole
            continue
        missing += [part for part in token.split("-")  # "add-on": "add" is known
                    if len(part) >= FOCUS_TERM_LEN and part.isalpha()
                    and part not in STOPWORDS and part not in PRONOUNS
                    and stem(part) not in vocabulary.stems]
    return missing
