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

from qa.citations import (
    MARKER,
    STOPWORDS,
    WORD,
    content_words,
    lexical_support,
    split_sentences,
)
from qa.embeddings import Embedder
from qa.evidence import Evidence
from qa.types import Citation

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# An amount someone could take: "5 mg", "10mg", "2 tablets", "0.5 ml".
DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|g|ml|milligrams?|micrograms?|units?|iu"
                  r"|tablets?|pills?|capsules?|drops?|puffs?|doses?)\b", re.IGNORECASE)
FILLER_WORDS = frozenset({"yes", "no", "not", "it", "does", "do", "is", "are", "can", "the"})
# A list item with nothing after its number or bullet ("1.", "2)", "-"): left behind when the
# model starts a list it cannot fill, and meaningless on its own.
BARE_LIST_MARK = re.compile(r"[(\[]?\d{1,2}[.)\]]?|[-*•]+")


@dataclass(frozen=True)
class SentenceCheck:
    """What verification decided for one sentence of the model's answer."""

    text: str  # the sentence as shown (with its final markers), or the dropped text
    cited: tuple[int, ...]  # markers the model wrote (valid ones)
    kept: tuple[int, ...]  # markers after verification
    support: float  # best support among the kept citations (0 if dropped)
    verdict: str  # "supported" | "reattributed" | "unsupported" | "plain" | "dose_withheld"


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    checks: tuple[SentenceCheck, ...]


# Words this long are specific enough that the corpus must contain them (after stemming).
NOVEL_TERM_LEN = 6


def _stemmer():  # noqa: ANN202 - a PyStemmer object
    import Stemmer

    return Stemmer.Stemmer("english")


def corpus_terms(texts: list[str]) -> frozenset[str]:
    """Stems of every word in the indexed text: what the documents can possibly support."""
    stem = _stemmer().stemWords
    found: set[str] = set()
    for text in texts:
        found.update(stem(WORD.findall(text.lower())))
    return frozenset(found)


def novel_terms(sentence: str, terms: frozenset[str]) -> set[str]:
    """Specific words of the sentence that appear nowhere in the corpus (e.g. a drug the
    documents never mention, swapped into a sentence copied from them)."""
    candidates = [w for w in WORD.findall(MARKER.sub(" ", sentence).lower())
                  if len(w) >= NOVEL_TERM_LEN and w not in STOPWORDS]
    stems = _stemmer().stemWords(candidates)
    return {w for w, s in zip(candidates, stems, strict=True) if s not in terms}


# A question opening with one of these asks for "yes" or "no".
POLAR_OPENERS = frozenset(
    "is are am was were does do did can could should shall will would may might has have had"
    .split()
)
FOCUS_TERM_LEN = 4
PRONOUNS = frozenset("myself yourself himself herself itself ourselves themselves".split())


def unmentioned_focus(question: str, terms: frozenset[str]) -> list[str]:
    """For a yes/no question, the words of its subject the documents never use.

    "Is ketamine safe during pregnancy?" over documents that never say "pregnancy": the "Yes"
    or "No" is the whole answer and verification cannot check it (it has no content words),
    so a small model's guess would pass as a grounded answer. Such a question is refused.
    Pass the question after spelling correction (``Retriever.rewrite``).
    """
    tokens = WORD.findall(question.lower())
    if not tokens or tokens[0] not in POLAR_OPENERS:
        return []
    stem = _stemmer().stemWord
    missing: list[str] = []
    for token in dict.fromkeys(tokens[1:]):
        if stem(token) in terms:  # "anti-inflammatory" as a whole
            continue
        missing += [part for part in token.split("-")  # "add-on": "add" is known
                    if len(part) >= FOCUS_TERM_LEN and part.isalpha()
                    and part not in STOPWORDS and part not in PRONOUNS
                    and stem(part) not in terms]
    return missing


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


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
    bodies: list[str], evidence: list[Evidence], embedder: Embedder, min_coverage: float
) -> np.ndarray:
    """support[i, j] in [0, 1]: how well excerpt j backs sentence i.

    0 if a number is missing; only the lexical half if fewer than ``min_coverage`` of the
    sentence's words are in the excerpt. MiniLM gives any two sentences about the same drug
    a high cosine, so on the dev split cosine alone let invented mechanisms through.
    """
    vectors = embedder.embed(bodies + [e.text for e in evidence])
    cosine = np.clip(vectors[: len(bodies)] @ vectors[len(bodies):].T, 0.0, 1.0)
    support = np.zeros((len(bodies), len(evidence)))
    for i, body in enumerate(bodies):
        needed = _numbers(body)
        for j, item in enumerate(evidence):
            if needed - _numbers(item.text):
                continue  # a number or dose that the excerpt does not state verbatim
            coverage = lexical_support(body, item.text)
            semantic = cosine[i, j] if coverage >= min_coverage else 0.0
            support[i, j] = 0.5 * coverage + 0.5 * semantic
    return support


def _with_markers(body: str, numbers: list[int]) -> str:
    match = re.search(r"[.!?]*$", body)
    cut = match.start() if match else len(body)
    tags = "".join(f"[{n}]" for n in numbers)
    return f"{body[:cut].rstrip()} {tags}{body[cut:]}" if numbers else body


def _decide(cited: list[int], row: np.ndarray, threshold: float) -> tuple[list[int], str]:
    kept = [n for n in cited if row[n - 1] >= threshold]
    if kept:
        return kept, "supported"
    best = int(np.argmax(row)) + 1
    if row[best - 1] >= threshold:
        return [best], "reattributed"
    return [], "unsupported"


def _is_filler(body: str) -> bool:
    """'Yes.', 'No, it does not.': nothing to verify. Anything with a content word is checked."""
    return not (content_words(body) - FILLER_WORDS)


def verify_answer(
    raw: str, evidence: list[Evidence], embedder: Embedder, threshold: float,
    *, min_coverage: float = 0.6, allow_doses: bool = True,
    corpus: frozenset[str] | None = None,
) -> Verified:
    """Keep the sentences some excerpt supports, each citing the excerpts that support it.

    With ``allow_doses=False`` (personal-dosing questions) a sentence stating an amount is
    dropped even when a source states it: the answer must not read as a dose for this person.
    """
    valid = range(1, len(evidence) + 1)
    parsed = [_markers(s, valid) for s in split_sentences(raw.strip())]
    parsed = [(body, cited) for body, cited in parsed
              if body and not BARE_LIST_MARK.fullmatch(body)]
    withheld = {i for i, (body, _) in enumerate(parsed) if not allow_doses and DOSE.search(body)}
    substantive = [i for i, (body, _) in enumerate(parsed)
                   if not _is_filler(body) and i not in withheld]
    bodies = [parsed[i][0] for i in substantive]
    support = (support_matrix(bodies, evidence, embedder, min_coverage)
               if substantive and evidence else np.zeros((0, len(evidence))))
    rows = dict(zip(substantive, support, strict=True))
    if corpus is not None:
        for i in substantive:
            if novel_terms(parsed[i][0], corpus):
                rows[i] = np.zeros(len(evidence))  # nothing in the documents can back it
    checks, shown, best_support = [], [], {}
    for i, (body, cited) in enumerate(parsed):
        if i in withheld:
            checks.append(SentenceCheck(body, tuple(cited), (), 0.0, "dose_withheld"))
            continue
        if i not in rows:  # "Yes." and the like: nothing to verify, nothing to cite
            checks.append(SentenceCheck(body, tuple(cited), (), 0.0, "plain"))
            shown.append(body)
            continue
        kept, verdict = _decide(cited, rows[i], threshold)
        score = max((float(rows[i][n - 1]) for n in kept), default=0.0)
        text = _with_markers(body, kept) if kept else body
        checks.append(SentenceCheck(text, tuple(cited), tuple(kept), round(score, 3), verdict))
        if kept:
            shown.append(text)
            for n in kept:
                best_support[n] = max(best_support.get(n, 0.0), float(rows[i][n - 1]))
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
