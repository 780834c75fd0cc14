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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from qa.text import sentence_spans, terms, zipf

# "generic (Brand)" or "Brand (generic)", optionally more names after a comma; the name in
# brackets written in lower case ("Ativan (lorazepam)") only when it is rare in English
# (``ALIAS_ZIPF``): "Depression (sadness)" pairs no names.
# A release form may follow the brand in brackets: "verapamil (Calan SR)".
# A dosage form may stand between a brand and its generic, then followed by more words:
# "Klonopin Wafers (clonazepam orally disintegrating tablets)", "Xanax XR (alprazolam)".
_FORM = (r"\s+(?i:wafers?|tablets?|capsules?|caplets?|injection|solution|suspension|syrup"
         r"|cream|gel|ointment|patch(?:es)?|spray|drops|inhaler|xr|er|sr|cr|odt)")
ALIAS = re.compile(r"\b([A-Za-z][a-z][A-Za-z-]{2,})\s*\(([A-Za-z][a-z][a-z-]{2,})"
                   r"(?=(?:\s+(?:SR|XR|ER|CR|XL|LA|ODT))?[,;)])"
                   rf"|\b([A-Z][a-z][A-Za-z-]{{2,}}){_FORM}\s*\(([a-z][a-z-]{{3,}})\b")
ALIAS_ZIPF = 3.0
# Words in a name's brackets that are no other name for it: a dosage form ("denosumab
# injection (Prolia)" pairs no "injection"), and a class named in the plural before its
# members ("H2 blockers (Pepcid, Tagamet…)", "Proton pump inhibitors (Prilosec, Nexium…)":
# Pepcid is famotidine, and "inhibitors" had become Prilosec's name and the ACE inhibitor
# page's drug at once). A plural is a class when its singular is an English word this
# common (Zipf: "blocker" 3.2, "statin" 2.5, "antacid" 2.1; drug names score near 0).
_FORM_WORDS = frozenset(re.findall(r"[a-z]+", "wafer wafers tablet tablets capsule capsules "
                                   "caplet caplets injection injections solution suspension "
                                   "syrup cream gel ointment patch patches spray drops inhaler"))
CLASS_SINGULAR_ZIPF = 2.0


def _plural_class(word: str, after: str) -> bool:
    """A class of drugs named in the plural before a list of its members (``after`` the
    first bracketed name: a comma); "conjugated estrogens (Premarin)" names one drug."""
    return after in (",", ";") and len(word) > 4 and word.endswith("s") \
        and zipf(word[:-1]) >= CLASS_SINGULAR_ZIPF


# Brands listed in words, not in brackets: "Permethrin lotion, 1%. Brand name product:
# Nix.", "It may be in medicines with these brand names: Dramamine, Gravol, Marmine",
# "(brand name: Inderal LA)". The list runs to the end of its line, sentence or bracket.
_BRAND_LIST = re.compile(r"\b(?i:brand[- ]names?)(?:\s+products?)?\s*(?:such as|like|include|:)?"
                         r"\s*([A-Z][^.;()\n]*)")
_LISTED = re.compile(r"(?:^|,|\band\b|\bor\b)\s*([A-Z][A-Za-z-]*)")
# A listed brand this common in English is a word too ("Rid" 4.5: "how do i get rid of
# lice"); "Nix" (3.0), "Dramamine" (1.9) are names.
BRAND_LIST_ZIPF = 3.5
# What the listed brands are names of: the first word this rare in English ("Permethrin
# lotion, 1%", "Dimenhydrinate is a type of medicine…") of the text before the list in its
# sentence, else of the sentences before it in its paragraph, nearest first.
LISTED_OF_ZIPF = 3.0


# A heading in capitals: "MECLIZINE (ANTIVERT, BONINE)", each name in brackets another
# name of the one before them
_CAPITALS = re.compile(r"\b([A-Z]{4,})\s*\(([A-Z][A-Z-]{3,}(?:,\s*[A-Z][A-Z-]{3,})*)\)")


def capital_pairs(text: str) -> list[tuple[str, str]]:
    """(name, other name) pairs a heading in capitals states (``_CAPITALS``), when both are
    rare in English (``ALIAS_ZIPF``): not "OVERACTIVE THYROID (HYPERTHYROIDISM)"."""
    return [(a, b) for m in _CAPITALS.finditer(text)
            for a in [m.group(1).lower()] if a not in _FORM_WORDS
            for b in (n.strip().lower() for n in m.group(2).split(","))
            if a != b and b not in _FORM_WORDS and max(zipf(a), zipf(b)) < ALIAS_ZIPF]


def listed_brands(text: str) -> list[tuple[str, str]]:
    """(name, brand) pairs a text states by listing brands in words (``_BRAND_LIST``)."""
    pairs = []
    for match in _BRAND_LIST.finditer(text):
        paragraph = text.rfind("\n\n", 0, match.start()) + 1
        before = text[paragraph:match.start()]
        spans = sentence_spans(before)
        name = next((w for a, b in reversed(spans) for w in [next(
            (w for w in terms(before[a:b]) if len(w) >= 5 and w.isalpha()
             and zipf(w) < LISTED_OF_ZIPF and w not in _FORM_WORDS), None)] if w), None)
        if name is None:
            continue
        for brand in _LISTED.findall(match.group(1)):
            word = brand.split("-")[0].lower()
            if len(word) >= 3 and word.isalpha() and zipf(word) < BRAND_LIST_ZIPF \
                    and word != name:
                pairs.append((name, word))
    return pairs


def _drop_shared(aliases: dict[str, set[str]]) -> None:
    """Unpair a name paired with two or more names that have other names too: a brand of
    two drugs ("MECLIZINE (ANTIVERT, DRAMAMINE, BONINE)" and "DIMENHYDRINATE (DRAMAMINE,
    GRAVOL)") would make them one drug."""
    shared = [name for name, others in aliases.items()
              if sum(len(aliases[o]) > 1 for o in others) >= 2]
    for name in shared:
        for other in aliases.pop(name):
            aliases[other].discard(name)


_WORD = re.compile(r"[A-Za-z]+")
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
    def from_texts(cls, texts: Iterable[str],
                   documents: Sequence[str] | None = None) -> QueryNormaliser:
        """From the corpus texts; ``documents``, the document each text is from (chunks
        of one document count once for ``ALIAS_MAX_DF``: a drug's name is in every chunk of
        its own leaflet, and "Ativan (lorazepam)" on a long label page was not paired)."""
        texts = list(texts)
        sources = list(documents) if documents is not None else list(range(len(texts)))
        vocabulary: Counter[str] = Counter()
        words_of: dict[object, set[str]] = defaultdict(set)
        for text, source in zip(texts, sources, strict=True):
            tokens = terms(text)
            vocabulary.update(tokens)
            words_of[source].update(tokens)
        doc_freq = Counter(w for found in words_of.values() for w in found)
        limit = max(3, int(ALIAS_MAX_DF * len(words_of)))
        aliases: dict[str, set[str]] = defaultdict(set)
        for text in texts:
            for match in ALIAS.finditer(text):
                first, second = (match.group(1), match.group(2)) if match.group(1) \
                    else (match.group(3), match.group(4))
                a, b = first.lower(), second.lower()
                if second[0].islower() and (not first[0].isupper() or zipf(b) >= ALIAS_ZIPF):
                    continue
                if a != b and doc_freq[a] <= limit and doc_freq[b] <= limit \
                        and b not in _FORM_WORDS and not (
                            a in _FORM_WORDS or _plural_class(a, text[match.end():][:1])):
                    aliases[a].add(b)
                    aliases[b].add(a)
            for a, b in [*listed_brands(text), *capital_pairs(text)]:
                if doc_freq[a] <= limit and doc_freq[b] <= limit:
                    aliases[a].add(b)
                    aliases[b].add(a)
        _drop_shared(aliases)
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

    def spell_names(self, text: str, names: Collection[str]) -> str:
        """``text`` with each misspelled word whose fix is one of ``names`` written as the
        corpus spells it ("can i give my 6 year old asprin" -> "… aspirin"), the rest as
        typed: the stages after retrieval read the question, not the search query, and
        took "asprin" for something asked about besides the drug."""
        def spelled(match: re.Match[str]) -> str:
            word = match.group(0)
            fixed = self.fix(word.lower())
            return fixed if fixed != word.lower() and fixed in names else word
        return _WORD.sub(spelled, text)

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
