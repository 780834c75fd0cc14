"""Check every answer sentence against the evidence it cites; re-attribute or drop it.

A small model sometimes invents a fact or cites the wrong excerpt. Each sentence gets a
support score per excerpt (half lexical: the share of its content words the excerpt
contains; half semantic: embedder cosine), and numbers must appear verbatim. A sentence
keeps the citations that support it, moves to the excerpt that does, or is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.embeddings import Embedder
from qa.scope import Relevance, Vocabulary
from qa.text import MARKER, content_words, lexical_support, numbers, split_sentences
from qa.types import Citation, Evidence, SentenceCheck, Verdict

# An amount someone could take: "5 mg", "10mg", "2 tablets", "0.5 ml".
DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|g|ml|milligrams?|micrograms?|units?|iu"
                  r"|tablets?|pills?|capsules?|drops?|puffs?|doses?)\b", re.IGNORECASE)
FILLER_WORDS = frozenset({"yes", "no", "not", "it", "does", "do", "is", "are", "can", "the"})
# A list item with nothing after its number or bullet ("1.", "2)", "-"): left behind when the
# model starts a list it cannot fill, and meaningless on its own.
BARE_LIST_MARK = re.compile(r"[(\[]?\d{1,2}[.)\]]?|[-*•]+")
# List numbering is not a claim: "1. 2. Side effects include dizziness. 3." states no number.
_LIST_NUMBERING = re.compile(r"^(?:\s*(?:[(\[]?\d{1,2}[.)\]]|[-*•]+)(?=\s))+|\s\d{1,2}[.)]$")


def claimed_numbers(body: str) -> set[str]:
    """The numbers a sentence states, its list numbering left out."""
    return numbers(_LIST_NUMBERING.sub(" ", body))


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    checks: tuple[SentenceCheck, ...]


def _markers(sentence: str, valid: range) -> tuple[str, list[int]]:
    """The sentence without markers, and the valid passage numbers it cites, in order."""
    cited: list[int] = []
    for match in MARKER.finditer(sentence):
        for number in re.split(r"[,;]", match.group(1)):
            n = int(number)
            if n in valid and n not in cited:
                cited.append(n)
    body = MARKER.sub("", sentence)
    body = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", body)).strip()
    return body, cited


def support_matrix(
    bodies: list[str], evidence: list[Evidence], embedder: Embedder, min_coverage: float,
    context: list[str] | None = None,
) -> np.ndarray:
    """support[i, j] in [0, 1]: how well excerpt j backs sentence i.

    0 if a number is missing; only the lexical half if fewer than ``min_coverage`` of the
    sentence's words are in the excerpt (with ``context[j]``: words the excerpt means
    without saying, such as the drug its "it" stands for). MiniLM gives any two sentences
    about the same drug a high cosine, so on the dev split cosine alone let invented
    mechanisms through.
    """
    vectors = embedder.embed(bodies + [e.text for e in evidence])
    cosine = np.clip(vectors[: len(bodies)] @ vectors[len(bodies):].T, 0.0, 1.0)
    support = np.zeros((len(bodies), len(evidence)))
    for i, body in enumerate(bodies):
        needed = claimed_numbers(body)
        for j, item in enumerate(evidence):
            if needed - numbers(item.text):
                continue  # a number or dose that the excerpt does not state verbatim
            coverage = lexical_support(body, f"{item.text} {context[j] if context else ''}")
            semantic = cosine[i, j] if coverage >= min_coverage else 0.0
            support[i, j] = 0.5 * coverage + 0.5 * semantic
    return support


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


def _parse(raw: str, valid: range) -> list[tuple[str, list[int]]]:
    """Each sentence's text without markers and the valid markers it carries; bare list
    marks dropped."""
    parsed = [_markers(s, valid) for s in split_sentences(raw.strip())]
    # The model's own numbering goes, as it did when its sentences were split at "2."; a
    # sentence then reads the same whether the model wrote a list or prose.
    parsed = [(_LIST_NUMBERING.sub("", body).strip(), cited) for body, cited in parsed]
    return [(body, cited) for body, cited in parsed
            if body and not BARE_LIST_MARK.fullmatch(body)]


def _screen(parsed: list[tuple[str, list[int]]], allow_doses: bool,
            relevance: Relevance | None) -> dict[int, Verdict]:
    """Sentences removed whatever their support: a dose in a personal-dosing answer, a
    sentence about another drug, one that only restates the question."""
    out: dict[int, Verdict] = {}
    for i, (body, _) in enumerate(parsed):
        if not allow_doses and DOSE.search(body):
            out[i] = Verdict.DOSE_WITHHELD
        elif relevance is not None and not _is_filler(body):
            if relevance.other_drug(body):
                out[i] = Verdict.OTHER_DRUG
            elif not relevance.focus.polar and relevance.echo(body):
                # A yes/no question is answered by restating it ("Yes, X does Y"): that
                # restatement is checked for support, and its opener by finishing.py.
                out[i] = Verdict.ECHO
    return out


def _support_rows(
    parsed: list[tuple[str, list[int]]], substantive: list[int], evidence: list[Evidence],
    embedder: Embedder, min_coverage: float, vocabulary: Vocabulary | None,
    relevance: Relevance | None,
) -> dict[int, np.ndarray]:
    """For each substantive sentence, its support by every excerpt (see support_matrix),
    zeroed for excerpts about another drug and for sentences with words the documents
    never use."""
    bodies = [parsed[i][0] for i in substantive]
    context = ([" ".join(relevance.excerpt_drugs(e.chunk, e.text)) for e in evidence]
               if relevance is not None else None)
    support = (support_matrix(bodies, evidence, embedder, min_coverage, context)
               if substantive and evidence else np.zeros((0, len(evidence))))
    rows = dict(zip(substantive, support, strict=True))
    for i in substantive:
        body = parsed[i][0]
        if relevance is not None:  # a claim about one drug needs an excerpt about that drug
            rows[i] = rows[i] * relevance.same_drug_mask(body, evidence)
        if vocabulary is not None and vocabulary.novel_terms(body):
            rows[i] = np.zeros(len(evidence))  # nothing in the documents can back it
    return rows


def _judge(body: str, cited: list[int], row: np.ndarray, evidence: list[Evidence],
           threshold: float) -> tuple[list[int], Verdict, np.ndarray]:
    """Which excerpts keep the sentence: its own citations, another excerpt, or its cited
    excerpts together; the row gains the joint support."""
    kept, verdict = _decide(cited, row, threshold)
    joint = [] if kept else _jointly_supported(body, [evidence[n - 1] for n in cited])
    if joint:  # "A does x [1], while B does y [2]"
        row = np.maximum(row, [threshold if n in joint else 0.0
                               for n in range(1, len(evidence) + 1)])
        return joint, Verdict.SUPPORTED, row
    return kept, verdict, row


def verify_answer(
    raw: str, evidence: list[Evidence], embedder: Embedder, threshold: float,
    *, min_coverage: float = 0.6, allow_doses: bool = True,
    vocabulary: Vocabulary | None = None, relevance: Relevance | None = None,
) -> Verified:
    """Keep the sentences some excerpt supports, each citing the excerpts that support it.

    With ``allow_doses=False`` (personal-dosing questions) a sentence stating an amount is
    dropped even when a source states it: the answer must not read as a dose for this person.
    With a ``vocabulary``, a sentence using a specific word the documents never use is
    unsupported whatever its score; with ``relevance``, one about another drug than the one
    asked about, or one that only restates the question, is dropped.
    """
    parsed = _parse(raw, range(1, len(evidence) + 1))
    screened = _screen(parsed, allow_doses, relevance)
    substantive = [i for i, (body, _) in enumerate(parsed)
                   if not _is_filler(body) and i not in screened]
    rows = _support_rows(parsed, substantive, evidence, embedder, min_coverage, vocabulary,
                         relevance)
    checks: list[SentenceCheck] = []
    shown: list[str] = []
    best_support: dict[int, float] = {}
    for i, (body, cited) in enumerate(parsed):
        if i in screened:
            checks.append(SentenceCheck(body, tuple(cited), (), 0.0, screened[i]))
            continue
        if i not in rows:  # "Yes." and the like: nothing to verify, nothing to cite
            checks.append(SentenceCheck(body, tuple(cited), (), 0.0, Verdict.PLAIN))
            shown.append(body)
            continue
        kept, verdict, row = _judge(body, cited, rows[i], evidence, threshold)
        score = max((float(row[n - 1]) for n in kept), default=0.0)
        text = _with_markers(body, kept) if kept else body
        checks.append(SentenceCheck(text, tuple(cited), tuple(kept), round(score, 3), verdict))
        if kept:
            shown.append(text)
            for n in kept:
                best_support[n] = max(best_support.get(n, 0.0), float(row[n - 1]))
    if not best_support:  # nothing substantive survived: no answer, only filler
        return Verified("", (), tuple(checks))
    citations = tuple(citation_for(evidence[n - 1], best_support[n])
                      for n in sorted(best_support))
    return Verified(" ".join(shown).strip(), citations, tuple(checks))
def citation_for(item: Evidence, support: float | None = None) -> Citation:
    """The public form of an excerpt: where it is in its document, and how well it held."""
    chunk = item.chunk
    return Citation(
        n=item.n, doc_id=chunk.doc_id, source=chunk.source, title=chunk.title,
        start=item.start, end=item.end, text=item.text, section=chunk.section,
        support=None if support is None else round(support, 3),
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


def opens_with_refusal(raw: str, refusal_phrase: str) -> bool:
    """The model's first sentence says the passages do not answer the question."""
    first = split_sentences(raw)[0] if raw.strip() else ""
    return looks_like_refusal(first, refusal_phrase)
