"""Generator protocol and the llama-cpp GGUF backend (the only importer of llama_cpp).

``load_generator`` also builds the remote backend (``qa.remote_llm``): an OpenAI-compatible
completions server that the deployment runs itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import LLMSettings
from qa.errors import DependencyError, ModelCorruptError
from qa.models import resolve_llm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatPrompt:
    """A task prompt before any model-specific chat formatting."""

    system: str
    user: str
    grammar: str | None = None  # a llama.cpp GBNF grammar the reply must follow


class ChatMLFormat:
    """Qwen2.5's chat format. Kept apart from task prompts and pinned by an exact-string test."""

    stop = ("<|im_end|>", "<|endoftext|>")

    @staticmethod
    def render(prompt: ChatPrompt) -> str:
        # The system turn comes first and never changes, so llama.cpp reuses its KV cache
        # (the longest common token prefix) from one question to the next.
        return (
            f"<|im_start|>system\n{prompt.system}<|im_end|>\n"
            f"<|im_start|>user\n{prompt.user}<|im_end|>\n"
            "<|im_start|>assistant\n"
        )


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


@dataclass
class LlamaCppGenerator:
    """A local GGUF model run by llama.cpp on the CPU."""

    name: str
    path: Path
    cfg: LLMSettings
    chat: ChatMLFormat = field(default_factory=ChatMLFormat)
    _llama: Any = field(init=False, repr=False)
    _grammars: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise DependencyError("llama-cpp-python is not installed") from err
        lookup: dict[str, Any] = {}
        if self.cfg.prompt_lookup:
            # The draft model crashes in llama-cpp-python 0.3.36 unless every position keeps
            # its logits (logits_all=True).
            lookup = {"draft_model": LlamaPromptLookupDecoding(num_pred_tokens=10),
                      "logits_all": True}
        try:
            self._llama = Llama(
                model_path=str(self.path),
                n_ctx=self.cfg.n_ctx,
                n_threads=self.cfg.n_threads or os.cpu_count() or 2,
                seed=self.cfg.seed,
                verbose=False,
                **lookup,
            )
        except (ValueError, RuntimeError) as err:
            raise ModelCorruptError(f"llama.cpp could not load {self.path}: {err}") from err

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's vocabulary (special tokens recognised)."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def warm_up(self, system: str) -> None:
        """Evaluate the fixed system turn once, so the first question only pays for its own
        tokens (llama.cpp keeps the KV cache of the longest common prefix)."""
        prefix = self.chat.render(ChatPrompt(system, "")).split("<|im_start|>user")[0]
        tokens = self._llama.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
        self._llama.reset()
        self._llama.eval(tokens)

    def label_logprobs(self, prompt: ChatPrompt, labels: Sequence[str],
                       prefill: str = "") -> dict[str, float]:
        """Log-probability of each label as the next word of the answer, from one forward pass.

        The assistant turn starts with ``prefill`` (e.g. "Answer:"); a label scores the
        log-sum-exp over its first token in four spellings ("yes", "Yes", " yes", " Yes"), so
        the result does not hinge on casing or spacing. No text is generated.
        """
        variants = {label: self._first_tokens(label) for label in labels}
        shared = set.intersection(*variants.values()) if len(variants) > 1 else set()
        if shared:
            raise ValueError(f"labels {list(labels)} share a first token: {shared}")
        logits = self._next_logits(self.chat.render(prompt) + prefill)
        top = float(logits.max())
        logprobs = logits - (top + np.log(np.exp(logits - top).sum()))
        return {label: float(np.logaddexp.reduce(logprobs[sorted(ids)]))
                for label, ids in variants.items()}

    def _first_tokens(self, label: str) -> set[int]:
        spellings = {label, label.capitalize(), f" {label}", f" {label.capitalize()}"}
        return {self._llama.tokenize(s.encode("utf-8"), add_bos=False, special=False)[0]
                for s in spellings}

    def _next_logits(self, text: str) -> np.ndarray:
        """Logits after ``text``, reusing the KV cache of the longest common token prefix."""
        llama = self._llama
        tokens = llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        cached = 0
        for a, b in zip(llama.input_ids[: llama.n_tokens], tokens, strict=False):
            if a != b:
                break
            cached += 1
        llama.n_tokens = min(cached, len(tokens) - 1)  # eval at least one token for its logits
        llama.eval(tokens[llama.n_tokens :])  # drops the stale KV cache beyond n_tokens
        row = llama._ctx.get_logits_ith(-1)  # only the last position kept its logits
        return np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).copy()

    def _grammar(self, text: str | None) -> Any:
        """The compiled llama.cpp grammar, parsed once per distinct text."""
        if text is None:
            return None
        if text not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        """Stream text pieces; greedy by default so the same question gives the same answer."""
        stream = self._llama.create_completion(
            self.chat.render(prompt),
            grammar=self._grammar(prompt.grammar),
            max_tokens=self.cfg.max_tokens,
            temperature=self.cfg.temperature,
            seed=self.cfg.seed,
            stop=list(self.chat.stop),
            stream=True,
        )
        for part in stream:
            text = part["choices"][0]["text"]
            if text:
                yield text


def load_generator(cfg: LLMSettings, cache_dir: Path) -> Generator:
    """The configured LLM: a remote completions server (``cfg.backend = "remote"``), or the
    GGUF resolved (known name or .gguf path), verified and loaded here."""
    if cfg.backend == "remote":
        from qa.remote_llm import RemoteGenerator

        log.info("LLM: %s at %s", cfg.model, cfg.base_url)
        return RemoteGenerator(cfg)
    name, path = resolve_llm(cfg.model, cache_dir)
    log.info("LLM: %s (%s)", name, path)
    return LlamaCppGenerator(name=name, path=path, cfg=cfg)
