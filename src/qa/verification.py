"""Check every answer sentence against the evidence it cites; re-attribute or drop it.

A small model sometimes invents a fact or cites the wrong excerpt. Each sentence gets a
support score per excerpt (half lexical: the share of its content words the excerpt
contains; half semantic: embedder cosine), and numbers must appear verbatim. A sentence
keeps the citations that support it, moves to the excerpt that does, or is removed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from qa.embeddings import Embedder
from qa.scope import CONTRAST, Relevance, Vocabulary, states, turns_round
from qa.text import (
    LEAD_IN_ONLY,
    MARKER,
    content_words,
    heading_like,
    lexical_support,
    numbers,
    sentence_spans,
    split_sentences,
)
from qa.types import Citation, Evidence, SentenceCheck, Verdict

# An amount someone could take: "5 mg", "10mg", "a 5-mg tablet", "2 tablets", "0.5 ml".
DOSE = re.compile(r"\b\d+(?:[.,]\d+)?(?:\s*|-)(?:mg|mcg|µg|g|ml|milligrams?|micrograms?|units?|iu"
                  r"|tablets?|pills?|capsules?|drops?|puffs?|doses?)\b", re.IGNORECASE)
FILLER_WORDS = frozenset({"yes", "no", "not", "it", "does", "do", "is", "are", "can", "the"})
# A list item with nothing after its number or bullet ("1.", "2)", "-"): left behind when the
# model starts a list it cannot fill, and meaningless on its own.
BARE_LIST_MARK = re.compile(r"[(\[]?\d{1,2}[.)\]]?|[-*•]+")
# List numbering is not a claim: "1. 2. Side effects include dizziness. 3." states no number.
# A next item's number after a sentence's end ("Headache. 3.") is numbering too; "type 2." is not.
_LIST_NUMBERING = re.compile(
    r"^(?:\s*(?:[(\[]?\d{1,2}[.)\]]|[-*•]+)(?=\s))+|(?<=[.!?;:])\s\d{1,2}[.)]$")


def claimed_numbers(body: str) -> set[str]:
    """The numbers a sentence states, its list numbering left out."""
    return numbers(_LIST_NUMBERING.sub(" ", body))


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    checks: tuple[SentenceCheck, ...]


# "Article 3 states that…", "Passage 3 says…": the model naming an excerpt by its number
# in words cites it; left in, the 3 is a number no excerpt states (dev q186).
_NAMED_EXCERPT = re.compile(r"\b((?:article|passage|excerpt)s?)\s+(\d{1,2})\b(?!\s*[.,]?\d)",
                            re.IGNORECASE)


def cited_in(sentence: str, valid: range) -> list[int]:
    """The valid passage numbers a sentence cites, in order ("[2]", "[1, 3]", "(Excerpt 2)")."""
    return _markers(sentence, valid)[1]


def _markers(sentence: str, valid: range) -> tuple[str, list[int]]:
    """The sentence without markers, and the valid passage numbers it cites, in order."""
    sentence = _NAMED_EXCERPT.sub(
        lambda m: f"{m.group(1)} [{m.group(2)}]" if int(m.group(2)) in valid else m.group(0),
        sentence)
    cited: list[int] = []
    for match in MARKER.finditer(sentence):
        for number in re.split(r"[,;]", match.group(1)):
            n = int(number)
            if n in valid and n not in cited:
                cited.append(n)
    body = MARKER.sub("", sentence)
    body = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", body)).strip()
    return body, cited


def support_row(body: str, vector: np.ndarray, evidence: list[Evidence],
                evidence_vectors: np.ndarray, min_coverage: float,
                context: list[str] | None = None) -> np.ndarray:
    """support[j] in [0, 1]: how well excerpt j backs the sentence ``body``.

    0 if a number is missing; only the lexical half if fewer than ``min_coverage`` of the
    sentence's words are in the excerpt (with ``context[j]``: words the excerpt means
    without saying, such as the drug its "it" stands for). MiniLM gives any two sentences
    about the same drug a high cosine, so on the dev split cosine alone let invented
    mechanisms through.
    """
    cosine = np.clip(evidence_vectors @ vector, 0.0, 1.0)
    needed = claimed_numbers(body)
    row = np.zeros(len(evidence))
    for j, item in enumerate(evidence):
        if needed - numbers(item.text):
            continue  # a number or dose that the excerpt does not state verbatim
        coverage = lexical_support(body, f"{item.text} {context[j] if context else ''}")
        semantic = cosine[j] if coverage >= min_coverage else 0.0
        row[j] = 0.5 * coverage + 0.5 * semantic
    return row


# An amount with its unit ("1 to 2 mg/day", "0.5 mg"), and a sentence about one case of
# patients or use: "For elderly or debilitated patients, an initial dosage of 1 to 2 mg/day
# in divided doses is recommended", "In children, …".
_AMOUNT = re.compile(r"\d+(?:\.\d+)?(?:\s*(?:to|-|–)\s*\d+(?:\.\d+)?)?(?:\s*|-)(?:mg|mcg|µg|g|ml"
                     r"|units?|iu)\b|\b(?:a single|one|two|three|four|five|\d+)\s+doses?\b",
                     re.IGNORECASE)
# ... or a label naming the case before a colon: "Vaccination Schedule for Adults 18 Years
# of Age and Older: Prevnar 13 is administered as a single dose." held "Prevnar is
# administered as a single dose" for a 2-month-old.
_CASE = re.compile(r"^\W*(?:for|in)\s+(?P<case>[^,;:]{3,80}?),"
                   r"|^[^,;:]{0,60}?\bfor\s+(?P<label>[^,;:]{3,80}?):", re.IGNORECASE)


def _amounts(text: str) -> set[str]:
    """The amounts a text states, as compared: "5-mg" is "5 mg", "1–2 mg" is "1-2 mg"."""
    return {re.sub(r"\s+", " ", re.sub(r"(?<=\d)-(?=[a-z])", " ", a.lower().replace("–", "-")))
            for a in _AMOUNT.findall(text)}


def for_other_case(body: str, excerpt: str, question: str) -> bool:
    """The sentence states an amount that the excerpt gives only for a case ("For elderly
    or debilitated patients, … 1 to 2 mg/day") which neither it nor the question names:
    asked "What's the normal daily dose of Ativan?", "The normal daily dose is 1 to 2
    mg/day" was held by the elderly's line."""
    amounts = _amounts(body)
    if not amounts:
        return False
    named = content_words(body) | content_words(question)
    for amount in amounts:
        saying = [excerpt[s:e] for s, e in sentence_spans(excerpt)
                  if amount in _amounts(excerpt[s:e])]
        cases = [_CASE.match(sentence) for sentence in saying]
        if not saying or any(case is None or content_words(case["case"] or case["label"])
                             & named for case in cases):
            return False
    return True


# ...or naming it at its end: "A lower starting dose of 2.5 mg … is recommended for the
# frail elderly."
_CASE_AFTER = re.compile(r"\b(?:for|in)\s+(?:the\s+)?(?P<case>[^,;:.]{3,60}?)\W*$",
                         re.IGNORECASE)


def moved_to_case(body: str, excerpt: str) -> bool:
    """The sentence gives a case its own amount that the excerpt gives for another, while
    the excerpt's line for that case states a different one: "The usual dose is one 5-mg
    tablet two or three times a day for the frail elderly" from "The usual dose is one
    5-mg tablet two to three times a day. … For the frail elderly, a lower starting dose of
    2.5 mg two or three times a day is recommended." (round 16; the case may end its
    line: "…is recommended for the frail elderly")."""
    amounts, named = _amounts(body), content_words(body)
    if not amounts:
        return False
    for s, e in sentence_spans(excerpt):
        case = _CASE.match(excerpt[s:e]) or _CASE_AFTER.search(excerpt[s:e])
        named_case = case and (case["case"] or case.groupdict().get("label"))
        words = content_words(named_case) if named_case else set()
        if words and words <= named and _amounts(excerpt[s:e]) \
                and not amounts & _amounts(excerpt[s:e]):
            return True
    return False


# A sentence saying what a drug is for ("Prednisone can treat muscle weakness"), and the
# words with which a text says so or lists harms instead.
_USE_CLAIM = re.compile(r"\b(?:treats?|treating|cures?|relieves?|used (?:to treat|for|in)"
                        r"|prescribed for|indicated for|helps? (?:with|treat))\b", re.IGNORECASE)
_USE_WORDS = re.compile(r"\b(?:treat\w*|cure\w*|reliev\w*|relief|used?|indicat\w*|prescrib\w*"
                        r"|prevent\w*|manag\w*|therap\w*|help\w*|benefit\w*|improv\w*"
                        r"|control\w*|for (?:the )?(?:symptoms|people|patients) (?:of|with))\b",
                        re.IGNORECASE)
_HARM_WORDS = re.compile(r"\b(?:side effects?|adverse|reactions?|toxicity|harm\w*|risks?|"
                         r"warnings?|caus\w*)\b", re.IGNORECASE)


# A line of a list that names things and says nothing of them: "Steroid myopathy."
_BARE_ITEM_WORDS = 8


# A sentence giving leave: "It is safe to…", "you can safely…", "it's fine to…"; not one
# refusing it ("it is not safe to…", "never okay to…")
_LEAVE = re.compile(r"\b(?:safe(?:ly)?|ok|okay|alright|fine)\s+to\b|\bsafely\b", re.IGNORECASE)
_NO_LEAVE = re.compile(r"\b(?:not|never|n't|no longer)\s+(?:\w+\s+)?(?:safe(?:ly)?|ok|okay"
                       r"|alright|fine)\b", re.IGNORECASE)
# The words an excerpt gives leave with
_LEAVE_WORD = re.compile(r"\b(?:safe|safely|safety|ok|okay|alright|fine)\b", re.IGNORECASE)


def gives_leave(body: str) -> bool:
    """The sentence says something is safe or all right to do (``_LEAVE``)."""
    return bool(_LEAVE.search(body)) and not _NO_LEAVE.search(body)


# Letting someone use or take a medicine ("your son can use your … cream"), and any
# negation that takes it back
_MAY_USE = re.compile(r"\b(?:can|may|could)\s+(?:\w+\s+)?(?:use|take|have|give|apply|try)\b",
                      re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|never|cannot|can't|shouldn't|n't)\b", re.IGNORECASE)


def grants_use(text: str) -> bool:
    """The text lets someone use or take it ("can use", "may take") or calls it safe or all
    right (``_LEAVE_WORD``), with no negation anywhere: wider than ``gives_leave``, which
    asks for leave in words of safety ("safe to…")."""
    return bool(_MAY_USE.search(text) or _LEAVE_WORD.search(text)) \
        and not _NEGATED.search(text)


def _says_leave(text: str) -> bool:
    """A sentence of the text calls something safe or all right, not negated ("some
    antibiotics are not safe to take" gives no leave)."""
    return any(_LEAVE_WORD.search(text[a:b]) and not _NO_LEAVE.search(text[a:b])
               for a, b in sentence_spans(text))


# A claim a text reports only to deny it: "Some people think that switching to
# e-cigarettes can help you quit smoking, but that has not been proven" held the model's
# "E-cigarettes can help you quit smoking" (round 16)
DENIED_CLAIM = re.compile(
    r"\b(?:some|many|most)\s+(?:people|patients|persons|parents)\s+(?:think|believe|say|claim"
    r"|feel|assume)\b[^.]*?\bbut\s+(?:this|that|it|these|they)\s+(?:is|are|has|have|was"
    r"|were|does|do)\s*(?:not|never|n't)\b"
    r"|\b(?:it is|it's) a myth that\b|\bcontrary to (?:popular|common) belief\b",
    re.IGNORECASE)
_DENIAL = re.compile(r"\b(?:not|never|no|myth|unproven|isn't|aren't|hasn't|haven't|doesn't"
                     r"|don't)\b", re.IGNORECASE)


def denied_only(body: str, text: str) -> bool:
    """The sentence of ``text`` that best holds ``body`` reports a claim only to deny it
    (``DENIED_CLAIM``), and ``body`` states it without the denial."""
    if _DENIAL.search(body) or not DENIED_CLAIM.search(text):
        return False  # most excerpts deny nothing: no sentence to look for
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    best = max(sentences, key=lambda s: lexical_support(body, s), default="")
    return bool(DENIED_CLAIM.search(best))


def _bare_list(item: Evidence) -> bool:
    """The excerpt is a list of things named, a line each, under a heading ending in ":"
    or with two lines at least ("Musculoskeletal:" / "Muscle weakness." / "Steroid
    myopathy."): it says nothing of what they are to the drug."""
    lines = [line for line in item.text.splitlines() if line.strip()]
    return (len(lines) >= 2 or (item.chunk.section or "").rstrip().endswith(":")) \
        and all(len(line.split()) <= _BARE_ITEM_WORDS for line in lines)


def use_misread(body: str, cited: list[Evidence]) -> bool:
    """The sentence says what the drug treats, in words only excerpts that hold no word of
    use hold, each speaking of harms (side effects, risks) or a bare list of things (a
    label's side effects under "Musculoskeletal:"). Asked "what can prednisone do to your
    bones and muscles?", "Prednisone can treat muscle weakness, steroid myopathy…" was well
    supported, word for word, by the label's list of possible side effects. A sentence
    naming harms itself ("…used for arthritis but can cause…") is left to the other
    checks."""
    if not _USE_CLAIM.search(body) or _HARM_WORDS.search(body) or not cited:
        return False
    headed = [(e, f"{e.chunk.section or ''}\n{e.text}") for e in cited]
    return all(not _USE_WORDS.search(text) and (_HARM_WORDS.search(text) or _bare_list(e))
               for e, text in headed)


def _with_markers(body: str, cited: list[int]) -> str:
    match = re.search(r"[.!?]*$", body)
    cut = match.start() if match else len(body)
    tags = "".join(f"[{n}]" for n in cited)
    return f"{body[:cut].rstrip()} {tags}{body[cut:]}" if cited else body


# A sentence joining facts from two or more excerpts it cites: together they must hold
# this share of its words, and each must hold a part of them.
JOINT_COVERAGE = 0.8
JOINT_PART = 0.3


def _jointly_supported(body: str, cited: list[Evidence]) -> list[int]:
    """The cited excerpts that together state the sentence (numbers included), each holding
    a part of it; empty when they do not."""
    parts = [e for e in cited if lexical_support(body, e.text) >= JOINT_PART]
    if len(parts) < 2 or claimed_numbers(body) - numbers(" ".join(e.text for e in parts)):
        return []
    if lexical_support(body, " ".join(e.text for e in parts)) < JOINT_COVERAGE:
        return []
    return [e.n for e in parts]


_CONTRAST = re.compile(CONTRAST, re.IGNORECASE)


def _decide(cited: list[int], row: np.ndarray, threshold: float) -> tuple[list[int], Verdict]:
    kept = [n for n in cited if row[n - 1] >= threshold]
    if kept:
        return kept, Verdict.SUPPORTED
    best = int(np.argmax(row)) + 1
    if row[best - 1] >= threshold:
        return [best], Verdict.REATTRIBUTED
    return [], Verdict.UNSUPPORTED


def _is_filler(body: str) -> bool:
    """'Yes.', 'No, it does not.': nothing to verify. Anything with a content word is checked."""
    return not (content_words(body) - FILLER_WORDS)


@dataclass
class SentenceVerifier:
    """Verifies an answer one sentence at a time, as the model writes it.

    Each sentence is final when checked: what ``add`` keeps is what the answer shows, so a
    stream can send it at once and never take it back. ``verify_answer`` is the same
    verifier fed a whole text.

    With ``allow_doses=False`` (personal-dosing questions) a sentence stating an amount is
    dropped even when a source states it: the answer must not read as a dose for this
    person. With a ``vocabulary``, a sentence using a specific word the documents never use
    is unsupported whatever its score; with ``relevance``, one about another drug than the
    one asked about, or (outside yes/no questions) one that only restates the question, is
    dropped, a claim about a drug needs an excerpt about that drug, and (when the question
    names no known drug) any sentence needs a document naming what the question names;
    one that says the opposite of a clause of an excerpt shown is dropped however well
    the words match (``Relevance.flips``).
    """

    evidence: list[Evidence]
    embedder: Embedder
    threshold: float
    min_coverage: float = 0.6
    allow_doses: bool = True
    vocabulary: Vocabulary | None = None
    relevance: Relevance | None = None
    checks: list[SentenceCheck] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    best_support: dict[int, float] = field(default_factory=dict)
    _vectors: np.ndarray | None = field(default=None, repr=False)

    def add(self, sentence: str) -> SentenceCheck | None:
        """Check one sentence (markers attached); None for a bare list mark ("2.")."""
        body, cited = _markers(sentence, range(1, len(self.evidence) + 1))
        # The model's own numbering goes; a sentence reads the same in a list or in prose.
        body = _LIST_NUMBERING.sub("", body).strip()
        if not body or BARE_LIST_MARK.fullmatch(body):
            return None
        screened = self._screened(body)
        if screened is not None:
            check = SentenceCheck(body, tuple(cited), (), 0.0, screened)
        elif _is_filler(body):  # "Yes." and the like: nothing to verify, nothing to cite
            check = SentenceCheck(body, tuple(cited), (), 0.0, Verdict.PLAIN)
            self.shown.append(body)
        else:
            check = self._supported(body, cited)
        self.checks.append(check)
        return check

    def _screened(self, body: str) -> Verdict | None:
        """Removed whatever its support: a personal dose, another drug, a restatement."""
        if not self.allow_doses and DOSE.search(body):
            return Verdict.DOSE_WITHHELD
        if self._repeats(body):  # the 1.5B model can loop on a sentence till its token cap
            return Verdict.REPEATED
        if LEAD_IN_ONLY.search(body) or heading_like(MARKER.sub("", body).strip(" .")):
            # the model stopped before the items, or copied a heading ("Travel Tips [2]",
            # all it said to "Any tips for the flight?"): it says nothing yet
            return Verdict.INCOMPLETE
        if self.relevance is None or _is_filler(body):
            return None
        if self.relevance.other_drug(body):
            return Verdict.OTHER_DRUG
        if turns_round(self.relevance.question, body):
            return Verdict.TURNED
        if not self.relevance.focus.polar and self.relevance.echo(body):
            # A yes/no question is answered by restating it ("Yes, X does Y"): that
            # restatement is checked for support, and its opener by finishing.py.
            return Verdict.ECHO
        return None

    def _repeats(self, body: str) -> bool:
        """Every content word of the sentence is in one sentence already shown."""
        said = content_words(body)
        return bool(said) and any(said <= content_words(MARKER.sub(" ", text))
                                  for text in self.shown)

    @functools.cached_property
    def _topic_mask(self) -> np.ndarray:
        assert self.relevance is not None
        return self.relevance.topic_mask(self.evidence)

    @functools.cached_property
    def _context(self) -> list[str] | None:
        """The drugs each excerpt is about, named or not (``support_row``'s context): the
        same for every sentence, so worked out once."""
        if self.relevance is None:
            return None
        return [" ".join(self.relevance.excerpt_drugs(e.chunk, e.text)) for e in self.evidence]

    def _row(self, body: str) -> np.ndarray:
        if not self.evidence:
            return np.zeros(0)
        if self._vectors is None:
            self._vectors = self.embedder.embed([e.text for e in self.evidence])
        relevance = self.relevance
        row = support_row(body, self.embedder.embed([body])[0], self.evidence, self._vectors,
                          self.min_coverage, self._context)
        if relevance is not None:  # a claim about one drug needs an excerpt about that drug,
            # and one naming a specific thing, a document that names it
            row = row * relevance.same_drug_mask(body, self.evidence) \
                * relevance.names_mask(body, self.evidence) * self._topic_mask
        if self.vocabulary is not None and self.vocabulary.novel_terms(body):
            row = np.zeros(len(self.evidence))  # nothing in the documents can back it
        return row

    def _supported(self, body: str, cited: list[int]) -> SentenceCheck:
        row = self._row(body)
        if not len(row):
            return SentenceCheck(body, tuple(cited), (), 0.0, Verdict.UNSUPPORTED)
        kept, verdict = _decide(cited, row, self.threshold)
        joint = [] if kept else _jointly_supported(body, [self.evidence[n - 1] for n in cited])
        if joint and self.relevance is not None and not states(
                " ".join(self.evidence[n - 1].text for n in joint), self.relevance.names(body)):
            joint = []
        if joint:  # "A does x [1], while B does y [2]"
            kept, verdict = joint, Verdict.SUPPORTED
        elif not kept:
            joint = self._clauses_supported(body, cited)
            if joint:
                kept = joint
                verdict = Verdict.SUPPORTED if set(joint) <= set(cited) else Verdict.REATTRIBUTED
        if joint:
            row = np.maximum(row, [self.threshold if n in joint else 0.0
                                   for n in range(1, len(self.evidence) + 1)])
        if kept and self.relevance is not None and (
                any(self.relevance.flips(body, e.text) or self.relevance.swaps(body, e.text)
                    for e in self.evidence)
                or use_misread(body, [self.evidence[n - 1] for n in kept])):
            kept, verdict = [], Verdict.CONTRADICTED
        if kept and self.relevance is not None and self.relevance.unbacked_drugs(
                body, [self.evidence[n - 1] for n in kept]):
            # "Memantine and dantrolene are used for depression…" held by the memantine
            # excerpt alone (dev q189): each drug it speaks of needs an excerpt about it
            kept, verdict = [], Verdict.OTHER_DRUG
        if kept and self.relevance is not None:
            kept, verdict = self._narrowed(body, kept, verdict, self.relevance)
        score = max((float(row[n - 1]) for n in kept), default=0.0)
        text = _with_markers(body, kept) if kept else body
        if kept:
            self.shown.append(text)
            for n in kept:
                self.best_support[n] = max(self.best_support.get(n, 0.0), float(row[n - 1]))
        return SentenceCheck(text, tuple(cited), tuple(kept), round(score, 3), verdict)

    def _narrowed(self, body: str, kept: list[int], verdict: Verdict,
                  relevance: Relevance) -> tuple[list[int], Verdict]:
        """The excerpts left backing a sentence once those that name its drug only in an
        "unlike" clause, or state its amount only for a case it leaves out, are taken off;
        none for leave (``gives_leave``) no excerpt gives in its words."""
        kept = [n for n in kept
                if not relevance.unlike_only(body, self.evidence[n - 1], self.min_coverage)]
        if not kept:
            return [], Verdict.OTHER_DRUG
        kept = [n for n in kept if not denied_only(body, self.evidence[n - 1].text)]
        if not kept:
            return [], Verdict.UNSUPPORTED  # a claim the excerpt reports only to deny it
        if gives_leave(body) and not any(_says_leave(self.evidence[n - 1].text) for n in kept):
            # "It is safe to stop the antibiotics after 2 days of treatment", held by "Take
            # a short course (2 or 3 days) of an antibiotic…" (round 14): leave is the
            # documents' to give, in their words
            return [], Verdict.UNSUPPORTED
        if all(for_other_case(body, self.evidence[n - 1].text, relevance.question)
               or moved_to_case(body, self.evidence[n - 1].text) for n in kept):
            return [], Verdict.OTHER_CASE
        return kept, verdict

    def _clauses_supported(self, body: str, cited: list[int]) -> list[int]:
        """The excerpts backing each clause of a contrast ("A does x, while B does y"), each
        clause checked as a sentence of its own; empty unless every clause holds. The model
        often leaves such a sentence uncited, and no one excerpt holds both halves."""
        clauses = [c for c in _CONTRAST.split(body) if c.strip()]
        if len(clauses) < 2 or any(len(content_words(c)) < 2 for c in clauses):
            return []
        kept: set[int] = set()
        for clause in clauses:
            held, _ = _decide(cited, self._row(clause), self.threshold)
            if not held:
                return []
            kept.update(held)
        return sorted(kept)

    def result(self) -> Verified:
        """The verified answer so far; no citations when nothing substantive held."""
        if not self.best_support:
            return Verified("", (), tuple(self.checks))
        citations = tuple(citation_for(self.evidence[n - 1], self.best_support[n])
                          for n in sorted(self.best_support))
        return Verified(" ".join(self.shown).strip(), citations, tuple(self.checks))


def shown(check: SentenceCheck) -> bool:
    """The check's sentence is part of the answer."""
    return check.verdict is Verdict.PLAIN or bool(check.kept)


def verify_answer(
    raw: str, evidence: list[Evidence], embedder: Embedder, threshold: float,
    *, min_coverage: float = 0.6, allow_doses: bool = True,
    vocabulary: Vocabulary | None = None, relevance: Relevance | None = None,
) -> Verified:
    """Keep the sentences some excerpt supports, each citing the excerpts that support it
    (see ``SentenceVerifier``)."""
    verifier = SentenceVerifier(evidence, embedder, threshold, min_coverage, allow_doses,
                                vocabulary, relevance)
    for sentence in split_sentences(raw.strip()):
        verifier.add(sentence)
    return verifier.result()


def citation_for(item: Evidence, support: float | None = None) -> Citation:
    """The public form of an excerpt: where it is in its document, and how well it held."""
    chunk = item.chunk
    return Citation(
        n=item.n, doc_id=chunk.doc_id, source=chunk.source, title=chunk.title,
        start=item.start, end=item.end, text=item.text, section=chunk.section,
        support=None if support is None else round(support, 3), page=chunk.page,
    )


# The model's ways of saying the passages do not answer: its refusal is honoured.
NEGATION_REFUSALS = (
    "could not find", "couldn't find", "cannot find", "can't find", "not found in",
    "do not contain", "does not contain", "don't contain", "doesn't contain",
    "do not provide", "does not provide", "do not mention", "does not mention",
    "no information", "not mentioned", "not provided", "not specified", "cannot answer",
    "can't answer", "unable to answer", "do not say", "does not say", "not stated",
)


def looks_like_refusal(text: str, refusal_phrase: str) -> bool:
    """True when the model says the passages do not answer the question."""
    lowered = text.lower().replace("\u2019", "'")
    if refusal_phrase.lower().rstrip(".") in lowered:
        return True
    return any(phrase in lowered for phrase in NEGATION_REFUSALS)

