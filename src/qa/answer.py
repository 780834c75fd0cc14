"""answer_question(): safety triage -> retrieval -> prompt -> LLM -> citations -> Answer.

``Assistant`` is the Python API and the one code path shared by the CLI, the UI and the
evaluation, so what the eval measures is what users get.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.citations import looks_like_refusal, split_sentences
from qa.config import Settings
from qa.embeddings import Embedder, load_embedder
from qa.evidence import Evidence, select_evidence
from qa.index import Index, open_index
from qa.llm import ChatPrompt, Generator, load_generator
from qa.prompts import PromptSet, default_prompts_dir, load_prompts
from qa.retrieval import Retriever
from qa.safety import (
    Triage,
    TriageKind,
    classify,
    disclaimer_for,
    load_triage_text,
    requests_manufacture,
    strip_injections,
)
from qa.types import Answer, AnswerStatus, Passage, StreamEvent, Timings
from qa.verification import citation_for, corpus_terms, unmentioned_focus, verify_answer

log = logging.getLogger(__name__)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


@dataclass
class Assistant:
    """Question answering over one index. Build with ``Assistant.load()``; reuse for many
    questions (the models load once)."""

    settings: Settings
    index: Index
    embedder: Embedder
    generator: Generator
    prompts: PromptSet
    retriever: Retriever = field(init=False)

    def __post_init__(self) -> None:
        self.retriever = Retriever(self.index, self.embedder, self.settings.retrieval)
        self._prompts_dir = self.settings.prompts_dir or default_prompts_dir()
        self._refusal = self.prompts.text("refusal.txt")
        self._system = self.prompts.render("system.txt", refusal=self._refusal)
        self._terms = corpus_terms([c.text for c in self.index.chunks])
        escaped = self._refusal.replace("\\", "\\\\").replace('"', '\\"')
        self._grammar = (self.prompts.render("cited_answer.gbnf", refusal=escaped)
                         if self.settings.answer.constrained else None)

    @classmethod
    def load(
        cls,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        generator: Generator | None = None,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Load settings, embedder, index and LLM. Collaborators can be passed in (tests)."""
        settings = settings or Settings()
        if index_dir is not None:
            settings = settings.model_copy(update={"index_dir": Path(index_dir)})
        prompts = load_prompts(settings.prompts_dir)
        embedder = embedder or load_embedder(settings.embedder)
        index = open_index(settings.index_dir, embedder.name, embedder.sha256)
        generator = generator or load_generator(settings.llm, settings.cache_dir)
        assistant = cls(settings, index, embedder, generator, prompts)
        assistant.warm_up()
        return assistant

    def warm_up(self) -> None:
        """Load the embedder and prefill the system prompt now, not on the first question."""
        self.embedder.embed(["warm up"])
        warm = getattr(self.generator, "warm_up", None)
        if warm is not None:
            warm(self._system)

    @property
    def model_name(self) -> str:
        return self.generator.name

    def ask(self, question: str) -> Answer:
        """Answer one question (blocking)."""
        final = None
        for event in self.stream(question):
            if event.kind == "answer":
                final = event.answer
        assert final is not None  # stream() always ends with an answer event
        return final

    def stream(self, question: str) -> Iterator[StreamEvent]:
        """Yield evidence as soon as retrieval finishes, then tokens, then the Answer."""
        started = time.perf_counter()
        triage = classify(question)
        if triage.kind in (TriageKind.EMERGENCY, TriageKind.SELF_HARM):
            yield StreamEvent("answer", answer=self._redirect(question, triage, started))
            return
        # Instructions inside a question are not followed: they never reach the model.
        asked = strip_injections(question)
        if requests_manufacture(asked):  # never instructions to produce a drug
            yield StreamEvent("answer", answer=self._refusal_answer(
                question, triage, Timings(total_ms=_ms(started)), AnswerStatus.OUT_OF_SCOPE))
            return
        missing = unmentioned_focus(self.retriever.rewrite(asked), self._terms) if asked else []
        if missing:  # a yes/no about something the documents never mention
            note = f"{self._refusal} They never mention {', '.join(map(repr, missing))}."
            yield StreamEvent("answer", answer=self._refusal_answer(
                question, triage, Timings(total_ms=_ms(started)),
                AnswerStatus.INSUFFICIENT_EVIDENCE, text=note))
            return
        passages = self.retriever.retrieve(asked) if asked else []
        retrieve_ms = _ms(started)
        relevant = [
            p for p in passages
            if (p.dense_score or 0.0) >= self.settings.retrieval.min_dense_score
        ]
        if not relevant:
            yield StreamEvent("answer", answer=self._refusal_answer(
                question, triage, Timings(retrieve_ms=retrieve_ms, total_ms=_ms(started)),
                status=AnswerStatus.INSUFFICIENT_EVIDENCE, passages=tuple(passages)))
            return
        yield StreamEvent("evidence", passages=tuple(relevant))
        shown = select_evidence(asked, relevant, self.embedder, self.settings.answer)
        raw, first_token_ms = "", None
        for piece in self.generator.generate(self.build_prompt(asked, shown)):
            first_token_ms = first_token_ms or _ms(started)
            raw += piece
            yield StreamEvent("token", text=piece)
        timings = Timings(retrieve_ms, first_token_ms, _ms(started))
        answer = self._finish(question, triage, raw, shown, relevant, timings)
        yield StreamEvent("answer", answer=answer)

    def build_prompt(self, question: str, evidence: list[Evidence]) -> ChatPrompt:
        """Number the excerpts [1..n]; the fixed system turn comes first (KV-cache reuse)."""
        blocks = [
            self.prompts.render(
                "passage.txt", n=e.n, title=e.chunk.title, section=e.chunk.section or "-",
                text=e.text,
            )
            for e in evidence
        ]
        user = self.prompts.render("answer.txt", passages="\n\n".join(blocks), question=question)
        return ChatPrompt(system=self._system, user=user, grammar=self._grammar)

    def _finish(
        self, question: str, triage: Triage, raw: str, evidence: list[Evidence],
        passages: list[Passage], timings: Timings,
    ) -> Answer:
        excerpts = tuple(citation_for(e) for e in evidence)
        if self._opens_with_refusal(raw):
            return self._refusal_answer(
                question, triage, timings, AnswerStatus.INSUFFICIENT_EVIDENCE,
                passages=tuple(passages), raw_answer=raw, excerpts=excerpts,
            )
        verified = verify_answer(
            raw, evidence, self.embedder, self.settings.answer.support_threshold,
            min_coverage=self.settings.answer.min_word_coverage, corpus=self._terms,
            allow_doses=triage.kind is not TriageKind.PERSONAL_DOSING,
        )
        if not verified.citations:
            return self._refusal_answer(
                question, triage, timings, AnswerStatus.INSUFFICIENT_EVIDENCE,
                passages=tuple(passages), raw_answer=raw, checks=verified.checks,
                excerpts=excerpts,
            )
        text = verified.text
        if triage.kind is TriageKind.PERSONAL_DOSING:
            text = f"{text}\n\n{load_triage_text(triage.kind, self._prompts_dir)}"
        disclaimer = disclaimer_for(triage.kind, self._prompts_dir)
        return Answer(
            question=question, answer=f"{text}\n\n{disclaimer}", refused=False,
            citations=verified.citations, disclaimer=disclaimer, model=self.model_name,
            timings=timings, status=AnswerStatus.ANSWERED,
            triage=triage.kind.value if triage.kind else None, raw_answer=raw,
            passages=tuple(passages), settings_hash=self.settings.fingerprint(),
            checks=verified.checks, excerpts=excerpts,
        )

    def _opens_with_refusal(self, text: str) -> bool:
        """The model's first sentence says the passages do not answer the question."""
        first = split_sentences(text)[0] if text.strip() else ""
        return looks_like_refusal(first, self._refusal)

    def _refusal_answer(
        self, question: str, triage: Triage, timings: Timings, status: AnswerStatus,
        text: str | None = None, **found: object,
    ) -> Answer:
        """The refusal; ``found`` keeps what was seen on the way (passages, raw_answer,
        checks, excerpts) so the eval and the UI can show why."""
        text = text or self._refusal
        if triage.kind is TriageKind.PERSONAL_DOSING:  # still: ask the prescriber
            text = f"{text}\n\n{load_triage_text(triage.kind, self._prompts_dir)}"
        return Answer(
            question=question, answer=text, refused=True, citations=(), disclaimer="",
            model=self.model_name, timings=timings, status=status,
            triage=triage.kind.value if triage.kind else None,
            settings_hash=self.settings.fingerprint(), **found,
        )

    def _redirect(self, question: str, triage: Triage, started: float) -> Answer:
        """Emergencies and self-harm: fixed guidance at once, no retrieval, no model."""
        guidance = load_triage_text(triage.kind, self._prompts_dir)
        disclaimer = disclaimer_for(triage.kind, self._prompts_dir)
        return Answer(
            question=question, answer=f"{guidance}\n\n{disclaimer}", refused=False, citations=(),
            disclaimer=disclaimer, model=self.model_name,
            timings=Timings(total_ms=_ms(started)), status=AnswerStatus.URGENT_CARE_REDIRECT,
            triage=triage.kind.value, settings_hash=self.settings.fingerprint(),
        )
