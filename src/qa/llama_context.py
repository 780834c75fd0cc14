"""A llama.cpp model and context as ``qa.llama_engine`` uses them (the only llama_cpp import).

Thin, stateless wrappers over llama.cpp's C API: tokens, batches of (token, position,
sequence), the KV cache's sequences (remove, copy, move), their saved state, logits and
samplers. Every method must be called from one thread at a time (the engine's).
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import LLMSettings
from qa.errors import DependencyError, ModelCorruptError, QAError
from qa.llm import TRUNCATION

try:
    import llama_cpp
    from llama_cpp import _internals as internals
    from llama_cpp._logger import set_verbose
except ImportError as err:  # pragma: no cover - depends on the environment
    raise DependencyError("llama-cpp-python is not installed") from err

Entry = tuple[int, int, int, bool]  # token, position, sequence, keep its logits


class DecodeError(QAError):
    """llama.cpp failed a decode step."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint="Retry; if it persists, restart qa (see its log).")


# llm.kv_type -> llama.cpp's number type of the KV cache
_KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0,
             "q4_0": llama_cpp.GGML_TYPE_Q4_0}


class Context:
    """One GGUF model and one context whose KV cells all sequences share."""

    def __init__(self, path: Path, cfg: LLMSettings, sequences: int, cells: int,
                 n_batch: int = 512, tap: LayerTap | None = None) -> None:
        set_verbose(False)
        self.cfg, self.n_batch = cfg, n_batch
        params = llama_cpp.llama_model_default_params()
        params.use_mmap = cfg.use_mmap
        params.use_extra_bufts = not avx512() if cfg.repack is None else cfg.repack
        try:
            self.model = internals.LlamaModel(path_model=str(path), params=params,
                                              verbose=False)
        except (ValueError, RuntimeError) as err:
            raise ModelCorruptError(f"llama.cpp could not load {path}: {err}") from err
        ctx = llama_cpp.llama_context_default_params()
        ctx.n_ctx, ctx.n_batch, ctx.n_ubatch = cells, n_batch, n_batch
        ctx.n_seq_max = sequences
        ctx.kv_unified = True  # one pool of cells: sequences share the prefix's cells
        ctx.n_threads = ctx.n_threads_batch = cfg.n_threads or os.cpu_count() or 2
        quantised = cfg.kv_type != "f16"
        ctx.type_k = ctx.type_v = _KV_TYPES[cfg.kv_type]
        ctx.flash_attn_type = (llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
                               if cfg.flash_attn or quantised
                               else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        if tap is not None:
            tap.width = self.model.n_embd()
            ctx.cb_eval = tap.callback
        try:
            self._ctx = internals.LlamaContext(model=self.model, params=ctx, verbose=False)
        except ValueError as err:
            raise ModelCorruptError(f"llama.cpp could not create a context: {err}") from err
        self.ctx, self.memory = self._ctx.ctx, self._ctx.memory
        self.vocab, self.n_vocab = self.model.vocab, self.model.n_vocab()
        self._batch = internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1,
                                           verbose=False)

    # ------------------------------------------------------------ tokens

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return list(self.model.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def piece(self, token: int) -> bytes:
        return bytes(self.model.detokenize([token]))

    def label_tokens(self, label: str) -> set[int]:
        """The first token of a label in four spellings ("yes", "Yes", " yes", " Yes")."""
        spellings = {label, label.capitalize(), f" {label}", f" {label.capitalize()}"}
        return {self.tokenize(s, special=False)[0] for s in spellings}

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    # ------------------------------------------------------------ computing

    def decode(self, entries: Sequence[Entry]) -> None:
        """One llama_decode of at most ``n_batch`` entries."""
        batch = self._batch.batch
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.logits[i] = token, pos, logits
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
        code = llama_cpp.llama_decode(self.ctx, batch)
        if code != 0:
            raise DecodeError(f"llama.cpp could not decode (code {code})")

    def run(self, tokens: Sequence[int], seq: int, pos: int, logits: bool = False) -> int:
        """Compute ``tokens`` in ``seq`` from ``pos``, a batch at a time; the batch index
        of the last token, whose logits are kept when ``logits``."""
        last = 0
        for first in range(0, len(tokens), self.n_batch):
            part = tokens[first : first + self.n_batch]
            end = first + len(part) == len(tokens)
            self.decode([(t, pos + first + i, seq, logits and end and i == len(part) - 1)
                         for i, t in enumerate(part)])
            last = len(part) - 1
        return last

    def logits_row(self, index: int) -> np.ndarray:
        row = llama_cpp.llama_get_logits_ith(self.ctx, index)
        return np.ctypeslib.as_array(row, shape=(self.n_vocab,)).copy()

    # ------------------------------------------------------------ sampling

    def sampler(self, grammar: str | None) -> Any:
        """Decoding as llama-cpp-python's Llama does it: penalties, grammar, then greedy
        (temperature 0) or truncation, temperature and a seeded draw."""
        cfg = self.cfg
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = llama_cpp.llama_sampler_chain_add
        add(chain, llama_cpp.llama_sampler_init_penalties(self.n_vocab, 64, cfg.repeat_penalty,
                                                          0.0, 0.0))
        if grammar is not None:
            add(chain, llama_cpp.llama_sampler_init_grammar(self.vocab, grammar.encode(), b"root"))
        if cfg.temperature == 0.0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        add(chain, llama_cpp.llama_sampler_init_top_k(TRUNCATION["top_k"]))
        add(chain, llama_cpp.llama_sampler_init_top_p(TRUNCATION["top_p"], 1))
        add(chain, llama_cpp.llama_sampler_init_min_p(TRUNCATION["min_p"], 1))
        add(chain, llama_cpp.llama_sampler_init_temp(cfg.temperature))
        add(chain, llama_cpp.llama_sampler_init_dist(cfg.seed))
        return chain

    def sample(self, sampler: Any, index: int) -> int:
        return int(llama_cpp.llama_sampler_sample(sampler, self.ctx, index))

    @staticmethod
    def free(sampler: Any) -> None:
        llama_cpp.llama_sampler_free(sampler)

    # ------------------------------------------------------------ sequences

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(self.memory, True)

    def drop(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        """Forget ``seq``'s cells at positions [p0, p1) (all by default)."""
        llama_cpp.llama_memory_seq_rm(self.memory, seq, p0, p1)

    def share(self, src: int, dst: int, p0: int, p1: int) -> None:
        """Let ``dst`` use ``src``'s cells at [p0, p1) too (no copy: the cells are shared)."""
        llama_cpp.llama_memory_seq_cp(self.memory, src, dst, p0, p1)

    def state(self, seq: int, p0: int, p1: int, scratch: int) -> bytes:
        """llama.cpp's saved state of ``seq``'s cells at positions [p0, p1)."""
        self.drop(scratch)
        self.share(seq, scratch, p0, p1)
        size = llama_cpp.llama_state_seq_get_size(self.ctx, scratch)
        data = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(self.ctx, data, size, scratch)
        self.drop(scratch)
        return bytes(data[:written])

    def splice(self, state: bytes, start: int, n: int, seq: int, pos: int, scratch: int) -> None:
        """Put a saved state of ``n`` cells at [start, start+n) into ``seq`` at ``pos``: load
        it into ``scratch``, move its positions (llama.cpp re-rotates the keys at the next
        decode), share it with ``seq``, clear ``scratch``."""
        data = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(self.ctx, data, len(state), scratch) != len(state):
            raise DecodeError("a precomputed evidence block does not fit this model")
        if pos != start:
            llama_cpp.llama_memory_seq_add(self.memory, scratch, start, start + n, pos - start)
        self.share(scratch, seq, pos, pos + n)
        self.drop(scratch)

    def save(self, path: Path, seq: int, tokens: Sequence[int]) -> None:
        """Write ``seq``'s cells and their tokens to ``path``, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        if llama_cpp.llama_state_seq_save_file(self.ctx, str(partial).encode(), seq, array,
                                               ctypes.c_size_t(len(tokens))):
            os.replace(partial, path)  # a half-written state is never loaded
        else:
            partial.unlink(missing_ok=True)

    def load(self, path: Path, seq: int, tokens: Sequence[int]) -> bool:
        """Load a saved ``seq``; False (and an empty ``seq``) unless it holds ``tokens``."""
        array = (llama_cpp.llama_token * len(tokens))()
        count = ctypes.c_size_t(0)
        loaded = llama_cpp.llama_state_seq_load_file(
            self.ctx, str(path).encode(), seq, array, len(tokens), ctypes.byref(count))
        if not loaded or list(array[: count.value]) != list(tokens):
            self.drop(seq)
            return False
        return True


class LayerTap:
    """llama.cpp's eval callback that keeps the last row of every layer's output (the
    tensors named "l_out-<layer>") of the latest batch computed: a prompt's last token."""

    def __init__(self) -> None:
        self.width = 0
        self.rows: dict[int, np.ndarray] = {}
        self._ggml = _ggml()
        self.callback = llama_cpp.ggml_backend_sched_eval_callback(self._seen)

    def _seen(self, tensor: int, ask: bool, _user: Any) -> bool:
        name = self._ggml.ggml_get_name(tensor)
        if not name.startswith(b"l_out-"):
            return not ask  # asked: not wanted; shown anyway: go on computing
        if not ask:
            rows = self._ggml.ggml_nrows(tensor)  # the last layer keeps only the output rows
            data = np.ctypeslib.as_array(self._ggml.ggml_get_data_f32(tensor),
                                         shape=(rows * self.width,))
            self.rows[int(name[len(b"l_out-"):])] = data[-self.width:].copy()
        return True


class LayerStates:
    """Every layer's state at the last token of a prompt, and the next-token logits there,
    from one forward pass in a model and context of its own (nothing is generated): the
    features of a linear probe (``qa.benchmarks.pubmedqa_probe``)."""

    def __init__(self, path: Path, cfg: LLMSettings, cells: int = 4096) -> None:
        self.tap = LayerTap()
        self.llama = Context(path, cfg, sequences=1, cells=cells, tap=self.tap)
        self.layers = int(llama_cpp.llama_model_n_layer(self.llama.model.model))
        self.cells = cells

    def read(self, tokens: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(layers x width) float32 states of the last token, and its (vocabulary) logits."""
        if not 0 < len(tokens) <= self.cells:
            raise ValueError(f"a prompt of {len(tokens)} tokens does not fit {self.cells} cells")
        self.llama.clear()
        self.tap.rows.clear()
        last = self.llama.run(tokens, seq=0, pos=0, logits=True)
        states = np.stack([self.tap.rows[layer] for layer in range(self.layers)])
        return states, self.llama.logits_row(last)


@functools.cache
def _ggml() -> ctypes.CDLL:
    """ggml's C library as llama-cpp-python ships it, for the tensors the callback is shown."""
    lib = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
    lib.ggml_get_name.restype, lib.ggml_get_name.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    lib.ggml_get_data_f32.restype = ctypes.POINTER(ctypes.c_float)
    lib.ggml_get_data_f32.argtypes = [ctypes.c_void_p]
    lib.ggml_nrows.restype, lib.ggml_nrows.argtypes = ctypes.c_int64, [ctypes.c_void_p]
    return lib


def label_logprobs(logits: np.ndarray, tokens: dict[str, set[int]]) -> dict[str, float]:
    """Each label's log-probability as the next token: the log-sum-exp of its tokens'."""
    logprobs = logits.astype(np.float64) - np.logaddexp.reduce(logits.astype(np.float64))
    return {label: float(np.logaddexp.reduce(logprobs[sorted(ids)]))
            for label, ids in tokens.items()}


def version() -> str:
    return str(llama_cpp.__version__)


def avx512() -> bool:
    """Whether this CPU has AVX-512 (False when /proc/cpuinfo cannot tell)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return " avx512f " in f"{line} "
    except OSError:
        pass
    return False
