"""llama.cpp in this process: one model, one KV cache, several answers decoded together.

One scheduler thread owns the llama.cpp context (``qa.llama_context``; two threads
decoding at once abort the process) and runs, between decode steps, whatever was asked
of it:

* **answers** (``generate``), each in a sequence of its own. Sequence 0 holds the fixed
  prefix (the system turn); an answer's sequence shares those cells, gets its evidence
  copied in from precomputed blocks (``qa.kv_blocks``) and moved to its positions, then
  computes only the rest of its prompt. The running answers advance together: one decode
  per step carries every answer's next token and the prompt of any that just started
  (continuous batching). On a CPU a step costs little more for four answers than for
  one, because each step reads all the weights once.
* **exclusive work** (``call``): the prefix, encoding blocks at ingestion, label scores.

The cache's cells are shared by all sequences; an answer is admitted only when its
prompt and answer budget fit, otherwise it waits (in arrival order).
"""

from __future__ import annotations

import codecs
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from qa.config import LLMSettings
from qa.errors import QAError
from qa.kv_blocks import Block
from qa.llama_context import Context, DecodeError, Entry

log = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = 0  # the sequence that holds the shared prefix
GLUE_SEQS = 16  # short texts encoded side by side in one decode
SPARE_CELLS = 1024  # beyond llm.n_ctx: room to load and encode blocks
_END = object()


@dataclass
class _Answer:
    """One answer being generated: its sequence, what it still has to compute, its output."""

    blocks: Sequence[Block]
    tail: list[int]
    max_tokens: int
    grammar: str | None
    shared: bool  # starts with the prefix in sequence 0
    refresh: Sequence[int] = ()  # blocks whose first tokens are recomputed in context
    out: queue.Queue[object] = field(default_factory=queue.Queue)
    cancelled: bool = False
    seq: int = -1
    pos: int = 0
    produced: int = 0
    sampler: Any = None
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("ignore"))
    cells: int = 0  # cells of its own it may use: prompt beyond the prefix, and answer

    def __post_init__(self) -> None:
        self.cells = sum(len(b.tokens) for b in self.blocks) + len(self.tail) + self.max_tokens


class Engine:
    """A GGUF model and its context, driven by one scheduler thread (see module docstring)."""

    def __init__(self, path: Path, cfg: LLMSettings, parallel: int = 1) -> None:
        self.cfg = cfg
        self.llama = Context(path, cfg, sequences=parallel + 3 + GLUE_SEQS,
                             cells=cfg.n_ctx + SPARE_CELLS)
        self.scratch = parallel + 1  # blocks are loaded here, then shared with their answer
        self.work = parallel + 2  # exclusive work (label scores keep their cache here)
        self.prefix: list[int] = []
        self.peak = 0  # most answers ever decoded in the same steps
        self._work_tokens: list[int] = []
        self._free = list(range(1, parallel + 1))
        self._waiting: deque[_Answer] = deque()
        self._active: list[_Answer] = []
        self._calls: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._closed = False
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="qa-llama", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ any thread

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` (special tokens such as <|im_start|> recognised)."""
        return self.llama.tokenize(text)

    def piece(self, token: int) -> bytes:
        """The bytes one token stands for."""
        return self.llama.piece(token)

    def generate(self, blocks: Sequence[Block], tail: list[int], max_tokens: int,
                 grammar: str | None = None, shared: bool = True,
                 refresh: Sequence[int] = ()) -> Iterator[str]:
        """Text pieces of the answer to: the prefix (when ``shared``), ``blocks`` in order,
        then ``tail``. The first ``llm.splice_refresh`` tokens from each block index in
        ``refresh`` are recomputed with everything before them in view. Closing the
        iterator early stops the answer at its next step."""
        if not tail:
            raise ValueError("the prompt must end with tokens to compute")
        answer = _Answer(list(blocks), list(tail), max_tokens, grammar, shared, refresh)
        with self._cv:
            if self._closed:
                raise QAError("the model was shut down", hint="Restart qa.")
            self._waiting.append(answer)
            self._cv.notify_all()
        try:
            while (item := answer.out.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield str(item)
        finally:
            answer.cancelled = True
            with self._cv:
                self._cv.notify_all()

    def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the scheduler thread, between two decode steps, and return its
        result: the context is its own while it runs."""
        future: Future[T] = Future()
        with self._cv:
            if self._closed:
                raise QAError("the model was shut down", hint="Restart qa.")
            self._calls.append((work, future))
            self._cv.notify_all()
        return future.result()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(5)

    # ------------------------------------------------------------ exclusive work
    # (only on the scheduler thread: through ``call``)

    def set_prefix(self, tokens: list[int], state_file: Path | None) -> None:
        """Put ``tokens`` in sequence 0, loading their saved cache when there is one."""
        for answer in list(self._active):
            self._finish(answer, QAError("the model was reset", hint="Ask again."))
        self.llama.clear()
        self._work_tokens = []
        loaded = state_file is not None and state_file.is_file() and self.llama.load(
            state_file, PREFIX, tokens)
        if not loaded:
            self.llama.run(tokens, PREFIX, 0)
            if state_file is not None:
                self.llama.save(state_file, PREFIX, tokens)
        self.prefix = list(tokens)

    def logits(self, tokens: list[int]) -> np.ndarray:
        """Next-token logits after ``tokens``; the cache of the longest prefix shared with
        the previous call (or with sequence 0) is reused."""
        seq, llama = self.work, self.llama
        shared = _common(self._work_tokens, tokens)
        if shared == 0 and self.prefix and _common(self.prefix, tokens) == len(self.prefix):
            llama.drop(seq)
            llama.share(PREFIX, seq, 0, len(self.prefix))
            shared = len(self.prefix)
        shared = min(shared, len(tokens) - 1)  # compute at least one token, for its logits
        llama.drop(seq, shared)
        self._work_tokens = []
        index = llama.run(tokens[shared:], seq, shared, logits=True)
        self._work_tokens = list(tokens)
        return llama.logits_row(index)

    def encode(self, texts: Sequence[tuple[list[int], list[tuple[int, int]]]]) -> list[list[bytes]]:
        """KV state of token ranges, each text computed after the prefix on its own.

        ``texts`` holds (tokens, ranges): the state of each [a, b) range of the tokens is
        returned (positions ``len(prefix) + a`` ...). Short texts are computed side by
        side, one sequence each, in one decode.
        """
        start, llama = len(self.prefix), self.llama
        states: list[list[bytes]] = []
        for group in _groups(texts, GLUE_SEQS, llama.n_batch):
            seqs = [self.work + 1 + i for i in range(len(group))]
            for seq in seqs:
                llama.drop(seq)
                llama.share(PREFIX, seq, 0, start)
            if len(group) == 1:
                llama.run(group[0][0], seqs[0], start)
            else:
                llama.decode([(t, start + i, seq, False) for (tokens, _), seq in
                              zip(group, seqs, strict=True) for i, t in enumerate(tokens)])
            for (_, ranges), seq in zip(group, seqs, strict=True):
                states.append([llama.state(seq, start + a, start + b, self.scratch)
                               for a, b in ranges])
                llama.drop(seq)
        return states

    # ------------------------------------------------------------ scheduler

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not (self._calls or self._waiting or self._active or self._closed):
                    self._cv.wait()
                if self._closed:
                    break
                calls = list(self._calls)
                self._calls.clear()
            for work, future in calls:
                try:
                    future.set_result(work())
                except BaseException as err:  # noqa: BLE001 - handed to the caller
                    future.set_exception(err)
            try:
                for answer in [a for a in self._active if a.cancelled]:
                    self._finish(answer)
                self._admit()
                if self._active:
                    self._step()
            except Exception as err:  # noqa: BLE001 - fail the answers, keep the engine
                log.exception("llama.cpp step failed")
                for answer in list(self._active):
                    self._finish(answer, DecodeError(f"llama.cpp failed: {err}"))
        gone = QAError("the model was shut down", hint="Restart qa.")
        for answer in [*self._active, *self._waiting]:
            answer.out.put(gone)
        for _, future in self._calls:
            future.set_exception(gone)

    def _admit(self) -> None:
        """Start waiting answers, in order, while a sequence and their cells are free."""
        while True:
            with self._cv:
                if not self._waiting or not self._free:
                    return
                answer = self._waiting[0]
                if answer.cancelled:
                    self._waiting.popleft()
                    continue
                used = len(self.prefix) + len(self._work_tokens) + sum(
                    a.cells for a in self._active)
                if self._active and used + answer.cells > self.cfg.n_ctx:
                    return  # wait for a running answer to end
                self._waiting.popleft()
                answer.seq = self._free.pop(0)
            try:
                self._start(answer)
            except Exception as err:  # noqa: BLE001 - one failed answer, not the engine
                self._finish(answer, err)
                continue
            self._active.append(answer)
            self.peak = max(self.peak, len(self._active))

    def _start(self, answer: _Answer) -> None:
        """The answer's sequence: the prefix's cells shared, its blocks copied in place."""
        seq, llama = answer.seq, self.llama
        pos = len(self.prefix) if answer.shared else 0
        llama.drop(seq)
        if pos:
            llama.share(PREFIX, seq, 0, pos)
        starts = []
        for block in answer.blocks:
            starts.append(pos)
            llama.splice(block.state, block.pos, len(block.tokens), seq, pos, self.scratch)
            pos += len(block.tokens)
        answer.pos = pos
        answer.sampler = llama.sampler(answer.grammar)
        if self.cfg.splice_refresh and answer.refresh:
            self._refresh(answer, starts)

    def _refresh(self, answer: _Answer, starts: list[int]) -> None:
        """Recompute the first tokens of each excerpt with the cells before it in view, in
        one decode (a sequence each that shares what comes before), then put them in place
        of the spliced ones: a block was computed without its marker or the other excerpts."""
        llama, size = self.llama, self.cfg.splice_refresh
        runs = []
        for k, i in enumerate(answer.refresh[:GLUE_SEQS]):
            tokens = [t for b in answer.blocks[i:] for t in b.tokens][:size]
            seq = self.work + 1 + k
            llama.drop(seq)
            llama.share(answer.seq, seq, 0, starts[i])
            runs.append((seq, starts[i], tokens))
        llama.decode([(t, start + j, seq, False) for seq, start, tokens in runs
                      for j, t in enumerate(tokens)])
        for seq, start, tokens in runs:
            llama.drop(answer.seq, start, start + len(tokens))
            llama.share(seq, answer.seq, start, start + len(tokens))
            llama.drop(seq)

    def _step(self) -> None:
        """One decode: each running answer's next token, then as much of the new answers'
        prompts as the batch holds; then sample every answer that reached its end."""
        entries: list[Entry] = []
        outputs = []
        for answer in sorted(self._active, key=lambda a: len(a.tail) > 1):
            take = answer.tail[: self.llama.n_batch - len(entries)]
            if not take:
                continue
            done = len(take) == len(answer.tail)
            entries += [(t, answer.pos + i, answer.seq, done and i == len(take) - 1)
                        for i, t in enumerate(take)]
            if done:
                outputs.append((answer, len(entries) - 1))
            answer.pos += len(take)
            answer.tail = answer.tail[len(take):]
        try:
            self.llama.decode(entries)
        except DecodeError as err:
            for answer in list(self._active):
                self._finish(answer, err)
            return
        for answer, index in outputs:
            self._emit(answer, index)

    def _emit(self, answer: _Answer, index: int) -> None:
        token = self.llama.sample(answer.sampler, index)
        if self.llama.is_end(token):
            self._finish(answer)
            return
        text = answer.decoder.decode(self.llama.piece(token))
        if text:
            answer.out.put(text)
        answer.produced += 1
        if answer.produced >= answer.max_tokens:
            self._finish(answer)
        else:
            answer.tail = [token]

    def _finish(self, answer: _Answer, error: BaseException | None = None) -> None:
        if error is None:
            rest = answer.decoder.decode(b"", final=True)
            if rest:
                answer.out.put(rest)
        answer.out.put(error if error is not None else _END)
        if answer.sampler is not None:
            self.llama.free(answer.sampler)
            answer.sampler = None
        if answer in self._active:
            self._active.remove(answer)
        if answer.seq > 0:
            self.llama.drop(answer.seq)
            with self._cv:
                self._free.append(answer.seq)
            answer.seq = -1


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the common prefix of two token lists."""
    return len(os.path.commonprefix([list(a), list(b)]))


def _groups(items: Sequence[T], size: int, tokens: int) -> Iterator[list[T]]:
    """Consecutive groups of at most ``size`` (tokens, ...) items holding at most ``tokens``
    tokens together; a longer single item is a group of its own."""
    group: list[T] = []
    used = 0
    for item in items:
        n = len(item[0])  # type: ignore[index]
        if group and (len(group) == size or used + n > tokens):
            yield group
            group, used = [], 0
        group.append(item)
        used += n
    if group:
        yield group
