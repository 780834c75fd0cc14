"""The Generator protocol, the prompt types, and the factory of the two backends.

``load_generator`` builds the local backend (``qa.llama_backend``, llama.cpp in this
process) or the remote one (``qa.remote_llm``): an OpenAI-compatible completions server
that the deployment runs itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from qa.config import LLMSettings
from qa.models import resolve_llm

log = logging.getLogger(__name__)
# The fewest answer tokens worth generating: a prompt that leaves less is refused.
MIN_ANSWER_TOKENS = 32
# llama.cpp's truncation defaults, named so that a remote server (whose own defaults differ,
# e.g. vLLM's top_k=-1) samples exactly as the local backend does when temperature > 0.
TRUNCATION = {"top_k": 40, "top_p": 0.95, "min_p": 0.05}


def sampling(cfg: LLMSettings) -> dict[str, Any]:
    """Every decoding setting, sent alike to the local and the remote backend: a setting one
    side leaves to its default is where their texts part (llama-cpp-python's server applies
    a 1.1 repeat penalty unless told otherwise)."""
    return {"temperature": cfg.temperature, "seed": cfg.seed,
            "repeat_penalty": cfg.repeat_penalty, **TRUNCATION}


@dataclass(frozen=True)
class Excerpt:
    """An evidence text of the prompt and the chunk it was cut from: a backend may reuse the
    chunk's precomputed attention state instead of computing the text (``qa.kv_blocks``)."""

    title: str
    chunk: str
    start: int  # the excerpt is chunk[start:end], and appears verbatim in the user turn
    end: int

    @property
    def text(self) -> str:
        return self.chunk[self.start : self.end]


@dataclass(frozen=True)
class ChatPrompt:
    """A task prompt before any model-specific chat formatting."""

    system: str
    user: str
    grammar: str | None = None  # a llama.cpp GBNF grammar the reply must follow
    excerpts: tuple[Excerpt, ...] = ()  # the evidence texts of ``user``, in order


class ChatMLFormat:
    """Qwen2.5's chat format. Kept apart from task prompts and pinned by an exact-string test."""

    stop = ("<|im_end|>", "<|endoftext|>")
    foot = "<|im_end|>\n<|im_start|>assistant\n"  # after the user's text

    @staticmethod
    def head(system: str) -> str:
        """Everything before the user's text. The system turn never changes, so its KV cache
        is computed once and shared by every question."""
        return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n"

    @classmethod
    def render(cls, prompt: ChatPrompt) -> str:
        return cls.head(prompt.system) + prompt.user + cls.foot


class Generator(Protocol):
    """A language model as the pipeline uses it."""

    @property
    def name(self) -> str:
        """The model's name, shown with every answer."""

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        """Stream the reply to ``prompt``, piece by piece."""

    def warm_up(self, system: str) -> None:
        """Get ready for prompts that start with this system turn (e.g. prefill its cache)."""

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's vocabulary."""

    def label_logprobs(self, prompt: ChatPrompt, labels: Sequence[str],
                       prefill: str = "") -> dict[str, float]:
        """Log-probability of each label as the next word of the reply (after ``prefill``)."""

    def prepare(self, system: str, chunks: Sequence[tuple[str, str]]) -> int:
        """Precompute what answering from these (title, text) chunks after this system turn
        needs (the local backend's KV blocks); how many chunks were computed."""


@dataclass
class WrappedGenerator:
    """A Generator around another one: everything is passed on; a subclass changes what
    it needs (``generate``, usually)."""

    inner: Generator

    @property
    def name(self) -> str:
        return self.inner.name

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        return self.inner.generate(prompt)

    def warm_up(self, system: str) -> None:
        self.inner.warm_up(system)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def label_logprobs(self, prompt: ChatPrompt, labels: Sequence[str],
                       prefill: str = "") -> dict[str, float]:
        return self.inner.label_logprobs(prompt, labels, prefill)

    def prepare(self, system: str, chunks: Sequence[tuple[str, str]]) -> int:
        return self.inner.prepare(system, chunks)


def load_generator(cfg: LLMSettings, cache_dir: Path) -> Generator:
    """The configured LLM: a remote completions server (``cfg.backend = "remote"``), or the
    GGUF resolved (known name or .gguf path), verified and loaded here."""
    if cfg.backend == "remote":
        from qa.remote_llm import RemoteGenerator

        log.info("LLM: %s at %s", cfg.model, cfg.base_url)
        return RemoteGenerator(cfg)
    from qa.llama_backend import LlamaCppGenerator

    name, path = resolve_llm(cfg.model, cache_dir)
    log.info("LLM: %s (%s)", name, path)
    return LlamaCppGenerator(name=name, path=path, cfg=cfg, state_dir=cache_dir / "kv")
