"""Plain data passed between pipeline stages. No I/O here.

Each stage turns one of these into the next: Document -> Chunk -> Passage -> Answer.
"""

from __future__ import annotations

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
    """

    doc_id: str
    source: str
    title: str
    text: str
    sha256: str
    sections: tuple[Section, ...] = ()


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


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the per-retriever ranks behind it."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


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


class AnswerStatus(StrEnum):
    """What happened to a question, said as an enum rather than sniffed from text."""

    ANSWERED = "answered"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    OUT_OF_SCOPE = "out_of_scope"
    URGENT_CARE_REDIRECT = "urgent_care_redirect"
    ERROR = "error"


@dataclass(frozen=True)
class Timings:
    retrieve_ms: float = 0.0
    first_token_ms: float | None = None
    total_ms: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The result of one question, as the CLI's ``--json`` prints it.

    ``raw_answer`` is what the model produced; ``answer`` is the cleaned text shown to people.
    """

    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    disclaimer: str
    model: str
    timings: Timings
    status: AnswerStatus
    triage: str | None = None
    raw_answer: str = ""
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    settings_hash: str = ""
    checks: tuple = field(default=(), repr=False)  # verification.SentenceCheck per sentence
    excerpts: tuple[Citation, ...] = field(default=(), repr=False)  # all evidence shown

    def to_dict(self) -> dict:
        """The public JSON shape (see README): no raw model output, no internal passages."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "triage": self.triage,
            "citations": [asdict(c) for c in self.citations],
            "disclaimer": self.disclaimer,
            "model": self.model,
            "timings": asdict(self.timings),
            "status": self.status.value,
            "settings_hash": self.settings_hash,
        }


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer, in order: ``evidence`` (retrieved passages, before the
    model starts), ``token`` pieces, then exactly one ``answer`` with the final result."""

    kind: str  # "evidence" | "token" | "answer"
    text: str = ""
    passages: tuple[Passage, ...] = ()
    answer: Answer | None = None
