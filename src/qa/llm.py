"""Generator protocol and the llama-cpp GGUF backend (the only importer of llama_cpp).

``load_generator`` also builds the remote backend (``qa.remote_llm``): an OpenAI-compatible
completions server that the deployment runs itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import LLMSettings
from qa.errors import DependencyError, ModelCorruptError, PromptTooLongError
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


@dataclass
class LlamaCppGenerator:
    """A local GGUF model run by llama.cpp on the CPU.

    One llama.cpp context serves one request at a time: two threads decoding at once
    abort the process (a GGML_ASSERT in the CPU backend, seen with 4 concurrent sessions),
    so every use of the context holds ``_lock``; concurrent sessions queue for the model.
    """

    name: str
    path: Path
    cfg: LLMSettings
    chat: ChatMLFormat = field(default_factory=ChatMLFormat)
    state_dir: Path | None = None  # saved KV caches of system turns (see warm_up)
    _llama: Any = field(init=False, repr=False)
    _grammars: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: Any = field(default_factory=threading.Lock, init=False, repr=False)

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
                use_mmap=self.cfg.use_mmap,
                verbose=False,
                **lookup,
            )
        except (ValueError, RuntimeError) as err:
            raise ModelCorruptError(f"llama.cpp could not load {self.path}: {err}") from err

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's vocabulary (special tokens recognised)."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def warm_up(self, system: str) -> None:
        """Have the fixed system turn in the KV cache, so the first question only pays for its
        own tokens (llama.cpp reuses the cache of the longest common prefix).

        The first time, the turn is evaluated and its cache saved (a few MB under
        ``state_dir``); later starts load it, which takes milliseconds instead of a prefill.
        """
        prefix = self.chat.render(ChatPrompt(system, "")).split("<|im_start|>user")[0]
        tokens = self._llama.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
        with self._lock:
            self._llama.reset()
            path = self._state_file(tokens)
            if path is not None and path.is_file() and self._load_prefix(path, tokens):
                return
            self._llama.eval(tokens)
            if path is not None:
                self._save_prefix(path, tokens)

    def _state_file(self, tokens: Sequence[int]) -> Path | None:
        """Where the KV cache of these prefix tokens is kept for this model and context."""
        if self.state_dir is None:
            return None
        import llama_cpp

        stat = self.path.stat()
        key = f"{self.path.name}:{stat.st_size}:{stat.st_mtime_ns}:{self.cfg.n_ctx}:" \
              f"{llama_cpp.__version__}:{list(tokens)}"
        return self.state_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.kv"

    def _save_prefix(self, path: Path, tokens: Sequence[int]) -> None:
        import ctypes

        import llama_cpp

        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        if llama_cpp.llama_state_seq_save_file(self._llama.ctx, str(partial).encode(), 0,
                                               array, ctypes.c_size_t(len(tokens))):
            os.replace(partial, path)  # atomic: a half-written state is never loaded
        else:
            partial.unlink(missing_ok=True)

    def _load_prefix(self, path: Path, tokens: Sequence[int]) -> bool:
        """Load the saved cache; False (and an empty cache) when it does not fit."""
        import ctypes

        import llama_cpp

        llama = self._llama
        memory = llama_cpp.llama_get_memory(llama.ctx)
        llama_cpp.llama_memory_seq_rm(memory, -1, 0, -1)
        array = (llama_cpp.llama_token * len(tokens))()
        count = ctypes.c_size_t(0)
        loaded = llama_cpp.llama_state_seq_load_file(
            llama.ctx, str(path).encode(), 0, array, len(tokens), ctypes.byref(count))
        if not loaded or list(array[: count.value]) != list(tokens):
            llama_cpp.llama_memory_seq_rm(memory, -1, 0, -1)
            return False
        llama.input_ids[: len(tokens)] = tokens
        llama.n_tokens = len(tokens)
        return True

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
        with self._lock:
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
        self._answer_budget(len(tokens), need=1)
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

    def _answer_budget(self, prompt_tokens: int, need: int = MIN_ANSWER_TOKENS) -> int:
        """Tokens left for the answer in the context window; PromptTooLongError (one line)
        when fewer than ``need`` are, instead of llama.cpp's exception."""
        left = self.cfg.n_ctx - prompt_tokens
        if left < need:
            raise PromptTooLongError(
                f"the question and its evidence take {prompt_tokens:,} tokens, and the "
                f"context window (llm.n_ctx) holds {self.cfg.n_ctx:,} with room for an answer")
        return left

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        """Stream text pieces; greedy by default so the same question gives the same answer.

        The prompt is counted first: the answer gets what the context window leaves (at
        most ``max_tokens``), and a prompt that leaves too little is a PromptTooLongError.
        """
        text = self.chat.render(prompt)
        tokens = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        budget = self._answer_budget(len(tokens))
        with self._lock:  # held until the stream ends or is closed
            stream = self._llama.create_completion(
                text,
                grammar=self._grammar(prompt.grammar),
                max_tokens=min(self.cfg.max_tokens, budget),
                stop=list(self.chat.stop),
                stream=True,
                **sampling(self.cfg),
            )
            for part in stream:
                piece = part["choices"][0]["text"]
                if piece:
                    yield piece


def load_generator(cfg: LLMSettings, cache_dir: Path) -> Generator:
    """The configured LLM: a remote completions server (``cfg.backend = "remote"``), or the
    GGUF resolved (known name or .gguf path), verified and loaded here."""
    if cfg.backend == "remote":
        from qa.remote_llm import RemoteGenerator

        log.info("LLM: %s at %s", cfg.model, cfg.base_url)
        return RemoteGenerator(cfg)
    name, path = resolve_llm(cfg.model, cache_dir)
    log.info("LLM: %s (%s)", name, path)
    return LlamaCppGenerator(name=name, path=path, cfg=cfg, state_dir=cache_dir / "kv")
