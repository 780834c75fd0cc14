"""`qa speed`: first-token, first-verified-sentence and decode speed, beside naive RAG.

Timed unit tests would be flaky and prove little; this benchmark writes a report instead.
Every set-up holds its own model instance (so each keeps its own system-turn cache) and
answers the same questions, interleaved question by question, so that machine noise hits
all of them alike. The yardstick is the usual "stuff the top 4 chunks into the prompt"
RAG: 1,000-character chunks with 200 overlap, dense top-4, the same model, its reply
unverified. The ratio of its median first token to ours is the "N x faster" claim.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import Settings
from qa.llm import ChatPrompt, Generator, WrappedGenerator
from qa.reporting import git_commit, machine, percentile, stamp, write_json
from qa.types import Answer, EventKind

# Set-ups of the pipeline: changes to the answer and llm settings.
DEFAULT = "evidence computed per question (default)"
SETUPS: dict[str, dict[str, dict[str, Any]]] = {
    DEFAULT: {"answer": {}, "llm": {}},
    "KV blocks, 8 tokens per excerpt recomputed (llm.splice)": {
        "answer": {}, "llm": {"splice": True}},
    "KV blocks, none recomputed": {"answer": {}, "llm": {"splice": True, "splice_refresh": 0}},
    "computed, evidence budget 250 tokens (answer.evidence_tokens)": {
        "answer": {"evidence_tokens": 250}, "llm": {}},
    "computed, KV cache q8_0 (llm.kv_type)": {"answer": {}, "llm": {"kv_type": "q8_0"}},
}
# Measured once and left out of later runs (neither ships; eval/reports/speed-20261204-204406):
# flash attention ({"llm": {"flash_attn": True}}) 2386 vs 2426 ms to the first token, and
# llama.cpp's weight repacking on an AVX-512 CPU ({"llm": {"repack": True}}) 3248 ms.
NAIVE = "naive RAG: top-4 chunks of 1,000 characters, unverified"
NAIVE_SYSTEM = ("You are a helpful medical assistant. Answer the question using the "
                "context below.")


@dataclass
class Sample:
    first_token_ms: float
    last_token_ms: float
    total_ms: float
    tokens: int
    first_sentence_ms: float | None = None
    computed_tokens: int | None = None  # prompt tokens computed after the question arrived

    @property
    def decode_tps(self) -> float | None:
        """Tokens after the first over the time between first and last token."""
        seconds = (self.last_token_ms - self.first_token_ms) / 1000
        return (self.tokens - 1) / seconds if self.tokens > 1 and seconds > 0 else None


class Setup(Protocol):
    name: str

    def run(self, question: str) -> Sample | None: ...


@dataclass
class _Recorder(WrappedGenerator):
    """Keeps the last prompt, to count the tokens it computed (outside the timing)."""

    last: ChatPrompt | None = None

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        self.last = prompt
        return self.inner.generate(prompt)


def computed_tokens(generator: Generator, prompt: ChatPrompt | None) -> int | None:
    """Tokens a prompt computes on arrival, when the backend can tell (the local one)."""
    count = getattr(generator, "computed_tokens", None)
    return count(prompt) if count is not None and prompt is not None else None


@dataclass
class PipelineSetup:
    """The product's path (``Assistant.stream`` with drafts, to time the first token)."""

    name: str
    settings: Settings
    _assistant: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from qa.answer import Assistant

        self._assistant = Assistant.load(settings=self.settings)
        self._assistant.prepare()  # this set-up's evidence blocks, as `qa ingest` makes them
        self._assistant.generator = _Recorder(self._assistant.generator)

    def run(self, question: str) -> Sample | None:
        started = time.perf_counter()
        first: float | None = None
        last = 0.0
        answer: Answer | None = None
        for event in self._assistant.stream(question, drafts=True):
            now = (time.perf_counter() - started) * 1000
            if event.kind is EventKind.TOKEN:
                first = first if first is not None else now
                last = now
            elif event.answer is not None:
                answer = event.answer
        if first is None or answer is None:  # refused before the model ran
            return None
        generator = self._assistant.generator
        assert isinstance(generator, _Recorder)
        return Sample(first, last, answer.timings.total_ms,
                      generator.count_tokens(answer.raw_answer),
                      answer.timings.first_sentence_ms,
                      computed_tokens(generator.inner, generator.last))


@dataclass
class NaiveSetup:
    """The yardstick: whole 1,000-character chunks, top 4 by cosine, no verification."""

    settings: Settings
    name: str = NAIVE
    chunks: list[str] = field(default_factory=list)
    _vectors: Any = field(default=None, repr=False)
    _embedder: Any = field(default=None, repr=False)
    _generator: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from qa.embeddings import load_embedder
        from qa.index import current_generation, read_generation
        from qa.llm import load_generator

        gen = current_generation(self.settings.index_dir)
        assert gen is not None, "build the index first (qa ingest)"
        documents = read_generation(gen, self.settings.store).documents.values()
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        self.chunks = [c for d in documents for c in splitter.split_text(d.text)]
        self._embedder = load_embedder(self.settings.embedder, self.settings.cache_dir)
        self._vectors = self._embedder.embed(self.chunks)
        self._generator = load_generator(self.settings.llm, self.settings.cache_dir)
        self._generator.warm_up(NAIVE_SYSTEM)

    def prompt(self, question: str) -> Any:
        from qa.llm import ChatPrompt

        vector = self._embedder.embed([question])[0]
        top = np.argsort(-(self._vectors @ vector))[:4]
        context = "\n\n".join(self.chunks[i] for i in top)
        return ChatPrompt(NAIVE_SYSTEM, f"Context:\n{context}\n\nQuestion: {question}")

    def run(self, question: str) -> Sample | None:
        started = time.perf_counter()
        prompt = self.prompt(question)
        first: float | None = None
        last, reply = 0.0, ""
        for piece in self._generator.generate(prompt):
            now = (time.perf_counter() - started) * 1000
            first = first if first is not None else now
            last, reply = now, reply + piece
        total = (time.perf_counter() - started) * 1000
        if first is None:
            return None
        return Sample(first, last, total, self._generator.count_tokens(reply),
                      computed_tokens=computed_tokens(self._generator, prompt))


def _settings(base: Settings, setup: dict[str, dict[str, Any]]) -> Settings:
    return base.model_copy(update={
        "answer": base.answer.model_copy(update=setup["answer"]),
        "llm": base.llm.model_copy(update=setup["llm"]),
    })


def interleaved(setups: list[Setup], questions: list[str]) -> Iterator[tuple[str, Sample]]:
    """Each question through every set-up in turn (after one unmeasured warm-up each)."""
    for setup in setups:
        setup.run(questions[0])
    for question in questions:
        for setup in setups:
            sample = setup.run(question)
            if sample is not None:
                yield setup.name, sample


def summarise(samples: list[Sample]) -> dict[str, Any]:
    rates = [r for s in samples if (r := s.decode_tps)]
    sentences = [s.first_sentence_ms for s in samples if s.first_sentence_ms is not None]
    return {
        "n": len(samples),
        "first_token_ms_median": percentile([s.first_token_ms for s in samples], 50, 1),
        "first_token_ms_p90": percentile([s.first_token_ms for s in samples], 90, 1),
        "first_sentence_ms_median": percentile(sentences, 50, 1),
        "total_ms_median": percentile([s.total_ms for s in samples], 50, 1),
        "decode_tokens_per_s_median": round(statistics.median(rates), 1) if rates else None,
        "computed_tokens_median": percentile(
            [s.computed_tokens for s in samples if s.computed_tokens is not None], 50, 0),
        "answer_tokens_median": statistics.median([s.tokens for s in samples]) if samples
        else None,
    }


def setups_named(only: Collection[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """The set-ups to time: all, or the default and those whose name contains one of
    ``only``."""
    return {name: s for name, s in SETUPS.items()
            if not only or name == DEFAULT or any(part in name for part in only)}


def run_speed(base: Settings, questions: list[str], out_dir: Path,
              only: Collection[str] = ()) -> tuple[Path, Path]:
    """Measure the set-ups (``setups_named(only)``) and the naive yardstick; write
    speed-<time>.json/.md."""
    chosen = setups_named(only)
    setups: list[Setup] = [PipelineSetup(name, _settings(base, s)) for name, s in chosen.items()]
    setups.append(NaiveSetup(base))
    samples: dict[str, list[Sample]] = {s.name: [] for s in setups}
    for name, sample in interleaved(setups, questions):
        samples[name].append(sample)
    results = {name: summarise(found) for name, found in samples.items()}
    naive = results[NAIVE]["first_token_ms_median"]
    for result in results.values():
        ours = result["first_token_ms_median"]
        result["naive_over_this_first_token"] = round(naive / ours, 2) if naive and ours else None
    report = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git_commit": git_commit(),
              "machine": machine(), "model": base.llm.model, "questions": len(questions),
              "setups": chosen, "results": results}
    out_dir.mkdir(parents=True, exist_ok=True)
    name = stamp()
    json_path, md_path = out_dir / f"speed-{name}.json", out_dir / f"speed-{name}.md"
    write_json(json_path, report)
    md_path.write_text(render(report))
    return json_path, md_path


def render(report: dict[str, Any]) -> str:
    cpu = report["machine"]
    lines = [
        f"# qa speed {report['created']}", "",
        f"model `{report['model']}` · {report['questions']} questions, interleaved · commit "
        f"`{report['git_commit']}` · CPU {cpu['cpu']} ({cpu['cpus']} cores)", "",
        "| set-up | n | prompt tokens computed after the question (median) "
        "| first token ms (median/p90) | first verified sentence ms | total ms "
        "| decode tok/s | naive ÷ this (first token) |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {name} | {r['n']} | {r.get('computed_tokens_median') or '–'} | "
          f"{r['first_token_ms_median']} / {r['first_token_ms_p90']} | "
          f"{r['first_sentence_ms_median'] or '–'} | {r['total_ms_median']} | "
          f"{r['decode_tokens_per_s_median']} | {r['naive_over_this_first_token']} |"
          for name, r in report["results"].items()],
        "",
    ]
    return "\n".join(lines)
