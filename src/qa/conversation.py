"""Follow-up questions made to stand on their own, by rules over the earlier turns.

"How does memantine work?" then "What about its side effects?" becomes "What are the
side effects of memantine?"; "and for ketamine?" becomes the previous question about
ketamine; a message naming a drug starts a new topic and carries nothing along, unless it
names a condition where a drug was asked about (or the other way round) and refers back
with a pronoun ("Does it cure shingles?" after valacyclovir). Only the
standalone question (never the earlier answers) reaches retrieval and the model, so the
prompt stays as short as for a first question. No model call: a few microseconds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from qa.questions import in_plain_words
from qa.scope import (
    Lexicon,
    may_be_noun,
    may_be_verb,
    mistyped,
    name_like,
    only_verb,
    said_of_things,
    specific,
)
from qa.text import (
    CARERS,
    RELATIONS,
    STOPWORDS,
    asking_part,
    sentence_spans,
    terms,
    told_and_asked,
    zipf,
)

if TYPE_CHECKING:
    from qa.answer import Assistant
    from qa.types import Answer, StreamEvent

Role = Literal["user", "assistant"]
# "and for ketamine?", "what about dantrolene", "same for memantine", "also the dose?"
_ELLIPSIS = re.compile(r"^\W*(?:and|also|plus|what about|how about|and what about|what of"
                       r"|same for|same question for|and for|and with|how is it for)\b[\s,]*",
                       re.IGNORECASE)
# Words that stand for the drug of the conversation.
_DRUG_REFERENCE = re.compile(
    r"\b(?:this|that|the|these|those) (?:drug|drugs|medicine|medicines|medication|"
    r"medications|tablets?|pills?|capsules?|treatment)\b|\b(?:its|it's|it|they|them|their)\b",
    re.IGNORECASE)
# Short follow-ups that name an aspect but no drug: "What are the side effects?"
_ASPECT = re.compile(r"\b(?:side effects?|dose|doses|dosage|dosing|interact\w*|mechanism|work"
                     r"|works|risks?|benefits?|warnings?|used for|uses?|taken|take|monitor\w*"
                     r"|stored?|storage|safe|safety|contraindicat\w*|overdose)\b", re.IGNORECASE)
_SHORT = 8  # words
# A short message that goes on from the last answer though it names nothing and refers to
# nothing: "ok how fast can i come down then" (after a question about quitting Xanax).
_GOING_ON = re.compile(r"^\W*(?:ok(?:ay)?|so|alright|right|then)\b|\bthen\W*$", re.IGNORECASE)
# ...or one pointing at the amount or time the last answer gave: "does he start on that
# much right away?" (after the most allopurinol one may take in a day)
_THAT_MUCH = re.compile(r"\b(?:that|this|the same) (?:much|many|dose|amount|often|long|high|"
                        r"strength)\b", re.IGNORECASE)
# What is done with a medicine's pills: "should she take them with orange juice"
_TAKEN = re.compile(r"\b(?:take|takes|taking|took|start|started|stop|stopped|give|giving)"
                    r"\s+(?:them|they)\b", re.IGNORECASE)
# "which one stays in your system longer" after a question naming two drugs
_WHICH_ONE = re.compile(r"\bwhich (?:one|of (?:them|the two|these|those|both))\b",
                        re.IGNORECASE)
# "can he take both of them at the same time?" after a question naming two drugs
_THE_TWO = re.compile(r"\bboth of (?:them|these|those)\b|\bthem both\b|\bthe two of them\b"
                      r"|\b(?:these|those) two\b", re.IGNORECASE)
# What a noun phrase may start with, when it swaps the thing a question asked about
_DETERMINER = r"(?:(?:a|an|the|my|your|his|her|our|their|some|any)\s+)"
# Short follow-ups about a condition: "What are the symptoms?", "Is there a cure?". Carried
# only when nothing follows the aspect ("the symptoms of a stroke" asks about a stroke).
_CONDITION_ASPECT = re.compile(
    r"\b(?:symptoms?|signs?|causes?|caused|treatments?|treated|therapy|therapies|diagnos\w*|"
    r"tests?|prevent\w*|cure[sd]?|outlook|prognosis|complications?|risk factors?|inherited|"
    r"genetic|contagious|diet|foods?)\b(?![\s\w]*\b(?:of|for|in|from|with)\s+(?!it\b|this\b|"
    r"that\b|them\b)\w)", re.IGNORECASE)
# How a condition's aspect takes its name: "the symptoms of X", "a cure for X", "foods to
# avoid with X" (keyed by the aspect's first four letters).
_JOINT = {"cure": "for", "trea": "for", "ther": "for", "test": "for", "prev": "for",
          "risk": "for", "diet": "with", "food": "with"}
# "What is depression?", "Tell me about gout": the subject a follow-up's "it" stands for.
_DEFINED = re.compile(r"^\W*(?:what (?:is|are)|tell me (?:about|more about)|explain|describe|"
                      r"what do you know about)\s+(?:an?\s+|the\s+)?(?P<x>[\w'’ -]{3,40}?)"
                      r"\W*$", re.IGNORECASE)
_NOT_NAMES = frozenset("used use work works mean means made treated given taken".split())
# Words that end a condition's name: "neuroleptic malignant syndrome", "celiac disease".
_NAME_END = frozenset("disease diseases syndrome disorder disorders infection cancer failure "
                      "injury palsy sclerosis deficiency".split())


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, in the OpenAI chat roles."""

    role: Role
    content: str


def _drug_words(text: str, lexicon: Lexicon) -> list[str]:
    """Drugs the text names: the corpus's, then specific words it has never seen (so that
    "and for metformin?" asks about metformin, and is refused as such; but "they" after
    "My neurologist started me on Klonopin…" is Klonopin)."""
    tokens = terms(text)
    aside = said_of_things(tokens, lexicon)  # "…at walgreens": a shop, not a drug
    named = [w for w in dict.fromkeys(tokens)
             if w in lexicon.drugs or (specific(w) and not lexicon.vocabulary.knows(w)
                                       and not mistyped(w) and w not in aside)]
    return sorted(named, key=lambda w: w not in lexicon.drugs)


def _condition(word: str, lexicon: Lexicon) -> bool:
    """A condition the documents discuss ("shingles"), not a drug (``Lexicon.conditions``)."""
    return lexicon.drugs.get(word) in lexicon.conditions


def _countable(word: str, lexicon: Lexicon) -> bool:
    """"They" or "them" may stand for it: a drug (its pills), or a condition named in the
    plural; not "anemia": "…since she started them" after a question on anemia means the
    iron pills."""
    return not _condition(word, lexicon) or word.endswith("s")


def _named_as(text: str, word: str) -> str:
    """The subject as the earlier question names it: the word, with the words after it when
    they end a condition's name within three ("neuroleptic" -> "neuroleptic malignant
    syndrome", "alzheimer" -> "Alzheimer's disease")."""
    found = list(re.finditer(r"[\w'’-]+", text))
    for i, match in enumerate(found):
        if terms(match.group(0))[:1] != [word]:
            continue
        for j in range(i + 1, min(i + 4, len(found))):
            if found[j].group(0).lower() in _NAME_END:
                return text[match.start():found[j].end()]
        return word
    return word


def _subject(defined: re.Match[str] | None) -> str:
    """What "What is X?" asked to define, when X is a name ("depression", "hepatitis C"),
    not a clause ("colchicine used for")."""
    if defined is None:
        return ""
    found = defined.group("x").split()
    return " ".join(found) if all(
        w.lower() not in STOPWORDS | _NOT_NAMES for w in found) else ""


# Words of a question that are not its subject: question words and fillers, and what is
# asked of the subject ("How often are B12 shots given?": "B12 shots").
_NOT_SUBJECT = frozenset("""often long much many usually normally typically best right ok okay
    safe happen happens happened need needs needed get gets got someone people patients person
    me my you your we us one during since until till within without between against through
    again ago yet still just already today tonight tomorrow yesterday""".split())
_NOT_THING = STOPWORDS | _NOT_SUBJECT | _NOT_NAMES
# Words a verb follows: "should i take 2 today" takes, it names no "take"
_SUBJECTS = frozenset("i you he she we they would could should can will may might must".split())


def _phrase(question: str, lexicon: Lexicon) -> str:
    """The thing a question naming no drug asks about, for a pronoun in the next message to
    stand for: the longest run of its words that are neither stopwords, question fillers,
    nor only verbs, that the documents use, and that ends in a noun ("How often are B12
    shots given?" -> "B12 shots"; then "What happens if I stop them?" asks about B12
    shots; "…if I feel dizzy?" names no thing). Empty when none."""
    runs = _runs(question, lexicon)
    # The run holding the rarest name first, up to its last name but for nouns ("What
    # kind of infections does Zithromax treat?": "Zithromax", not "infections" or
    # "Zithromax treat"), else the longest
    named = [_up_to_name(run) for run in runs if any(specific(w.lower()) for w in run)]
    best = min(named, key=lambda run: min(zipf(w.lower()) for w in run)) if named else max(
        (run for run in runs if run and may_be_noun(run[-1].lower())), key=len, default=[])
    return " ".join(best) if len(best) <= 3 else ""


def _runs(question: str, lexicon: Lexicon) -> list[list[str]]:
    """The runs of a question's words that are neither stopwords, question fillers, nor
    only verbs, and that the documents use."""
    runs: list[list[str]] = [[]]
    previous = ""
    for word in re.findall(r"[\w'’-]+|[.,;:!?]", question):  # punctuation ends a run
        after, previous = previous, word.lower()
        low = previous
        # a count ends a run: "started rosuvastin 2 weeks ago" is about rosuvastin, and
        # "can i just quit it?" after it does not quit "rosuvastin 2 weeks"; so does a
        # mistyped word ("his dermatoligist wants to try methotrexate": "it" after it is
        # no doctor, round 15)
        # ...and so does a verb after its subject ("should i take 2 today": "it" in the
        # next message is no "take", round 16)
        if low in _NOT_THING or low.isdigit() or low in ".,;:!?" or only_verb(low) \
                or after in _SUBJECTS and may_be_verb(low) \
                or not lexicon.vocabulary.knows(low) or mistyped(low):
            runs.append([])
        else:
            runs[-1].append(word)
    return [run for run in runs if run]


def _up_to_name(run: list[str]) -> list[str]:
    """The run without the words after its last name that may be verbs ("Zithromax
    treat" -> "Zithromax"; "Keflex capsules" stays)."""
    last = max(i for i, w in enumerate(run) if specific(w.lower()))
    tail = list(itertools.takewhile(lambda w: not may_be_verb(w.lower()), run[last + 1:]))
    return run[:last + 1] + tail


def _swap(question: str, old: Sequence[str], new: str) -> str:
    """The question with every drug in ``old`` replaced by ``new`` (or ``new`` added)."""
    if not old:
        return f"{question.rstrip(' ?.')} for {new}?"
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, old)) + r")\b", re.IGNORECASE)
    return pattern.sub(new, question)


# "Is it safe to ...", "Is it OK for me to …", "Is it normal that …": this "it" stands
# for nothing. Without what it stands for, it is the subject: "Is it more common in
# women?" after "What is depression?" asks whether depression is.
_EXPLETIVE = re.compile(r"\b(?:is|was|isn't|wasn't|would|will) it (?:\w+ )?(?:safe|ok|okay|"
                        r"possible|true|normal|common|dangerous|fine|bad|better|wise|risky|"
                        r"advisable|likely)\b(?=(?:\s+\w+){0,3}?\s+(?:to|that|if|when|whenever"
                        r"|while)\b)|\b(?:is|isn't) it true\b|\b(?:does|did|would|will|could)"
                        r" it (?:not |really |even )?matter\b", re.IGNORECASE)
# A pronoun caught or spread is an illness, not a medicine: "i think i caught them from her.
# can i use the old lindane shampoo" (head lice, round 13)
_CAUGHT = re.compile(r"\b(?:caught|catch|catches|catching|spread|spreads|spreading|passed"
                     r"|pass|passing)\s+(?P<it>it|them)\b", re.IGNORECASE)


# A pronoun taken, refilled or dosed is a medicine, not the condition named beside it: "my
# refill of it came as yellow pills" after "…started me on topamax 25 mg. can i take an
# extra one when a migraine starts", "when is she supposed to take it" (round 13)
_TAKEN_IT = re.compile(r"\b(?:take|takes|taking|took|use|uses|using|give|gives|giving|start"
                       r"|started|stop|stopped|put|putting|apply|applying|rub|finish|finishing"
                       r"|refills?|doses?"
                       r"|pills?) (?:of )?(?:it|them)\b", re.IGNORECASE)


_THEY = re.compile(r"\b(?:they|them|their)\b", re.IGNORECASE)


# "instead" with nothing after it stands for "instead of" what was asked about before
_INSTEAD = re.compile(r"\binstead\b(?!\s+of\b)", re.IGNORECASE)
# "what could happen if she does" ends on the act the question before asked about…
_DOES_SO = re.compile(r"\bif (?:i|you|he|she|we|they) (?:do|does|did)(?=\W*$)", re.IGNORECASE)
# …"can she just stop it cold turkey": "stop it cold turkey"
_ASKED_ACT = re.compile(r"^\W*(?:can|could|should|may|will|would)\s+(?:i|you|he|she|we|they)\s+"
                        r"(?:just\s+|still\s+)?(?P<act>[a-z].*?)\W*$", re.IGNORECASE)


def _expletives(message: str) -> set[int]:
    """Where each "it" that stands for nothing starts ("Is it safe to…", "Does it matter…"),
    and each pronoun caught or spread (``_CAUGHT``)."""
    return {m.start() + m.group(0).lower().index(" it ") + 1
            for m in _EXPLETIVE.finditer(message)} | {
        m.start("it") for m in _CAUGHT.finditer(message)}


def _refer(message: str, drug: str, *, plural: bool = True) -> str:
    """Pronouns and "this medicine" replaced by the drug's name ("its" -> "drug's"); "they",
    "them" and "their" only when what they stand for may be ``plural`` ("B12 shots", a
    drug; not "afib": "everyone who has it can feel their heart racing"); "it" once a clause."""
    expletive = _expletives(message)
    named: list[int] = []  # where an "it" was named

    def name(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        if match.start() in expletive or (not plural and word in ("they", "them", "their")) \
                or word == "it" and named and not re.search(r"[,.;:!?]",
                                                           message[named[-1]:match.start()]):
            # a second "it" in one clause stands for another thing: "Will it cure it?"
            # after "I got shingles and the doctor gave me valacyclovir." (was "Will
            # valacyclovir cure valacyclovir?"); not one after a comma ("shes been on it
            # like 6 years now, can she just stop it?")
            return match.group(0)
        if word == "it":
            named.append(match.start())
        if word in ("its", "their"):
            return f"{drug}'" if drug.endswith("s") else f"{drug}'s"
        return drug

    return _DRUG_REFERENCE.sub(name, message)


def _refers_before_naming(message: str, named: Sequence[str]) -> bool:
    """A pronoun that stands for something comes before the first name the message gives:
    "can i take it with ibuprofen?" asks about the earlier drug with ibuprofen; in "what
    about ibuprofen, is it safe?" "it" is ibuprofen."""
    expletive = _expletives(message)
    pronoun = next((m.start() for m in _DRUG_REFERENCE.finditer(message)
                    if m.start() not in expletive), None)
    if pronoun is None:
        return False
    first = min((m.start() for m in re.finditer(r"[\w'’-]+", message)
                 if set(terms(m.group(0))) & set(named)), default=len(message))
    return pronoun < first


def _everyday(word: str, lexicon: Lexicon) -> bool:
    """A word ``_drug_words`` took for a name that is an everyday thing ("grapefruit"): not
    the corpus's drug and not shaped like a name."""
    return word not in lexicon.drugs and not name_like(word)


def _swap_thing(previous: str, message: str, lexicon: Lexicon) -> str:
    """ "what about a glass of wine with dinner" after "i have afib. can my morning coffee
    set it off?" -> "i have afib. can a glass of wine with dinner set it off?": the
    everyday thing the question asked about swapped for the one the message names. Empty
    when the message names no thing, asks for an aspect ("what about the side effects?"),
    or what was asked about is a name ("Is coffee bad for afib?": it may be either)."""
    marker = _ELLIPSIS.match(message)
    if marker is None:
        return ""
    new = message[marker.end():].strip(" ?.!")
    first = new.split()[0].lower() if new else ""
    if not first or _ASPECT.search(new) or _CONDITION_ASPECT.search(new) or only_verb(first) \
            or (first in STOPWORDS and not re.match(_DETERMINER, new, re.IGNORECASE)):
        return ""
    split = told_and_asked(previous)
    runs = [run for run in _runs(split[1] if split else previous, lexicon)
            if may_be_noun(run[-1].lower())]  # a thing, not "off" of "set it off"
    # one thing asked about, all nouns ("Does coffee raise blood pressure?" has "coffee
    # raise blood" and may be about either)
    if len(runs) != 1 or any(specific(w.lower()) or may_be_verb(w.lower()) for w in runs[0]):
        return ""
    phrase = " ".join(runs[0])
    # with a determiner and one word before that may be a noun ("my morning coffee")
    found = re.search(rf"\b(?P<det>{_DETERMINER})?(?:(?P<mod>[\w-]+)\s+)?{re.escape(phrase)}\b",
                      previous, re.IGNORECASE)
    if found is None:
        return ""
    mod = found.group("mod")
    start = found.end() - len(phrase) if mod and (
        mod.lower() in _NOT_THING or not may_be_noun(mod.lower())) else found.start()
    return _capitalised(previous[:start] + new + previous[found.end():])


# "What about the dose of X?": a noun phrase, not yet a question.
_WHAT_ABOUT = re.compile(r"^(?:what|how) about (?P<np>.+?)[\s?.]*$", re.IGNORECASE)
_POSSESSIVE = re.compile(r"^(?P<owner>[\w-]+)'s (?P<thing>.+)$")


def _as_question(text: str) -> str:
    """ "What about memantine's side effects?" -> "What are the side effects of memantine?".

    The model answers a wh-question more exactly than a bare noun phrase (on the dev
    conversations, "What about X's side effects?" drew "generally well-tolerated" where
    "What are the side effects of X?" drew the list), and it reads better as "Searched
    for". A gerund ("what about taking it with food?") is left as it is.
    """
    match = _WHAT_ABOUT.match(text)
    if not match:
        return text
    phrase = match.group("np")
    owned = _POSSESSIVE.match(phrase)
    if owned:
        phrase = f"the {owned.group('thing')} of {owned.group('owner')}"
    if not phrase.lower().startswith("the "):
        return text
    head = phrase.split(" of ")[0].split()[-1].lower()
    verb = "are" if head.endswith("s") and not head.endswith("ss") else "is"
    return f"What {verb} {phrase}?"


def _capitalised(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def standalone(previous: str | None, message: str, lexicon: Lexicon) -> str:
    """The latest message as a question of its own, given the previous standalone one.

    Both are read with contractions and idioms as meant (``in_plain_words``: "isnt" is no
    drug's name); a message nothing carries into is returned as typed."""
    message = " ".join(message.split())
    if not previous:
        return message
    plain = in_plain_words(message)
    carried = _carried(in_plain_words(previous), plain, lexicon)
    return message if carried == plain else carried


def _carried(previous: str, message: str, lexicon: Lexicon) -> str:
    named = _drug_words(message, lexicon)
    # the drugs named before, those the question asked about first: "it" after "…on
    # insulin, his dr just put him on prednisone for his back. can the prednisone mess
    # with his sugar?" is prednisone
    split = told_and_asked(previous)
    asked = _drug_words(split[1], lexicon) if split else []
    before = sorted(_drug_words(previous, lexicon), key=lambda w: w not in asked)
    if _TAKEN_IT.search(message) or before and not _countable(before[0], lexicon) \
            and _THEY.search(message):
        # what is taken is a medicine, and "them" is not "strep": "does he really need to
        # finish them all" after "…has strep, the dr gave him penicillin pills" (round 14)
        before.sort(key=lambda w: _condition(w, lexicon))
    if named and _ELLIPSIS.match(message) and len(message.split()) <= _SHORT - 2:
        # "and for ketamine?"; of the drugs named before, those the question asked about:
        # "what about pantoprazole then?" after "im on plavix since they put my stent in. is
        # it ok to take prilosec for heartburn?" swaps Prilosec, not Plavix too
        return _capitalised(_swap(previous, [w for w in before if w in asked] or before,
                                  named[0]))
    if before and named and _DRUG_REFERENCE.search(message) and not (
            _condition(before[0], lexicon) and _TAKEN_IT.search(message)) and (all(
            _condition(w, lexicon) != _condition(before[0], lexicon) or _everyday(w, lexicon)
            for w in named) or _refers_before_naming(message, named)):
        # "Does it cure shingles?" after valacyclovir, "Does valacyclovir treat it?" after
        # shingles: the pronoun is the earlier subject, the name is of the other kind, an
        # everyday thing ("is grapefruit juice a problem with it?"), or comes after it
        # ("can i take it with ibuprofen?")
        referred = _refer(message, before[0], plural=_countable(before[0], lexicon))
        if referred != message:
            return _as_question(_capitalised(referred))
    topic = _subject(_DEFINED.match(previous))  # "What is depression?"; not "what are
    if not (named or before or topic):  # the signs of afib" (a clause, not a name)
        return _about_a_thing(previous, message, lexicon)
    if named or not (before or topic):
        return message  # a new topic, or nothing to carry
    return _about_a_subject(previous, message, lexicon, before, topic)


def _about_a_thing(previous: str, message: str, lexicon: Lexicon) -> str:
    """A follow-up to a question naming no drug: "How often are B12 shots given?" then
    "What happens if I stop them?": the pronoun stands for what the question asked about."""
    swapped = _swap_thing(previous, message, lexicon)
    if swapped:
        return swapped
    # what the question asked about, not what it told, unless what it told is a name:
    # "should she take them with orange juice" after "her poop has turned really dark since
    # she started them, is that from the iron?" asks about iron; "…can i just quit it?"
    # after "started rosuvastin 2 weeks ago, what side effects are kinda normal" about
    # rosuvastin
    split = told_and_asked(previous)
    phrase = _phrase(previous, lexicon)
    if split and not any(name_like(w.lower()) for w in phrase.split()):
        phrase = _phrase(split[1], lexicon) or phrase
    # "them" stands for a plural, or for what is taken in pills ("take them" of iron)
    plural = phrase.lower().endswith("s") or bool(_TAKEN.search(message))
    referred = _refer(message, phrase, plural=plural) if phrase else message
    if referred != message:
        return _as_question(_capitalised(referred))
    if phrase and _names_nothing(message) and any(specific(w) for w in terms(phrase)):
        # "we gave him the first dose like 3 weeks ago and totally forgot the second one.
        # what now" after "my 6 yr old has pinworms, can i just buy something otc…" is about
        # pinworms still (round 13: the head lice page's retreatment line answered it)
        return _capitalised(f"{message.rstrip(' ?.')} ({phrase})?")
    return message


# What any medicine comes in or is taken as, when and how often: no topic of a message's own
_NOTHING_WORDS = frozenset("""dose doses dosage pill pills tablet tablets capsule capsules
    refill refills medicine medicines medication medications day days week weeks month
    months year years hour hours minute minutes time times morning night tonight today
    tomorrow yesterday now ago first second third one two three once twice""".split())
# A noun this common or rarer names a thing ("capital", "france", "contacts")
NAMING_ZIPF = 5.5


def _names_nothing(message: str) -> bool:
    """The message names no thing of its own: no word that may be a noun under
    ``NAMING_ZIPF`` but what any medicine is taken as, when and how often ("dose", "weeks",
    "second") and who looks after the person ("doctor"). "What is the capital of France?"
    names things."""
    return not any(w.isalpha() and zipf(w) < NAMING_ZIPF and may_be_noun(w)
                   and w not in STOPWORDS | _NOTHING_WORDS | CARERS | RELATIONS
                   for w in terms(message))


def _about_a_subject(previous: str, message: str, lexicon: Lexicon, before: list[str],
                     topic: str) -> str:
    """A follow-up naming nothing, to a question about a drug or condition (``before``)
    or one asking what ``topic`` is."""
    which = _WHICH_ONE.search(message)
    if which and len(before) > 1:  # "which one stays in your system longer"
        return _capitalised(_WHICH_ONE.sub(f"which of {before[0]} and {before[1]}", message,
                                           count=1))
    if len(before) > 1 and _THE_TWO.search(message):
        two = " and ".join(_named_as(previous, word) for word in before[:2])
        return _as_question(_capitalised(_THE_TWO.sub(two, message, count=1)))
    # The drug or condition asked about before, or what "What is X?" asked to define (a
    # subject the documents do not name as their own: "What is depression?").
    drug = _named_as(previous, before[0]) if before else topic
    if _TAKEN_IT.search(message) and (not before or _condition(before[0], lexicon)):
        # "do i put it on my 2 yr olds head too" after "…whole family has scabies. can i
        # just grab something otc": what is put on is the medicine for it
        drug = f"the medicine for {drug}"
    referred = _refer(message, drug, plural=not before or _countable(before[0], lexicon))
    if referred != message:
        return _as_question(_capitalised(referred))
    done = _DOES_SO.search(message)
    act = _ASKED_ACT.match(asking_part(previous)) if done else None
    if done and act:  # "what could happen if she does" stop trazodone cold turkey
        did = _refer(act.group("act"), drug, plural=not before or _countable(before[0],
                                                                              lexicon))
        return _as_question(_capitalised(f"{message[:done.end()]} {did}?"))
    if _INSTEAD.search(message):  # "ok so what can i give her instead" (of aspirin)
        return _as_question(_capitalised(_INSTEAD.sub(f"instead of {drug}", message, count=1)))
    short = len(message.split()) <= _SHORT
    if _ELLIPSIS.match(message) or (short and _ASPECT.search(message)):
        return _as_question(_capitalised(f"{message.rstrip(' ?.')} of {drug}?"))
    aspect = _CONDITION_ASPECT.search(message) if short else None
    if aspect and (not before or _condition(before[0], lexicon)):
        joint = _JOINT.get(aspect.group(0).lower()[:4], "of")
        return _capitalised(f"{message.rstrip(' ?.')} {joint} {drug}?")
    # "ok how fast can i come down then", "ok and when can she take her calcium pill"
    # (after "…takes fosamax, can she take it with her morning coffee"); a message naming
    # nothing goes on from the drug asked about, whatever its length
    if len(message.split()) <= 2 * _SHORT and (_GOING_ON.search(message)
                                               or _THAT_MUCH.search(message)) \
            or _names_nothing(message) and bool(before) and before[0] in lexicon.drugs:
        return _capitalised(f"{message.rstrip(' ?.')} ({drug})?")
    return message


def asked_alone(message: str, lexicon: Lexicon) -> str:
    """A question after sentences that set it up, asked on its own with its pronouns named
    from them: "I've been on lorazepam for a few months. Can I just quit it cold turkey?"
    (or the other way round) -> "Can I just quit lorazepam cold turkey?" (as typed, the
    told words crowded out the asked ones in retrieval and it was refused, though the
    leaflet answers it). Unchanged when the question refers to nothing told, or the told
    part names more than one drug ("Memantine and ketamine both act on NMDA receptors. How
    do their effects differ?")."""
    # Whole sentences only: what a clause tells is often the question's condition ("I'm
    # allergic to penicillin…, my doctor wants to put me on amoxicillin, is that ok for me
    # to take?" alone is "Is that ok for me to take amoxicillin?", which "Take the
    # amoxicillin until finished." answered "Yes."). Sentences begun in lower case were
    # tried and left off (round 17): "…she just found out shes pregnant. can she keep taking
    # it?" was searched as "Can she keep taking hydroxyurea?", the pregnancy left behind.
    split = told_and_asked(message, loose=False)
    if split is None:
        return message
    told, last = split
    # a drug of the corpus or a name, not an everyday word ("My grandson is 9, can he
    # take Zithromax…?" is no question about a drug called "grandson")
    named = [w for w in _drug_words(told, lexicon) if w in lexicon.drugs or name_like(w)]
    if len(named) != 1:
        return message
    asked = standalone(told, last, lexicon)
    if asked == last:
        return message
    # what else is told stays, after the question: "My sister takes hydroxyurea. She just
    # found out she's pregnant. Can she keep taking it?" is no question about stopping
    set_up = [told[slice(*span)] for span in sentence_spans(told)]
    rest = [sentence for sentence in set_up if named[0] not in terms(sentence)]
    return " ".join([asked, *rest])


def standalone_questions(turns: Sequence[Turn], lexicon: Lexicon,
                         spell: Callable[[str], str] = str) -> list[str]:
    """The standalone form of every user turn, in order (each builds on the one before),
    each read with its drug names as ``spell`` writes them: "my dad was put on allopurinal
    for his gout…" named no drug, so "whats the brand name of it" two turns on asked for
    the brand of "start"."""
    out: list[str] = []
    for turn in turns:
        if turn.role == "user":
            out.append(standalone(out[-1] if out else None, spell(turn.content), lexicon))
    return out


@dataclass
class Conversation:
    """A chat with one Assistant: keeps the turns, answers each message in their light.

    >>> chat = Conversation(assistant)
    >>> chat.ask("How does memantine work?")
    >>> chat.ask("What about its side effects?").standalone_question
    "What are the side effects of memantine?"
    """

    assistant: Assistant
    turns: list[Turn] = field(default_factory=list)

    def ask(self, message: str) -> Answer:
        """Answer the next message (blocking) and remember both turns."""
        for event in self.stream(message):
            if event.answer is not None:
                return event.answer
        raise AssertionError("a stream always ends with an answer")

    def stream(self, message: str) -> Iterator[StreamEvent]:
        """Stream the answer to the next message; the turns are kept when it is done."""
        turns = [*self.turns, Turn("user", message)]
        for event in self.assistant.chat_stream(turns):
            if event.answer is not None:
                self.turns = [*turns, Turn("assistant", event.answer.answer)]
            yield event

    def reset(self) -> None:
        """Start a new conversation."""
        self.turns = []
