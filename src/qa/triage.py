"""Safety triage before retrieval: deterministic rules, no model calls.

``classify()`` normalises a question (lower case, no accents or apostrophes, single spaces),
corrects likely misspellings of a few safety keywords (one edit, words of 5+ letters), then
runs the rule table below. Priority: self-harm > emergency > personal dosing, so "how much
would kill me" is self-harm even though it is also a dose question.

Symptom rules only fire when the symptom is happening to someone: a person as subject
("my dad is having a seizure", "I have chest pain"), or a "right now" cue. So "What are the
signs of a stroke?" and "Is chest pain a side effect of ketamine?" are ordinary questions.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
from dataclasses import dataclass, field

import numpy as np

from qa.embeddings import Embedder
from qa.text import RELATIONS, fold
from qa.types import TriageKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Triage:
    """Result of ``classify``; ``kind`` None means an ordinary question."""

    kind: TriageKind | None
    rule: str = ""  # name of the rule that fired, for explanation and debugging
    matched: str = ""  # the normalised words that fired it, as typed (before spelling fixes)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: TriageKind
    pattern: re.Pattern[str]
    # When set, the rule fires only if this also matches the text around its match: facts
    # about a person ("she takes 50 mg") make a question personal only if it asks of a dose.
    needs: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        for match in self.pattern.finditer(text):
            rest = f"{text[: match.start()]} {text[match.end():]}"
            if self.needs is None or self.needs.search(rest):
                return match
        return None


# Building blocks. Text is already normalised: "I'm" -> "im", "won't" -> "wont".
_PRONOUN = (r"(?:i|im|ive|id|me|we|were|weve|you|youre|youve|he|hes|she|shes|they|theyre"
            r"|its|someone|somebody|someones)")
_FAMILY = rf"(?:{'|'.join(sorted(RELATIONS, key=len, reverse=True))})s?"
_GENERIC = r"(?:patient|client|person|man|woman|guy|girl|boy|child|kid|baby|relative)s?"
_POSS = r"(?:my|our|his|her|their)"
# Words that turn "i/my dad ..." into a question about risk, not a report: "can i get chest
# pain", "does my dad have a stroke risk", "signs of someone having a stroke". The possessives
# are here too so a match cannot skip its guard by starting one word later ("dad" in "my dad").
_GUARD = "".join(rf"(?<!\b{w} )" for w in (
    "can", "could", "would", "will", "might", "may", "does", "do", "did", "cause", "causes",
    "caused", "make", "makes", "give", "gives", "whether", "signs of", "sign of", "symptoms of",
    "symptom of", "risk of", "chance of", "chances of", "my", "our", "his", "her", "their", "a"))
_SUBJECT = rf"{_GUARD}\b(?:(?:{_POSS}|a) (?:{_FAMILY}|{_GENERIC})|{_POSS}|{_FAMILY}|{_PRONOUN})"
_BODY = (r"(?:head|arms?|legs?|hands?|chest|throat|tongue|lips?|face|mouth|nose|eyes?|skin|body"
         r"|wound|cut|heart|stomach|speech|breathing)")
# Words allowed between the person and the symptom: "my dad is having really bad chest pain".
_FILLER = (r"(?:is|are|am|be|been|being|has|have|having|keeps?|kept|started|starting"
           r"|starts|suddenly|now|still|really|very|so|just|got|gets|getting|get|feel|feels"
           r"|feeling|felt|experiencing|developed|developing|going|into|through|in|a|an|the|some"
           r"|bad|severe|sharp|crushing|serious|terrible|awful|massive|heavy|intense|sudden"
           r"|strong|lot|of|like|seems?|looks?|might|may|could|maybe|possibly|probably|also|and"
           rf"|think|left|right|side|whole|{_BODY})")
_NOW = (r"(?:right now|just now|at the moment|currently|as we speak|as i type|what do i do"
        r"|what should i do|what do we do|please help|help me|help us)")
_PROGRESSIVE = (r"\b(?:be|is|are|am|im|hes|shes|theyre|youre|keeps?|started|just) "
                r"(?:still |now |just |really |currently |suddenly |actually )?")
_PERSON_REF = (rf"(?:i|we|you|he|she|they|{_FAMILY}|{_POSS}(?: \w+){{1,3}}?"
               r"|an? \d+ ?(?:kg|kgs|kilos?|lbs?|pounds|year old|yo) \w+)")
_MODAL = r"(?:should|can|could|do|does|would|must|shall|may|am|is)"
# A symptom mentioned as history, a risk or a label, not as happening now.
_NOT_NOW = (r"(?! (?:disorder|history|risk|survivor|patient|recovery|rehab\w*|unit|ward"
            r"|prevention|medication|before|in the past|last|years? ago))")


def _situated(*symptoms: str) -> str:
    """A symptom happening to someone now: "<person> ... <symptom>", "is having <symptom>",
    or "<symptom> ... right now"."""
    symptom = "|".join(symptoms)
    return (rf"{_SUBJECT}(?: {_FILLER}){{0,4}} (?:{symptom})"
            rf"|{_PROGRESSIVE}(?:having|experiencing|getting|going into) "
            rf"(?:\w+ ){{0,2}}(?:{symptom})"
            rf"|\b(?:{symptom})(?: \w+){{0,4}} {_NOW}")


def _rule(name: str, kind: TriageKind, *alternatives: str, needs: str = "") -> Rule:
    """A table row: the rule fires if any alternative matches the normalised question (and
    ``needs`` matches the words around it)."""
    return Rule(name, kind, re.compile("|".join(f"(?:{alt})" for alt in alternatives)),
                re.compile(needs) if needs else None)


_SH, _EM, _PD = TriageKind.SELF_HARM, TriageKind.EMERGENCY, TriageKind.PERSONAL_DOSING
_SELF = r"(?:my ?self|my ?slef)"
_DIE_TARGET = (r"(?:die|dying|overdose|od|kill (?:me|myself|you|yourself|someone|somebody|him"
               r"|her|them|us|people|an? (?:\w+ )?(?:person|human|adult|man|woman|child|kid)))")
_DOSE_WORD = r"(?:dose|doses|dosage|dosing|pills?|tablets?|meds|medication|medicine|injection)"
_CHANGE = (r"(?:double|triple|increase|raise|up|lower|reduce|decrease|cut|halve|split|crush|skip"
           r"|stop|quit|discontinue|change|adjust|taper|wean|come off|get off|go off|go up"
           r"|go down|switch)")
_MORE = (r"(?:more|another|extra|an extra|a second|two|three|double|twice|both|half|less"
         r"|a higher|a lower|a bigger|a smaller|a larger|an additional|additional|\d+)")
_AMOUNT = r"\d+ ?(?:mg|mcg|ml|g|milligrams?|micrograms?|pills?|tablets?|units?)\b"
_OK = r"(?:safe|ok|okay|alright|fine|dangerous)"
# "take" as a phrasal verb of something else: "take it out of the fridge", "take her
# contacts out", "take him in to the doctor".
_TAKE = (rf"take(?!(?: \w+){{0,2}} out\b)"
         rf"(?! (?:him|her|them|me|us|(?:my|his|her|our) {_FAMILY}) in\b)")
# Two things at once asks whether they go together, not for more: "can he take both of them
# at the same time", "can i get both on the same day".
_TOGETHER = (r"both (?:of (?:them|these|those) )?(?:together|at the same time|on the same day"
             r"|the same day)\b")

# The rule table: (name, kind, alternatives). classify() tries kinds in _PRIORITY order,
# then rules in table order; the first match wins.
RULES: tuple[Rule, ...] = (
    # Asking for a lethal amount is treated as self-harm risk whoever it is about: we never
    # give the number, and crisis support is the safe reply.
    _rule("lethal_dose", _SH,
          r"\b(?:lethal|leathal|lethel|fatal|deadly) (?:\w+ )?(?:dose|doses|dosage|amount"
          r"|quantity|overdose|level|mg)\b",
          r"\bld ?50\b",
          r"\bdose (?:that is|thats|which is) (?:lethal|fatal|deadly)"),
    _rule("amount_to_die", _SH,
          rf"\bhow (?:much|many)(?: \w+){{0,5}}? (?:would|will|could|can|to|it takes to|does it"
          rf" take to|would it take to|do i need to|is needed to|needed to|enough to|(?:before"
          rf"|until|till)(?: (?:i|you|someone|he|she|they|a person))?) {_DIE_TARGET}\b",
          rf"\b(?:enough|amount|pills|tablets|\d+ ?mg)(?: \w+){{0,3}} (?:to|would|will|could"
          rf"|that would|that will) {_DIE_TARGET}\b"),
    # First-person suicidal ideation, with misspellings ("kil myself", "end my lfe").
    _rule("suicidal_statement", _SH,
          rf"\bkil+(?:ing)? {_SELF}\b",
          r"(?<![0-9] )\bkms\b",  # "kill myself"; "5 kms" is a distance
          r"\bend(?:ing)? (?:my (?:own )?(?:l[iy]?fe|lief|lif|live)|it all)\b",
          r"\btake my (?:own )?(?:l[iy]?fe|lif)\b(?! back)",
          r"(?<!dont )(?<!not )(?<!never )(?<!who )\b(?:want|wanna|wish|planning|plan|ready"
          r"|need) (?:to )?(?:die|be dead)\b",
          r"\bwish (?:i|id) (?:was|were|had) (?:dead|never been born)",
          r"\b(?:dont|do not|no longer|not) want to (?:live|be alive|be here|exist|go on"
          r"|wake up)\b",
          r"\bbetter off (?:dead|without me)\b|\bno reason to live\b",
          r"\bhope (?:i|to) (?:dont|never|not) wake up\b",
          r"\b(?:cant|cannot) go on (?:like this|anymore|any more|living)\b",
          r"\b(?:nobody|no one) would (?:miss|care about) me\b",
          r"\b(?:gonna|going to|want to|wanna) end it\b(?! with)|\bdisappear forever\b"),
    # "suicide" needs a first-person cue just before it: "ketamine and suicidal ideation" is
    # a topic, "I have suicidal thoughts" is not.
    _rule("suicide_first_person", _SH,
          r"\b(?:i|im|ive|id)(?: (?:am|is|feel|feeling|felt|been|have|having|had|get|getting"
          r"|got|keep|still|so|very|really|kind|sort|of|thoughts?|thinking|about|considering"
          r"|contemplating|attempted|attempt|commit|tried|try|want|wanted|going|to|a|some"
          r"|constant|these|the|and|more|often)){0,4} suicid\w*",
          r"\b(?:me|my|my own|myself|feel\w*) suicid\w*"),
    _rule("self_harm", _SH,
          r"\bself ?(?:harm|injur)\w*",
          rf"\b(?:hurt|harm|cut|injure|punish|burn|starve)(?:ing)? {_SELF}\b",
          r"\bcut(?:ting)? my (?:wrists?|arms?|legs?|skin)\b"),
    # Overdose and poisoning phrasings that report an event, not a topic: fire anywhere.
    _rule("overdose_event", _EM,
          r"\boverdosed\b",
          r"\b(?:i|ive|he|hes|she|shes|they|just) (?:od|odd|oded|oding)\b",  # "I OD'd"
          r"\b(?:od|oded|oding) on\b|^odd on\b",
          r"\btook (?:an |a )?(?:\w+ )?overdose\b",
          r"\b(?:took|taken|swallowed|ate) (?:too (?:many|much)|a (?:whole|full) (?:bottle"
          r"|pack\w*|box)|all (?:of )?(?:my|his|her|their|the) (?:\w+ )?(?:pills|tablets|meds"
          r"|medication)|a handful of|[1-9][0-9]+ (?:\w+ )?(?:pills|tablets))\b",
          r"\b(?:been|was|got|is|am|im) poisoned\b"),
    _rule("child_ingestion", _EM,
          r"\b(?:child|kid|baby|toddler|son|daughter|dog|cat)s? (?:\w+ ){0,2}(?:swallowed|ate"
          r"|got into|drank) (?:\w+ ){0,3}(?:pills?|tablets?|medicine|meds|medication|bleach"
          r"|poison|patch)"),
    _rule("overdose_situated", _EM, _situated(
          r"(?:an )?overdos(?:e|ing)\b|poisoning\b|drank (?:bleach|antifreeze|poison)")),
    # "Can't breathe" / "not breathing" need no cue: nobody asks them as a topic.
    _rule("not_breathing", _EM,
          r"\b(?:not|stopped|cant|cannot|can not|unable to|barely|hardly|struggling to) "
          r"bre+a?th\w*",
          r"\bcant (?:get|catch) (?:my|his|her|a) breath\b"),
    _rule("breathing_trouble", _EM, _situated(
          r"(?:trouble|difficulty|problems?|hard time|hard|difficult) (?:to )?bre+a?th\w*",
          r"short(?:ness)? of breath|gasping|choking|wheezing|turning blue|an asthma attack",
          r"breathing (?:is |has )?(?:labou?red|shallow|difficult|hard|strained|weak|irregular"
          r"|slowed)")),
    _rule("chest_pain", _EM, _situated(
          r"chest (?:pain|pian|pains|pressure|tightness|tight|hurts?|hurting|is (?:tight"
          r"|hurting|heavy|crushing))",
          r"pain in (?:my|his|her|their|the) chest",
          r"(?:tight|heavy|crushing|squeezing) (?:feeling in (?:my|his|her|the) )?chest",
          rf"a heart attack\b{_NOT_NOW}")),
    # FAST signs of stroke: face, arm or leg on one side, speech.
    _rule("stroke_signs", _EM, _situated(
          r"face (?:is |looks |has |went |gone )?(?:droop\w*|dropp\w*|sagg\w*|numb|crooked"
          r"|lopsided|paralyz\w*)",
          r"droop\w* (?:face|mouth|eye|smile)",
          r"(?:speech|words?|talking) (?:is |are |sounds? )?(?:slurr\w*|garbled)",
          r"slurr\w* (?:speech|words|talking)|slurring",
          r"one side (?:of the (?:body|face) )?(?:is |feels |went |has gone )?(?:weak|numb"
          r"|paralyz\w*|dead)|(?:weak|numb)\w* on one side",
          rf"(?:a )?(?:mini )?stroke\b{_NOT_NOW}"),
          # With a possessive inside, these already say whose body it is.
          r"\bone side of (?:my|his|her|their) (?:body|face) (?:is |feels |went |has gone )?"
          r"(?:weak|numb|paralyz\w*|dead)\b",
          r"\bcant (?:move|lift|feel) (?:my|his|her|their) (?:arms?|legs?|face)\b"),
    _rule("anaphylaxis", _EM, _situated(
          r"(?:throat|tongue|lips?|mouth) (?:\w+ ){0,2}(?:swell\w*|swollen|puff\w*)",
          r"(?:face|eyes) (?:\w+ ){0,2}(?:swell\w*|swollen)",
          r"throat (?:\w+ ){0,2}(?:clos\w*|tight\w*)|swell\w* (?:\w+ )?(?:throat|tongue|lips?)",
          r"anaphyla\w*|(?:an )?allergic reaction",
          r"hives(?: \w+){0,8} (?:breath\w*|wheez\w*|throat)")),
    _rule("seizure", _EM, _situated(
          rf"(?:a |an )(?:seizure|convulsion)\b{_NOT_NOW}",
          r"having (?:a |an )?(?:seizure|convulsion)s?\b|seizing|convulsing",
          r"(?:having|into) (?:a )?fits?\b|(?:wont|cant) stop (?:shaking|jerking)")),
    _rule("unresponsive", _EM,
          r"\bunresponsive\b(?! to)",  # "unresponsive to treatment" is clinical language
          r"\b(?:wont|will not|isnt|is not|not) (?:wake|waking) up\b",
          r"\b(?:cant|cannot|can not|couldnt|unable to) (?:wake|rouse) (?:him|her|them|my \w+"
          r"|\w+ up)\b",
          r"\bnot responding\b(?! to)"),
    _rule("unconscious", _EM, _situated(
          r"unconscious|passed out|passing out|fainted|blacked out|collaps\w*",
          r"(?:gone|went|going) limp")),
    _rule("bleeding", _EM,
          r"\b(?:wont|cant|cannot|will not|doesnt|isnt) stop(?:ping)? bleeding\b",
          r"\bbleeding (?:wont|will not) stop\b",
          _situated(
              r"bleeding (?:heavily|a lot|badly|profusely|everywhere|out)",
              r"(?:heavy|severe|massive|uncontrolled|a lot of|lots of) (?:bleeding|blood)",
              r"(?:coughing|vomiting|throwing) up blood|vomiting blood")),
    # Personal dosing: a dose decision for a particular person. General dose information
    # ("What is the usual starting dose?") stays an ordinary question.
    # "How many can I take in a day" asks for the label's limit, the same for everyone; with
    # a person named or described it asks for theirs. How long a course lasts ("how many
    # days does he have to take them", round 14) is the label's: no amount for the person.
    _rule("how_much_for_person", _PD,
          rf"\bhow (?:much|many(?! (?:more )?(?:days|weeks|months|years)\b)|often)"
          rf"(?: \w+){{0,4}}? {_MODAL} {_PERSON_REF} (?:\w+ )?"
          rf"(?:{_TAKE}|give|use|have|start|be|stay|go|get|inject|wait)\b"
          r"(?<!\bcan i take)(?<!\bcan you take)(?<!\bcan we take)"
          r"(?<!\bcan i have)(?<!\bcan you have)(?<!\bcan we have)",
          r"\bhow (?:much|many)(?: \w+){0,4}? can (?:i|you|we) (?:take|have)\b"
          r"(?! (?:\w+ )?(?:in|per|a) (?:a |one |1 |24 )?(?:day|hours?)\b)"),
    _rule("what_dose_for_person", _PD,
          rf"\b(?:what|which)(?: \w+){{0,2}} (?:dose|dosage|amount|strength|mg|milligrams)"
          rf"(?: \w+){{0,4}}? {_MODAL} {_PERSON_REF} (?:\w+ )?(?:take|give|use|have|start|be"
          r"|get)\b"),
    _rule("change_dose", _PD,
          # "what foods should he cut back on" changes a diet, "how do we stop that" a side
          # effect
          rf"\b(?<!how )(?:can|could|should|may|do|shall) {_PERSON_REF} (?:just )?{_CHANGE}\b"
          r"(?! (?:back|down) on(?: (?:foods?|drinks?|salt|sugar|fats?|alcohol|caffeine|coffee"
          r"|beer|wine|meat|purines?)\b|$))",
          rf"\bhow (?:can|could|should|do) {_PERSON_REF} (?:just )?{_CHANGE}\b"
          rf"(?! (?:that|this|these|those)\b(?! {_DOSE_WORD}))",
          rf"\bis it (?:{_OK}|bad) (?:for (?:me|him|her|us|them|my \w+) )?to {_CHANGE}\b",
          rf"\b(?:i|we|he|she|they|im|hes|shes) (?:want|wants|need|needs|plan|plans|have|has"
          rf"|going|intend|intends|ought|would like) to {_CHANGE} (?:taking|using|my|his|her"
          r"|our|the dose|the medication)\b"),
    _rule("take_more", _PD,
          rf"\b(?:can|could|should|may|do) {_PERSON_REF} (?:\w+ )?(?:take|have|give|use|get)"
          rf"(?: \w+)? (?!{_TOGETHER}){_MORE}\b"),
    _rule("should_take", _PD,
          rf"\bshould {_PERSON_REF} (?:be )?(?:{_TAKE}|taking|give|giving|start|starting|use"
          r"|using)\b",
          rf"\bwhen should (?:i|he|she|we) (?:{_TAKE}|give)\b"),
    _rule("missed_dose", _PD,
          rf"\b(?:i|we|he|she|they|ive|hes|shes|you|{_FAMILY}) (?:\w+ )?(?:missed|miss|forgot"
          rf"|forget|skipped|skip)(?: to take)?(?: \w+){{0,3}} {_DOSE_WORD}\b",
          r"\bforgot to (?:take|give) (?:my|his|her|their)\b"),
    _rule("safe_for_me", _PD,
          rf"\bis (?:it|this|that) (?:{_OK}|too much|enough) for (?:me|him|her|us|them"
          r"|my \w+) (?:to )?(?:take|have|use|give|be on)\b",
          rf"\bis (?:it|this|that) {_OK} to (?:take|have|use|give) (?:\w+ ){{0,3}}{_AMOUNT}",
          rf"{_AMOUNT}(?: \w+){{0,2}} (?:too much|too high|too low|enough|safe|ok|okay) for "
          r"(?:me|him|her|my)\b"),
    # Facts about one person (weight, current dose) make the question about their dose when
    # it asks of an amount, a change or whether it suits them; "my daughter takes topamax
    # 50 mg, what color is that pill" asks of neither.
    _rule("personal_facts", _PD,
          r"\b(?:i|im|he|she|hes|shes|we|my \w+) (?:weigh|weighs|am|is|m)? ?(?:about |around "
          r"|only |over |under )?\d+ ?(?:kg|kgs|kilos?|kilograms?|lbs?|pounds)\b",
          rf"\b(?:prescribed|(?:i|we|he|she|they|{_FAMILY}) (?:take|takes|am taking|is taking"
          rf"|are taking|am on|is on|are on)|im taking|im on|hes on|shes on|hes taking"
          rf"|shes taking) (?:\w+ ){{0,2}}{_AMOUNT}",
          needs=rf"\b(?:how (?:much|many|often|long)|dose|doses|dosage|dosing|amount|strength"
                r"|more|another|extra|double|half|less|higher|lower|bigger|smaller"
                rf"|additional|{_AMOUNT}|{_CHANGE}|too (?:much|many|high|low|strong|weak)|enough"
                rf"|(?:right|correct|{_OK}|normal|too \w+) for|is (?:that|this|it) (?:still )?"
                rf"(?:right|correct|{_OK}|normal|too|enough)"
                rf"|(?:can|could|should|may|shall|do|does) {_PERSON_REF} (?:\w+ )?(?:take|have"
                r"|give|use|get|start|go|be))\b"),
    _rule("personal_dose", _PD,
          r"\b(?:my|his|her|our) (?:(?!question|research|article|paper|essay|homework|report"
          r"|project|study)\w+ ){0,2}(?:dose|dosage|doses|dosing)\b"),
)

_PRIORITY = (TriageKind.SELF_HARM, TriageKind.EMERGENCY, TriageKind.PERSONAL_DOSING)


# Requests to produce a drug: no leaflet or article answers them, and instructions would be
# dangerous whatever the documents say, so they are declined before retrieval. A verb of
# production alone is not enough ("how to make memantine work better"): it needs a
# synthesis word or a do-it-yourself setting.
_MANUFACTURE = re.compile(
    r"\b(?:synthesi[sz]e|synthesi[sz]ing|chemically produce)\b"
    r"|\b(?:make|making|cook|cooking|manufacture|manufacturing|brew|brewing|extract"
    r"|extracting|produce|producing|grow|growing)\b(?: \w+){1,5}? (?:at home|in (?:a|my|your"
    r"|the) (?:lab|laboratory|kitchen|garage|basement|bathroom)|from scratch"
    r"|(?:by )?(?:myself|yourself))\b"
)


def requests_manufacture(question: str) -> bool:
    """True for "how do I make ketamine at home", "synthesize dantrolene" and the like."""
    return bool(_MANUFACTURE.search(fold(question)))


# Correctly spelled safety keywords that fuzzy matching may restore ("siezure" -> "seizure").
_KEYWORDS = (
    "overdosed", "overdose", "overdosing", "suicide", "suicidal", "seizure", "seizures",
    "seizing", "convulsion", "convulsions", "convulsing", "unresponsive", "unconscious",
    "breathe", "breathing", "breath", "drooping", "droopy", "slurred", "slurring", "swelling",
    "swollen", "bleeding", "poisoned", "poisoning", "lethal", "deadly", "killing", "myself",
    "himself", "herself", "collapsed", "anaphylaxis", "anaphylactic", "pressure", "tightness",
)
# Real words one edit away from a keyword: left alone, so "blurred vision" stays blurred.
_REAL_WORDS = frozenset((
    "breeding", "bleeping", "blending", "smelling", "spelling", "dwelling", "selling",
    "swilling", "dropping", "drooling", "trooping", "blurred", "slurped", "blurring", "slurping",
    "sizing", "willing", "filling", "billing", "milling", "tilling", "overdone", "overdoes",
    "lightness", "rightness", "breadth", "wreath", "dearly", "poisoner", "breather",
))
_MIN_FUZZY_LEN = 5


def _within_one_edit(a: str, b: str) -> bool:
    """True if a and b differ by at most one substitution, insertion, deletion or swap."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        swapped = a[i + 1 : i + 2] + a[i : i + 1] + a[i + 2 :] == b[i:]
        return a[i + 1 :] == b[i + 1 :] or swapped
    return a[i:] == b[i + 1 :]


@functools.lru_cache(maxsize=4096)
def correct_token(token: str) -> str:
    """A safety keyword within one edit of ``token`` (5+ letters), else ``token`` unchanged."""
    if len(token) < _MIN_FUZZY_LEN or not token.isalpha() or token in _REAL_WORDS:
        return token
    if token in _KEYWORDS:
        return token
    # difflib ranks candidates by similarity; the edit check keeps only true one-edit typos.
    for candidate in difflib.get_close_matches(token, _KEYWORDS, n=3, cutoff=0.75):
        if len(candidate) >= _MIN_FUZZY_LEN and _within_one_edit(token, candidate):
            return candidate
    return token


def _typed_span(raw: list[str], fixed: list[str], start: int, end: int) -> str:
    """The words as typed behind ``fixed`` text offsets [start, end)."""
    words, pos = [], 0
    for typed, corrected in zip(raw, fixed, strict=True):
        if pos < end and pos + len(corrected) > start:
            words.append(typed)
        pos += len(corrected) + 1
    return " ".join(words)


def classify(question: str) -> Triage:
    """Triage a question before retrieval; ``Triage(None)`` for an ordinary question."""
    raw = fold(question).split()
    fixed = [correct_token(word) for word in raw]
    text = " ".join(fixed)
    for kind in _PRIORITY:
        for rule in RULES:
            if rule.kind is not kind:
                continue
            match = rule.search(text)
            if match:
                matched = _typed_span(raw, fixed, match.start(), match.end())
                log.debug("triage %s by rule %s on %r", kind, rule.name, matched)
                return Triage(kind, rule.name, matched)
    return Triage(None)


# A text opening with one of these asks about something; it does not report it.
_QUESTION_OPENERS = frozenset(
    "what how why when which who whom whose where is are am was were does do did can could "
    "should would will may might has have had shall tell explain list describe".split())
# …and a negation typed without its apostrophe (``fold``), with a subject after it: "cant
# she just take b12 pills instead, she hates needles" was held an emergency report (round
# 16); not one with none, which reports ("cant get my husband to answer me, he took
# something", "didnt mean to take so many…")
_NEGATED_QUESTION = re.compile(r"^(?:cant|couldnt|shouldnt|wouldnt|wont|isnt|arent|doesnt|dont"
                               r"|didnt)\s+(?:i|you|he|she|we|they|it|this|that)\b")


# Asking how to keep something that keeps happening from happening again is no report of
# an emergency: "my dad keeps getting dizzy from his pills, how do we stop that" scored
# nearer the reports. "my son swallowed a bunch of my pills, how do we stop it" is one.
_PREVENTING = re.compile(r"\b(?:keeps?|every time|each time|whenever|always)\b.*\bhow (?:do|can"
                         r"|could|should|would) (?:i|we|you|they) (?:stop|prevent|avoid"
                         r"|keep (?:it|that|this|them) from)\b")


@dataclass
class MeaningTriage:
    """The rule table first; for a question no rule catches, or one only a personal-dosing
    rule catches, its nearest labelled examples.

    An emergency said without a keyword ("took a handful", "swallowed the whole pack",
    "can't get him to respond") is caught when the text is a report, not a question (it
    does not open with "what", "can", "is"...), and the mean cosine of it to its three
    nearest emergency reports (``triage_examples``) reaches ``min_similarity`` and beats
    the three nearest look-alikes by ``margin``. Chosen on the dev split and the
    look-alike tables of the tests (dev reports 0.49-0.64; the closest look-alike
    statement 0.46). One embedding per question: a few milliseconds.
    """

    embedder: Embedder
    min_similarity: float = 0.48
    margin: float = 0.02
    _reports: np.ndarray = field(init=False, repr=False)
    _look_alikes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from qa.triage_examples import EMERGENCY_REPORTS, LOOK_ALIKES

        self._reports = self.embedder.embed(list(EMERGENCY_REPORTS))
        self._look_alikes = self.embedder.embed(list(LOOK_ALIKES))

    def scores(self, question: str) -> tuple[float, float]:
        """Mean cosine to the 3 nearest emergency reports, and to the 3 nearest look-alikes."""
        vector = self.embedder.embed([fold(question)])[0]
        near = [float(np.mean(np.sort(m @ vector)[-3:])) for m in (self._reports,
                                                                   self._look_alikes)]
        return near[0], near[1]

    def classify(self, question: str) -> Triage:
        found = classify(question)
        folded = fold(question)
        opening = folded.split()[:1]
        # a personal-dosing rule does not keep an emergency out: "my son swallowed a bunch of
        # my pills, how do we stop it" asks "how do we stop" as a dose change would
        if found.kind in (TriageKind.SELF_HARM, TriageKind.EMERGENCY) or not opening \
                or opening[0] in _QUESTION_OPENERS or _NEGATED_QUESTION.match(folded) \
                or _PREVENTING.search(folded):
            return found
        report, look_alike = self.scores(question)
        if report >= self.min_similarity and report - look_alike >= self.margin:
            log.debug("triage emergency by meaning (%.2f vs %.2f)", report, look_alike)
            return Triage(TriageKind.EMERGENCY, "meaning", f"{report:.2f} vs {look_alike:.2f}")
        return found
