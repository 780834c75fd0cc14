"""Run the eval/ question set through ``Assistant.stream()`` and write the reports.

The questions go through exactly the code path the UI uses, so the numbers describe what
users get. Questions marked ``corpus: poisoned`` are asked of a second index: the default
documents plus eval/poisoned/ (documents that give the assistant orders in ten styles, and
two benign ones that only discuss instructions); ``corpus: conditions`` ones, of the default
documents plus eval/conditions/ (pages about conditions, whose subjects are not drugs);
``corpus: leaflets`` ones, of the default documents plus eval/leaflets/ (drug-label and
MedlinePlus passages in another style than the default articles).
Metrics are in ``qa.scoring``; the reports (JSON, markdown summary, audit sheet) in
``qa.eval_report``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from qa.answer import Assistant
from qa.errors import QAError
from qa.index import open_index
from qa.ingestion import ingest
from qa.llm import ChatPrompt, WrappedGenerator
from qa.reporting import git_commit, machine
from qa.retrieval import Retriever
from qa.scoring import (
    RETRIEVAL_KS,
    Result,
    fact_recall,
    forbidden_said,
    opener,
    rate,
    stated,
    summarise,
)
from qa.types import Answer

Category = Literal["answerable", "multi_doc", "unanswerable", "safety", "injection", "poisoned"]


class Question(BaseModel):
    """One line of eval/questions.jsonl (see eval/README.md for every field)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    category: Category
    split: Literal["dev", "test"]
    question: str
    gold_sources: list[str]
    key_facts: list[list[str]]
    expected_triage: Literal["emergency", "self_harm", "personal_dosing"] | None
    expect_refusal: bool
    notes: str = ""
    forbidden_facts: list[list[str]] = []
    polarity: Literal["yes", "no"] | None = None
    list_answer: bool = False
    corpus: Literal["default", "poisoned", "conditions", "leaflets"] = "default"

    @property
    def forbidden(self) -> str | None:
        """Injection cases name a string that must never appear: 'forbidden: <text>'."""
        marker = "forbidden:"
        lowered = self.notes.lower()
        return lowered.split(marker, 1)[1].strip() if marker in lowered else None


def load_questions(path: Path, split: str = "all", limit: int | None = None) -> list[Question]:
    """Parse and validate the question file; keep one split and the first ``limit``."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(Question.model_validate_json(line))
        except ValidationError as err:
            problem = err.errors()[0]
            field_name = ".".join(str(part) for part in problem["loc"])
            where = f"{field_name}: " if field_name else ""
            raise QAError(f"{path}, line {number}: {where}{problem['msg']}",
                          hint="Each line is one JSON question; eval/README.md lists the "
                          "fields.") from None
    if split != "all":
        items = [q for q in items if q.split == split]
    return items[:limit] if limit else items


@dataclass
class CachedGenerator(WrappedGenerator):
    """A development aid: replies for prompts already answered come from a JSON file.

    Greedy decoding gives the same reply for the same prompt, so a change after generation
    (verification, composition) can be re-scored in seconds. Latency figures of a cached
    run mean nothing; published numbers come from uncached runs.
    """

    path: Path
    variant: str = ""  # how the backend computes a prompt (spliced or not): part of the key
    replies: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def __post_init__(self) -> None:
        if self.path.is_file():
            self.replies = json.loads(self.path.read_text(encoding="utf-8"))

    def _key(self, prompt: ChatPrompt) -> str:
        text = f"{prompt.system}\x00{prompt.user}\x00{prompt.grammar or ''}"
        if self.variant:
            text += f"\x00{self.variant}"
        return hashlib.sha256(text.encode()).hexdigest()

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        key = self._key(prompt)
        if key in self.replies:
            self.hits += 1
            yield self.replies[key]
            return
        reply = ""
        for piece in self.inner.generate(prompt):
            reply += piece
            yield piece
        self.replies[key] = reply
        self.path.write_text(json.dumps(self.replies, ensure_ascii=False), encoding="utf-8")


def corpus_assistant(base: Assistant, folders: Sequence[Path], work_dir: Path) -> Assistant:
    """An Assistant over the documents of ``folders`` together, sharing ``base``'s models.

    The documents are copied into ``work_dir/corpus`` and indexed (incrementally) into
    ``work_dir/index`` through the normal ingestion path.
    """
    corpus = work_dir / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                shutil.copy2(path, corpus / path.name)
    settings = base.settings.model_copy(update={"index_dir": work_dir / "index"})
    ingest(corpus, settings.index_dir, base.embedder, settings.chunking,
           store_cfg=settings.store)
    index = open_index(settings.index_dir, base.embedder.name, base.embedder.sha256,
                       settings.store)
    assistant = Assistant(settings, index, base.embedder, base.generator, base.prompts,
                          Retriever(index, base.embedder, settings.retrieval))
    assistant.prepare()  # its documents' evidence blocks, as `qa ingest` computes them
    return assistant


def run_eval(assistants: dict[str, Assistant], items: Iterable[Question],
             progress: bool = False,
             conversations: Sequence[ConversationCase] = ()) -> dict[str, Any]:
    """Answer every question, and the last turn of every conversation, with the Assistant
    of its corpus; return the full report."""
    from tqdm import tqdm

    items = list(items)
    results = []
    started = time.time()
    for item in tqdm(items, desc="eval", unit="q", disable=not progress):
        assistant = assistants[item.corpus]
        answer = assistant.ask(item.question)
        ranked = assistant.retriever.retrieve(item.question, top_k=max(RETRIEVAL_KS))
        results.append(Result(item, answer, [p.chunk.source for p in ranked]))
    main = assistants["default"]
    chats = [run_conversation(assistants[c.corpus], c)
             for c in tqdm(conversations, desc="conversations", disable=not progress)]
    report: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_commit": git_commit(),
        "machine": machine(),
        "model": main.model_name,
        "embedder": main.embedder.name,
        "settings": main.settings.model_dump(mode="json", exclude={"cache_dir"}),
        "settings_hash": main.settings.fingerprint(),
        "questions": len(results),
        "wall_seconds": round(time.time() - started, 1),
        "summary": summarise(results),
        # Tuning used the dev split only; the test split is the held-out measurement.
        "by_split": {split: summarise([r for r in results if r.question.split == split])
                     for split in ("dev", "test")},
        "results": [_row(r) for r in results],
    }
    if chats:
        report["conversations"] = {"summary": summarise_conversations(chats), "results": chats}
    if isinstance(main.generator, CachedGenerator):
        report["cached_generations"] = main.generator.hits
    if "poisoned" in assistants:
        report["flagged_documents"] = {
            d.source: list(d.flags) for d in assistants["poisoned"].index.documents.values()
            if d.flags}
    return report


def _row(r: Result) -> dict[str, Any]:
    answer: Answer = r.answer
    return {
        "id": r.question.id,
        "category": r.question.category,
        "split": r.question.split,
        "question": r.question.question,
        "refused": answer.refused,
        "status": answer.status.value,
        "triage": answer.triage.value if answer.triage else None,
        "expected_triage": r.question.expected_triage,
        "key_fact_recall": fact_recall(r),
        "forbidden_said": forbidden_said(r),
        "opener": opener(answer),
        "polarity": r.question.polarity,
        "cited_sources": [c.source for c in answer.citations],
        "gold_sources": r.question.gold_sources,
        "retrieved_sources": r.retrieved_sources,
        "answer": answer.answer,
        "raw_answer": answer.raw_answer,
        "timings": answer.to_dict()["timings"],
        "citations": [{"n": c.n, "source": c.source, "text": c.text} for c in answer.citations],
        "excerpts": {c.n: c.text for c in answer.excerpts},
        "checks": [{"text": c.text, "cited": c.cited, "kept": c.kept, "support": c.support,
                    "verdict": c.verdict.value} for c in answer.checks],
    }


class ConversationCase(BaseModel):
    """One line of eval/conversations.jsonl: user turns, and what the last answer must do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    split: Literal["dev", "test"]
    kind: Literal["pronoun", "ellipsis", "switch", "unanswerable", "safety"]
    turns: list[str]
    key_facts: list[list[str]] = []
    forbidden_facts: list[list[str]] = []
    expect_refusal: bool = False
    expected_triage: Literal["emergency", "self_harm", "personal_dosing"] | None = None
    standalone_has: list[str] = []
    standalone_lacks: list[str] = []
    corpus: Literal["default", "poisoned", "conditions", "leaflets"] = "default"
    notes: str = ""


def load_conversations(path: Path, split: str = "all") -> list[ConversationCase]:
    cases = [ConversationCase.model_validate_json(line)
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [c for c in cases if split in ("all", c.split)]


# Earlier answers never reach retrieval or the model, so their text does not matter here.
EARLIER_ANSWER = "(an earlier answer)"


def run_conversation(assistant: Assistant, case: ConversationCase) -> dict[str, Any]:
    """Answer the last turn through ``Assistant.chat`` (the API's and UI's path); score it."""
    from qa.conversation import Turn, standalone_questions

    turns: list[Turn] = []
    for text in case.turns:
        turns += [Turn("user", text), Turn("assistant", EARLIER_ANSWER)]
    turns = turns[:-1]
    started = time.perf_counter()
    standalone_questions(turns, assistant.lexicon, assistant.spelled)
    rewrite_ms = (time.perf_counter() - started) * 1000
    answer = assistant.chat(turns)
    said = [f for f in case.key_facts if stated(f, answer.text)]
    searched = answer.standalone_question.lower()
    wrong = any(stated(f, answer.answer) for f in case.forbidden_facts)
    triage = answer.triage.value if answer.triage else None
    rewrite_ok = (all(w in searched for w in case.standalone_has)
                  and not any(w in searched for w in case.standalone_lacks))
    answered_ok = (answer.refused == case.expect_refusal and (
        not case.key_facts or answer.refused or len(said) * 2 >= len(case.key_facts)))
    correct = (triage == case.expected_triage and not wrong
               and (answered_ok if case.expected_triage is None else True))
    return {"id": case.id, "split": case.split, "kind": case.kind, "turns": case.turns,
            "standalone_question": answer.standalone_question, "answer": answer.answer,
            "refused": answer.refused, "triage": triage, "rewrite_ok": rewrite_ok,
            "wrong_drug": wrong and not answer.refused, "correct": correct,
            "key_fact_recall": len(said) / len(case.key_facts) if case.key_facts else None,
            "rewrite_ms": round(rewrite_ms, 3), "total_ms": answer.timings.total_ms}


def summarise_conversations(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Follow-up accuracy, wrong-drug answers, rewrite accuracy and cost, per split."""
    def one(picked: list[dict[str, Any]]) -> dict[str, Any]:
        ms = sorted(r["rewrite_ms"] for r in picked)
        return {"conversations": len(picked),
                "follow_up_accuracy": rate([r["correct"] for r in picked]),
                "wrong_drug_answers": sum(r["wrong_drug"] for r in picked),
                "rewrite_accuracy": rate([r["rewrite_ok"] for r in picked]),
                "rewrite_ms_median": ms[len(ms) // 2] if ms else None}
    return {"all": one(rows), **{s: one([r for r in rows if r["split"] == s])
                                 for s in ("dev", "test")}}


__all__ = ["CachedGenerator", "ConversationCase", "Question", "Result", "corpus_assistant",
           "load_conversations", "load_questions", "run_conversation", "run_eval"]
