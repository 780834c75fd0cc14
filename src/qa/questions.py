"""What a user may ask: a question within the length limit, with nothing hidden in it.

Stage 0 of ``Assistant.stream``, before triage: bidi controls, invisible characters, ANSI
escapes and control characters are removed (``qa.characters``), so the question the
stages see is the one the user saw; then a question longer than
``answer.max_question_chars`` is refused with one line (the CLI exits 1, the page shows
a notice). The prompt's token count is bounded separately, in the generator.
"""

from __future__ import annotations

import re

from qa.characters import clean_text
from qa.errors import QuestionTooLongError


def checked_question(question: str, max_chars: int) -> str:
    """``question`` without hidden characters; QuestionTooLongError if over ``max_chars``."""
    text = clean_text(question).strip()
    if len(text) > max_chars:
        raise QuestionTooLongError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,} "
            "(setting answer.max_question_chars, QA_ANSWER__MAX_QUESTION_CHARS)")
    return text


# "I heard memantine can cause constipation, is that true?", "My friend says ketamine works
# within hours. Is that right?": a claim put forward to be checked is a yes/no question,
# though its first word is no auxiliary. Asked as "Is it true that <claim>?", the yes/no
# checks apply to it (a "Yes" kept only when the documents agree); asked as typed, the
# opener was dropped whatever the documents said, and "Yes, ketamine can raise blood
# pressure" was not recognised as a restatement of the question.
_REPORTER = (r"(?:(?:i(?:'ve| have)?\s+)?(?:heard|read|seen|been told)|i\s+was\s+told"
             r"|(?:some\s*(?:one|body)|people|they|(?:my|a)\s+(?:\w+\s+){0,2}?"
             r"(?:friend|doctor|nurse|pharmacist|mom|mum|mother|dad|father|wife|husband"
             r"|sister|brother|colleague|neighbou?r|son|daughter))\s+"
             r"(?:says?|said|told\s+me|claims?|claimed|thinks?))")
_CHECK = (r"(?:is\s+(?:that|this|it)\s+)?(?:really\s+)?(?:true|right|correct|accurate|so"
          r"|a\s+fact|a\s+myth)")
_REPORTED_CLAIM = re.compile(
    rf"^\s*{_REPORTER}\s+(?:online\s+|somewhere\s+)?(?:that\s+)?(?P<claim>.+?)"
    rf"[\s,.;:!?-]+(?:{_CHECK})\s*[?.!]*\s*$", re.IGNORECASE)


# Everyday phrases for what a leaflet says in its own words: "Can I quit oxycodone cold
# turkey?" is answered by "Do not abruptly discontinue oxycodone…" (it was refused: "They
# never mention 'turkey'").
_OFF_WHAT = (r"(?=\s+(?!(?:work|duty|shift|the bus|the train|the plane|the phone|at|here|there|now)"
             r"\b)\w)")
_IDIOMS = ((re.compile(r"\bcold[- ]turkey\b", re.IGNORECASE), "abruptly"),
           (re.compile(r"\bmess(?:es|ed|ing)?\s+(?:up\s+with|with|up)\b", re.IGNORECASE), "affect"),
           # "come off gabapentin", "getting off xanax": stopping it (not "get off work")
           *((re.compile(rf"\b(?:{verbs}) off(?: of)?\b{_OFF_WHAT}", re.IGNORECASE), stop)
             for verbs, stop in (("come|get|go", "stop"), ("comes|gets|goes", "stops"),
                                 ("came|got|went", "stopped"),
                                 ("coming|getting|going", "stopping"))))

# Contractions typed without their apostrophe ("isnt aspirin an nsaid too?", "my mom
# takes clopidogrel and shes having surgery"): tokenised as "isnt", "shes" they were
# things the documents never mention, and "isnt" no yes/no opener. Only forms that are no
# English word of their own ("its", "well", "were", "ill", "lets" are left alone).
_UNMARKED = {
    **{f"{aux}nt": f"{aux}n't" for aux in (
        "is", "are", "was", "were", "does", "do", "did", "could", "should", "would", "has",
        "have", "had", "must", "need")},
    "cant": "can't", "wont": "won't", "im": "I'm", "ive": "I've", "youre": "you're",
    "youve": "you've", "theyre": "they're", "theyve": "they've", "shes": "she's",
    "hes": "he's", "thats": "that's", "whats": "what's", "wheres": "where's",
    "hows": "how's", "theres": "there's", "heres": "here's",
}
# …and two words typed as one ("im bruising alot"): no thing the documents never mention
_UNMARKED |= {"alot": "a lot", "abit": "a bit"}
_UNMARKED_WORD = re.compile(rf"\b(?:{'|'.join(_UNMARKED)})\b", re.IGNORECASE)


def _marked(match: re.Match[str]) -> str:
    word = match.group(0)
    if word.isupper() and len(word) == 2:
        return word  # "IM" (intramuscular), not "I'm"
    full = _UNMARKED[word.lower()]
    return full[0].upper() + full[1:] if word[0].isupper() else full


# "Can't he just take it as a pill?", "Isn't amoxicillin a penicillin?": a negated opener
# asks what the plain one asks (the answer "Yes, …" means the same to both), but tokenised
# as "can", "t" or "isn", "t" it was no yes/no question, and "t" nothing to look up. Only
# a sentence that asks is rewritten: "Can't sleep. What helps?" keeps its "can't".
_NEGATED_OPENER = re.compile(
    r"(?P<lead>^\s*|[.!?]\s+)(?P<aux>is|are|was|were|does|do|did|could|should|would|has"
    r"|have|had|must|need|ca|wo|sha)n['’]t\b(?=[^.!?]*\?)", re.IGNORECASE)
_FULL = {"ca": "can", "wo": "will", "sha": "shall"}


def _asked_plainly(match: re.Match[str]) -> str:
    aux = match.group("aux")
    full = _FULL.get(aux.lower(), aux.lower())
    return match.group("lead") + (full.capitalize() if aux[0].isupper() else full)


# A letter typed three times or more for stress: "her mouth is soooo dry" (round 16 refused
# it as about "soooo")
_STRESSED = re.compile(r"([a-z])\1{2,}", re.IGNORECASE)


def _unstressed(match: re.Match[str]) -> str:
    """The letter once, or twice when the word is more common so ("soooo" -> "so",
    "goooood" -> "good")."""
    from qa.text import zipf

    word = match.string
    start, end = _word_around(word, match.start(), match.end())
    before, letter, after = word[start:match.start()], match.group(1), word[match.end():end]
    if not before and not after:
        return match.group(0)  # a word of one letter over and over ("www", "zzz") stays
    once, twice = (f"{before}{letter * n}{after}".lower() for n in (1, 2))
    return letter * (2 if zipf(once) < zipf(twice) else 1)


def _word_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The start and end of the word holding text[start:end]."""
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    while end < len(text) and text[end].isalpha():
        end += 1
    return start, end


def in_plain_words(question: str) -> str:
    """The question with its everyday idioms in the words documents use, a letter stressed
    by repeating it typed once, and a negated opener asked plainly ("Isn't it…?" -> "Is
    it…?")."""
    question = _STRESSED.sub(_unstressed, question)
    question = _UNMARKED_WORD.sub(_marked, question)
    for idiom, plain in _IDIOMS:
        question = idiom.sub(plain, question)
    return _NEGATED_OPENER.sub(_asked_plainly, question)


def as_yes_no(question: str) -> str:
    """A reported claim asked to be checked, as the yes/no question it is ("I read that X.
    Is that true?" -> "Is it true that X?"); any other question unchanged."""
    match = _REPORTED_CLAIM.match(question)
    if match is None or len(match.group("claim").split()) < 3:
        return question  # "I heard that, is it true?": no claim to check
    claim = match.group("claim").strip().rstrip(",.;:!?")
    return f"Is it true that {claim}?"
