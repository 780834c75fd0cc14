"""Read the public benchmark datasets in ``shared/data`` into typed rows (no retrieval here).

The data folder sits beside the repository (``../shared/data`` from a checkout, where the
benchmarks are run): that is where it is on a developer machine and in a CI clone.
``qa bench --data-dir`` (env ``QA_BENCH_DATA_DIR``) points elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.types import Document, Section

# Rows whose answer cell says the annotators found no trusted answer (README: 13 rows).
MQA_PLACEHOLDERS = frozenset({"no answers", "unanswerable", "n/a"})


class DatasetMissingError(QAError):
    """A benchmark dataset file is not where it is expected."""

    hint = "Put the datasets in ../shared/data beside the repository, or pass --data-dir."


def default_data_dir() -> Path:
    """``../shared/data`` from the working directory (a checkout beside ``shared/``)."""
    return Path.cwd().parent / "shared" / "data"


def read_jsonl(path: Path) -> list[dict]:
    """Parse a JSON Lines file, raising a QAError with a hint if it is missing."""
    if not path.is_file():
        raise DatasetMissingError(f"dataset file {path} does not exist")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MedicationRow:
    """One MedicationQA row; ``url``, ``focus`` and ``section`` are its metadata."""

    id: str
    question: str
    focus: str
    qtype: str
    answer: str
    section: str
    url: str

    @property
    def source(self) -> str:
        return f"medicationqa/{self.id}"

    @property
    def is_placeholder(self) -> bool:
        return self.answer.strip().lower() in MQA_PLACEHOLDERS


def load_medicationqa(data_dir: Path) -> list[MedicationRow]:
    """All 690 rows in sheet order (placeholders included; callers drop them)."""
    return [MedicationRow(**row) for row in read_jsonl(data_dir / "medicationqa" /
                                                        "medicationqa.jsonl")]


def medication_document(row: MedicationRow) -> Document:
    """One answer passage as a Document: title = drug, one section = the page heading.

    The drug and the page heading are what a leaflet corpus gives every passage (its title
    and section), so they are fair retrieval signals; the question text is never indexed.
    """
    heading = "" if row.section.strip().lower() in {"na", "n/a", "none"} else row.section
    return Document(
        doc_id=row.id, source=row.source, title=row.focus, text=row.answer,
        sha256=sha256_text(row.answer),
        sections=(Section(heading=heading, start=0, end=len(row.answer)),),
    )


@dataclass(frozen=True)
class PubMedRow:
    """One PQA-L instance (the long answer is never shown to the model)."""

    id: str
    question: str
    contexts: tuple[str, ...]
    labels: tuple[str, ...]
    final_decision: str
    split: str

    @property
    def source(self) -> str:
        return f"pubmedqa/{self.id}"


def load_pubmedqa(data_dir: Path) -> list[PubMedRow]:
    """All 1,000 PQA-L instances with their split."""
    rows = read_jsonl(data_dir / "pubmedqa" / "pqal.jsonl")
    return [
        PubMedRow(id=r["id"], question=r["question"], contexts=tuple(r["contexts"]),
                  labels=tuple(r["labels"]), final_decision=r["final_decision"],
                  split=r["split"])
        for r in rows
    ]


def pubmed_document(row: PubMedRow) -> Document:
    """The abstract without its conclusion; each labelled context is a section."""
    sections, parts, offset = [], [], 0
    for label, context in zip(row.labels, row.contexts, strict=True):
        sections.append(Section(heading=label.title(), start=offset, end=offset + len(context)))
        parts.append(context)
        offset += len(context) + 2
    text = "\n\n".join(parts)
    return Document(doc_id=f"pmid-{row.id}", source=row.source, title=f"PMID {row.id}",
                    text=text, sha256=sha256_text(text), sections=tuple(sections))


@dataclass(frozen=True)
class MedQuadRow:
    id: str
    source: str
    focus: str
    question: str
    answer: str


def load_medquad(data_dir: Path) -> list[MedQuadRow]:
    """The 16,423 MedQuAD pairs that still have an answer."""
    rows = read_jsonl(data_dir / "medquad" / "medquad.jsonl")
    return [MedQuadRow(id=r["id"], source=r["source"], focus=r["focus"],
                       question=r["question"], answer=r["answer"]) for r in rows]


def medquad_document(row: MedQuadRow) -> Document:
    """One answer as a Document titled by its focus (the question is not indexed)."""
    return Document(
        doc_id=sha256_text(row.id)[:16], source=f"medquad/{row.id}", title=row.focus,
        text=row.answer, sha256=sha256_text(row.answer),
    )
