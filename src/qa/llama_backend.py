"""The local GGUF Generator: prompts through ``qa.llama_engine``, evidence from KV blocks.

With ``llm.splice`` on, a prompt whose excerpts all have precomputed blocks
(``qa.kv_blocks``, filled by ``prepare`` at ingestion) is *spliced*: the system turn is
already in the cache, each excerpt's sentences are copied in, the short texts between
excerpts ("\\n\\n[2] ") come from small cached blocks too, and only the question, the
turn's end and the first ``llm.splice_refresh`` tokens of each excerpt are computed. Any
other prompt (and every prompt by default) is computed in full after the cached system
turn.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.config import LLMSettings
from qa.errors import PromptTooLongError
from qa.kv_blocks import Block, BlockStore, ChunkBlocks, chunk_key, context_key
from qa.llama_context import label_logprobs, version
from qa.llama_engine import Engine
from qa.llm import MIN_ANSWER_TOKENS, ChatMLFormat, ChatPrompt, Excerpt
from qa.text import sentence_spans

log = logging.getLogger(__name__)
PREPARE_GROUP = 8  # chunks per exclusive engine call, so answers can run in between
# A sentence's tokens within its chunk's encoding: first and end token, character start
# and end in the chunk, the token ids.
_Span = tuple[int, int, int, int, list[int]]


@dataclass(frozen=True)
class _Plan:
    blocks: list[Block]
    tail: list[int]
    shared: bool  # the prompt starts with the cached system turn
    starts: tuple[int, ...] = ()  # indices of the blocks where an excerpt begins


@dataclass
class LlamaCppGenerator:
    """A local GGUF model run by llama.cpp on the CPU (see the module docstring)."""

    name: str
    path: Path
    cfg: LLMSettings
    chat: ChatMLFormat = field(default_factory=ChatMLFormat)
    state_dir: Path | None = None  # saved system-turn caches and evidence blocks
    engine: Engine = field(init=False, repr=False)
    blocks: BlockStore | None = field(default=None, init=False, repr=False)
    _system: str | None = field(default=None, init=False, repr=False)
    _glue: dict[str, Block] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.engine = Engine(self.path, self.cfg, parallel=self.cfg.parallel)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's vocabulary (special tokens recognised)."""
        return len(self.engine.tokenize(text))

    def _context(self, system: str) -> str:
        """What a cached KV state depends on: the model file, llama.cpp, the cache layout
        (flash attention stores V untransposed; the KV number type) and the system turn."""
        stat = self.path.stat()
        return (f"{self.path.name}:{stat.st_size}:{stat.st_mtime_ns}:{version()}:"
                f"fa={self.cfg.flash_attn}:kv={self.cfg.kv_type}:{system}")

    def warm_up(self, system: str) -> None:
        """Have the fixed system turn in the KV cache, so a question only pays for its own
        tokens. The first time its cache is computed and saved (a few MB under
        ``state_dir``); later starts load it in milliseconds."""
        tokens = self.engine.tokenize(self.chat.head(system))
        state = None
        if self.state_dir is not None:
            key = hashlib.sha256(f"{self._context(system)}:{tokens}".encode()).hexdigest()
            state = self.state_dir / f"{key[:24]}.kv"
            self.blocks = BlockStore(self.state_dir / "blocks" / context_key(self._context(system)))
        self.engine.call(lambda: self.engine.set_prefix(tokens, state))
        self._system, self._glue = system, {}

    # ------------------------------------------------------------ evidence blocks

    def prepare(self, system: str, chunks: Sequence[tuple[str, str]]) -> int:
        """Compute and store the blocks of the (title, text) chunks that have none yet
        (only with ``llm.splice``); returns how many were computed."""
        if self._system != system:
            self.warm_up(system)
        store = self.blocks
        if store is None or not self.cfg.splice:
            return 0
        todo = [(t, x) for t, x in dict.fromkeys(chunks) if not store.has(chunk_key(t, x))]
        return sum(self._prepare_group(store, todo[first : first + PREPARE_GROUP])
                   for first in range(0, len(todo), PREPARE_GROUP))

    def _prepare_group(self, store: BlockStore, chunks: list[tuple[str, str]]) -> int:
        """Encode a few chunks in one exclusive engine call and store their blocks; a chunk
        whose tokens do not spell its text exactly is left to be computed per question."""
        group = [(chunk, split) for chunk in chunks
                 if (split := self._sentences(*chunk)) is not None]
        inputs = [(tokens, [(a, b) for a, b, *_ in spans]) for _, (tokens, spans) in group]
        states = self.engine.call(lambda: self.engine.encode(inputs))
        start = len(self.engine.prefix)
        for ((title, text), (_, spans)), chunk_states in zip(group, states, strict=True):
            store.put(chunk_key(title, text), ChunkBlocks(tuple(
                Block(s, e, tuple(toks), start + a, state)
                for (a, _, s, e, toks), state in zip(spans, chunk_states, strict=True))))
        return len(group)

    def _sentences(self, title: str, text: str) -> tuple[list[int], list[_Span]] | None:
        """The chunk's tokens after its title line, and per sentence (first token, end
        token, character start, character end, its tokens); None when the tokens do
        not spell the text exactly."""
        head = self.engine.tokenize(f"[{title}]\n")
        tokens = self.engine.tokenize(text)
        pieces = [self.engine.piece(t) for t in tokens]
        if b"".join(pieces) != text.encode("utf-8"):
            return None
        starts, done = [], 0
        encoded = text.encode("utf-8")
        for piece in pieces:
            starts.append(len(encoded[:done].decode("utf-8", "ignore")))
            done += len(piece)
        spans, previous = [], 0
        for s, e in sentence_spans(text):
            inside = [i for i, c in enumerate(starts) if previous <= c < e]
            previous = e
            if inside:
                a, b = inside[0], inside[-1] + 1
                spans.append((len(head) + a, len(head) + b, s, e, tokens[a:b]))
        return head + tokens, spans

    # ------------------------------------------------------------ answering

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        """Stream text pieces; greedy by default, so the same question gives the same answer.

        The answer gets what the context window leaves (at most ``max_tokens``); a prompt
        that leaves too little is a PromptTooLongError.
        """
        plan = self._plan(prompt)
        size = (len(self.engine.prefix) if plan.shared else 0) + len(plan.tail) + sum(
            len(b.tokens) for b in plan.blocks)
        budget = self._answer_budget(size)
        yield from self.engine.generate(plan.blocks, plan.tail, min(self.cfg.max_tokens, budget),
                                        grammar=prompt.grammar, shared=plan.shared,
                                        refresh=plan.starts)

    def computed_tokens(self, prompt: ChatPrompt) -> int:
        """Prompt tokens computed when this prompt arrives (the rest is cached or spliced):
        what sets the time to the first token on a CPU."""
        plan = self._plan(prompt)
        return len(plan.tail) + sum(min(self.cfg.splice_refresh, sum(
            len(b.tokens) for b in plan.blocks[i:])) for i in plan.starts)

    def _plan(self, prompt: ChatPrompt) -> _Plan:
        if prompt.system == self._system and self.cfg.splice and prompt.excerpts:
            plan = self._spliced(prompt)
            if plan is not None:
                return plan
        tokens = self.engine.tokenize(self.chat.render(prompt))
        prefix = self.engine.prefix
        if prefix and tokens[: len(prefix)] == prefix and len(tokens) > len(prefix):
            return _Plan([], tokens[len(prefix):], shared=True)
        return _Plan([], tokens, shared=False)

    def _spliced(self, prompt: ChatPrompt) -> _Plan | None:
        """Blocks for every excerpt and glue between them; None if any is missing."""
        if self.blocks is None:
            return None
        parts: list[tuple[str, list[Block]]] = []  # (text before the excerpt, its blocks)
        cursor = 0
        for excerpt in prompt.excerpts:
            found = self._excerpt_blocks(excerpt)
            at = prompt.user.find(excerpt.text, cursor)
            if found is None or at < 0:
                return None
            parts.append((prompt.user[cursor:at], found))
            cursor = at + len(excerpt.text)
        glue_texts = [self._glue_text(before, found) for before, found in parts]
        glue = self._glue_blocks(glue_texts)
        blocks: list[Block] = []
        starts = []
        for text, (_, found) in zip(glue_texts, parts, strict=True):
            starts.append(len(blocks))
            if text:
                blocks.append(glue[text])
            blocks.extend(found)
        tail = self.engine.tokenize(prompt.user[cursor:] + self.chat.foot)
        return _Plan(blocks, tail, shared=True, starts=tuple(starts))

    def _excerpt_blocks(self, excerpt: Excerpt) -> list[Block] | None:
        assert self.blocks is not None
        chunk = self.blocks.get(chunk_key(excerpt.title, excerpt.chunk))
        return None if chunk is None else chunk.covering(excerpt.start, excerpt.end)

    def _glue_text(self, before: str, blocks: list[Block]) -> str:
        """The text before an excerpt as it is computed: without its trailing whitespace
        when the excerpt's first token brings its own (" The …"), so none is doubled."""
        return before.rstrip() if self.engine.piece(blocks[0].tokens[0])[:1].isspace() \
            else before

    def _glue_blocks(self, texts: list[str]) -> dict[str, Block]:
        """Blocks of the short texts between excerpts, each computed once after the system
        turn, kept in memory and on disk."""
        assert self.blocks is not None
        missing = []
        for text in dict.fromkeys(t for t in texts if t and t not in self._glue):
            stored = self.blocks.get(chunk_key("\x00glue", text))
            if stored is not None:
                self._glue[text] = stored.blocks[0]
            else:
                missing.append(text)
        if missing:
            tokens = [self.engine.tokenize(t) for t in missing]
            states = self.engine.call(lambda: self.engine.encode(
                [(t, [(0, len(t))]) for t in tokens]))
            for text, toks, [state] in zip(missing, tokens, states, strict=True):
                block = Block(0, len(text), tuple(toks), len(self.engine.prefix), state)
                self.blocks.put(chunk_key("\x00glue", text), ChunkBlocks((block,)))
                self._glue[text] = block
        return self._glue

    def _answer_budget(self, prompt_tokens: int, need: int = MIN_ANSWER_TOKENS) -> int:
        """Tokens left for the answer in the context window; PromptTooLongError (one line)
        when fewer than ``need`` are, instead of llama.cpp's failure."""
        left = self.cfg.n_ctx - prompt_tokens
        if left < need:
            raise PromptTooLongError(
                f"the question and its evidence take {prompt_tokens:,} tokens, and the "
                f"context window (llm.n_ctx) holds {self.cfg.n_ctx:,} with room for an answer")
        return left

    # ------------------------------------------------------------ label scores

    def label_logprobs(self, prompt: ChatPrompt, labels: Sequence[str],
                       prefill: str = "") -> dict[str, float]:
        """Log-probability of each label as the next word of the answer, from one forward pass.

        The assistant turn starts with ``prefill`` (e.g. "Answer:"); a label scores the
        log-sum-exp over its first token in four spellings ("yes", "Yes", " yes", " Yes"), so
        the result does not hinge on casing or spacing. No text is generated.
        """
        variants = {label: self.engine.llama.label_tokens(label) for label in labels}
        shared = set.intersection(*variants.values()) if len(variants) > 1 else set()
        if shared:
            raise ValueError(f"labels {list(labels)} share a first token: {shared}")
        tokens = self.engine.tokenize(self.chat.render(prompt) + prefill)
        self._answer_budget(len(tokens), need=1)
        logits = self.engine.call(lambda: self.engine.logits(tokens))
        return label_logprobs(logits, variants)
