"""After verification: the yes/no opener, the extractive fallback, and links.

* **Polarity.** A small model opens nearly every yes/no answer with "Yes". The opener is
  kept only when the excerpt that best addresses the question agrees with it (a negation
  or avoidance word in the excerpt, against none in the question, means "no"; "does X
  increase Y?" needs an excerpt that says which way X moves Y, and "reduces" means "no";
  "can" or "may" answers "always?" and "all?" with no); otherwise it is removed and the
  rest of the answer must stand on its own. When the model's first sentence itself
  answers one way ("It is safe to drive after taking X", a yes) and that excerpt does not
  say the same, with or without the opener, the model's answer is dropped and the excerpt
  quoted (or the question refused).
* **Extractive fallback.** When the model refused, or verification left nothing, but an
  excerpt answers the question directly, the answer is that excerpt, quoted and cited,
  with the whole list when the sentence is a list item.
* **Links.** An answer never carries a URL that no unflagged document contains.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from qa.embeddings import Embedder
from qa.scope import (
    GENERIC,
    NAMED_BONUS,
    POLAR_OPENERS,
    UNLIKE,
    Relevance,
    named_things,
    scored_question,
    specific,
    turns_round,
    weight,
)
from qa.text import (
    LEAD_IN_ONLY,
    LIST_ITEM,
    MARKER,
    POINTS_BACK,
    RELATIONS,
    STOPWORDS,
    SYNONYMS,
    asking_part,
    content_words,
    lexical_support,
    sentence_spans,
    stems,
    terms,
    told_and_asked,
    with_parts,
)
from qa.types import Citation, Evidence, SentenceCheck, Verdict
from qa.verification import DENIED_CLAIM

_OPENER = re.compile(r"^\s*(yes|no)\b[\s,.:;!-]*", re.IGNORECASE)
# Words that turn a statement around: "avoid driving", "unlike drugs that act in the brain".
_NEGATION = frozenset(
    """not no never avoid avoided avoiding unlike without cannot can't don't doesn't isn't
    aren't won't shouldn't neither nor instead unsafe contraindicated unsupervised
    ineffective useless free limited lacking insufficient""".split())
# "Is gastritis always caused by H. pylori?" is not answered yes by "H. pylori … may cause
# an infection": a question asking always / only / all is settled only by a text that says
# so ("all at once", "at all" ask nothing of the kind).
_ALL = r"(?<!\bat )\ball\b(?! at once\b)"
_ASKS_ABSOLUTE = re.compile(r"\b(?:always|only|solely|exclusively|every|everyone|everybody)\b|"
                            + _ALL, re.IGNORECASE)
_SAYS_ABSOLUTE = re.compile(r"\b(?:always|only|solely|exclusively|every|everyone|everybody|"
                            r"all|never|none|no one|anyone|anybody)\b", re.IGNORECASE)
# A text that says something may or can happen, or happens to some, answers "always?" and
# "all?" with no: "Do all patients on dantrolene get liver damage?" / "Hepatotoxicity is a
# known risk, particularly with long-term use or higher doses". Not "only?": "Is memantine
# the only treatment?" is not answered by "It may slow the progression".
_ASKS_ALWAYS = re.compile(r"\b(?:always|every|everyone|everybody)\b|" + _ALL, re.IGNORECASE)
_HEDGE = frozenset("""may might can could some sometimes often usually most many risk risks
    potential potentially possible possibly particularly certain""".split())
# Which way a question or an excerpt says something moves: "Does memantine increase glutamate
# activity?" is not answered "yes" by "memantine modulates glutamate". Stems, so each word
# stands for its inflections ("reduces", "reducing").
_UP = frozenset(stems("increase raise boost elevate enhance stimulate".split()))
_DOWN = frozenset(stems("decrease reduce lower block inhibit suppress".split()))
# How a text compares two things: "less effective than levodopa" (less), "stronger than"
# (more), "as effective as" (same). Asked "are the agonist ones as good as levodopa?",
# "Dopamine agonists are generally less effective than levodopa…" had said "Yes.". Not an
# amount ("no more than 2 drinks", "more than one dose"): a limit, no comparison.
_NO_AMOUNT = r"(?!\s*(?:\d+|one|two|three|four|five|six|ten|a few|a couple|half)\b)"


def _compares(words: str) -> re.Pattern[str]:
    """Comparative ``words`` before "than"/"to", with a word between ("less effective
    than") or none, then not before an amount ("no more than 2 drinks")."""
    return re.compile(rf"\b(?:{words})\s+(?:(?!than\b)\w+\s+(?:than|to)\b|(?:than|to)\b"
                      rf"{_NO_AMOUNT})", re.IGNORECASE)


_COMPARED = (("more", _compares("more|better|stronger|greater|superior")),
             ("less", _compares("less|worse|weaker|fewer|inferior")),
             ("same", re.compile(r"\b(?:(?:just\s+)?as\s+(?:good|effective|strong|safe|potent|"
                                 r"bad|dangerous|helpful|useful|powerful|risky|fast|quick|well "
                                 r"tolerated)\s+as|equally|similar(?:ly)?\s+to|comparable\s+to"
                                 r"|the same as)\b", re.IGNORECASE)))
# Asked one way, said another: yes or no.
_COMPARED_ANSWER = {("same", "same"): "yes", ("same", "more"): "yes", ("same", "less"): "no",
                    ("more", "more"): "yes", ("more", "less"): "no", ("more", "same"): "no",
                    ("less", "less"): "yes", ("less", "more"): "no", ("less", "same"): "no"}


# A comparison said not to hold: "not more effective than", "not as good as".
_NOT_BEFORE = re.compile(r"\b(?:not|no|never|n't)\s+(?:\w+\s+)?$", re.IGNORECASE)
_DENIED = {"more": "same", "less": "same", "same": "less"}


def _comparison(text: str) -> str | None:
    """'more', 'less' or 'same' as the text compares one thing with another (the first
    found, ``_COMPARED``), a denied one read as what it leaves ("doses higher than 15
    mg/day were not more effective than 15 mg/day": the same), else None."""
    for way, pattern in _COMPARED:
        if (found := pattern.search(text)) is not None:
            return _DENIED[way] if _NOT_BEFORE.search(text[:found.start()]) else way
    return None


# A yes/no question naming a length of time is settled only by a text naming it: "Does the
# relief last for years?" was answered "Yes." beside "relief can last from several days to
# weeks". Stems: "hours", "permanently" count.
_TIME_SPANS = frozenset(stems(
    "second minute hour day week month year decade lifetime lifelong forever permanent".split()))
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)


@dataclass(frozen=True)
class Quote:
    """One evidence sentence (or list) with its place in the document and its score."""

    evidence: Evidence
    start: int
    end: int
    text: str
    score: float


# "What is X used for?" asks for a use: a stopword elsewhere, a topic word here.
_USE = frozenset("use used uses".split())
# Words typed for emphasis, not what is asked: "isnt aspirin an nsaid too tho?" ("too"
# stays: "takes too much" asks about an overdose)
_FILLERS = frozenset("tho though really actually just even anyway".split())
# "my 6 year old": a child, as the pages say ("children with fevers should not take
# aspirin"); "year" and "old" are no topic of their own
_AGE = re.compile(r"\b(\d{1,2})[- ]?(?:years?|yrs?)[- ]old\b", re.IGNORECASE)
CHILD_AGE = 18  # under this, "N years old" is a child


# An age a question gives for the person asked about: "my son is 7", "my 6 year old", "she
# just turned 4", "a 10-month-old" (months when so typed, else years); not "his sugar is
# 62", nor "she is 5 months pregnant"
_PERSON_IS = (r"(?:(?:he|she|i|(?:(?:my|our|his|her) )?(?:" + "|".join(sorted(RELATIONS))
              + r"|grandson|granddaughter|boy|girl|infant)s?) is|hes|shes|he's|she's|im|i'm"
              r"|turned|turns|aged?)")
_ASKED_AGE = re.compile(
    rf"\b{_PERSON_IS}\s+(?:only\s+|just\s+)?"
    r"(?P<n>\d{1,2})(?!\s*(?:\w+\s+)?(?:pregnant|along)\b)"
    r"(?:\s*(?P<u>years?|yrs?|months?|mos?)(?:[- ]old)?)?"
    r"(?!\s*(?:mg|mcg|ml|%|kg|kgs|kilos?|lbs?|pounds|times|days?|weeks?|hours?|tablets?"
    r"|pills?|doses?|percent|[.,]\d))\b"
    r"|\b(?P<n2>\d{1,2})[- ]?(?P<u2>years?|yrs?|months?|mos?|mo)[- ]old\b"
    r"|\b(?P<n3>\d{1,2}) ?yo\b", re.IGNORECASE)
# The ages a text is for, or not for: "patients 5 years of age and older", "children 2
# years and over", "aged 12 and up"; "children under 6", "younger than 2 years of age"
_AGE_UNIT = r"(?:\s*(?P<u>years?|months?))?(?:\s+of\s+age)?"
_AT_LEAST = re.compile(
    rf"\b(?P<n>\d{{1,2}}){_AGE_UNIT}\s+(?:and|or)\s+(?:older|over|up|above)\b"
    r"|\b(?:aged?|ages)\s+(?P<n2>\d{1,2})\s*(?P<u2>years?|months?)?\s+(?:and|or)\s+"
    r"(?:older|over|up)\b"
    # as labels write it: "to treat cold sores (for children ≥ 12 years of age)"
    r"|(?:≥|>=|⩾)\s*(?P<n3>\d{1,2})\s*(?P<u3>years?|months?)?", re.IGNORECASE)
_UNDER = re.compile(
    rf"\b(?:under|younger than|below|less than)\s+(?:the\s+age\s+of\s+|age\s+)?"
    rf"(?P<n>\d{{1,2}}){_AGE_UNIT}", re.IGNORECASE)
_NOT_FOR = re.compile(r"\b(?:not|never|avoid|shouldn't|should not|do not|don't|must not"
                      r"|contraindicated)\b", re.IGNORECASE)


def _months(match: re.Match[str]) -> int:
    """The age a match of ``_ASKED_AGE``, ``_AT_LEAST`` or ``_UNDER`` gives, in months."""
    groups = match.groupdict()
    n = next(int(groups[k]) for k in ("n", "n2", "n3") if groups.get(k))
    unit = next((groups[k] for k in ("u", "u2", "u3") if groups.get(k)), None) or "years"
    return n if unit.lower().startswith("mo") else 12 * n


def speaks_to_age(question: str, text: str) -> bool:
    """The question gives the age of the person it asks about and the text the ages a
    medicine is, or is not, for."""
    return _ASKED_AGE.search(question) is not None \
        and (_AT_LEAST.search(text) or _UNDER.search(text)) is not None


def age_answer(question: str, text: str) -> str | None:
    """'yes' or 'no' as a text's ages answer a yes/no question giving the age of the person
    it asks about: "my son is 7, is he old enough to use qvar" against "…in patients 5
    years of age and older" is yes; "Do not use in children under 2 years" is no at 18
    months. None when either gives no age, and for an age a text's ages leave out: at 4,
    "5 years of age and older" says nothing ("…used in adults 18 years or older" is
    followed by "also used in children to treat: ear infections" on the Zithromax page),
    nor does "under 2" at 3."""
    asked = _ASKED_AGE.search(question)
    if asked is None:
        return None
    age = _months(asked)
    if any(age >= _months(found) for found in _AT_LEAST.finditer(text)):
        return "yes"
    if any(age < _months(found) for found in _UNDER.finditer(text)) and _NOT_FOR.search(text):
        return "no"
    return None


def below_ages(question: str, text: str) -> bool:
    """The question gives an age under every age the text says it is for ("can my 10 yr
    old take valacyclovir for his cold sores?" against "…cold sores (for children ≥ 12
    years of age)"): what the text says of its use is no leave for this person."""
    asked = _ASKED_AGE.search(question)
    ages = [_months(found) for found in _AT_LEAST.finditer(text)]
    return asked is not None and bool(ages) and _months(asked) < min(ages)


def _as_child(match: re.Match[str]) -> str:
    return "child" if int(match.group(1)) < CHILD_AGE else match.group(0)


# "Is it true that X can cause Y?" asks about X causing Y, not about truth.
_CHECK_FRAME = re.compile(r"^\W*(?:is|isn't)\s+(?:it|this|that)\s+(?:really\s+)?(?:true|right"
                          r"|correct|accurate|so)\s+(?:that\s+)?", re.IGNORECASE)


# The weight of a word told around the question (not a specific name), against one asked,
# when quotes are ranked; whether a text says yes or no reads only what is asked and the
# names told ("…for about a year. can i just quit cold turkey?": the told "year" and "day"
# made "abrupt discontinuation … should be avoided" use too little of the question).
TOLD_WEIGHT = 0.5


def _topic(question: str, relevance: Relevance,
           told_weight: float = TOLD_WEIGHT) -> dict[str, float]:
    """Stems of what the question asks about (its content words, not the drug names), each
    with its weight (rarer words say more about what is asked); a word only told around
    the question, not a specific name, weighs ``told_weight`` as much (0: left out)."""
    # What the message tells around its question weighs less, but for the specific things
    # it names: "ive been on amiodarone about 8 months and im seeing halos around lights
    # at night. is that a known thing with it??" asks about "halos" more than "months" or
    # "night" (the quote "Some patients develop eye symptoms of halos…" scored under the
    # bar), and "does advil have aspirin in it? trying to sort out whats in our medicine
    # cabinet" hardly about "sort" or "cabinet"; "my dad had a stroke from a bleed in his
    # brain last year. would a daily aspirin stop him getting another one?" still asks
    # about a stroke.
    question = _AGE.sub(_as_child, question)
    split = told_and_asked(question)
    told, asked = split if split is not None else ("", question)
    found = [w for w in dict.fromkeys([*terms(_CHECK_FRAME.sub("", asked)), *terms(told)])
             if len(w) >= 3 and (w not in STOPWORDS or w in _USE) and w not in POLAR_OPENERS
             and w not in _FILLERS and not relevance.aside(w)]
    in_asked = set(terms(asked))
    if _only_who_takes(question, relevance):  # "my dad takes bumetanide 1 mg, what…"
        told_weight = 0.0
    factors = [1.0 if w in in_asked or specific(w) else told_weight for w in found]
    return {s: weight(w) * f for w, s, f in zip(found, stems(found), factors, strict=True)
            if s not in _TOPIC_GENERIC and f > 0}



# "Is it safe to stop taking X all at once?" is answered by "Do not stop taking X
# suddenly": a leaflet speaks of safety in warnings, so any warning word meets "safe".
_SAFETY = frozenset(stems("safe safely safety unsafe fine ok okay".split()))
_WARNING = frozenset(stems("avoid not never caution careful warning".split()))
# Asked "Is X OK for kids?", a text says yes only in words of safety or use: "…may also be
# used … in children and teenagers 10 to 17 years of age" does, "The American Academy of
# Pediatrics … released guidelines on the management of nociceptive pain in children" (on
# the tramadol page, under "When the Safe Alternative Is Not That Safe") does not.
_PERMITS = frozenset(stems("""safe safely safety tolerated tolerate approved recommended
    indicated suitable appropriate acceptable use used using given taken take prescribed
    allowed okay ok fine""".split()))


def _coverage(topic: dict[str, float], text: str, given: Collection[str] = ()) -> float:
    """Weighted share of the topic stems a text uses (or a word for the same thing; a
    warning for "safe"), ``given`` stems counting as used."""
    found = terms(text)
    # "well-tolerated" uses "tolerated": a compound's parts count as its words
    used = set(stems(with_parts(found)))
    used |= set(given)
    if used & _WARNING:
        used |= _SAFETY
    return sum(w for s, w in topic.items()
               if s in used or SYNONYMS.get(s, frozenset()) & used or _derived(s, used)
               ) / sum(topic.values())


# ``_derived``: a stem this long that starts another counts as the same word.
DERIVED_STEM = 7


def _derived(stem: str, used: set[str]) -> bool:
    """"hallucinations" (stem "hallucin") is used by "hallucinogenic" ("hallucinogen"): a
    word the stemmer left longer, starting with the whole of a long stem."""
    return len(stem) >= DERIVED_STEM and any(
        u.startswith(stem) or (len(u) >= DERIVED_STEM and stem.startswith(u)) for u in used)


# A dosage form says which product, as its drug's name does, not what is asked about it:
# "What is the expiration time for fluorouracil topical cream?" quoted how the cream acts
# on a lesion, for "topical cream".
_FORMS = frozenset(stems("""cream creams ointment gel lotion topical tablet tablets capsule
    capsules oral syrup suspension""".split()))
# Words that do not say what is asked ("what conditions can this medicine help"); unlike
# GENERIC (the echo test), "use" and "effect" stay: they are what "used for" and "side
# effects" ask about.
_TOPIC_GENERIC = GENERIC - set(stems("use used uses effect effects".split())) | _FORMS
# A question asking for an amount ("how much", "mg/kg", "maximum dose", "half-life") is
# answered only by a sentence that states a number; one asking how long or how often, by a
# number or a length of time or frequency in words ("for several weeks", "every month for
# the rest of your life": "How long can the relief from a single dose of ketamine last?"
# had been refused for want of a digit).
_NUMBER_ASKED = (r"how (?:much|many)|mg|mcg|ml|kg|milligrams?|dose per"
                 r"|maximum (?:daily )?dose|half-life|half life|percent|cost|price"
                 # "What is the usual dose of X?", "What dose…": an amount
                 r"|what(?:'s| is| are)?\s+(?:the\s+|a\s+)?(?:(?:usual|starting|"
                 r"recommended|typical|normal|daily|standard|initial)\s+)*dos(?:e|es|age)")
_ASKS_NUMBER = re.compile(rf"\b(?:{_NUMBER_ASKED})\b", re.IGNORECASE)
_ASKS_TIME = re.compile(r"\bhow (?:long|often)\b", re.IGNORECASE)
_STATES_TIME = re.compile(
    r"\d|\b(?:once|twice|daily|weekly|monthly|yearly|annually|hourly|nightly|seconds?|"
    r"minutes?|hours?|days?|weeks?|months?|years?|decades?|lifetime|lifelong|life|forever|"
    r"permanent(?:ly)?|indefinitely)\b", re.IGNORECASE)


# A question asking for a limit ("maximum dose", "the highest safe dose", "how much at
# most") is answered only by a sentence that states one: a starting dose or a remark on
# "optimizing dosing strategies" is not a maximum.
_ASKS_LIMIT = re.compile(r"\b(?:maximum|max|highest|upper limit|at most|limit)\b|\bthe most\b"
                         r"(?=[^?]{0,40}\b(?:take|taken|taking|have|use|used|using|give|given|giving)\b)",
                         re.IGNORECASE)
_INITIAL = re.compile(r"\b(?:initial|initially|starting|start|first)\b", re.IGNORECASE)
_STATES_LIMIT = re.compile(r"\b(?:maximum|maximal|max|highest|up to|exceed|no more than"
                           r"|not more than|at most|limit|upper)\b", re.IGNORECASE)
# "How much vitamin D…", "What is the usual dose…": a number with its unit. "How much
# vitamin D do older adults need?" was answered with a checklist stating "older than 65".
_ASKS_AMOUNT = re.compile(r"\bhow much\b(?![^?]{0,40}\b(?:cost|price|pay)\b)|\b(?:mg|mcg|ml"
                          r"|milligrams?|dose per|maximum (?:daily )?dose)\b"
                          r"|\bwhat(?:'s| is| are)?\s+(?:the\s+|a\s+)?(?:(?:usual|starting|"
                          r"recommended|typical|normal|daily|standard|initial)\s+)*"
                          r"dos(?:e|es|age)\b", re.IGNORECASE)
_UNIT = (r"(?:%|(?:mg|mcg|µg|g|grams?|ml|milliliters?|millilitres?|l|liters?|"
         r"litres?|milligrams?|micrograms?|units?|iu|international units|percent|tablets?|pills?|"
         r"capsules?|drops?|puffs?|doses?|cups?|ounces?|oz|teaspoons?|tablespoons?|servings?|"
         r"drinks?|glasses|pounds?|lbs?|kg|kilograms?|hours?|minutes?|times|per)\b)")
# An amount in words is an amount: "limit alcoholic drinks to two per day for men and one per
# day for women" (the model's right answer had been held for want of a digit, and a weight-
# loss sentence with digits quoted instead). "One" only before a unit ("one of them").
_NUMBER_WORD = (r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
                r"twenty|thirty|forty|fifty|sixty|hundred|thousand|dozen)\b")
_STATES_AMOUNT_WITH_UNIT = re.compile(
    rf"(?:\d(?:[\d.,]*\d)?|{_NUMBER_WORD}|\bone\b)\s*{_UNIT}", re.IGNORECASE)
# (what a question asks for, what a quote answering it must then state)
_STATES_AMOUNT = re.compile(rf"\d|{_NUMBER_WORD}|\bone\s+{_UNIT}", re.IGNORECASE)
# "What happens if someone takes too much simvastatin?" is answered only by a text on an
# overdose (the model's line on what simvastatin is used for had been kept), and "What
# does metoprolol look like?" by one stating a colour, shape or marking ("…look like
# tablets" had been kept).
_ASKS_OVERDOSE = re.compile(r"\b(?:take|takes|taking|took|taken|had|has|have|use|uses|using|"
                            r"used|swallow(?:s|ed)?|give|gives|given)\s+(?:way\s+)?too "
                            r"(?:much|many)\b|\boverdos", re.IGNORECASE)
_STATES_OVERDOSE = re.compile(r"\boverdos|\btoo (?:much|many)\b|\bmore than\b|\bexcess"
                              r"|\btoxic", re.IGNORECASE)
_ASKS_LOOK = re.compile(r"\blooks? like\b|\bwhat colou?rs?\b|\bcolou?rs? (?:is|are|of)\b"
                        r"|\bwhat shape\b|\bappearance\b", re.IGNORECASE)
_STATES_LOOK = re.compile(r"\bcolou?r|\bshape|\bimprint|\b(?:white|black|blue|red|pink|orange"
                          r"|yellow|green|brown|gr[ae]y|purple|lavender|beige|tan|peach|round"
                          r"|oval|oblong|capsule|diamond|triangular|square|scored)\b",
                          re.IGNORECASE)
# "When should lansoprazole be taken?" is answered by a time of day or a meal ("before
# eating in the morning"), not by "Lansoprazole should be taken long-term".
# Only when taking it is what is asked ("When should X be taken?", "when to take X"), not
# "When does X start working after taking it?" (an hour or a week answers that).
_ASKS_WHEN = re.compile(r"\bwhen (?:(?:should|do|does|is|are|can|must) [\w-]+ (?:be )?|to )"
                        r"(?:take|taken|use|used|given|apply|applied)\b|\bwhat time\b|"
                        r"\btime of (?:the )?day\b|\bmorning or (?:at )?(?:night|evening|bedtime)"
                        r"\b", re.IGNORECASE)
_STATES_WHEN = re.compile(r"\b(?:morning|mornings|evening|evenings|night|nightly|bedtime|"
                          r"breakfast|lunch|dinner|supper|meals?|mealtime|eating|food|"
                          r"stomach|same time)\b", re.IGNORECASE)
# (what a question asks for, what a sentence answering it must then state): the model's
# sentences wait for one that does (``misses_shape``), and quotes must (``quotes``)
# "How much does Shingrix cost without insurance?" was answered "You need two doses…": a
# number, but no price. A question on cost is answered only by a text on money.
_ASKS_PRICE = re.compile(r"\b(?:cost|costs|price|prices|pay|afford|expensive|cheap|cheaper)\b",
                         re.IGNORECASE)
_STATES_PRICE = re.compile(r"[$€£]|\b(?:costs?|price[sd]?|prices|dollars?|cents?|euros?|"
                           r"pounds?|free of charge|no charge|insurance|insurers?|copays?|"
                           r"medicare|medicaid|paid|pays?|afford\w*|expensive|cheap\w*)\b",
                           re.IGNORECASE)
_HELD_SHAPES = ((_ASKS_NUMBER, _STATES_AMOUNT), (_ASKS_TIME, _STATES_TIME),
                (_ASKS_OVERDOSE, _STATES_OVERDOSE), (_ASKS_LOOK, _STATES_LOOK),
                (_ASKS_WHEN, _STATES_WHEN), (_ASKS_PRICE, _STATES_PRICE))
_ANSWER_SHAPES = (*_HELD_SHAPES, (_ASKS_AMOUNT, _STATES_AMOUNT_WITH_UNIT),
                  (_ASKS_LIMIT, _STATES_LIMIT))


# "What is the brand name of memantine?" was answered "Memantine is classified as an NMDA
# receptor antagonist" (dev q060): a question asking for a brand is answered only by a text
# that states one, a brand word or another name the documents give the drug.
_ASKS_BRAND = re.compile(r"\b(?:brand|trade|proprietary)[ -]?names?\b|\bbrands?\b"
                         r"|\b(?:sold|marketed) (?:as|under)\b", re.IGNORECASE)
_STATES_BRAND = re.compile(r"\bbrands?\b|\btrade[ -]?names?\b|\b(?:sold|marketed) (?:as|under)\b"
                           r"|[\u00ae\u2122]", re.IGNORECASE)


# A name the excerpt marks as a brand: "Microzide®".
_MARKED_BRAND = re.compile(r"([A-Za-z][\w-]+)\s*[\u00ae\u2122]")


def brand_names(question: str, relevance: Relevance,
                evidence: Sequence[Evidence] = ()) -> frozenset[str] | None:
    """None when the question asks for no brand name; else the other names the documents
    give an asked drug ("diazepam (Valium)") and the names the excerpts mark as brands
    ("Esidrix®¶ Hydrodiuril®¶ Microzide®": the model's right "Esidrix, Hydrodiuril,
    Microzide…", without the marks, had been taken for no brand), any of which states
    one."""
    if not _ASKS_BRAND.search(question):
        return None
    drugs = relevance.lexicon.drugs
    marked = {m.lower() for e in evidence for m in _MARKED_BRAND.findall(e.text)}
    return frozenset(({n for n, c in drugs.items() if c in relevance.focus.drugs} | marked)
                     - set(terms(question)))


def _states_no_brand(text: str, names: frozenset[str] | None) -> bool:
    """Asked for a brand (``names`` not None), the text states none: no brand word and none
    of ``names``."""
    return names is not None and not _STATES_BRAND.search(text) \
        and not names & set(terms(text))


def misses_brand(question: str, text: str, relevance: Relevance,
                 evidence: Sequence[Evidence] = ()) -> bool:
    """The question asks for a drug's brand name and the text states none (see
    ``brand_names``)."""
    return _states_no_brand(text, brand_names(question, relevance, evidence))


def _item(line: str, after_colon: bool) -> bool:
    """A list item: marked ("- ", "2."), or, after a line ending in ":", a line starting in
    lower case (a list written without marks: "…used in children to treat:", "ear
    infections")."""
    return bool(LIST_ITEM.search(line)) or (after_colon and line[:1].islower())


# A text only for adults ("…may help stop diarrhea in adults", "Adults should drink
# water, fruit juices, sports drinks…", "Women who have recurrent UTIs…") does not answer
# for a child, unless it speaks of children too ("Adults and children 12 years and older…")
_FOR_ADULTS = re.compile(r"\b(?:in|for|to|by) adults\b|^\W*adults\b|\b(?:women|men)\b",
                         re.IGNORECASE)
_CHILDREN = re.compile(r"\b(?:child|children|kids?|infants?|bab(?:y|ies)|toddlers?|p(?:a)?ediatric"
                       r"|adolescents?|teens?|teenagers?)\b", re.IGNORECASE)


# Asked whether to stop or to go on ("ok to just stop the rest of it?", "should i keep
# taking it", "does he really need to finish them all"), a line saying when to stop or to go
# on answers: rounds 13 and 14 quoted what the medicine treats, or how long a course for
# another case runs, over "Medications should not be stopped because the symptoms have gone
# away" and "Stop taking these medicines if … the diarrhea lasts more than 2 days".
_ASKS_STOP = re.compile(r"\b(?:stop|stopping|quit|quitting|keep (?:taking|using|going|giving|on)"
                        r"|finish|rest of|continue|come off|go off|get off|done with|wean)\b",
                        re.IGNORECASE)
_STATES_STOP = re.compile(r"\b(?:stop\w*|discontinu\w*|continu\w*|finish\w*|full course"
                          r"|complete\w*|until|all (?:the )?(?:medicines?|medications?|doses?)"
                          r"|cessation|abrupt\w*|gradual\w*|taper\w*|longer than|retreat\w*)",
                          re.IGNORECASE)
STOP_BONUS = 0.2
# …and a line telling not to stop, or to go on, answers it most directly ("Cabergoline
# should not be stopped without consulting a qualified endocrinologist", round 15, was
# outscored by 0.37 by a study of levels after stopping, which gives no yes or no, but
# shares the question's "levels" and "normal"): it gains GOES_ON_BONUS more.
GOES_ON_BONUS = 0.4
_GOES_ON = re.compile(r"\b(?:not|never|n't)\s+(?:be\s+)?(?:stopp?\w*|discontinu\w*|quit\w*)"
                      r"|\b(?:should|must|need to|have to)\s+(?:\w+\s+)?"
                      r"(?:finish|complete|continue)"
                      r"|\bcontinu\w* (?:to take|taking|to use|using)\b|\bkeep (?:taking|using)\b"
                      r"|\bfull course\b|\beven (?:if|when|though)\b[^.]*\bfeel",
                      re.IGNORECASE)


# …nor does a text only about women answer for a man ("Women who have recurrent UTIs may be
# advised…" for "my dad is 67 and got levaquin…, how often is he supposed to take it")
_HE = re.compile(r"\b(?:dad|daddy|father|husband|son|brother|grandpa|grandfather|boyfriend"
                 r"|uncle|grandson|he|him|his|he's|hes)\b", re.IGNORECASE)
_SHE = re.compile(r"\b(?:mom|mum|mother|wife|daughter|sister|grandma|grandmother|girlfriend"
                  r"|aunt|granddaughter|she|her|she's|shes|i'm pregnant|im pregnant)\b",
                  re.IGNORECASE)
_FOR_WOMEN = re.compile(r"\b(?:women|woman|pregnan\w*|breast-?feeding|menopaus\w*)\b",
                        re.IGNORECASE)
_MEN = re.compile(r"\b(?:men|man|males?|anyone|everyone|people|patients)\b", re.IGNORECASE)


# Asked whether two names are one drug, a line naming both of them answers it
SAME_DRUG_BONUS = 0.2
# Words asking for a medicine, not about one's own: "is there any medicine for that"
_ASKS_FOR_DRUGS = re.compile(r"\b(?:medicines?|medications?|meds|drugs?|treatments?|therap\w*"
                             r"|cures?|anything|something|otc|over the counter)\b",
                             re.IGNORECASE)
# Sentences a quote may run on to reach the next name of those asked to be one drug.
APART_REACH = 2


def _asked_kind_bonus(text: str, asks_stop: bool, same: Collection[str]) -> float:
    """Asked whether to stop, STOP_BONUS for a line saying when to stop or go on and
    GOES_ON_BONUS more for one telling not to stop; SAME_DRUG_BONUS for a line naming two
    of the names asked to be the same drug ("Meclizine is the generic name for … Antivert
    … and Bonine" for "is bonine the same thing as antivert")."""
    bonus = SAME_DRUG_BONUS if pairs_names(text, same) else 0.0
    if asks_stop:
        bonus += STOP_BONUS if _STATES_STOP.search(text) else 0.0
        bonus += GOES_ON_BONUS if _GOES_ON.search(text) else 0.0
    return bonus


def pairs_names(text: str, names: Collection[str]) -> bool:
    """The text names two or more of ``names``."""
    return len(set(terms(text)) & set(names)) >= 2


def asks_for_a_man(question: str) -> bool:
    """The question speaks of a man or boy ("my dad", "he") and of no woman or girl."""
    return bool(_HE.search(question)) and not _SHE.search(question)


def asks_for_a_child(question: str) -> bool:
    """The question gives the age of the person it asks about, under ``CHILD_AGE``."""
    asked = _ASKED_AGE.search(question)
    return asked is not None and _months(asked) < 12 * CHILD_AGE


def quotes(question: str, evidence: list[Evidence], relevance: Relevance,
           embedder: Embedder, setting_free: str | None = None) -> list[Quote]:
    """Every evidence sentence about the asked drug, best answer to the question first.

    Score: cosine to the question (both without drug names), plus the share of the
    question's topic words it uses, plus a little for each specific thing it names
    (``scope.named_things``; on the dev split the best quote held a key fact for 37 of 51
    answerable questions with it, 34 without, and no unanswerable one scored higher).
    A question asking for an amount only gets sentences that state a number, and one
    asking for a limit only sentences that state a limit. With ``setting_free`` (the question
    without the setting its passages share, ``scope.setting_of``) a sentence's cosine is the
    better of those to either: asked "Which tests should doctors run for patients
    given dantrolene for muscle spasticity?", the liver-test line scored under every line
    restating "muscle spasticity".
    """
    # the shape of an answer is asked in the asking part: "my dad takes bumetanide 1 mg,
    # what color is the pill supposed to be?" asks for a look, not an amount
    asked_part = asking_part(question)
    required = [states for asks, states in _ANSWER_SHAPES if asks.search(asked_part)]
    # Asked for the most one may take, a limit on the first dose ("The initial dose …
    # should not exceed 1.5 mg/day") is not it ("Maximum recommended daily dose is 20 mg")
    asks_limit = bool(_ASKS_LIMIT.search(asked_part))
    first_limit_only = asks_limit and not _INITIAL.search(asked_part)
    # The words asking for a shape ("look like", "takes too much") are answered by a text
    # stating it, in whatever words: every quote left here states it. Not a word a text
    # states the shape with ("colour"): that one still tells the quotes apart.
    shaped = set(stems([w for asks, states in _HELD_SHAPES if (m := asks.search(asked_part))
                        for w in terms(m.group(0)) if not states.search(w)]))
    # A drug asked about (not a condition) must be one the quote is about: asked "Does
    # ketamine cause Alzheimer disease?", the memantine article's line on Alzheimer's
    # disease was quoted, after "Yes." (the condition asked about made it look relevant).
    drugs = relevance.asked_drugs
    brands = brand_names(question, relevance, evidence)  # once, not per sentence
    # Asked for a 3-year-old with diarrhea, "…may help stop diarrhea in adults" was quoted
    # (round 13), not "…can be dangerous for infants and children"
    child, man = asks_for_a_child(question), asks_for_a_man(question)
    same = names_asked_same(question, relevance)
    apart = len({relevance.lexicon.drugs[w] for w in same}) > 1
    # A yes/no question naming no drug (nor any name), nor asking for one, is about the
    # asker's own: a line on a drug it never names answers it about another (round 16:
    # "can i take take with my calcium tabs in the morning" got "Trospium chloride tablets
    # should be dosed…")
    unnamed = relevance.focus.polar and not relevance.focus.drugs \
        and not relevance.asked_names and not _ASKS_FOR_DRUGS.search(asked_part)
    asks_stop = bool(_ASKS_STOP.search(asked_part))
    found: list[tuple[Evidence, int, int, str]] = []
    for item in evidence:
        spans = sentence_spans(item.text)
        for k in range(len(spans)):
            span = _quote_span(item.text, spans, k, same if apart else frozenset())
            if span is None:
                continue
            s, e = span
            text = item.text[s:e]
            if all(states.search(text) for states in required) and len(text.split()) >= 4 \
                    and not (first_limit_only and _INITIAL.search(text)) \
                    and not _states_no_brand(text, brands) \
                    and not relevance.other_drug(text) \
                    and not (unnamed and relevance.lexicon.drugs_in(text)
                             - relevance.lexicon.conditions) \
                    and not turns_round(question, text) \
                    and not (child and _FOR_ADULTS.search(text) and not _CHILDREN.search(text)) \
                    and not (man and _FOR_WOMEN.search(text) and not _MEN.search(text)) \
                    and (not drugs or drugs & relevance.excerpt_drugs(item.chunk, text)):
                found.append((item, item.start + s, item.start + e, text))
    # A quote's document names what was asked (``Relevance.documents_naming``): asked "What
    # color is phenytoin?", a row giving another capsule's colour, naming no drug, was
    # quoted. One named thing, not all: a misspelled brand ("voltarel") must not keep out
    # the row naming the two others.
    naming = relevance.documents_naming(evidence)
    elsewhere = relevance.elsewhere(evidence) if relevance.focus.drugs else set()
    topic = _topic(question, relevance)
    aspect = _aspect(topic, relevance)
    found = [f for f in found if f[0].chunk.doc_id in naming and f[0].n not in elsewhere
             and (not aspect or _coverage(aspect, f[3]) > 0)]
    if not found:
        return []
    hidden = [relevance.hide(text) for *_, text in found]  # the drug is checked apart
    # "What's the most I could take in a day?" asks for the maximum, in the word a leaflet
    # states it with ("Maximum recommended daily dose is 20 mg"), not for any limit ("The
    # initial dose should not exceed 1.5 mg/day")
    limit = " Maximum." if asks_limit else ""
    asking = [question, *([setting_free] if setting_free else []),
              *([asked_part] if _only_who_takes(question, relevance) else [])]
    vectors = embedder.embed([*(scored_question(q, relevance.hide) + limit for q in asking),
                              *hidden])
    cosine = (vectors[len(asking):] @ vectors[: len(asking)].T).max(axis=1)
    asked = content_words(question)
    out = []
    for (item, start, end, text), bare, cos in zip(found, hidden, cosine, strict=True):
        # "What is X used for?" has no topic word beyond the drug: half credit for all.
        coverage = _coverage(topic, text, shaped) if topic else 0.5
        if _left_open(question, text) is not None or speaks_to_age(question, text):
            coverage = 1.0  # "with or without food" answers "with a meal?" in full, and
            # "…in patients 5 years of age and older" "my son is 7, is he old enough?"
        score = float(cos) + 0.5 * coverage + NAMED_BONUS * named_things(bare, asked)
        score += _asked_kind_bonus(text, asks_stop, same)
        out.append(Quote(item, start, end, text, score))
    return sorted(out, key=lambda q: -q.score)


def _quote_span(text: str, spans: Sequence[tuple[int, int]], k: int,
                apart: frozenset[str]) -> tuple[int, int] | None:
    """Where the quote of a text's ``k``-th sentence starts and ends: the sentence, or
    more of the text around it; None when it says nothing alone."""
    s, e = spans[k]
    sentence = text[s:e]
    if LEAD_IN_ONLY.search(sentence):
        # a lead-in says nothing alone; with the list after it, it is the answer ("People
        # who are at increased risk of kidney stones are those with", then the items, for
        # "Who is at risk of kidney stones?")
        after = k + 1
        while after < len(spans) and _item(text[slice(*spans[after])], sentence.endswith(":")):
            after += 1
        if after == k + 1:
            return None
        if k and POINTS_BACK.match(sentence):  # "…at risk for developing gout. They
            s = spans[k - 1][0]  # include": what the list is lies before "They"
        return s, spans[after - 1][1]
    named = set(terms(sentence)) & apart
    if len(named) == 1:
        # names asked to be one drug that the documents hold apart, each in its own
        # sentence: the quote runs on to the next one naming another (round 16: "…
        # donepezil (Aricept)… may help. … Another drug, memantine (Namenda), is…")
        e = next((spans[j][1] for j in range(k + 1, min(k + 1 + APART_REACH, len(spans)))
                  if set(terms(text[slice(*spans[j])])) & apart - named), e)
    return s, e


# "How does X work?" asks for a mechanism, which the answer states in other words.
_FRAME = frozenset(stems(["work"]))


def _aspect(topic: dict[str, float], relevance: Relevance) -> dict[str, float]:
    """With no known drug asked about, the things the question names stand for its subject
    and the rest of its topic for what it asks about them: a quote must use one of those
    words too. Asked "how to use an epinephrine pen" (epinephrine named in passing, no
    known drug), a table of lidocaine injections with epinephrine was quoted. Empty when
    the question names a drug (its name is no topic word) or nothing beyond its names."""
    if relevance.focus.drugs:
        return {}
    subject = set(stems(relevance.asked_names))
    rest = {s: w for s, w in topic.items() if s not in subject | _FRAME}
    return rest if subject and len(rest) < len(topic) else {}


# A text says yes or no to a question only when it uses this (weighted) share of the
# question's topic words. At 0.5 the rarer of two words alone was enough: "Can valacyclovir
# cure herpes?" got "Yes" from "used to treat … herpes outbreaks". Chosen on dev: 0.65
# changes one dev answer (q132, right before and after), 0.8 removes four right openers.
POLAR_COVERAGE = 0.65
# Quotes scoring within this of the best one are as good an answer: they must agree.
POLARITY_MARGIN = 0.15
# A sentence opening on other things named before it: "Each of them…", "They…", "These…".
_CLASS_PLURAL = frozenset("drugs medications medicines products".split())
_OTHERS = re.compile(r"^\W*(?:(?:each|all|many|most|some|both|none) of )?(?:them|they|these"
                     r"|those)\b", re.IGNORECASE)


# A question asking only whether the drug may be taken at all ("Is that ok for me to take
# amoxicillin?", what is told around it aside) has no topic an excerpt can settle: "Take
# the amoxicillin until finished." said "Yes." to a penicillin-allergic asker.
_BARE = frozenset(stems("take takes taking taken use uses using used give given ok okay fine "
                        "safe alright".split()))


# "is bonine the same thing as antivert", "pharmacy label says nitrofurantoin but my dr said
# she was sending in macrobid?? is that the same thing" (rounds 13 and 14, both refused)
_ASKS_SAME = re.compile(r"\bsame (?:thing|drug|medicine|medication|stuff|as)\b"
                        r"|\b(?:brand|generic) (?:name |version )?(?:of|for)\b", re.IGNORECASE)


def names_asked_same(question: str, relevance: Relevance) -> frozenset[str]:
    """The names a question asks to be the same drug, when it names two or more the
    documents know; else none."""
    if not _ASKS_SAME.search(question):
        return frozenset()
    named = frozenset(w for w in terms(question) if w in relevance.lexicon.drugs)
    return named if len(named) >= 2 else frozenset()


def one_drug_names(question: str, relevance: Relevance) -> frozenset[str]:
    """The names a question asks to be the same drug, when the documents pair them as one
    (``Lexicon``: "nitrofurantoin" and "Macrobid"); else none."""
    named = names_asked_same(question, relevance)
    return named if len({relevance.lexicon.drugs[w] for w in named}) == 1 else frozenset()


def names_apart(question: str, ranked: Sequence[Quote], relevance: Relevance) -> bool:
    """Asked whether names are one drug, the documents hold them as two or more (no
    ``Lexicon`` pairing joins them) and the best quote names two of them: "is namenda the
    same thing as aricept" and "…donepezil (Aricept)… Another drug, memantine (Namenda)…"
    (round 16, refused)."""
    named = names_asked_same(question, relevance)
    return bool(ranked) and len({relevance.lexicon.drugs[w] for w in named}) > 1 \
        and pairs_names(ranked[0].text, named)


def names_one_drug(question: str, relevance: Relevance) -> bool:
    """The question asks whether names are the same drug, and the documents pair them."""
    return bool(one_drug_names(question, relevance))


def documents_polarity(question: str, ranked: Sequence[Quote],
                       relevance: Relevance) -> str | None:
    """'yes' or 'no' as the best-matching excerpts answer a yes/no question: those scoring
    within POLARITY_MARGIN of the best, each read by ``polarity_of``; None when they
    disagree ("The list of ineffective cold remedies is long" against "they're no help
    against cold viruses") or none uses enough of the question's topic words."""
    if ranked and names_one_drug(question, relevance) \
            and relevance.lexicon.drugs_in(ranked[0].text) & relevance.focus.drugs:
        return "yes"  # the documents pair the names: "Brand names: …, Macrobid, …"
    if names_apart(question, ranked, relevance):
        return "no"
    topic = _topic(question, relevance, 0.0)  # the same for every quote: worked out once
    if not ranked or set(topic) <= _BARE:
        return None
    # Every drug asked about (not a condition) must be the quote's: "can you take amoxicillin
    # with hydrocodone?" is not answered yes by a warning about hydrocodone alone.
    near = [q for q in ranked if q.score >= ranked[0].score - POLARITY_MARGIN
            and relevance.asked_drugs <= relevance.excerpt_drugs(q.evidence.chunk, q.text)]
    read = [(polarity_of(question, q.text, relevance, topic), q) for q in near]
    # leave ("yes") is given only by a text about the asked drug (``_of_others``)
    said = {p for p, q in read if p == "no" or (p == "yes" and not _of_others(q, relevance))}
    return said.pop() if len(said) == 1 else None


def _of_others(quote: Quote, relevance: Relevance) -> bool:
    """A drug was asked about and the quote, naming none, speaks of drugs in general or of
    other things named before it ("Each of them…", "…two-thirds of the expired medications
    were stable"): it may warn ("no") but not give leave ("yes") for the asked one. "Can I
    use lidocaine after it expires?" got "Yes." from a study of 122 drugs on the lidocaine
    page, which then names a lidocaine product among those that failed."""
    return bool(relevance.asked_drugs) \
        and not relevance.asked_drugs & relevance.lexicon.drugs_in(quote.text) \
        and bool(_OTHERS.search(quote.text) or _CLASS_PLURAL & set(terms(quote.text)))


def polarity_of(question: str, text: str, relevance: Relevance,
                topic: dict[str, float] | None = None) -> str | None:
    """'yes' or 'no' as ``text`` answers the yes/no ``question`` (a statement that restates
    it, "It is safe to drive after taking X", says yes), or None when the text uses less
    than POLAR_COVERAGE of the question's topic words (weighted) or does not say which
    way. ``topic``: the question's ``_topic``, when the caller has it."""
    if (way := age_answer(question, text)) is not None \
            and _speaks_to_asked(question, text, relevance):
        return way  # before "6 year old" is read as "child"
    way = _polarity(question, text, relevance, topic)
    # round 16: "Yes." and a label's "(for children ≥ 12 years of age)" for a 10-year-old
    return None if way == "yes" and below_ages(question, text) else way


def _polarity(question: str, text: str, relevance: Relevance,
              topic: dict[str, float] | None) -> str | None:
    """``polarity_of`` in words, ages aside."""
    # "my 6 year old" asks no time span; "given to a 6-year-old" speaks of a child
    question, text = _AGE.sub(_as_child, question), _AGE.sub(_as_child, text)
    topic = _topic(question, relevance, 0.0) if topic is None else topic
    if not topic or DENIED_CLAIM.search(text):
        return None  # nor a claim reported only to deny it ("…but that has not been proven")
    split = told_and_asked(question)
    if split is not None and split[0] and not _speaks_to_asked(split[1], text, relevance):
        return None
    asking = split[1] if split is not None else question
    if (way := _left_open(asking, text) or _other_way_with_food(asking, text)) is not None:
        return way
    if _coverage(topic, text) < POLAR_COVERAGE:
        return "no" if _forbids(question, text, relevance) else None
    # the way the question asks is the asking sentence's: "been on xanax 1mg twice a day
    # for about a year. can i just quit cold turkey?" asks no time span of the answer
    question = asking
    if (side := _contrasted_side(question, text, topic)) is None:
        return None
    text = side
    asked, said = terms(question), terms(text)
    if _ASKS_ABSOLUTE.search(question) and not _SAYS_ABSOLUTE.search(text):
        # "can cause", "may occur": not "always" (no), and neither yes nor no to "only"
        return "no" if _ASKS_ALWAYS.search(question) and _HEDGE & set(said) else None
    if not _spans(asked) <= _spans(said):
        return None  # "Does the relief last for years?": "days to weeks" says neither
    if (compared := _comparison(question)) is not None:
        # a comparison is answered by the way the text compares, or not at all
        return _COMPARED_ANSWER.get((compared, _comparison(text) or ""))
    said = terms(_without_asides(_asked_side(text, relevance, topic), topic))
    asked_negative, said_negative = bool(_NEGATION & set(asked)), bool(_NEGATION & set(said))
    asked_way = _direction(asked)
    said_way = _direction(said) if asked_way else None
    if asked_way and not said_way:
        return None  # the excerpt does not say which way: neither yes nor no
    turned = asked_way != said_way
    if (asked_negative != said_negative) != turned:
        return "no"
    if _SAFETY & set(stems(asked)) and not _PERMITS & set(stems(said)):
        return None  # asked whether it is safe: naming the people asked about is no leave
    return "yes"


_POINTER = re.compile(r"\b(?:that|this|it|these|those|they|them)\b", re.IGNORECASE)


def _speaks_to_asked(asked: str, text: str, relevance: Relevance) -> bool:
    """After sentences that tell, a text answers the asking one only if it names the asked
    drug or uses a word the asking sentence asks with (not one any question about taking
    it uses): "he uses nitroglycerin for angina. can he try viagra" got "Yes." from
    "Nitroglycerin is a nitrate used for chest pain (angina).", which restates what was
    told. An asking sentence of such words alone ("Is that normal?") leaves it to the
    told words, and so does one pointing back to them ("…her cough is worse at night when
    she lies down. is that a known thing with it??")."""
    if _POINTER.search(asked) or relevance.asked_drugs & relevance.lexicon.drugs_in(text):
        return True
    words = [w for w in terms(asked)
             if len(w) >= 3 and w not in STOPWORDS and not relevance.aside(w)]
    own = set(stems(words)) - _BARE - _BARE_ACTS - _SAFETY
    if not own:
        return not relevance.asked_drugs
    return bool(own & set(stems(terms(text))))


# One thing granted, another denied: "used to prevent migraine headaches but not to relieve
# the pain of migraine headaches" (asked "does it help with migraines?" it said "No.").
_BUT_NOT = re.compile(r"\bbut\s+(?:(?:it|they|does|do|is|are|will|can|should)\s+)?(?:not|never)\b"
                      r"|\bbut\s+(?:doesn't|don't|isn't|aren't|won't|cannot|can't)\b",
                      re.IGNORECASE)


def _contrasted_side(question: str, text: str, topic: dict[str, float]) -> str | None:
    """Of a text granting one thing and denying another (``_BUT_NOT``), the side saying
    what the question asks of its subject: the only side using a topic word of the question
    that names no thing (``specific``), the other side not ("cure" in "Will it cure my
    hypothyroidism?" of "Thyroid helps control the symptoms of hypothyroidism, but does not
    cure this condition"); None when both or neither do; the whole text when it contrasts
    nothing."""
    contrast = _BUT_NOT.search(text)
    if contrast is None:
        return text
    words = [w for w in terms(question) if not specific(w)]
    acts = {s for s in stems(words) if s in topic}
    sides = (text[:contrast.start()], text[contrast.start():])
    granted, denied = (acts & set(stems(terms(side))) for side in sides)
    if bool(granted - denied) == bool(denied - granted):
        return None
    return sides[0] if granted - denied else sides[1]


# A question's condition: "…once my blood pressure is normal?", "…if I feel better?"; it
# ends at a comma or where a yes/no question starts ("once my levels are back to normal
# can i just quit taking it", round 15: the whole question was read as its condition).
_CONDITION = re.compile(r"^\W*when\b[^?,]*?(?=,|\?|$)"  # "When in the day should he…" asks
                        r"|\b(?:once|when|whenever|if|after|before|until|while|since|now that"
                        r"|as soon as)\b[^?,]*?(?=,|\?|$|\s+(?:can|could|should|is|do|does"
                        r"|will|may|must)\s+(?:i|he|she|we|they|you|it)\b)", re.IGNORECASE)
# A prohibition: "Do not stop taking amlodipine without talking to your doctor.",
# "Cabergoline should not be stopped without consulting a qualified endocrinologist."
_PROHIBITION = re.compile(r"^\W*(?:[\w-]+\s+){0,2}?(?:do not|don't|never|must not|should not"
                          r"|should never|avoid)\b", re.IGNORECASE)


# What a question asks leave to do: "Can I crush…", "Is it OK to split…"
_ASKED_ACT = re.compile(r"^\W*(?:can|could|may|should|shall)\s+(?:i|we|you|he|she|they)\s+"
                        r"(?:just\s+|still\s+)?(?P<act>[a-z]+)|\bis it (?:ok|okay|safe|fine|"
                        r"alright|all right) (?:for (?:me|him|her|them|us) )?to (?P<act2>[a-z]+)",
                        re.IGNORECASE)
# …unless the act is what every leaflet forbids in some way ("Do not take more than…")
_BARE_ACTS = frozenset(stems("""take use give get have be do go make keep start continue try
    eat""".split()))
# A clause forbidding an act: "swallow whole – do not crush, chew, or dissolve"
_FORBIDDEN = re.compile(r"(?:^|[–—;:]|\s-\s)\W*(?:do not|don't|never|must not|should not|"
                        r"cannot|can't|avoid)\s+(?P<acts>[a-z ,]+)", re.IGNORECASE)


# A choice a leaflet leaves open, and the question's words it settles: "…once a day with or
# without food" settles "with a meal" and "on an empty stomach"; "once daily at any time of
# day" settles "in the morning".
_MEAL = r"(?:food|meals?|a meal|eating|breakfast|lunch|dinner|supper|snacks?)"
_FOOD_LEFT_OPEN = re.compile(r"\b(?:with or without (?:food|meals?|a meal)|(?:without regard"
                             r"|regardless) (?:to|of) (?:food|meals?|mealtimes?))\b",
                             re.IGNORECASE)
_LEFT_OPEN = (
    (re.compile(rf"\b(?:{_MEAL}|eat|empty stomach)\b", re.IGNORECASE), _FOOD_LEFT_OPEN),
    (re.compile(r"\b(?:morning|mornings|night|nights|evening|evenings|bedtime|afternoon|"
                r"before bed)\b", re.IGNORECASE),
     re.compile(r"\bany time of (?:the )?day\b|\bmorning or (?:at )?(?:night|evening)\b",
                re.IGNORECASE)),
)
# Asked whether it must be so ("does he have to take it in the morning?"), or whether it
# may ("can I take it on an empty stomach?"); "should I…" asks for advice and is neither.
_MUST = re.compile(r"\b(?:have|has|need|needs|got) to\b|\bmust\b|\bsupposed to\b|"
                   r"\brequired\b|\bonly\b", re.IGNORECASE)
_MAY = re.compile(r"^\W*(?:can|could|may)\b|\b(?:ok|okay|alright|all right|fine|safe) "
                  r"(?:for (?:me|him|her|them|us) )?to\b", re.IGNORECASE)


def _left_open(question: str, text: str) -> str | None:
    """'no' when the question asks whether a medicine must be taken at a time or with food
    and the text leaves that open ("with or without food", "at any time of day"), 'yes' when
    it asks whether it may be; None otherwise. The text uses none of the asked words:
    "Does he have to take his Lantus in the morning?" was answered "Yes." beside "Administer
    LANTUS subcutaneously once daily at any time of day"."""
    if not any(asks.search(question) and leaves.search(text) for asks, leaves in _LEFT_OPEN):
        return None
    if _MUST.search(question):
        return "no"
    return "yes" if _MAY.search(question) else None


# With food or without it: asked "should i take my trospium with breakfast", "…should be
# dosed at least one hour before meals or given on an empty stomach" says no (round 16;
# read "yes", the asked words all used), and asked for an empty stomach, "take with food"
# says no.
_WITH_FOOD = re.compile(rf"\bwith (?:(?:my|his|her|their|your|the|some) )?{_MEAL}\b"
                        rf"|\bafter {_MEAL}\b", re.IGNORECASE)
_NO_FOOD = re.compile(rf"\bempty stomach\b|\bbefore {_MEAL}\b|\bwithout {_MEAL}\b",
                      re.IGNORECASE)


def _other_way_with_food(question: str, text: str) -> str | None:
    """'no' when the question asks about taking it with food and the text says to take it
    without (before meals, on an empty stomach), or the other way round (the text never
    saying both); None otherwise."""
    if _FOOD_LEFT_OPEN.search(text):
        return None
    with_food, no_food = bool(_WITH_FOOD.search(text)), bool(_NO_FOOD.search(text))
    asked_with, asked_without = bool(_WITH_FOOD.search(question)), bool(_NO_FOOD.search(question))
    crossed = with_food != no_food and asked_with != asked_without and asked_with == no_food
    return "no" if crossed else None


def _forbids(question: str, text: str, relevance: Relevance) -> bool:
    """The text forbids what the question asks to do, whatever the question's condition:
    asked "Can I stop taking amlodipine once my blood pressure is normal?", "Do not stop
    taking amlodipine without talking to your doctor." uses every word of "Can I stop
    taking amlodipine" and says no to it in any case. Only a "no" is read so: a yes must
    speak to the condition too. So does a clause forbidding the very act asked leave for,
    when it is a particular one (dev q292: "Can I crush the acetaminophen caplets into my
    food?", "swallow whole – do not crush, chew, or dissolve")."""
    if _forbids_act(question, text):
        return True
    main = _CONDITION.sub(" ", question)
    if main == question or not _PROHIBITION.search(text):
        return False
    # not "taking": "Cabergoline should not be stopped without consulting…" forbids what
    # "can i just quit taking it" asks
    topic = {s: w for s, w in _topic(main, relevance).items() if s not in _BARE}
    return bool(topic) and _coverage(topic, text) >= POLAR_COVERAGE


def _forbids_act(question: str, text: str) -> bool:
    asked = _ASKED_ACT.search(asking_part(question))
    act = stems([asked.group("act") or asked.group("act2")])[0] if asked else ""
    if not act or act in _BARE_ACTS:
        return False
    return any(act in stems(terms(m.group("acts"))[:4]) for m in _FORBIDDEN.finditer(text))


def _asked_side(text: str, relevance: Relevance, topic: dict[str, float]) -> str:
    """Of a sentence contrasting two things ("Unlike A, which does P, B does Q"), what to
    read for the asked one: the contrast without its "unlike" when only it names the asked
    drug or thing (A was asked about: A does P); else the rest when the rest uses more of
    the question's words (B was asked about Q: "Can heparin be stopped quickly?" had "No."
    for the "unlike" of warfarin's side); else the whole sentence, "unlike" and all (B was
    asked about P: "Does dantrolene work in the brain?" is answered no by "Unlike muscle
    relaxants that act in the brain, dantrolene works on muscle cells")."""
    match = UNLIKE.search(text)
    if match is None:
        return text
    side, rest = match.group(1), text[:match.start()] + text[match.end():]
    if relevance.names_asked(side) and not relevance.names_asked(rest):
        return side
    return rest if _coverage(topic, rest) >= _coverage(topic, side) else text


# A parenthetical aside: "(an inherited condition in which cholesterol cannot be removed
# from the body normally)".
_ASIDE = re.compile(r"\([^()]*\)")


def _without_asides(text: str, topic: dict[str, float]) -> str:
    """The text without its parenthetical asides that use none of the question's topic
    words: a definition inside one does not say which way the sentence answers. Asked "Can
    teenagers take simvastatin?", "…may also be used … in children and teenagers 10 to 17
    years of age who have familial heterozygous hypercholesterolemia (an inherited condition
    in which cholesterol cannot be removed from the body normally)" was read as "no" for its
    "cannot". An aside using a topic word stays ("take with food (not on an empty
    stomach)")."""
    return _ASIDE.sub(lambda m: m.group(0) if _coverage(topic, m.group(0)) > 0 else " ", text)


def _spans(words: list[str]) -> set[str]:
    """The lengths of time a text's words speak of ("hours", "a year"), as stems."""
    return set(stems(words)) & _TIME_SPANS


def _direction(words: list[str]) -> str | None:
    """'up' or 'down' when a text's words say something rises or falls (not both), else
    None."""
    used = set(stems(words))
    up, down = bool(used & _UP), bool(used & _DOWN)
    return None if up == down else ("up" if up else "down")


_TAKING = frozenset(stems("take takes taking taken use uses using used give given".split()))


def addresses(question: str, text: str, relevance: Relevance) -> bool:
    """The text uses one of the question's topic words (or a word for the same thing), or
    the question has none. A yes/no question's answer that does not is about something
    else: "Does ketamine cause Alzheimer disease?" was answered "Ketamine has
    anti-inflammatory effects in the brain [1]" (true, and no answer). Taking or using
    the drug is no topic beside another: "do i take my statin with food or on an empty
    stomach" was answered with why not to stop taking it."""
    topic = _topic(question, relevance)
    topic = {s: w for s, w in topic.items() if s not in _TAKING} or topic
    return not topic or _coverage(topic, text) > 0


def split_opener(text: str) -> tuple[str | None, str]:
    """("yes" | "no" | None, the text without it, first letter upper-cased)."""
    match = _OPENER.match(text)
    if not match:
        return None, text
    rest = text[match.end():]
    return match.group(1).lower(), rest[:1].upper() + rest[1:]


def with_list(quote: Quote) -> Quote:
    """A list item brings the whole list it belongs to (the items next to it)."""
    if not LIST_ITEM.search(quote.text):
        return quote
    text, start = quote.evidence.text, quote.evidence.start
    spans = [(s, e) for s, e in sentence_spans(text)]
    items = [i for i, (s, e) in enumerate(spans) if LIST_ITEM.search(text[s:e])]
    here = next(i for i, (s, _) in enumerate(spans) if start + s == quote.start)
    run = [here]
    while run[0] - 1 in items:
        run.insert(0, run[0] - 1)
    while run[-1] + 1 in items:
        run.append(run[-1] + 1)
    first, last = spans[run[0]][0], spans[run[-1]][1]
    return Quote(quote.evidence, start + first, start + last, text[first:last], quote.score)


# "List the steps...", "What are all the side effects...", "Name the ..."
_ASKS_FOR_LIST = re.compile(r"^\W*(?:list|name|enumerate|give me all)\b|\b(?:all the|what are "
                            r"(?:all|the steps)|which steps|steps (?:to|for|of))\b",
                            re.IGNORECASE)


def asks_for_list(question: str) -> bool:
    return bool(_ASKS_FOR_LIST.search(question))


# Words telling only who takes the drug and how much: "my dad takes bumetanide 1 mg".
_WHO_TAKES = frozenset(stems("""i im ive me my he hes his she shes her we our they their is
    are am has have been was on take takes taking taken use uses using used prescribed started
    starting put mg mcg milligrams dose doses tablet tablets pill pills daily day twice once
    years months weeks old""".split())) | frozenset(stems(sorted(RELATIONS)))


def _only_who_takes(question: str, relevance: Relevance) -> bool:
    """The question tells, around what it asks, only who takes which drug and how much
    (``_WHO_TAKES``, figures, drug names): a quote is scored against the asking part too.
    "my dad takes bumetanide 1 mg, what color is the pill supposed to be?" scored the
    colour rows under the plain question by a fifth. Not a told condition ("I have kidney
    disease, can I take ibuprofen?"): that is part of what is asked."""
    split = told_and_asked(question)
    if split is None:
        return False
    words = [w for w in terms(split[0]) if w not in STOPWORDS and not w.isdigit()
             and not relevance.aside(w)]
    return bool(terms(split[0])) and set(stems(words)) <= _WHO_TAKES


def asks_shaped(question: str) -> bool:
    """The question asks for something an answer must state in a known shape: an amount
    ("How long…", "How much…", "What is the usual dose…"), an overdose ("…takes too
    much…"), a look ("What does X look like?")."""
    asked = asking_part(question)
    return any(asks.search(asked) for asks, _ in _HELD_SHAPES)


def misses_shape(question: str, sentence: str) -> bool:
    """The question asks for something in a known shape (``asks_shaped``: an amount, an
    overdose, a look) and the sentence (its markers aside) does not state it: the shape
    ``quotes`` holds a quote to."""
    said, asked = MARKER.sub("", sentence), asking_part(question)
    return any(asks.search(asked) and not states.search(said)
               for asks, states in _HELD_SHAPES)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[str]:
    """The figures of a text ("1,000" as "1000"); not number words, which also count days
    and tablets ("in one day", "one 5-mg tablet")."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _limit_numbers(question: str, sentence: str) -> set[str]:
    """The figures a sentence answers a question asking for the most one may take (not the
    most to start on) with, beside the question's own; none for other questions."""
    asked = asking_part(question)
    if not _ASKS_LIMIT.search(asked) or _INITIAL.search(asked):
        return set()
    return _numbers(MARKER.sub("", sentence)) - _numbers(question)


def misses_limit(question: str, sentence: str, evidence: Sequence[Evidence]) -> bool:
    """Asked for the most one may take, the sentence's numbers are the excerpts' only in
    sentences stating no limit: "The most he can take in a day is 300 mg" came from
    "Dosage requirements in excess of 300 mg should be administered in divided doses" (the
    page's limit: "…the maximal recommended dosage is 800 mg daily")."""
    said = _limit_numbers(question, sentence)
    if not said:
        return False
    holding = [text for item in evidence for s, e in sentence_spans(item.text)
               if said <= _numbers(text := item.text[s:e])]
    return bool(holding) and not any(_STATES_LIMIT.search(text) for text in holding)


def pins_limit(question: str, sentence: str, text: str) -> bool:
    """Asked for the most one may take, the sentence's numbers are all in ``text``, which
    states a limit: "The highest amount of tramadol you can take in one day is 400 mg" did
    not hold (the question's words are not the excerpt's), and points to "…not to exceed
    400 mg per day"."""
    said = _limit_numbers(question, sentence)
    return bool(said) and said <= _numbers(text) and bool(_STATES_LIMIT.search(text))


def list_items(quote: Quote) -> int:
    """How many list items a quote holds (0: not a list)."""
    return sum(bool(LIST_ITEM.search(quote.text[s:e])) for s, e in sentence_spans(quote.text))


# How many unmarked list lines a quote may reach back over to find the line leading into it.
LEAD_IN_REACH = 6


def with_lead_in(quote: Quote) -> Quote:
    """A quote starting in lower case is a line of a list written without marks, one item a
    line ("Valacyclovir tablets are used in adults:", "to treat cold sores…", "to treat
    shingles…"): alone it says nothing of what it is about ("to treat shingles (also called
    herpes zoster)." was quoted for "Does valacyclovir cure shingles?"). It brings the line
    leading into it (ending in ":"), and the lines between, from its chunk."""
    if not quote.text[:1].islower():
        return quote
    spans, here = _place(quote)
    if here is None:
        return quote
    text = quote.evidence.chunk.text
    for s, e in reversed(spans[max(0, here - LEAD_IN_REACH):here]):
        line = text[s:e]
        if line.endswith(":"):
            return _reaching_back(quote, s)
        if not line[:1].islower():
            break
    return quote


def _place(quote: Quote) -> tuple[list[tuple[int, int]], int | None]:
    """The sentences of the quote's chunk (offsets in the chunk), and which one the quote
    starts with (None: it starts inside one)."""
    chunk = quote.evidence.chunk
    spans = sentence_spans(chunk.text)
    at = quote.start - chunk.start
    return spans, next((i for i, (s, _) in enumerate(spans) if s == at), None)


def _reaching_back(quote: Quote, start: int) -> Quote:
    """The quote, starting earlier in its chunk (``start``: an offset in the chunk)."""
    chunk = quote.evidence.chunk
    return Quote(quote.evidence, chunk.start + start, quote.end,
                 chunk.text[start:quote.end - chunk.start], quote.score)


# How many sentences back a quote that points back may reach for what it points to.
ANTECEDENTS = 2
_THIS_THING = re.compile(
    r"\b(?:this|these) (?:vaccines?|medicines?|medications?|drugs?|products?)\b", re.IGNORECASE)


def with_antecedent(quote: Quote) -> Quote:
    """A quote that opens by pointing back (``POINTS_BACK``: "This reduces potential
    risks…", "It inhibits calcium release…") brings the sentence before it in its chunk,
    which says what "this" or "it" is (and the one before that, when it points back too).
    Dev: only how quotes read changed (q192, q193, q235), no key fact."""
    spans, here = _place(quote)
    first = here = here or 0
    text = quote.evidence.chunk.text
    # "This is known as early onset AD. These individuals have…": up to ANTECEDENTS back;
    # a quote also when it speaks of "this vaccine" inside ("There is no live virus in
    # this vaccine.", on a page of two vaccines, was the answer to whether the other one
    # is live)
    while first and here - first < ANTECEDENTS and (
            POINTS_BACK.match(text[slice(*spans[first])])
            or first == here and _THIS_THING.search(text[slice(*spans[first])])):
        first -= 1
    return quote if first == here else _reaching_back(quote, spans[first][0])


def restated(sentence: str, item: Evidence) -> Quote | None:
    """The sentence of the excerpt that ``sentence`` says again (the largest share of its
    content words, one at least: ``text.lexical_support``), as a quote."""
    shared = [(lexical_support(sentence, item.text[s:e]), s, e)
              for s, e in sentence_spans(item.text)]
    common, s, e = max(shared, default=(0.0, 0, 0))
    return Quote(item, item.start + s, item.start + e, item.text[s:e], 0.0) if common else None


def _joined_lines(text: str) -> str:
    """A quote's lines as one line: an unmarked list item (next line in lower case, this one
    not ending a sentence) is set off with "; "."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    out = lines[:1]
    for line in lines[1:]:
        joiner = "; " if line[:1].islower() and out[-1][-1:] not in ".:;!?," else " "
        out.append(joiner + line)
    return "".join(out)


def quoted_answer(quote: Quote, n: int, *, also: bool = False
                  ) -> tuple[str, Citation, SentenceCheck]:
    """The answer text, its citation (offsets of exactly the quoted text) and its check;
    ``also``: the quote follows the model's own sentence."""
    quote = with_antecedent(with_lead_in(quote))
    chunk = quote.evidence.chunk
    citation = Citation(n=n, doc_id=chunk.doc_id, source=chunk.source, title=chunk.title,
                        start=quote.start, end=quote.end, text=quote.text,
                        section=chunk.section, support=1.0, page=chunk.page)
    body = _joined_lines(quote.text).rstrip(".")
    text = f"The documents {'also ' if also else ''}say: \u201c{body}.\u201d [{n}]"
    return text, citation, SentenceCheck(text, (), (n,), 1.0, Verdict.QUOTED)


def without_foreign_links(text: str, allowed: Collection[str]) -> str:
    """Remove URLs that no unflagged document contains (they could only come from a
    poisoned one, or from the model)."""
    def keep(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(".,;:")
        return match.group(0) if url in allowed else ""

    cleaned = URL.sub(keep, text)
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\s+([.,;:])", r"\1", cleaned)).strip()


def links_in(texts: Collection[str]) -> frozenset[str]:
    """Every URL written in these texts."""
    return frozenset(m.group(0).rstrip(".,;:") for t in texts for m in URL.finditer(t))

