"""What the documents can speak about, and what a question is about.

``Vocabulary`` holds the stems of every word in the index. ``Lexicon`` adds the drugs the
documents discuss: each document's main drug (its most frequent uncommon word), the
brand/generic pairs the documents state, and uncommon words shaped like drug names. A
question's ``Focus`` is the drugs it names and the specific words it uses that the
documents never do.

Before retrieval, a question is refused when it names something specific the documents
never mention ("metformin", "breastfeeding"), whatever its form; "specific" means
uncommon in English (wordfreq), so "tonight", "double" or "because" never count. A yes/no
question is held to more words (its "yes" or "no" cannot be checked otherwise). After
generation, verification drops a sentence using a specific word the documents never use
(``Vocabulary.novel_terms``), naming another drug than the one asked about, or saying the
opposite of an excerpt (``Relevance.flips``: its words with the negation turned). A main
subject the documents speak of as a condition ("people with shingles", ``condition``) is
named like a drug, but naming it does not make a sentence about another drug.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.text import (
    CARERS,
    MARKER,
    RELATIONS,
    STOPWORDS,
    SYNONYMS,
    content_words,
    lexical_support,
    sentence_spans,
    stem,
    stems,
    terms,
    told_and_asked,
    with_parts,
    words,
    zipf,
)
from qa.types import Chunk, Evidence

# Words this long are specific enough that the corpus must contain them (after stemming).
NOVEL_TERM_LEN = 6
# A question opening with one of these asks for "yes" or "no".
POLAR_OPENERS = frozenset(
    "is are am was were does do did can could should shall will would may might has have had"
    .split()
)
FOCUS_TERM_LEN = 4
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
PRONOUNS = frozenset("myself yourself himself herself itself ourselves themselves".split())
# English word frequency (Zipf scale: 6 = "because", 5 = "tonight", 4 = "pregnancy",
# 3 = "aspirin", 2 = "metformin"). Chosen on the dev split.
SPECIFIC_ZIPF = 4.0  # under this a word names something specific: any question needs it
POLAR_ZIPF = 4.9  # a yes/no question needs every word under this ("alcohol", "driving")
POSSESSIVE_GAP = 2.0  # "yesterdays" (2.6) is "yesterday's" (5.0): its "s" is no plural
DRUG_ZIPF = 3.5  # a document's main drug is its most frequent word under this
# A word and the one after it, a space apart
_SALTED = re.compile(r"\b([a-z]{5,})[ \t]+([a-z]+)\b")
# The salts a drug's full name ends with (USAN): "trospium chloride", "metoprolol tartrate"
SALTS = frozenset("""chloride hydrochloride hcl hydrobromide bromide sodium potassium calcium
    magnesium sulfate sulphate maleate tartrate bitartrate succinate mesylate besylate
    citrate acetate phosphate hyclate fumarate dipropionate propionate valerate furoate
    gluconate lactate carbonate monohydrate""".split())
PREFIX = 5  # "relieve" is known from "relief": words of 6+ letters match on 5 letters
# Endings of international non-proprietary drug names (WHO INN stems), for drug-shaped
# words that are not a document's main drug ("ibuprofen" named in a paracetamol leaflet).
_DRUG_SHAPE = re.compile(
    r"(?:afil|azepam|azolam|azole|bital|caine|cillin|cycline|dipine|dronate|floxacin|gliptin"
    r"|lukast|mab|mycin|olol|olone|oxacin|parin|pramine|prazole|pril|profen|sartan|semide"
    r"|setron|statin|tadine|terol|thiazide|tidine|tinib|triptan|vir|zosin|mantine|tamine"
    r"|trolene|oxetine|aline|apine|idone|amol|etamol"
    # round 13's class pages named verapamil, permethrin, meclizine, dimenhydrinate's
    # neighbours and glipizide, none of them known for a drug
    r"|thrin|pamil|izine|azine|amide|codone|morphone|tropium|asone|isone|piclone|adone"
    r"|fenac|oxicam|coxib|flozin|itazone|izide|buride|epiride|mectin|rantel|iptyline"
    # more WHO stems: round 15's psoriasis page named methotrexate under a heading of its
    # own, and no rule knew it ("can he have a couple beers while hes on it" went to the
    # doctor named beside it); none matches a word of MedQuAD that is no drug (not
    # "zepine": "benzodiazepine" names a class, and dev q305 lost its "Yes.")
    r"|trexate|platin|rubicin|taxel|tecan|vudine|gatran|xaban|grel|glutide|parib|ciclib"
    r"|zomib|penem|bactam|prost|erelin|orelin|oquine|aquine|fungin|limus|onide|dopa|formin"
    r"|bazepine|mazepine|lactone|peridol|micin|xarotene|zarotene)$")


def rare(word: str) -> bool:
    """A word uncommon in English (Zipf under DRUG_ZIPF): "calcium", "sarcoplasmic",
    "dizziness"; the words of a statement that names things, not of one about them."""
    return word.isalpha() and zipf(word) < DRUG_ZIPF


# Score a quote gains per specific thing it names (chosen on the dev split).
NAMED_BONUS = 0.03


def named_things(text: str, asked: set[str]) -> int:
    """How many ``rare`` words a text uses that the question (its ``content_words``)
    does not, up to 4: what it names beyond what was asked."""
    return min(4, sum(rare(w) for w in content_words(text) - asked))


def weight(word: str) -> float:
    """How much a word says about what is asked: rarer English words say more
    ("anxiety" 2.6, "research" 1.6, "treatment" 1.4)."""
    return max(0.5, 7.0 - zipf(word))


@functools.cache
def _parts_of_speech(word: str) -> frozenset[str]:
    from lemminflect import getAllLemmas

    return frozenset(getAllLemmas(word))


def may_be_noun(word: str) -> bool:
    """A noun, as far as lemminflect knows, or a word it does not know ("B12")."""
    pos = _parts_of_speech(word)
    return not pos or "NOUN" in pos


def may_be_verb(word: str) -> bool:
    """A verb, among what else it may be ("treat", "cause"), as far as lemminflect knows."""
    return "VERB" in _parts_of_speech(word)


def only_verb(word: str) -> bool:
    """Only a verb or adverb ("titrate", "regulates"), as far as lemminflect knows."""
    pos = _parts_of_speech(word)
    return bool(pos) and pos <= {"VERB", "ADV"}


def specific(word: str, polar: bool = False) -> bool:
    """A word that names something the answer must be about.

    Uncommon words (``SPECIFIC_ZIPF``) count unless they are only a verb, adverb or
    adjective ("titrate"; "harmful", "unsuitable": what is said of a thing, not a thing);
    a yes/no question also counts the nouns up to ``POLAR_ZIPF`` ("alcohol",
    "pregnancy"), but never "forgot", "tonight" or "double".
    """
    if len(word) < FOCUS_TERM_LEN or not word.isalpha() or word in STOPWORDS | PRONOUNS:
        return False
    common, pos = zipf(word), _parts_of_speech(word)
    if word.endswith("s") and zipf(word[:-1]) >= max(POLAR_ZIPF, common + POSSESSIVE_GAP):
        # a possessive typed without its apostrophe: "can i take yesterdays with my calcium"
        # (round 16: refused as about "yesterdays", and a follow-up's "it")
        common = zipf(word[:-1])
    if common < SPECIFIC_ZIPF:
        return not (pos and pos <= {"VERB", "ADV", "ADJ"})
    return polar and common < POLAR_ZIPF and "NOUN" in pos


@dataclass(frozen=True)
class Vocabulary:
    """Stems of every word in the indexed text."""

    stems: frozenset[str]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        found: set[str] = set()
        for text in texts:
            # the parts of a hyphenated word too: "drug-eluting stent" is what a question
            # typing "drug eluting stent" is about ("They never mention 'eluting'")
            found.update(stems(with_parts(words(text))))
        return cls(frozenset(found))

    @functools.cached_property
    def _prefixes(self) -> frozenset[str]:
        return frozenset(s[:PREFIX] for s in self.stems if len(s) >= PREFIX)

    def _uses(self, root: str) -> bool:
        """The documents use this stem or a word for the same thing (``text.SYNONYMS``)."""
        return root in self.stems or bool(SYNONYMS.get(root, frozenset()) & self.stems)

    def knows(self, word: str) -> bool:
        """The documents use this word, a word for the same thing (``text.SYNONYMS``:
        "raise" when they say "increased"), or (6+ letters) one that starts the same way."""
        root = stem(word)
        return self._uses(root) or (len(word) > PREFIX and root[:PREFIX] in self._prefixes)

    def novel_terms(self, sentence: str) -> set[str]:
        """Words of the sentence that could name or state something (6+ letters, not
        ``_connective``) and appear nowhere in the corpus, nor does a word for the same
        thing (``text.SYNONYMS``: "doctors" where the documents say "providers")."""
        candidates = [w for w in words(MARKER.sub(" ", sentence))
                      if len(w) >= NOVEL_TERM_LEN and w not in STOPWORDS]
        return {w for w, s in zip(candidates, stems(candidates), strict=True)
                if not self._uses(s) and not _connective(w)}


# English words this common (Zipf) are function words unless they are nouns ("although",
# "including", "several"; but "children").
CONNECTIVE_ZIPF = 5.0


def _connective(word: str) -> bool:
    """A word that joins or qualifies claims but makes none: an adverb ("besides",
    "typically") or a very common word that is no noun. "Ketamine can help anxiety, PTSD,
    and other mental health conditions besides depression" was dropped for "besides", a
    word the article never uses."""
    pos = _parts_of_speech(word)
    return "NOUN" not in pos and (pos == {"ADV"} or zipf(word) >= CONNECTIVE_ZIPF)


# How documents speak of a condition and of a drug: "people with shingles", "symptoms of
# diabetes" against "taking insulin", "valacyclovir tablets" (word sequences, one word
# allowed between: "treatment of malignant hyperthermia"). A subject the documents speak of
# mostly the first way (at least CONDITION_CUES times) is a condition, not a drug.
def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in text.split(","))


_CUES = {
    "condition": (
        _phrases("treat,treats,treated,treating,treatment of,treatments for,symptoms of,"
                 "signs of,risk of,cause of,causes of,people with,patients with,those with,"
                 "diagnosed with,suffer from,suffering from,living with,have,has,had,get,gets,"
                 "got,develop,develops,prevent,prevents,preventing,against,manage,managing,"
                 "control,controlling,cases of,outbreak of,outbreaks of,episodes of"),
        _phrases("symptoms,is a disease,is a condition,is a disorder,is an infection,"
                 "is an illness,is caused,are caused,occurs,patients,sufferers,outbreak,"
                 "outbreaks,attack,attacks,flare,flares,rash")),
    "drug": (
        _phrases("take,takes,taking,took,dose of,doses of,dosage of,prescribed,prescribe,"
                 "prescribing,stop,start,using,use,inject,injected,on,given,receive,"
                 "receiving,overdose of,with"),
        _phrases("tablet,tablets,capsule,capsules,pill,pills,injection,injections,shot,"
                 "shots,dose,doses,dosage,mg,side effects,is used,are used,is a medicine,"
                 "is a medication,is a drug,are medicines,are medications,are drugs,works,"
                 "pen,pens,pump,pumps,user,users,use")),
}
_CUE_LEN = 3  # the longest phrase
CONDITION_CUES = 2


def cue_counts(tokens: Sequence[str], candidates: Collection[str]) -> dict[str, Counter[str]]:
    """For "condition" and "drug": how often each candidate word of a text (its ``terms``)
    is phrased as one."""
    found: dict[str, Counter[str]] = {kind: Counter() for kind in _CUES}
    for i, word in enumerate(tokens):
        if word not in candidates:
            continue
        for kind, (before, after) in _CUES.items():
            if any(tuple(tokens[max(0, end - n):end]) in before
                   for end in (i, i - 1) for n in range(1, _CUE_LEN + 1) if end - n >= 0) \
                    or any(tuple(tokens[start:start + n]) in after
                           for start in (i + 1, i + 2) for n in range(1, _CUE_LEN + 1)):
                found[kind][word] += 1
    return found


def condition(name: str, cues: Mapping[str, Counter[str]]) -> bool:
    """The documents speak of ``name`` as a condition (shingles, diabetes), not a drug, by
    their ``cue_counts``."""
    said = cues["condition"][name]
    return not _DRUG_SHAPE.search(name) and said >= CONDITION_CUES and said > cues["drug"][name]


def states(text: str, names: Iterable[str]) -> bool:
    """The text uses each of these words (or, 6+ letters, one starting the same way:
    "spastic" for "spasticity")."""
    known = _vocabulary(text)
    return all(known.knows(w) for w in names)


def states_any(text: str, names: Iterable[str]) -> bool:
    """The text uses one of these words (as ``states`` reads a word)."""
    known = _vocabulary(text)
    return any(known.knows(w) for w in names)


def shown_by_document(evidence: Iterable[Evidence]) -> dict[str, str]:
    """doc_id -> the text of its excerpts shown, joined: what "the document" says, for the
    rules that ask whether a document names something."""
    shown: dict[str, list[str]] = {}
    for item in evidence:
        shown.setdefault(item.chunk.doc_id, []).append(item.text)
    return {doc: " ".join(texts) for doc, texts in shown.items()}


@functools.lru_cache(maxsize=4096)
def _vocabulary(text: str) -> Vocabulary:
    return Vocabulary.from_texts([text])


TITLE_WORDS = 3  # a title of at most this many words ("Insulin", "Shingles vaccine")
# A word this common (Zipf; "pressure" 5.0, "prevention" 4.3) is no drug's other name.
ALIAS_COMMON_ZIPF = 4.0
TITLE_ZIPF = 4.5  # ... names its subject by its rarest word when that is under this
TITLE_USES = 2  # ... and (titles of 2+ words) the text, title line counted, uses it this often


# A page names several drugs alike (a class page: "Head lice medicines: pyrethrins (Rid…),
# permethrin (Nix), …"; a condition's: "Diarrhea: fluids, over-the-counter medicines…")
# when its title names this many, or this many are each named twice or more and the most
# named is named fewer than DOMINANT times as often as the next.
SEVERAL_DRUGS = 3
DOMINANT = 2.0


def _canonical_counts(used: Mapping[str, int], canonical: Mapping[str, str]) -> Counter[str]:
    """How often a text names each drug (``used``: its word counts), by canonical name."""
    named: Counter[str] = Counter()
    for word, n in used.items():
        if word in canonical:
            named[canonical[word]] += n
    return named


def several_drugs(named: Mapping[str, int], in_title: Collection[str]) -> bool:
    """A page naming drugs this often (``named``: drug -> uses), its title naming
    ``in_title``, is about several of them alike, not about one (``SEVERAL_DRUGS``)."""
    if len(in_title) >= SEVERAL_DRUGS:
        return True
    counts = sorted((n for n in named.values() if n >= 2), reverse=True)
    return len(counts) >= SEVERAL_DRUGS and counts[0] < DOMINANT * counts[1]


def title_subject(title: str, used: Mapping[str, int]) -> str | None:
    """What a leaflet titled "Insulin" or "Steroids" is about: the rarest word of a short
    title that its text keeps using. Rarity alone cannot find it (insulin, steroids,
    antibiotics and marijuana are common English words; the rarest frequent word of an
    insulin leaflet is "hypoglycemia"), and then a claim about insulin backed by another
    drug's excerpt goes unnoticed."""
    words = terms(title)
    found = [w for w in words if w.isalpha() and len(w) >= 4 and w not in STOPWORDS]
    if not 1 <= len(found) <= TITLE_WORDS:
        return None
    word = min(found, key=zipf)
    after = words[words.index(word) + 1:][:1]
    if after and _QUALIFIER.match(after[0]):
        # "Vitamin D", "Hepatitis B": the word alone names another subject too ("vitamin
        # B12" was answered from the vitamin D page)
        return None
    # A title of one rare word ("Bumetanide") says it alone: a label page of colour and
    # imprint rows may never name its drug again (its most used rare word, "imprint",
    # had become a drug, and every other page's imprint rows that drug's)
    uses = 1 if len(found) == 1 else TITLE_USES
    return word if zipf(word) < TITLE_ZIPF and used.get(word, 0) >= uses else None


# A name that is a code: "B12", "D3". Asked "What happens if I stop B12 shots?" (no drug
# the documents know by that name), another drug's page on stopping it was the answer.
_CODE = re.compile(r"^[a-z]{1,2}\d{1,3}$")
# A letter, with digits or not, that tells one subject of a name from others: "D", "B12".
_QUALIFIER = re.compile(r"^[a-z]\d{0,2}$")


@dataclass(frozen=True)
class Lexicon:
    """The corpus vocabulary and its drugs: name -> canonical name (aliases share one)."""

    vocabulary: Vocabulary
    drugs: Mapping[str, str]
    doc_drug: Mapping[str, str]  # doc_id -> its main drug (canonical), when it has one
    # Main subjects the documents speak of as conditions ("shingles"), canonical: named
    # like drugs (a question about them is about them), but a sentence naming one is not
    # about another drug than the one asked ("It is used to treat shingles").
    conditions: frozenset[str] = frozenset()
    # Pages about several drugs (``several_drugs``): doc_id -> the drugs each names. Such
    # a page has no main drug; a sentence naming none is about the drug its paragraph
    # names last, else about any the page names (``context_drugs``).
    several: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Pages whose main drug is only their most used rare word, no drug's name in shape or
    # pairing ("hemorrhoids" on a laxatives page): a sentence there is about the drug its
    # paragraph names last too (``context_drugs``).
    guessed: frozenset[str] = frozenset()

    @classmethod
    def build(cls, documents: Mapping[str, str], aliases: Mapping[str, set[str]],
              titles: Mapping[str, str] | None = None) -> Lexicon:
        """From {doc_id: text}, the brand/generic pairs the corpus states and, when given,
        {doc_id: title} (a short title names the document's subject: ``title_subject``)."""
        vocabulary = Vocabulary.from_texts(documents.values())
        titles = titles or {}
        doc_drug: dict[str, str] = {}
        uses: dict[str, Counter[str]] = {}
        titled: set[str] = set()
        guessed: set[str] = set()
        names: set[str] = set()
        cues: dict[str, Counter[str]] = {"condition": Counter(), "drug": Counter()}
        for doc_id, text in documents.items():
            tokens = terms(text)
            used = Counter(tokens)
            counts = Counter({w: n for w, n in used.items() if len(w) >= 5 and w.isalpha()
                              and zipf(w) < DRUG_ZIPF})
            uses[doc_id] = used
            subject = title_subject(titles.get(doc_id, ""), used)
            if subject:
                doc_drug[doc_id] = subject
                titled.add(doc_id)
            elif counts:
                doc_drug[doc_id] = counts.most_common(1)[0][0]
                if not _DRUG_SHAPE.search(doc_drug[doc_id]) and doc_drug[doc_id] not in aliases:
                    guessed.add(doc_id)  # "hemorrhoids", "micrograms": no drug's name
            names.update(w for w in counts if _DRUG_SHAPE.search(w))
            # "Trospium chloride tablets", "losartan potassium": the word a salt follows
            names.update(w for w, after in _SALTED.findall(text.lower())
                         if after in SALTS and w in counts and w not in SALTS
                         and name_like(w))
            for kind, found in cue_counts(tokens, {*counts, *([subject] if subject else [])}
                                          ).items():
                cues[kind].update(found)
        names.update(doc_drug.values())
        for name, others in aliases.items():
            # "Donepezil (Aricept)": a stated brand/generic pair names a drug, unless both
            # words are common ("glucose (Sugar)"); a very common word only when it names
            # a drug already: "Low Blood Pressure (Hypotension)" made "pressure" a drug
            if name in names or others & names or any(map(rare, {name, *others})):
                # (not a salt: "oxybutynin chloride (Ditropan)" pairs no "chloride")
                names.update(w for w in {name, *others}
                             if w in names or zipf(w) < ALIAS_COMMON_ZIPF and w not in SALTS)
        canonical: dict[str, str] = {}
        for _ in range(2):  # twice: a brand listed after another one's generic is that
            # generic's too, whatever the order ("pyrethrins" -> Licide, Pronto)
            for name in sorted(names):
                group = {name, *aliases.get(name, ())} & names
                canonical[name] = min(canonical.get(g, g) for g in group)
        conditions = {canonical[n] for n in set(doc_drug.values()) - set(aliases)
                      if condition(n, cues)}
        several = {}
        for doc_id, used in uses.items():  # a titled subject ("Azithromycin") is the one
            named = Counter({d: n for d, n in _canonical_counts(used, canonical).items()
                             if d not in conditions})
            title = {canonical[w] for w in terms(titles.get(doc_id, ""))
                     if canonical.get(w) in named}
            if doc_id not in titled and several_drugs(named, title):
                several[doc_id] = frozenset(named)
        # a page about several drugs keeps its main subject only when that is a condition
        # ("Alzheimer's disease": every line there is about it)
        return cls(vocabulary, canonical, {d: canonical[n] for d, n in doc_drug.items()
                                           if d not in several or canonical[n] in conditions},
                   frozenset(conditions), several, frozenset(guessed - set(several)))

    def context_drugs(self, chunk: Chunk, sentence: str) -> frozenset[str]:
        """The drugs a sentence naming none is about, by where it stands: its chunk's
        (``chunk_drugs``); on a page about several drugs (``several``) with no drug in
        the heading, the drugs the last sentence before it in its paragraph names
        ("Ivermectin lotion, 0.5%. Brand name product: Sklice. … It should not be used for
        retreatment…"), else every drug the page names ("If the blood glucose level is
        below 70 mg/dL, one of these quick-fix foods…", on a page about seven diabetes
        pills, was kept from a question about glipizide as the page's "hypoglycemia's")."""
        drugs = self.chunk_drugs(chunk)
        page = self.several.get(chunk.doc_id)
        if page is None:
            if chunk.doc_id not in self.guessed:
                return drugs
            # on a page whose main drug is a guess, the paragraph's drug besides it: "2.
            # Polyethylene glycol / Brand name: MiraLAX. / - Label warning: Stop use and ask
            # a doctor…" is MiraLAX's on a page whose most used rare word is "hemorrhoids"
            return drugs | self._paragraph_drugs(chunk, sentence)
        # (and the condition a page about several drugs is about, when it is one)
        main = frozenset([self.doc_drug[chunk.doc_id]] if chunk.doc_id in self.doc_drug else [])
        heading = drugs - main
        return (heading or self._paragraph_drugs(chunk, sentence) or page) | main

    def _paragraph_drugs(self, chunk: Chunk, sentence: str) -> frozenset[str]:
        """The drugs the last sentence naming any names before ``sentence`` in its
        paragraph of ``chunk``."""
        at = chunk.text.find(sentence)
        if at > 0:
            paragraph = chunk.text[chunk.text.rfind("\n\n", 0, at) + 1:at]
            for a, b in reversed(sentence_spans(paragraph)):
                named = self.drugs_in(paragraph[a:b]) - self.conditions
                if named:
                    return named
        return frozenset()

    def drugs_in(self, text: str) -> frozenset[str]:
        """The (canonical) drugs a text names."""
        return frozenset(self.drugs[w] for w in terms(text) if w in self.drugs)

    def chunk_drugs(self, chunk: Chunk) -> frozenset[str]:
        """The drugs a chunk is about: its document's main drug, and the one drug its
        heading names ("Stopping sertraline" on a page about four antidepressants). A page
        on SSRIs is about one of them by count, and "A gradual reduction in the dose rather
        than abrupt cessation is recommended", under that heading, was never shown for
        "can i just stop taking sertraline?". Both, not the heading's alone: a simvastatin
        page's "Why shouldn't I drink grapefruit juice if I take a statin?" is about
        simvastatin still."""
        main = self.doc_drug.get(chunk.doc_id)
        named = self.drugs_in(chunk.section or "") - self.conditions
        return frozenset([*([main] if main else []), *(named if len(named) == 1 else [])])

    def without_drugs(self, text: str, keep: frozenset[str] = frozenset()) -> str:
        """The text with the drug names taken out (but those of ``keep``, canonical): what
        it says, not which drug it is about.

        Sentence scoring compares these: with the names in, the drug dominates the
        embedding, and "ketamine's effects on mood" outscores "Common adverse reactions
        include dizziness, nausea…" for "What are ketamine's side effects?". Which drug a
        sentence is about is checked apart (``Relevance.about``).
        """
        def cut(m: re.Match[str]) -> str:
            drug = self.drugs.get(m.group(0).lower())
            return m.group(0) if drug is None or drug in keep else ""
        return _NAME.sub(cut, text)

    def hider(self, question: str, keep: frozenset[str] = frozenset()) -> Callable[[str], str]:
        """``without_drugs`` (but ``keep``) for scoring texts against ``question``, unless
        the question is nothing but a drug's name (then nothing is left to compare, and
        names stay)."""
        hide = functools.partial(self.without_drugs, keep=keep)
        return hide if content_words(hide(question)) else str


# "How does X work?" leaves "How does work?" once the drug is out: nothing an embedder can
# match to "It inhibits calcium release…". The question is scored as asking for this.
_ASKS_MECHANISM = re.compile(
    r"\bhow (?:does|do|did|would|will|can)\b.{0,60}\bwork\b|\bhow\b.{0,40}\bworks\b"
    r"|\bwhat does\b.{0,60}\bdo\b|\bmode of action\b", re.IGNORECASE)


# "How is X given?" leaves "How is given?": the answer names a route ("by infusion or nasal
# spray", "swallow the tablets whole"), which shares no word with it.
# "How do patients receive X?", "In what form is X given?" ask the same.
_ASKS_ROUTE = re.compile(
    r"\bhow (?:is|are|was|were|do|does|should|can|to|often)\b.{0,60}\b(?:given|administered|"
    r"delivered|taken|take|injected|applied|inhaled|swallowed|used|receives?|received)\b"
    r"(?<!used(?= for| to))"
    r"|\b(?:what|which) (?:forms?|route|way)\b.{0,60}\b(?:given|administered|delivered|taken|"
    r"received|come)\b|\bby what route\b", re.IGNORECASE)
# What a route question asks for, in the words an answer uses.
ROUTE = "Route of administration: by mouth, injection, infusion, spray, with food."


def asks_route(question: str) -> bool:
    """"How is ketamine given for depression?" asks how it is given, not about
    depression: the sentence naming the route shares no word with it but "ketamine"."""
    return bool(_ASKS_ROUTE.search(question)) and not _ASKS_MECHANISM.search(question)


# The words of a route question that only ask for the route (see ``asks_route``).
_ROUTE_FRAME = frozenset("""given administered delivered taken take injected applied inhaled
    swallowed used receive receives received form forms route way come patient patients people
    person usually typically normally""".split())


def route_crowded(question: str, hide: Callable[[str], str]) -> bool:
    """A route question that also names something else than the drug and the route ("…for
    depression", "…to people with treatment-resistant depression"): its passages crowd out
    the one naming the route. "How is ketamine given?" names nothing else."""
    return asks_route(question) and bool(content_words(hide(question)) - _ROUTE_FRAME)


# ``setting_of``: the phrase closing a question that says where it is asked ("…for
# depression", "…in people with Alzheimer's disease") is the passages' setting when every
# word of it that names something is in this share of the passages found for the question.
SETTING_SHARE = 0.6
_SETTING = re.compile(
    r"\s+(?:for|in|with|among)\s+(?:(?:people|patients|adults|children|someone|those|anyone)"
    r"\s+(?:with|who have|suffering from)\s+)?"
    r"(?P<what>(?:(?!\b(?:for|in|with|among)\b)[\w'’ -])+?)\W*$", re.IGNORECASE)


def setting_of(question: str, texts: Sequence[str], hide: Callable[[str], str]) -> str | None:
    """The question without its setting: "What side effects can memantine cause in people
    with Alzheimer's disease?" asks for side effects, and the memantine passages all speak
    of Alzheimer's disease, so their sentences about it outscore the one listing the side
    effects. None when the question ends in no such phrase, or the passages do not share it
    ("…for malignant hyperthermia" among the dantrolene passages on spasticity)."""
    match = _SETTING.search(question)
    if match is None or not texts:
        return None
    what = match.group("what")
    if hide(what) != what:
        return None  # "…for ketamine therapy" names the drug: it is what is asked about
    named = stems(content_words(what) - STOPWORDS)
    used = [set(stems(content_words(t))) for t in texts]
    if not named or any(sum(w in u for u in used) < SETTING_SHARE * len(used)
                        for w in named):
        return None
    rest = question[: match.start()] + "?"
    return rest if content_words(hide(rest)) - GENERIC else None


# Words that say a question compares, not what it asks of each side (``side_questions``).
_COMPARING = re.compile(
    r"\b(?:compar(?:e|ed|es|ing|ison|isons)|contrast(?:s|ed|ing)?|differ(?:s|ed|ence|ences)?|"
    r"versus|vs\.?|between|unlike|alike|similarit(?:y|ies)|both|each)\b", re.IGNORECASE)


# Where a drug's name was taken out of a comparison (marked "\0"), the word that joined it
# to the other drug goes too: "dantrolene and \0", "\0, or memantine", "from those of \0".
_JOINED_GAP = (
    # "the side effects of \0 differ from those of memantine" -> "… of memantine differ"
    (re.compile(r"\0(\s+(?:differ|compare)\w*)\s+(?:from|to|with)\s+(?:(?:that|those|the ones?)"
                r"\s+(?:of|for)\s+)?([A-Za-z][\w-]*)", re.IGNORECASE), r"\2\1"),
    # "for \0 and for ketamine" -> "for ketamine"; "of \0 and ketamine" -> "of ketamine"
    (re.compile(r"\b(for|of|with|to|in|on)\s+\0\s*,?\s*(?:and|or|versus|vs\.?|nor)\s+(?=\1\b)",
                re.IGNORECASE), ""),
    (re.compile(r"\0\s*,?\s*(?:and|or|versus|vs\.?|nor|with|against)\b\s*", re.IGNORECASE),
     ""),
    (re.compile(r"\s*,?\s*\b(?:and|or|versus|vs\.?|nor)\s+(?:(?:for|of|with|to|in|on)\s+)?\0",
                re.IGNORECASE), ""),
    (re.compile(r"\b(?:from|than|with|to|as)\s+(?:(?:those|that|the ones?)\s+(?:of|for)\s+)?\0",
                re.IGNORECASE), ""),
    (re.compile(r"\b(?:(?:those|that)\s+of|for|of|with|on)\s+\0", re.IGNORECASE), ""),
)

# Two drugs asked about together, not compared: "clopidogrel & aspirin combined",
# "amlodipine metoprolol together", "mix albuterol with …".
_TOGETHER = re.compile(r"\b(?:together|combin\w*|interact\w*|mix\w*|at the same time|"
                       r"along with|plus)\b", re.IGNORECASE)
# A dosage form: names joined before it are one product's ("acetaminophen and codeine
# tablets"), unless the question says it compares.
_PRODUCT = re.compile(r"\b(?:creams?|ointments?|gels?|lotions?|tablets?|pills?|capsules?|"
                      r"solutions?|suspensions?|patch(?:es)?|injections?|sprays?|drops|syrups?|"
                      r"inhalers?|pens?)\b", re.IGNORECASE)
# What joins two drug names asked about side by side: "X and Y", "X or Y", "X, and for Y".
_JOINING = re.compile(r"^[^.?!;]{0,40}?\b(?:and|or|nor|versus|vs)\b|^\s*[&/]\s*$",
                      re.IGNORECASE)
# A comparison's frame turned into what it asks of one drug: "Compare the side effects of
# X" -> "Describe the side effects of X"; "How do the side effects of X differ (from…)?"
# -> "What are the side effects of X?".
_ASKED_ALONE = (
    (re.compile(r"^\s*(?:compare|contrast)\b\s*", re.IGNORECASE), "Describe "),
    (re.compile(r"\bhow\s+do\s+(.+?)\s+(?:differ|compare)\b(?!\s+in\b)", re.IGNORECASE),
     r"What are \1"),
    (re.compile(r"\bhow\s+does\s+(.+?)\s+(?:differ|compare)\b(?!\s+in\b)", re.IGNORECASE),
     r"What is \1"),
    # "whats the actual difference between aspirin and plavix?" -> "What is aspirin?" (it
    # was "What's the actual aspirin?")
    (re.compile(r"\bwhat(?:'?s|\s+is|\s+are)\s+the\s+(?:[a-z]+\s+)?differences?\s+between\s+",
                re.IGNORECASE), "What is "),
)


def scored_question(question: str, hide: Callable[[str], str]) -> str:
    """The question as sentences are scored against it: without the drug names (``hide``),
    and naming what a "how does it work" or "how is it given" question asks for."""
    text = hide(question)
    if _ASKS_MECHANISM.search(question):
        text += " Mechanism of action."
    elif asks_route(question):
        text += f" {ROUTE}"
    return text


# What is said of a drug, not the name of its product: "Is memantine teratogenic…?"
_SAID_OF = re.compile(r"(?:ic|ous|ive|al|able|ible)$")
_COPULAS = frozenset("is are was were be been being isnt arent wasnt".split())


def product_words(tokens: Sequence[str], lexicon: Lexicon,
                  drugs: Collection[str]) -> frozenset[str]:
    """Brand-shaped words (``brand_like``) right after the name of one of ``drugs``: the
    product's own name ("lantus solostar", "abilify discmelt", "advair diskus"), part of what
    the question is about, not of what it asks. Not a word shaped like an adjective, nor
    one the question says the drug is ("Is memantine teratogenic in pregnancy?")."""
    return frozenset(
        w for i, (before, w) in enumerate(itertools.pairwise(tokens))
        if lexicon.drugs.get(before) in drugs and w not in lexicon.drugs and brand_like(w)
        and not _SAID_OF.search(w) and not (i and tokens[i - 1] in _COPULAS))


@dataclass(frozen=True)
class Focus:
    """What a question is about: the drugs it names, and the specific words it uses that
    the documents never do (``missing``: the question is refused, naming them)."""

    drugs: frozenset[str]
    missing: tuple[str, ...]
    polar: bool


# A question asking leave without its verb: "ok to just stop the rest of it?"
_SAID_OK = frozenset((w, "to") for w in ("ok", "okay", "alright", "safe", "fine"))


# The condition a question sets before asking ("If I miss a dose, should I double up?").
# Words that open a message without asking ("ok and once…", "so can i…") go with it; and a
# condition may end without a comma, where a yes/no question starts ("ok and once my levels
# are back to normal can i just quit taking it", round 15, was read as asking no yes or no).
_CONDITION = re.compile(
    r"^\s*(?:(?:ok|okay|alright|so|and|but|well|then|also|plus)\b(?!\s+to\b)\W*)*"
    r"(?:(?:if|when|whenever|while|after|before|once)\b[^,?]*,\s*"
    # …not "when": "When in the day should he take it" asks when (dev c051)
    r"|(?:if|whenever|while|after|before|once)\b[^,?]*?\s+(?=(?:can|could|should|is|do|does"
    r"|will|may|must)\s+(?:i|he|she|we|they|you|it)\b))?", re.IGNORECASE)


# A name written in letters and digits: "b12", "d3", "covid19" (not "24", "70kg", "2x")
_CODE_NAME = re.compile(r"[a-z]{1,6}\d{1,3}[a-z]?")


# The amount a noun before "of" measures out: "a glass of wine", "two cups of coffee".
_MEASURE = re.compile(r"\b(?:a|an|one|two|three|four|five|few|couple|half|\d+)\s+([a-z]+)\s+of\b")


# A name with another in brackets after it: "bactrim (trimethoprim sulfa)".
_EXPLAINED = re.compile(r"\b([A-Za-z][\w-]+)\s*\(([^()]{3,60})\)")


def focus_of(query: str, lexicon: Lexicon, question: str = "") -> Focus:
    """The focus of a question after spelling correction (``Retriever.rewrite``); with the
    ``question`` as asked, what its sentences after the first tell around it."""
    tokens = terms(query)
    # "My grandson is 2 months old, does he get the Prevnar?" asks yes or no, though its
    # first word is no auxiliary: the sentence (or clause) that asks decides.
    split = told_and_asked(question)
    asked = terms(_CONDITION.sub("", split[1])) if split is not None else tokens
    opener = asked[:1]
    # "ok to just stop the rest of it?" asks yes or no as "is it ok to…" does (round 14:
    # "It is safe to stop the antibiotics after 2 days" went unchecked)
    polar = bool(opener) and (opener[0] in POLAR_OPENERS or tuple(asked[:2]) in _SAID_OK)
    drugs = lexicon.drugs_in(query)
    told = _told(question, split)
    # ... also when it asks about something else the documents name ("…, does he get the
    # Prevnar?", a vaccine no lexicon drug stands for)
    # (what is told counts: "her pediatrician put her on antibiotics for a uti 2 days ago
    # … ok to just stop the rest of it?" is about antibiotics for a UTI)
    # A name of letters and digits counts ("how much b12 do i need", "vitamin d3")
    named = drugs or any((specific(t) or _CODE_NAME.fullmatch(t)) and lexicon.vocabulary.knows(t)
                         for t in tokens)
    missing: list[str] = []
    # "is it ok for him to take his aripiprazole discmelt on an empty stomach?" asks about
    # aripiprazole: a page that never names the product answers it
    products = product_words(tokens, lexicon, drugs)
    # who it is for ("…for my grandma") and an amount ("a glass of wine") ask about nothing;
    # a name the asker explains in brackets by one the documents know is known: "bactrim
    # (trimethoprim sulfa)"
    aside = {m.group(1) for m in _MEASURE.finditer(query)} | {
        m.group(1).lower() for m in _EXPLAINED.finditer(question)
        if any(specific(w) and lexicon.vocabulary.knows(w) for w in terms(m.group(2)))
    } | said_of_things(tokens, lexicon)
    for token in dict.fromkeys(tokens[1:] if polar and tokens[:1] == opener else tokens):
        if token in lexicon.drugs or token in products or lexicon.vocabulary.knows(token) \
                or token in aside or token.removesuffix("s") in RELATIONS \
                or named and token in told and token.removesuffix("s") in CARERS:
            # "anti-inflammatory" as a whole; who prescribed, told around a known subject
            # ("derm gave me betamethasone…"; not "My neurologist is new. What is the most I
            # could take in a day?", naming no drug, nor "Can my neurologist change the dose
            # of Klonopin?", asking about the neurologist)
            continue
        # What is told around a question about a drug the documents know sets the scene
        # ("My neurologist just started me on Klonopin.", "…broke out in hives as a kid.")
        # and needs no mention, but for a name ("I take Zoloft. Can I drink wine?"). A
        # yes/no question needs its everyday nouns, but not those told around it ("Can I
        # crush the caplets? I have trouble swallowing pills.": not "trouble").
        # A told word English knows, though lemminflect does not ("got lice from daycare
        # again", "we go to costco"), names no drug: only a brand- or drug-shaped one does.
        if token in told and named and not (brand_like(token) or _DRUG_SHAPE.search(token)):
            continue
        missing += [part for part in token.split("-")  # "add-on": "add" is known
                    if specific(meant := _everyday_typo(part) or part,
                                polar and token not in told)
                    and not lexicon.vocabulary.knows(part)
                    and not lexicon.vocabulary.knows(meant)]
    return Focus(drugs, tuple(dict.fromkeys(missing)), polar)


# Words a verb comes after: "to flush it out", "would switching him…", "can i just grab…"
_BEFORE_VERB = frozenset("to i you he she we they her him them me us would could should can "
                         "will may might must not just also".split())


def said_of_things(tokens: Sequence[str], lexicon: Lexicon) -> set[str]:
    """Words of a question that name no thing where they stand: a verb after a word a verb
    comes after ("…making her chug water to flush it out", "would switching him to zyrtec
    fix it"), an adjective before a drug's name ("can he take plain guaifenesin"), and a
    shop's name after "at" ("grab something otc at walgreens"). Round 14 refused each
    as about a thing the documents never mention."""
    found = set()
    for before, word in itertools.pairwise(tokens):
        if word in lexicon.drugs:
            if "ADJ" in _parts_of_speech(before):
                found.add(before)
        elif before in _BEFORE_VERB and may_be_verb(word) \
                or before == "at" and brand_like(word):
            found.add(word)
    return found


def _told(question: str, split: tuple[str, str] | None) -> set[str]:
    """Words only in what is told around a question, not in the sentence that asks it (the
    one ending in "?", else the first): "My neurologist just started me on Klonopin. What's
    the most I could take in a day?" tells "neurologist"."""
    if split is None:  # ``told_and_asked(question)``, worked out once by the caller
        sentences = [question[slice(*span)] for span in sentence_spans(question)]
        split = (" ".join(sentences[1:]), sentences[0]) if sentences else ("", "")
    told, asked = split
    return set(terms(told)) - set(terms(asked))


def name_like(word: str) -> bool:
    """Shaped like a drug's or a disease's name: no English word lemminflect knows
    ("zoloft", "alzheimer"), or a drug-name ending ("ibuprofen")."""
    return not _parts_of_speech(word) or bool(_DRUG_SHAPE.search(word))


# An everyday word this common (Zipf), one letter away, is what a rare word was typed for
TYPED_FOR_ZIPF = 5.5
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def mistyped(word: str) -> bool:
    """One letter left out, added, changed or two swapped away from a very common word:
    "shoud" (should), "wiht" (with). Such a word names nothing: "and if he forgets a pill
    can he just take 2 the next day" after "…drinks shoud he keep small…" was asked "…the
    next day of shoud?". A brand one letter from a common word ("aleve", "alive" at 5.0)
    is not that common. A chat spelling ("thru") and a word no one writes one letter from
    an English word (``unseen_typo``) name nothing either: "his dermatoligist wants to try
    methotrexate" names no medicine a later "it" may stand for."""
    return typed_for(word, TYPED_FOR_ZIPF) is not None or word in CHAT_SPELLINGS \
        or unseen_typo(word) is not None


def typed_for(word: str, common: float) -> str | None:
    """The most common word at least this ``common`` (Zipf) one letter left out, added,
    changed or two swapped away from ``word``, itself less common; None when there is none."""
    if not word.isalpha() or zipf(word) >= common:
        return None
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b} \
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1} \
        | {a + c + b[1:] for a, b in splits if b for c in _LETTERS} \
        | {a + c + b for a, b in splits for c in _LETTERS}
    found = [e for e in edits - {word} if zipf(e) >= common]
    return max(found, key=zipf) if found else None


# A word no dictionary knows one letter from an English word this common is that word
# mistyped, read as it ("diffrence", round 15: "They never mention 'diffrence'"); a drug's
# name is rarer
EVERYDAY_ZIPF = 4.5


def _everyday_typo(word: str) -> str | None:
    """The everyday word a word no dictionary knows was typed for (``EVERYDAY_ZIPF``), or
    the rarer one an unseen word was (``unseen_typo``); and what a chat spelling stands for
    ("thru")."""
    if word in CHAT_SPELLINGS:
        return CHAT_SPELLINGS[word]
    if _parts_of_speech(word):
        return None
    return typed_for(word, EVERYDAY_ZIPF) or unseen_typo(word)


# A word no one writes (no Zipf at all) one letter from an English word this common, with
# the same first letter, is that word mistyped: "dermatoligist" (dermatologist, 3.1),
# "falsley" (falsely, 3.6); round 15 took the first for the medicine "it" stood for and
# refused the second as never mentioned. Brands are written ("aleve" 1.9, "dostinex" 1.1);
# those never written, of the 343 drug names of 8 held-out corpora and the eval's, none
# is one letter from such a word but "requip" (equip: another first letter) and "axid"
# (aid, common enough for ``EVERYDAY_ZIPF``).
UNSEEN_TYPO_ZIPF = 3.0


def unseen_typo(word: str) -> str | None:
    """The English word (``UNSEEN_TYPO_ZIPF``) a word no one writes was typed for."""
    if not word.isalpha() or zipf(word) > 0:
        return None
    meant = typed_for(word, UNSEEN_TYPO_ZIPF)
    return meant if meant and meant[0] == word[0] and _parts_of_speech(meant) else None


# How people spell common words in chat, words no dictionary has: "what antibiotics do they
# give thru the iv" was refused as about "thru" (round 15)
CHAT_SPELLINGS = {"thru": "through", "tho": "though", "altho": "although", "nite": "night",
                  "tonite": "tonight", "becuz": "because", "bcuz": "because", "cuz": "because",
                  "prolly": "probably", "somethin": "something", "nothin": "nothing",
                  # round 16: "is it dangerous that my tabs are 1000 mcg", "do e cigs help"
                  "tabs": "tablets", "cigs": "cigarettes", "ciggies": "cigarettes",
                  # round 17: "whats the diff between humira and remicade"
                  "diff": "difference"}


# Brands are rare words ("prilosec" 1.8, "xanax" 3.2); "breastfeeding" (3.5), which
# lemminflect does not know either, is none
BRAND_ZIPF = 3.3


def brand_like(word: str) -> bool:
    """Shaped like a brand's name: no English word, rare, and not a generic name's ending
    ("prilosec", "actemra"; not "breastfeeding", "metformin" is rare but "ibuprofen" no)."""
    return not _parts_of_speech(word) and not _DRUG_SHAPE.search(word) \
        and zipf(word) < BRAND_ZIPF


# Words that carry no information about a drug on their own: an answer sentence made of
# the question's words plus these says nothing new.
GENERIC = frozenset(stems(
    """medication medications medicine medicines drug drugs treatment treatments treat
    treated treating therapy therapies patient patients people person help helps helped
    can may might could also use uses used effect effects condition conditions yes no
    known shown show shows found find well good certain be been being do does did get
    gets got have has having make makes made""".split()))


# ``Relevance.clipped``: an answer sentence with this share of its word pairs in one
# excerpt sentence copies it; that sentence says more when it has this many more words.
CLIPPED_COPY = 0.7
CLIPPED_LEFT = 3
# …or it has a run of this many word pairs in a row of that sentence ("…multiple sclerosis,
# cerebral palsy, and other disorders characterized by muscle stiffness or spasms").
CLIPPED_RUN = 10


def copies(sentence: str, source: str) -> bool:
    """The sentence copies ``source``: CLIPPED_COPY of its word pairs are the source's, in
    the same order, or CLIPPED_RUN of them in a row are."""
    said = words(MARKER.sub(" ", sentence))
    pairs, theirs = list(itertools.pairwise(said)), set(itertools.pairwise(words(source)))
    copied = [p in theirs for p in pairs]
    return bool(pairs) and (sum(copied) >= CLIPPED_COPY * len(pairs)
                            or _longest_run(copied) >= CLIPPED_RUN)


def _longest_run(flags: Sequence[bool]) -> int:
    """The most ``True`` in a row."""
    return max((len(list(run)) for flag, run in itertools.groupby(flags) if flag), default=0)


# What a question's word says already: asked for side effects, "Rosuvastatin may cause
# side effects" (all a model said to "what side effects are kinda normal") says nothing.
_IMPLIED = {stem("effects"): frozenset(stems("cause causes caused occur occurs possible "
                                              "common experience".split()))}


@dataclass(frozen=True)
class Relevance:
    """Whether an answer sentence is about the asked drug and says something new."""

    question: str
    focus: Focus
    lexicon: Lexicon
    asked: frozenset[str]  # stems of the question's words
    # What the question's setting names ("spasticity" in "…given dantrolene for muscle
    # spasticity?") when its passages share it (``setting_of``): what they are all about,
    # not one case among others (``elsewhere``).
    setting: frozenset[str] = frozenset()

    @classmethod
    def of(cls, question: str, focus: Focus, lexicon: Lexicon) -> Relevance:
        return cls(question, focus, lexicon, frozenset(stems(terms(question))))

    @functools.cached_property
    def asked_drugs(self) -> frozenset[str]:
        """The drugs the question names, not counting conditions."""
        return self.focus.drugs - self.lexicon.conditions

    @functools.cached_property
    def rivals(self) -> frozenset[str]:
        """Names that make a sentence about something else than what was asked: the drugs
        when the question names a drug ("It is used to treat shingles" answers a question
        about valacyclovir), the conditions when it names only conditions."""
        conditions = self.lexicon.conditions
        return (frozenset(self.lexicon.drugs.values()) - conditions if self.asked_drugs
                else conditions)

    def aside(self, word: str) -> bool:
        """A name that says which subject a text is about, not what it says about it: a
        drug's, or a condition's when the question names none of the drugs (asked about
        valacyclovir and shingles, "shingles" is part of what is asked), or the product's
        name beside the asked drug's (``product_words``)."""
        name = self.lexicon.drugs.get(word)
        if name is None:
            return word in self.product_words
        return not (self.asked_drugs and name in self.lexicon.conditions)

    @functools.cached_property
    def product_words(self) -> frozenset[str]:
        """``product_words`` of the question and the drugs it asks about. Read as something
        asked, "solostar", a rare word, weighed most: "Does he have to take his Lantus
        SoloStar in the morning?" was answered yes by "Refrigerate unused LANTUS vials and
        SoloStar prefilled pens"."""
        return product_words(terms(self.question), self.lexicon, self.asked_drugs)

    @functools.cached_property
    def hide(self) -> Callable[[str], str]:
        """What sentence scoring takes out of texts compared with this question
        (``Lexicon.hider``; conditions stay when the question names a drug)."""
        return self.lexicon.hider(
            self.question, self.lexicon.conditions if self.asked_drugs else frozenset())

    def other_drug(self, sentence: str) -> bool:
        """It names a drug (``rivals``), and none of the drugs asked about."""
        named = self.lexicon.drugs_in(sentence)
        return bool(self.focus.drugs and named & self.rivals and not named & self.focus.drugs)

    def names_another(self, sentence: str) -> bool:
        """It names a drug (``rivals``) not asked about, asked ones beside it or not:
        "Do not take aspirin and ibuprofen while you're taking rivaroxaban" is about
        rivaroxaban when the question is about Ultram and ibuprofen."""
        return bool(self.focus.drugs and (self.lexicon.drugs_in(sentence) & self.rivals)
                    - self.focus.drugs)

    def about(self, chunk: Chunk, sentence: str) -> bool:
        """Evidence filter: the sentence names an asked drug, or names none and its
        document is about an asked drug (or about none); any sentence when no drug is
        asked about."""
        return self._about(self.focus.drugs, chunk, sentence)

    def _about(self, drugs: frozenset[str], chunk: Chunk, sentence: str) -> bool:
        if not drugs:
            return True
        named = self.lexicon.drugs_in(sentence)
        if named & drugs:
            return True
        if named & self.rivals:
            return False
        main = self.lexicon.context_drugs(chunk, sentence)
        return not main or bool(main & drugs)

    @property
    def compared(self) -> tuple[str, ...]:
        """The drugs a question asks about together ("How do X and Y differ?"), each of
        which the evidence must speak for; none when it asks about fewer than two ("Does
        valacyclovir cure shingles?" names one drug and one condition)."""
        compared = self.focus.drugs & self.rivals
        return tuple(sorted(compared)) if len(compared) >= 2 else ()

    @functools.cached_property
    def contrasted(self) -> tuple[str, ...]:
        """The compared drugs to answer one at a time: each some document's subject, the
        question framing a comparison ("compare", "differ", "versus", "each") or joining
        their names ("X and Y", "X or Y"), and not asking about them together ("X and Y
        combined", "together"). On MedicationQA's questions, ``compared`` alone would have
        split "What is diclofenac sodium topical gel used for?" (three names, no
        comparison) and "clopidogrel & aspirin combined"."""
        subjects = frozenset(self.lexicon.doc_drug.values())
        drugs = tuple(d for d in self.compared if d in subjects)
        if len(drugs) < 2 or _TOGETHER.search(self.question):
            return ()
        if _COMPARING.search(self.question):
            return drugs
        if _PRODUCT.search(self.question):
            return ()  # "clotrimazole and betamethasone cream" names one product
        names = [m for m in _NAME.finditer(self.question)
                 if self.lexicon.drugs.get(m.group(0).lower()) in drugs]
        joined = any(self.lexicon.drugs.get(a.group(0).lower())
                     != self.lexicon.drugs.get(b.group(0).lower())
                     and _JOINING.search(self.question[a.end():b.start()])
                     for a, b in itertools.pairwise(names))
        return drugs if joined else ()

    def sides(self) -> list[Callable[[Chunk, str], bool]]:
        """One evidence filter per compared drug (``about`` for that drug alone)."""
        return [functools.partial(self._about, frozenset({d})) for d in self.compared]

    def side_questions(self, question: str, drugs: Sequence[str] | None = None) -> list[str]:
        """The question asked of each compared drug alone (each answered, or for a yes/no
        question searched, on its own): the other compared drugs' names go with the word
        that joins them ("of dantrolene and ketamine" -> "of dantrolene"), and the words
        that only frame the comparison ("contrast", "differ", "both") go or become what
        they ask of one drug ("How do the side effects of X differ from those of Y?" ->
        "What are the side effects of X?"). Searched with "contrast", ketamine's summaries
        outranked its "How does ketamine work?" section."""
        drugs = self.compared if drugs is None else drugs
        sides = []
        for drug in drugs:
            def cut(m: re.Match[str], keep: str = drug) -> str:
                name = self.lexicon.drugs.get(m.group(0).lower())
                return "\0" if name in drugs and name != keep else m.group(0)
            text = _NAME.sub(cut, question)
            for joined, by in (*_JOINED_GAP, *_ASKED_ALONE):
                text = joined.sub(by, text)
            side = _COMPARING.sub(" ", text.replace("\0", " "))
            side = " ".join((side if content_words(side) else text.replace("\0", " ")).split())
            side = re.sub(r"\s+([?.,;:!])", r"\1", side).strip(" ,;:")
            sides.append(side[:1].upper() + side[1:])
        return sides

    def excerpt_drugs(self, chunk: Chunk, text: str) -> frozenset[str]:
        """The drugs an excerpt is about: those it names, and those of where it stands
        (``context_drugs``)."""
        return self.lexicon.drugs_in(text) | self.lexicon.context_drugs(chunk, text)

    def same_drug_mask(self, sentence: str, evidence: Sequence[Evidence]) -> np.ndarray:
        """1 for each excerpt that can back the sentence's drug claims, else 0: a sentence
        naming a drug needs an excerpt about that drug ("ketamine can cause drowsiness"
        is not backed by "dantrolene can cause drowsiness")."""
        named = self.lexicon.drugs_in(sentence)
        return np.array([1.0 if not named or named & self.excerpt_drugs(e.chunk, e.text)
                         else 0.0 for e in evidence])

    def unbacked_drugs(self, sentence: str, backing: Sequence[Evidence]) -> frozenset[str]:
        """The drugs asked about together (``compared``) that the sentence names and none of
        its backing excerpts is about."""
        named = self.lexicon.drugs_in(sentence) & frozenset(self.compared)
        if len(named) < 2:
            return frozenset()
        about = frozenset().union(*(self.excerpt_drugs(e.chunk, e.text) for e in backing))
        return named - about

    def names(self, sentence: str) -> set[str]:
        """The specific things a sentence names ("baclofen", "hyperthermia"; words rare in
        English that are not only verbs or adverbs; codes such as "B12"), but the corpus's
        drugs, which ``same_drug_mask`` checks."""
        return {w for w in terms(MARKER.sub(" ", sentence))
                if (len(w) >= NOVEL_TERM_LEN - 1 and rare(w) and not only_verb(w)
                    or _CODE.match(w)) and w not in self.lexicon.drugs}

    def names_mask(self, sentence: str, evidence: Sequence[Evidence]) -> np.ndarray:
        """1 for each excerpt whose document (its excerpts shown) states every specific
        thing the sentence names, else 0: "The usual dose of baclofen is a critical factor"
        is not backed by the same words about dantrolene. The document, not the excerpt: a
        sentence may join two excerpts of one article ("modulates serotonin and dopamine,
        which regulate mood and cognition"). But a thing the question names must be in the
        excerpt itself when another excerpt of its document names it (``elsewhere``): "The
        recommended dosage of valacyclovir for treatment of shingles is 1 gram twice daily
        for 10 days", copied from the genital herpes line of a page that names shingles
        only among its uses."""
        mask = np.ones(len(evidence))
        names = self.names(sentence)
        if names:
            backed = {doc: states(text, names)
                      for doc, text in shown_by_document(evidence).items()}
            mask *= [1.0 if backed[e.chunk.doc_id] else 0.0 for e in evidence]
        said = frozenset(w for w in self.asked_names if states(sentence, [w]))
        off = self.elsewhere(evidence, said) if said else set()
        return mask * [0.0 if e.n in off else 1.0 for e in evidence]

    @functools.cached_property
    def asked_names(self) -> frozenset[str]:
        """The specific things the question names that the documents know (``names``):
        "epinephrine" in "How do I use an epinephrine pen?"; not a product's name beside the
        drug's ("solostar" in "the lantus solostar pen": a lantus line not naming the pen
        still answers)."""
        return frozenset(w for w in self.names(self.question)
                         if self.lexicon.vocabulary.knows(w) and w not in self.product_words)

    def names_asked(self, text: str) -> bool:
        """The text names an asked drug or one of the things the question names."""
        return bool(self.asked_drugs & self.lexicon.drugs_in(text)) \
            or states_any(text, self.asked_names)

    def documents_naming(self, evidence: Iterable[Evidence]) -> set[str]:
        """The documents whose excerpts shown name an asked drug or are about one (when the
        question names drugs), or else name one of ``asked_names`` (when it names any; with
        a drug named, ``elsewhere`` checks the names excerpt by excerpt)."""
        drugs, lexicon = self.focus.drugs, self.lexicon
        return {doc for doc, text in shown_by_document(evidence).items()
                if (not drugs or lexicon.drugs_in(text) & drugs
                    or lexicon.doc_drug.get(doc) in drugs)
                and (drugs or not self.asked_names
                     or states_any(text, self.asked_names))}

    def elsewhere(self, evidence: Sequence[Evidence],
                  names: frozenset[str] | None = None) -> set[int]:
        """The excerpts (numbers) naming none of ``names`` (default ``asked_names``) while
        another excerpt of their document names one: asked "How much valacyclovir is taken
        for shingles?", the page names shingles among its uses, so its dose lines for cold
        sores and genital herpes are other conditions' doses. A document naming none of
        them may say it in other words ("postherpetic neuralgia" for "nerve pain that
        follows shingles"). Not the setting's names: asked which tests are run for people
        given dantrolene "for muscle spasticity", the dantrolene article's liver-test line
        does not repeat "spasticity", yet it is no other condition's."""
        names = (self.asked_names if names is None else names) - self.setting
        if not names:
            return set()
        by_document = shown_by_document(evidence)
        return {e.n for e in evidence
                if states_any(by_document[e.chunk.doc_id], names)
                and not states_any(f"{e.chunk.section or ''} {e.text}", names)}

    def topic_mask(self, evidence: Sequence[Evidence]) -> np.ndarray:
        """For a question naming no drug the documents know: 1 for each excerpt whose
        document names one of the things the question names, else 0 (all 1 when it names
        none). Asked "how to use an epinephrine pen", where epinephrine is named only in
        passing and so is no known drug, a rectal syringe's and an insulin pen's
        instructions were the answer. A question naming a drug is screened by drug
        (``about``, ``same_drug_mask``)."""
        if self.focus.drugs or not self.asked_names:
            return np.ones(len(evidence))
        naming = self.documents_naming(evidence)
        return np.array([1.0 if e.chunk.doc_id in naming else 0.0 for e in evidence])

    def new_terms(self, sentence: str) -> set[str]:
        """Stems of its content words that the question, the names it asks about and
        GENERIC lack (naming another drug says something: "Which medicines are prescribed
        for Alzheimer's?")."""
        found = {w for w in terms(MARKER.sub(" ", sentence)) if len(w) >= 3
                 and w not in STOPWORDS and self.lexicon.drugs.get(w) not in self.focus.drugs}
        implied = {s for asked in self.asked for s in _IMPLIED.get(asked, ())}
        return {s for s in stems(found)} - self.asked - GENERIC - implied

    def clipped(self, sentence: str, source: str) -> bool:
        """The sentence copies ``source`` (CLIPPED_COPY of its word pairs are there, in
        the same order: "Dantrolene is a muscle relaxant" does not copy "Dantrolene's
        mechanism of action is distinct from other muscle relaxants"; or CLIPPED_RUN of
        them in a row) but leaves out at
        least CLIPPED_LEFT words that say something (not the question's, not GENERIC), and
        ``source`` names no drug beyond those asked about."""
        if not copies(sentence, source):
            return False
        said = words(MARKER.sub(" ", sentence))
        lead, colon, rest = source.rpartition(":")
        if colon and tuple(said[:2]) not in set(itertools.pairwise(words(lead))):
            source = rest  # a list item copied whole: its lead-in is not left out
        left = set(stems(content_words(source))) - set(stems(content_words(sentence)))
        return len(left - self.asked - GENERIC) >= CLIPPED_LEFT \
            and not self.names_another(source)

    def echo(self, sentence: str) -> bool:
        """It only restates the question."""
        return not self.new_terms(sentence)

    def unlike_only(self, sentence: str, excerpt: Evidence, min_coverage: float) -> bool:
        """The excerpt names the sentence's drugs only in what it contrasts its own drug
        with ("Unlike warfarin, which requires a slow reduction, heparin … can be stopped
        quickly"), and that clause alone does not hold the sentence: the excerpt says
        nothing else of them. "Warfarin can be started and stopped quickly" was held by it
        (dev q283)."""
        clauses = [m.group(1) for m in UNLIKE.finditer(excerpt.text)]
        # drugs, and things known by no drug's name (warfarin, named once, is no drug)
        said = self.lexicon.drugs_in(sentence) | self.names(sentence) if clauses else set()
        if not said:
            return False
        rest = UNLIKE.sub(" ", excerpt.text)
        if said & (self.excerpt_drugs(excerpt.chunk, rest) | self.names(rest)):
            return False
        contrasted = " ".join(clauses)
        return bool(said & (self.lexicon.drugs_in(contrasted) | self.names(contrasted))) and all(
            lexical_support(sentence, clause) < min_coverage for clause in clauses)

    def flips(self, sentence: str, excerpt: str) -> bool:
        """A clause of the sentence restates a clause of the excerpt with its negation
        turned: every word of the excerpt's clause that says something (no name, GENERIC
        word or negation), two at least, is in the sentence's, and one of the two negates.
        "Current medicines may slow the progression of AD" against "Currently there are no
        medicines that can slow the progression of AD": lexically well supported, the
        opposite of what the document says. A clause naming a drug the sentence does not
        name is about something else."""
        said = _plain(sentence)
        # The drug or condition asked about is the sentence's subject, named or not: "Risk
        # factors you can change include gender", answering "… risk factors for
        # osteoporosis …", restates "Some risk factors for osteoporosis cannot be changed"
        # turned round.
        named = self.lexicon.drugs_in(said) | self.focus.drugs
        restated = [(_negates(part), set(stems(terms(part)))) for part in _CLAUSES.split(said)]
        return any(not drugs - named and any(claim <= used and negates != negative
                                             for negates, used in restated)
                   for negative, claim, drugs in self._claims(excerpt))

    def swaps(self, sentence: str, excerpt: str) -> bool:
        """Clauses of the sentence, each naming one drug, give each what a sentence of the
        excerpt naming them all gives another: its words that no other clause uses stand
        nearer there to another drug's name than to their own. "Humira is given by an
        injection in the vein, while Remicade is given by an injection in the skin" from
        "…an injection in the vein, infliximab (Remicade), or an injection in the skin,
        adalimumab (HUMIRA)" (round 17; lexically well supported, turned round)."""
        parts = []
        for clause in _PAIRED.split(MARKER.sub(" ", sentence)):
            tokens = terms(clause)
            if len(set(self._named(tokens))) == 1:
                parts.append((self._named(tokens)[0],
                              set(stems([w for w in tokens if not self._named([w])]))))
        if len({drug for drug, _ in parts}) < 2:
            return False
        own = [(drug, said.difference(*(w for j, (_, w) in enumerate(parts) if j != k)))
               for k, (drug, said) in enumerate(parts)]
        return any(self._nearer_others(terms(excerpt[a:b]), own)
                   for a, b in sentence_spans(excerpt))

    def _named(self, words: Sequence[str]) -> list[str]:
        """The drugs (canonical) or other names among ``words``, in order."""
        return [self.lexicon.drugs.get(w, w) for w in words
                if w in self.lexicon.drugs or w in self.names(w)]

    def _nearer_others(self, tokens: list[str], own: list[tuple[str, set[str]]]) -> bool:
        """In a sentence naming every drug of ``own``, more of each one's words stand
        nearer another's name than its own than the other way round."""
        at: dict[str, list[int]] = {}
        for i, token in enumerate(tokens):
            for name in self._named([token]):
                at.setdefault(name, []).append(i)
        if not all(drug in at for drug, _ in own):
            return False
        nearer = {True: 0, False: 0}  # a word nearer its own drug's name, or not
        for i, root in enumerate(stems(tokens)):
            for drug, said in own:
                if root in said:
                    mine = min(abs(i - p) for p in at[drug])
                    other = min(abs(i - p) for d, _ in own if d != drug for p in at[d])
                    if mine != other:
                        nearer[mine < other] += 1
        return nearer[False] > nearer[True]

    def _claims(self, excerpt: str) -> list[tuple[bool, frozenset[str], frozenset[str]]]:
        """Each clause of an excerpt that says something (two words at least): whether it
        negates, the stems of those words, the drugs it names. Worked out once per excerpt
        for the question, not once per answer sentence."""
        cache = self._claims_by_excerpt
        if excerpt not in cache:
            text = _plain(excerpt)
            found = []
            for s, e in sentence_spans(text):
                for clause in _CLAUSES.split(text[s:e]):
                    claim = frozenset(
                        stem(w) for w in terms(clause) if len(w) >= 3 and w not in STOPWORDS
                        and w not in _NEGATING and not self.aside(w)) - GENERIC - _TIME_FRAME
                    if len(claim) >= 2:
                        found.append((_negates(clause), claim, self.lexicon.drugs_in(clause)))
            cache[excerpt] = found
        return cache[excerpt]

    @functools.cached_property
    def _claims_by_excerpt(self) -> dict[str, list[tuple[bool, frozenset[str], frozenset[str]]]]:
        return {}


# When a claim holds does not change what it says: "Currently there are no medicines that
# can slow the progression of AD" is turned round by "There are medicines that can … slow
# the progression of Alzheimer's disease" (dev c039), which does not say "currently".
_TIME_FRAME = frozenset(stems("currently presently now today nowadays still".split()))

# Words that negate a clause, for ``Relevance.flips`` (stricter than the polarity words of
# ``finishing``: "without", "free" or "limited" often say no such thing).
_NEGATING = frozenset("""not no never cannot neither nor none nothing avoid avoided avoiding
    avoids""".split())
# Phrases with a negation word that do not negate: "not only", "with or without food".
_NOT_NEGATING = re.compile(r"\b(?:not (?:only|just|merely)|whether or not|if not|no matter"
                           r"|no doubt|with or without)\b", re.IGNORECASE)
# A contrast with something else: "Unlike warfarin, which requires a slow reduction, heparin
# treatment can be started and stopped quickly." Group 1: what the sentence says of the
# thing it is unlike.
UNLIKE = re.compile(r"\bunlike\b([^,;]*(?:,\s*(?:which|who|that)\b[^,;]*)?)[,;]",
                    re.IGNORECASE)
# Where a sentence contrasting two things splits into clauses that can be checked apart
# (``verification``: "A does x, while B does y").
CONTRAST = r",?\s+(?:while|whereas)\s+|;\s+|,\s+but\s+"
# Where a sentence pairs one thing with one drug and another with another, for
# ``Relevance.swaps``: the contrasts and ", and".
_PAIRED = re.compile(rf"{CONTRAST}|,\s+and\s+|,?\s+(?:but|unlike)\s+", re.IGNORECASE)
# Where a sentence turns to another claim, for ``Relevance.flips``: the contrasts, and more.
_CLAUSES = re.compile(rf"{CONTRAST}|,?\s+(?:but|however|although|though|yet)\s+|:\s+",
                      re.IGNORECASE)


def _plain(text: str) -> str:
    """Typographic apostrophes straightened, phrases that do not negate taken out, and
    lines joined (a leaflet's wrapped line is not a sentence of its own)."""
    return _NOT_NEGATING.sub(" ", _WRAPPED.sub(" ", text.replace("\u2019", "'")))


_WRAPPED = re.compile(r"(?<!\n)\n(?!\n)")


# "Who should get the shingles vaccine?", "Which patients can take X?": a question about who
# may do something, its modal and its verb.
_WHO_MAY = re.compile(r"^\W*(?:who|which (?:people|patients|adults|children|persons))\b"
                      r"[^?]*?\b(should|can|could|may|must)\s+"
                      r"(?:(?:i|you|we|they|safely|still|also)\s+)?(\w+)",
                      re.IGNORECASE)


def turns_round(question: str, sentence: str) -> bool:
    """The sentence answers the question turned round: asked who should (or can) do
    something, it says who should not ("Who should get the shingles vaccine?" -> "You
    should NOT get the shingles vaccine if you have an active case of shingles"); the same
    modal, negated, then the question's verb within two words."""
    turned = _turned(question)
    if turned is None:
        return False
    negated, verb = turned
    return any(s.startswith(verb) or verb.startswith(s)  # "take" and "taken"
               for m in negated.finditer(sentence.replace("\u2019", "'"))
               for s in stems(terms(m.group(1))))


@functools.lru_cache(maxsize=256)
def _turned(question: str) -> tuple[re.Pattern[str], str] | None:
    """For a "who should / which patients can" question (not negated): the pattern of its
    modal negated with the words after it, and its verb's stem; worked out once per
    question, not per sentence checked."""
    asked = _WHO_MAY.search(question)
    if asked is None or _negates(question):
        return None
    modal, verb = asked.group(1).lower(), stem(asked.group(2).lower())
    return re.compile(rf"\b{modal}(?:\s*not|n't|'t)\s+((?:\w+\s+){{0,2}}\w+)",
                      re.IGNORECASE), verb


def _negates(text: str) -> bool:
    found = words(text)
    return any(w in _NEGATING or w.endswith("n't") for w in found)
