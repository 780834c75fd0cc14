"""Query normalisation learned from the indexed corpus: spelling and drug-name aliases.

Consumers type fast ("rivatigmine", "metforman") and mix brand and generic names. The
corpus itself tells us both: its vocabulary is the dictionary for spelling fixes, and
phrases like "diazepam (Valium)" say which names are the same drug. Nothing here is
hand-written medical knowledge, so a new corpus brings its own names.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from qa.text import terms, zipf

# "generic (Brand)" or "Brand (generic)", optionally more names after a comma; the name in
# brackets written in lower case ("Ativan (lorazepam)") only when it is rare in English
# (``ALIAS_ZIPF``): "Depression (sadness)" pairs no names.
ALIAS = re.compile(r"\b([A-Za-z][a-z][A-Za-z-]{2,})\s*\(([A-Za-z][a-z][a-z-]{2,})(?=[,;)])")
ALIAS_ZIPF = 3.0
# Words of this length or longer are spell-checked; shorter ones are too ambiguous.
MIN_FIX_LEN = 5
# A word this long that starts exactly one corpus word, and is no close misspelling of
# another, stands for it: "cipro" for "ciprofloxacin" ("They never mention 'cipro'").
MIN_SHORT_LEN = 5
# "Which patients are unsuitable for X?": the documents say "may not be suitable". A word
# the corpus never uses whose prefix negates a word it does is searched as "not <word>".
NEGATING_PREFIXES = ("un", "non")
# A word at least this common in English is itself, not a misspelling of a corpus word:
# "getting worse" was searched as "getting works" and "always caused by genes" as "away
# caused by genes". Misspellings score under 2 ("vomitting" 1.5, "metforman" 0), English
# words a question uses over 3.5 ("allergic" 3.8, "worse" 4.9); "diarrhoea" (3.0) may
# still become the corpus's "diarrhea".
COMMON_ZIPF = 3.5
# A name used in more than this share of documents is a common word, not a drug name.
ALIAS_MAX_DF = 0.01


@dataclass
class QueryNormaliser:
    """Built once from the corpus texts; ``normalise`` is cheap (dictionary lookups)."""

    vocabulary: Counter[str] = field(default_factory=Counter)
    aliases: dict[str, set[str]] = field(default_factory=dict)
    _fixes: dict[str, str | None] = field(default_factory=dict, repr=False)
    _by_initial: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> QueryNormaliser:
        texts = list(texts)
        vocabulary: Counter[str] = Counter()
        doc_freq: Counter[str] = Counter()
        for text in texts:
            tokens = terms(text)
            vocabulary.update(tokens)
            doc_freq.update(set(tokens))
        limit = max(3, int(ALIAS_MAX_DF * len(texts)))
        aliases: dict[str, set[str]] = defaultdict(set)
        for text in texts:
            for match in ALIAS.finditer(text):
                a, b = match.group(1).lower(), match.group(2).lower()
                if match.group(2)[0].islower() and (not match.group(1)[0].isupper()
                                                    or zipf(b) >= ALIAS_ZIPF):
                    continue
                if a != b and doc_freq[a] <= limit and doc_freq[b] <= limit:
                    aliases[a].add(b)
                    aliases[b].add(a)
        by_initial: dict[str, list[str]] = defaultdict(list)
        for word in vocabulary:
            if len(word) >= MIN_FIX_LEN - 1:
                by_initial[word[0]].append(word)
        return cls(vocabulary, dict(aliases), {}, dict(by_initial))

    def fix(self, word: str) -> str:
        """The closest frequent corpus word for an unknown word (itself when none is close)."""
        if len(word) < MIN_FIX_LEN or word in self.vocabulary or not word.isalpha():
            return word
        for prefix in NEGATING_PREFIXES:  # "unsuitable" -> "not suitable"
            rest = word[len(prefix):]
            if word.startswith(prefix) and len(rest) >= MIN_FIX_LEN - 1 and rest in self.vocabulary:
                return f"not {rest}"
        if zipf(word) >= COMMON_ZIPF:
            return word
        if word not in self._fixes:
            # Same first letter: consumers misspell the middle, rarely the start.
            pool = self._by_initial.get(word[0], [])
            close = difflib.get_close_matches(word, pool, n=3, cutoff=0.8)
            if not close and len(word) >= MIN_SHORT_LEN:
                # a shortened name: "cipro" for the only corpus word it starts, "ciprofloxacin"
                longer = [w for w in pool if w.startswith(word)]
                close = longer if len(longer) == 1 else []
            self._fixes[word] = max(close, key=self.vocabulary.__getitem__) if close else None
        return self._fixes[word] or word

    def normalise(self, question: str, *, spelling: bool = True, aliases: bool = True) -> str:
        """Lower-case, fix misspellings, and append corpus-known aliases of drug names."""
        tokens = terms(question)
        fixed = [self.fix(t) for t in tokens] if spelling else tokens
        extra: list[str] = []
        if aliases:
            for token in fixed:
                extra.extend(sorted(self.aliases.get(token, ())))
        extra = [e for e in dict.fromkeys(extra) if e not in fixed]
        return " ".join(fixed + extra)
