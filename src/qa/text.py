"""The small text vocabulary every stage shares: words, stems, sentences, citation markers.

One definition of each, so that the evidence the model sees, the answer it writes, the
verification of that answer and the keyword index all cut text the same way.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import Stemmer

# A word: letters and digits, with hyphenated or apostrophe'd parts kept together
# ("anti-inflammatory", "alzheimer's"). The keyword side splits at apostrophes first
# (``terms``), so "Alzheimer's" also finds "Alzheimer".
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# "[1]", "[1, 2]", "[1][3]" and the fullwidth/【】 variants small models sometimes emit.
MARKER = re.compile(r"[\[【]\s*(\d+(?:\s*[,;]\s*\d+)*)\s*[\]】]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# A sentence ends at . ! ? (then any citation markers) before a capital, digit, quote,
# bracket or list mark; a line break always ends one. ``any_case`` also ends it before a
# lower-case word, for text people type ("what does it treat? also, ...").
_MARKERS_AFTER = r"((?:\s*\[\d+(?:,\s*\d+)*\])*)"
# The "2." of an inline numbered list ("... is crucial. 2. **Dosing:** ...") starts the
# next item: it is not the end of a sentence.
_NOT_A_LIST_NUMBER = r"(?<!\s\d\.)(?<!\s\d\d\.)(?<!^\d\.)(?<!^\d\d\.)"
# Nor does the full stop of a title before a name ("St. John's wort", "Dr. Smith"): cut
# there, "…include garlic, ginger, ginkgo, St." lost the herb it was naming.
_NOT_A_TITLE = r"(?<!\bSt\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)"
_BOUNDARY = re.compile(
    rf"(?<=[.!?]){_NOT_A_LIST_NUMBER}{_NOT_A_TITLE}{_MARKERS_AFTER}\s+(?=[A-Z0-9\"'(*-])"
    r"|()\n+")
_BOUNDARY_ANY_CASE = re.compile(
    rf"(?<=[.!?]){_NOT_A_LIST_NUMBER}{_NOT_A_TITLE}{_MARKERS_AFTER}\s+(?=\S)|()\n+")
_LIST_MARKS = "-*• "
# A list item ("- x", "* x", "2. x", "3) x"), or the sentence that opens a numbered list.
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+|:\s+1[.)]\s")
# A sentence that ends where its list should begin ("Hypoglycemia causes symptoms such as
# [7].", "Symptoms of low blood sugar may include:"): alone, it says nothing.
# Also one ending in a word no sentence ends with ("People who are at increased risk of
# kidney stones are those with", then the list, on MedQuAD's pages).
LEAD_IN_ONLY = re.compile(r"(?:\b(?:such as|includes?|including|the following|as follows"
                          r"|namely|e\.g|with|of|for|by|from|are|were|the|and|or)|:)\W*$",
                          re.IGNORECASE)
# A sentence that opens by pointing back ("This reduces potential risks", "These side
# effects can impact…"): alone, it does not say what it is about.
POINTS_BACK = re.compile(r"^\W*(?:this|these|those|such|it|its|they|their)\b", re.IGNORECASE)

STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if
    in into is it its may might more most no not yes of on or our should so such than that the
    their them then there these they this those to was were what when where which while who
    why will with would you your also other some any each about after before over under till
    very often used use using however passage passages according document documents""".split()
) | frozenset(
    # How answers refer to their sources ("the article states that…"): not claims to check.
    """article articles text texts source sources author authors state states stated say says
    said mention mentions mentioned describe describes described explain explains explained
    note notes noted report reports reported suggest suggests""".split()
) | frozenset(
    # What is left of a negative contraction split at its apostrophe ("aren't" -> "aren",
    # "t"): "arent they both just blood thinners" was refused, "They never mention 'aren'".
    """isn aren wasn weren doesn don didn couldn shouldn wouldn hasn haven hadn mustn needn
    won""".split()
)


def words(text: str) -> list[str]:
    """Lower-case word tokens, in order."""
    return WORD.findall(text.lower())


def with_parts(tokens: list[str]) -> list[str]:
    """The tokens, then the parts of each hyphenated one ("drug-eluting" -> "drug",
    "eluting"; "well-tolerated" uses "tolerated")."""
    return [*tokens, *(part for t in tokens if "-" in t for part in t.split("-"))]


def terms(text: str) -> list[str]:
    """Search terms: words with possessives and contractions split ("alzheimer's" ->
    "alzheimer", "s"), for the keyword index, spelling fixes and query rewriting."""
    return words(text.replace("'", " "))


def content_words(text: str) -> set[str]:
    """Words that carry meaning (no stopwords, 3+ letters), with a crude plural fold
    ('receptors' -> 'receptor')."""
    found = set()
    for word in words(text):
        if word in STOPWORDS or len(word) < 3:
            continue
        found.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return found


def lexical_support(sentence: str, passage_text: str) -> float:
    """Share of the sentence's content words that the passage contains (0..1)."""
    wanted = content_words(MARKER.sub(" ", sentence))
    if not wanted:
        return 0.0
    return len(wanted & content_words(passage_text)) / len(wanted)


def numbers(text: str) -> set[str]:
    """The numbers a text states, thousands separators dropped ("1,000" -> "1000")."""
    return {n.replace(",", "") for n in NUMBER.findall(text)}


@functools.cache
def zipf(word: str) -> float:
    """How common a word is in English (wordfreq's Zipf scale: 6 = "because", 4 =
    "pregnancy", 3 = "aspirin", 0 = never seen, as most misspellings)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


@functools.cache
def _stemmer() -> Stemmer.Stemmer:
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The Snowball English stem of one lower-case word."""
    return str(_stemmer().stemWord(word))


def stems(tokens: Iterable[str]) -> list[str]:
    """Snowball English stems of lower-case words, in order."""
    return list(_stemmer().stemWords(list(tokens)))


# The people a question may be asked for ("is there a special flu shot for my grandma"):
# who takes the medicine, never what the question asks about.
RELATIONS = frozenset("""mom mum mommy mummy mother dad daddy father son daughter wife husband
    partner friend boyfriend girlfriend brother sister baby child kid toddler grandma
    grandmother grandpa grandfather granny nan aunt uncle parent roommate flatmate neighbor
    neighbour coworker colleague""".split())

# Who looks after the person asked about: who told or prescribed, never what is asked
# ("derm gave me betamethasone cream…", "her pediatrician put her on antibiotics…")
CARERS = frozenset("""doctor doc dr physician gp pediatrician paediatrician ped peds derm
    dermatologist neuro neurologist cardiologist cardio urologist endo endocrinologist
    rheumatologist rheumy oncologist onc psychiatrist psych therapist dentist pharmacist
    pharmacy nurse midwife surgeon allergist gastro gastroenterologist pulmonologist
    nephrologist obgyn gyno gynecologist ent orthopedist ortho vet""".split())


# Words a reader and a leaflet use for the same thing: "What should patients tell their
# doctor about?" is answered by "…report any concerning symptoms to their healthcare
# provider". Each group's words count as each other in ``finishing._coverage``, and a
# question's word is known to the documents when they use another of its group
# (``scope.Vocabulary.knows``: "raise" when they say "increased").
_SAME_THING = [stems(group.split()) for group in (
    "doctor doctors physician physicians provider providers prescriber clinician gp",
    "tell report inform notify",
    "medicine medicines medication medications meds drug drugs",
    "stop stopping discontinue discontinuing quit quitting",
    "kid kids child children pediatric paediatric",
    "pregnant pregnancy",
    "breastfeeding breastfeed nursing lactation",
    "shot shots injection injections jab",
    "elderly older seniors",
    "sleepy drowsy drowsiness",
    "tired tiredness fatigue",
    "vomit vomiting throw",
    "belly stomach abdominal",
    "stool stools poop poo feces faeces",
    "diarrhea diarrhoea runs",
    "kidney kidneys renal",
    "liver hepatic",
    "safe safety unsafe",
    "allergy allergies allergic",
    "raise raises raised increase increases increased elevate elevated",
    "worse worsen worsens worsening progression progress progresses progressive",
    "worry worries concern concerns",
    "caution cautious careful carefully precaution precautions",
    "swap swapping switch switching substitute substituted substituting",
    "colour colours coloured color colors colored",
    "bladder urinary",
    "highest maximum max greatest",
    "pill pills tablet tablets caplet caplets",
    "beer beers wine liquor alcohol alcoholic",
    "puffer puffers inhaler inhalers",
    "puff puffs inhalation inhalations",
    "afib fibrillation",
    "affect affects affected effect effects",
    "coffee caffeine",
    "combo combination",
    "infusion infusions intravenous intravenously drip",
    # round 16: "should i take my trospium with breakfast" ("…one hour before meals"),
    # "could she have gotten ringworm from our cat" ("…or even from a pet")
    "meal meals breakfast lunch dinner supper",
    "pet pets cat cats dog dogs",
)]
SYNONYMS: dict[str, frozenset[str]] = {
    s: frozenset(group) for group in _SAME_THING for s in group}


def sentence_spans(text: str, *, any_case: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of ``text``, whitespace trimmed.

    Citation markers right after a sentence's full stop stay with that sentence:
    "One fact. [1] Two facts [2]." is two spans, "One fact. [1]" and "Two facts [2].".
    """
    boundary = _BOUNDARY_ANY_CASE if any_case else _BOUNDARY
    spans, last = [], 0
    for match in boundary.finditer(text):
        end = match.end(1) if match.group(1) is not None else match.start()
        spans.append((last, end))
        last = match.end()
    spans.append((last, len(text)))
    out = []
    for start, end in spans:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            out.append((start + lead, start + trail))
    return out


# Words a heading leaves in lower case ("Other Types of Treatment").
_HEADING_SMALL = frozenset("a an and as at by for from in of on or the to vs with".split())


def heading_like(line: str) -> bool:
    """A line that names a section rather than says something: a few words, every one but
    the small ones capitalised, no closing punctuation, no digits and no brand marks
    ("Travel Tips", "Other Types of Treatment"; not "NORCO® 5/325", "ear infections", nor
    a line in capitals, often a list's item: "SODIUM HYDROXIDE" among inactive ingredients).
    Plain-text pages (MedQuAD's) set their inner headings as such lines; shown as an
    excerpt, one was the whole answer to "Any tips for the flight?"."""
    tokens = line.split()
    if not 2 <= len(tokens) <= 6 or re.search(r"[.!?:;)]\s*$|[\d®™,]", line) \
            or line.upper() == line:
        return False
    return all(t[0].isupper() or t.lower() in _HEADING_SMALL for t in tokens)


# A sentence asking without its "?": "my grandpa had an epidural and now hes on enoxaparin
# shots. what symptoms should we watch for"
_ASKS = re.compile(r"^\W*(?:what|how|which|why|where|who|when|is|are|can|could|should|does"
                   r"|do|will|would)\b", re.IGNORECASE)
# ...or as a question turned round a "not": "cant she just take b12 pills instead"
_ASKS_NOT = re.compile(r"^\W*(?:is|are|can|could|should|does|do|will|would)(?:n'?t|nt|\u2019t)\b"
                       r"|^\W*cant\b", re.IGNORECASE)


def asking(sentences: Sequence[str]) -> int | None:
    """Which of a message's sentences asks: the one ending in "?" (None when several do),
    the rest tell around it ("I've been on lorazepam for a few months. Can I just quit
    it?"); with none ending so, of two or more, the one sentence opening as a question
    does (typed without its "?"); a message of one sentence asks in it, "?" or not ("my
    grandpa has an irregular heart rhythm and needs an antidepressant, is sertraline one of
    the ones that doesnt mess with the qt thing")."""
    asked = [i for i, sentence in enumerate(sentences) if sentence.endswith("?")]
    if not asked and len(sentences) > 1:
        asked = [i for i, sentence in enumerate(sentences) if _ASKS.match(sentence)]
    elif not asked and sentences:
        asked = [0]
    return asked[0] if len(asked) == 1 else None


# "I'm 55 and healthy, can I get the Shingrix shot yet?": a clause told before the comma of
# the sentence that asks. Not a clause that sets the question's own condition ("If I miss a
# dose, should I double up?", "When I stand up, why do I feel dizzy?"): that is asked.
_TOLD_CLAUSE = re.compile(
    r"^(?!(?:if|when|whenever|while|after|before|since|because|although|though|once|unless"
    r"|until|as|for|with|without|besides|instead|in case|other than)\b)"
    r"(?P<told>[^?]{8,}?),\s+(?:(?:and|so|but)\s+)?"
    # …nor the clause a question about what it names together asks of: "my husband is on
    # lovastatin and another doctor wants to add gemfibrozil, is that combo ok"
    r"(?![^?]*\b(?:combo|combination|combined|together|mix|mixing|both)\b)"
    r"(?P<asked>(?:is|are|am|was|were|does|do|did|can|could|should|shall|will|would|may"
    r"|might|has|have|had|what|how|which|why|where|who)\b[^?]*\??)$", re.IGNORECASE)


# ...and one told after it, opening on who it is about: "cant she just take b12 pills
# instead, she hates needles", "is there a special flu shot for my grandma, shes 82", "what
# dose should I take, I weigh 70kg?" (rounds 11, 16: the told words refused as the topic).
# Not a clause asking again ("…, is that ok"), nor one the asked part hangs on ("…, it").
_TOLD_AFTER = re.compile(
    r"^(?P<asked>[^?]{8,}?),\s+(?:(?:and|but|bc|because|since|as)\s+)?"
    r"(?P<told>(?:she|he|i|we|they|my|her|his|our|im|i'm|i\u2019m|shes|she's|hes|he's)\b"
    r"(?![^?]*\b(?:is|are|can|could|should|will|would|does|do|did)\s+"
    r"(?:it|that|this|these|those|there|i|he|she|we|they)\b)[^,?]*?)\W*$", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def told_and_asked(message: str, *, loose: bool = True) -> tuple[str, str] | None:
    """What a message tells and the question it asks (``asking``); None when no one
    sentence asks. ``loose``, as people type: a sentence may start in lower case, a
    clause before the comma of the asking sentence is told (``_TOLD_CLAUSE``), and so is
    one after it opening on who it is about (``_TOLD_AFTER``); else whole sentences only."""
    sentences = [message[slice(*span)] for span in sentence_spans(message, any_case=loose)]
    k = asking(sentences)
    if k is None:
        return None
    told, asked = sentences[:k] + sentences[k + 1:], sentences[k]
    clause = _TOLD_CLAUSE.match(asked) if loose else None
    if clause is None and loose and (_ASKS.match(asked) or _ASKS_NOT.match(asked)):
        clause = _TOLD_AFTER.match(asked)
    if clause is not None:
        told, asked = [*sentences[:k], clause.group("told"), *sentences[k + 1:]], clause["asked"]
    return " ".join(told), asked


def asking_part(message: str) -> str:
    """The sentence or clause of ``message`` that asks (``told_and_asked``), else all of it."""
    split = told_and_asked(message)
    return message if split is None else split[1]


def split_sentences(text: str) -> list[str]:
    """An answer's sentences and list lines, markers attached, list marks ("- ", "* ") gone."""
    pieces = (text[s:e].lstrip(_LIST_MARKS).strip() for s, e in sentence_spans(text))
    return [p for p in pieces if p]


def fold(text: str) -> str:
    """Lower case, no accents, no apostrophes ("I'm" -> "im"), other punctuation as single
    spaces: the form rule tables and duplicate checks compare."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['\u2018\u2019`\u00b4]", "", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


class SentenceStream:
    """Complete sentences out of streamed text: a sentence is complete once the next one
    has begun (its citation markers have arrived by then), or when the text ends."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        """The sentences ``piece`` completed, in order."""
        self._buffer += piece
        spans = sentence_spans(self._buffer)
        if len(spans) < 2:
            return []
        done = [self._buffer[s:e] for s, e in spans[:-1]]
        self._buffer = self._buffer[spans[-1][0]:]
        return done

    def flush(self) -> list[str]:
        """The last sentence, once the text is complete."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


def renumbered(text: str, offset: int) -> str:
    """The text with each citation marker's numbers moved up by ``offset`` ("[2]" -> "[7]"):
    the second part of an answer cites excerpts numbered after the first part's."""
    if not offset:
        return text
    return MARKER.sub(lambda m: "[" + ", ".join(
        str(int(n) + offset) for n in re.split(r"\s*[,;]\s*", m.group(1))) + "]", text)
