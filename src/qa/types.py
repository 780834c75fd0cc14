"""Plain data passed between pipeline stages. No I/O here.

Each stage turns one of these into the next:
Document -> Chunk -> Passage -> Evidence -> SentenceCheck -> Answer.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Section:
    """A headed span of a cleaned document; offsets index into ``Document.text``."""

    heading: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One cleaned source file.

    ``source`` is the path relative to the corpus folder (POSIX separators), ``doc_id`` a
    stable id derived from it, ``sha256`` the hash of the raw file bytes (change detection).
    ``flags`` say what cleaning removed because it was addressed to an assistant or hidden
    from readers ("addressed to the model: ...", "hidden HTML: ..."): never evidence.
    ``pages`` (PDFs) holds the offset in ``text`` where each page starts, page 1 first.
    """

    doc_id: str
    source: str
    title: str
    text: str
    sha256: str
    sections: tuple[Section, ...] = ()
    flags: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset`` (None for a document without pages)."""
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document; ``text == document.text[start:end]``."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    page: int | None = None  # PDF page where the chunk starts


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the per-retriever ranks behind it."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


@dataclass(frozen=True)
class Evidence:
    """One numbered excerpt shown to the model: ``text == document.text[start:end]``."""

    n: int
    chunk: Chunk
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Citation:
    """A passage the answer cites as ``[n]``; start/end are offsets into the cleaned document."""

    n: int
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    section: str = ""
    support: float | None = None
    page: int | None = None  # PDF page of the cited text, for a reader of the original file


class Verdict(StrEnum):
    """What verification decided for one sentence of the model's answer."""

    SUPPORTED = "supported"  # a cited excerpt backs it
    REATTRIBUTED = "reattributed"  # another excerpt backs it; the citation moved there
    UNSUPPORTED = "unsupported"  # no excerpt backs it: removed
    PLAIN = "plain"  # "Yes." and the like: nothing to verify, shown as is
    DOSE_WITHHELD = "dose_withheld"  # states an amount in a personal-dosing answer: removed
    OTHER_DRUG = "other_drug"  # about another drug than the one asked about: removed
    ECHO = "echo"  # only restates the question: removed
    CONTRADICTED = "contradicted"  # says its excerpt turned round (negation, side effect as use)
    INCOMPLETE = "incomplete"  # stops where its list should begin ("such as."): removed
    TURNED = "turned"  # answers the question turned round (who should not, for who should)
    REPEATED = "repeated"  # says nothing an earlier sentence of the answer did not: removed
    QUOTED = "quoted"  # an evidence sentence quoted as the answer (extractive fallback)
    OTHER_CASE = "other_case"  # an amount the documents give only for a case it leaves out


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of the model's answer and what verification did with it."""

    text: str  # the sentence as shown (with its final markers), or the dropped text
    cited: tuple[int, ...]  # markers the model wrote (valid ones)
    kept: tuple[int, ...]  # markers after verification
    support: float  # best support among the kept citations (0 if dropped)
    verdict: Verdict


class TriageKind(StrEnum):
    """Risky questions handled before any model speaks."""

    EMERGENCY = "emergency"
    SELF_HARM = "self_harm"
    PERSONAL_DOSING = "personal_dosing"


class AnswerStatus(StrEnum):
    """What happened to a question, said as an enum rather than sniffed from text."""

    ANSWERED = "answered"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    OUT_OF_SCOPE = "out_of_scope"
    URGENT_CARE_REDIRECT = "urgent_care_redirect"
    ERROR = "error"


REFUSALS = frozenset({AnswerStatus.INSUFFICIENT_EVIDENCE, AnswerStatus.OUT_OF_SCOPE})


@dataclass(frozen=True)
class Timings:
    retrieve_ms: float = 0.0
    first_token_ms: float | None = None
    total_ms: float = 0.0
    first_sentence_ms: float | None = None  # the first verified sentence sent


@dataclass(frozen=True)
class Answer:
    """The result of one question.

    The parts are kept apart: ``text`` is the verified answer with its ``[n]`` markers (or
    the refusal sentence), ``guidance`` the fixed triage text (crisis lines, emergency
    numbers, "ask your prescriber"), ``disclaimer`` the closing note. ``answer`` composes
    them for display; ``raw_answer`` is what the model wrote before verification.
    """

    question: str
    text: str
    status: AnswerStatus
    model: str
    timings: Timings
    citations: tuple[Citation, ...] = ()
    guidance: str = ""
    disclaimer: str = ""
    triage: TriageKind | None = None
    raw_answer: str = ""
    settings_hash: str = ""
    standalone_question: str = ""  # what was searched for (a follow-up, made to stand alone)
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    checks: tuple[SentenceCheck, ...] = field(default=(), repr=False)
    excerpts: tuple[Citation, ...] = field(default=(), repr=False)  # all evidence shown

    @property
    def refused(self) -> bool:
        """The assistant declined: the documents do not say, or the request is out of scope."""
        return self.status in REFUSALS

    @property
    def answer(self) -> str:
        """The text people read: answer, then guidance, then disclaimer, a blank line apart."""
        return "\n\n".join(part for part in (self.text, self.guidance, self.disclaimer) if part)

    def to_dict(self) -> dict[str, object]:
        """The public JSON shape (see README): no raw model output, no internal passages."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "triage": self.triage.value if self.triage else None,
            "citations": [asdict(c) for c in self.citations],
            "disclaimer": self.disclaimer,
            "model": self.model,
            "timings": asdict(self.timings),
            "status": self.status.value,
            "settings_hash": self.settings_hash,
            "standalone_question": self.standalone_question or self.question,
        }


class EventKind(StrEnum):
    EVIDENCE = "evidence"  # the retrieved passages, before the model starts
    SENTENCE = "sentence"  # a verified sentence of the answer, final once sent
    TOKEN = "token"  # a piece of the model's unverified text (only with drafts=True)
    ANSWER = "answer"  # the final Answer, whose text is the sentences sent; always last


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: ``evidence``, verified ``sentence``s, then one
    ``answer``."""

    kind: EventKind
    text: str = ""
    passages: tuple[Passage, ...] = ()
    answer: Answer | None = None
