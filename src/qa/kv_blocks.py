"""Precomputed KV blocks: the model's attention state for every evidence sentence, on disk.

Prefill is compute-bound on a CPU: the ~350 tokens of evidence are computed after each
question arrives (about 2.5 s with the 1.5B model on 2 cores). With ``llm.splice`` on,
``qa ingest`` runs each chunk through the model once, after the fixed system turn and the
chunk's document title, and keeps the KV cache of each of its sentences. At question time
the selected sentences' blocks are copied into the context and moved to their positions
(llama.cpp re-rotates the keys), so only the question and the few tokens around the
excerpts are computed (see ``qa.llama_engine``).

A block's sentence saw its own chunk (and title) but not the other excerpts of the prompt
or its marker: an approximation that costs answer quality (dev key-fact recall 0.838 vs
0.870 with 8 tokens per excerpt recomputed, eval/reports/splice-dev-20261204.md), which
is why ``llm.splice`` is off by default.

Blocks are content-addressed, so unchanged chunks are never recomputed, and they live under
one folder per *context*: model file, llama.cpp version and system turn. Another model or
prompt simply finds no blocks, and the answer falls back to computing its evidence.

One file per chunk: an 8-byte header length, a JSON header (per sentence: character span in
the chunk, token ids, first position, and where its bytes lie), then llama.cpp's sequence
state bytes of each sentence.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1


@dataclass(frozen=True)
class Block:
    """One sentence's KV state: its tokens, as computed at positions ``pos``, ``pos+1``..."""

    start: int  # character span of the sentence in the chunk text (leading whitespace
    end: int  # belongs to the tokens, not the span)
    tokens: tuple[int, ...]
    pos: int
    state: bytes


@dataclass(frozen=True)
class ChunkBlocks:
    """The blocks of one chunk's sentences, in order."""

    blocks: tuple[Block, ...]

    def covering(self, start: int, end: int) -> list[Block] | None:
        """The blocks that make up exactly the text ``[start, end)`` of the chunk, or None
        when sentence boundaries do not line up with it."""
        inside = [b for b in self.blocks if b.start >= start and b.end <= end]
        if not inside or inside[0].start != start or inside[-1].end != end:
            return None
        return inside

    @property
    def nbytes(self) -> int:
        return sum(len(b.state) for b in self.blocks)


def chunk_key(title: str, text: str) -> str:
    """Content address of a chunk as it is encoded (its title is part of its context)."""
    return hashlib.sha256(f"{FORMAT}\x00{title}\x00{text}".encode()).hexdigest()[:32]


def context_key(*parts: object) -> str:
    """Folder name for one encoding context (model file, library version, system turn)."""
    return hashlib.sha256("\x00".join(map(str, (FORMAT, *parts))).encode()).hexdigest()[:20]


@dataclass
class BlockStore:
    """Chunk blocks of one context under ``folder``; recently used ones kept in memory."""

    folder: Path
    memory_items: int = 64
    _recent: OrderedDict[str, ChunkBlocks] = field(default_factory=OrderedDict, repr=False)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.kvb"

    def has(self, key: str) -> bool:
        """Whether the chunk's blocks are on disk, whole (the header is read, not the
        states): a damaged or truncated file counts as absent, so it is computed again."""
        try:
            with self._path(key).open("rb") as data:
                (size,) = struct.unpack("<Q", data.read(8))
                head = json.loads(data.read(size))
                data.seek(0, os.SEEK_END)
                return _whole(head, size, data.tell())
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return False

    def get(self, key: str) -> ChunkBlocks | None:
        """The chunk's blocks, or None when they were never computed (or are unreadable)."""
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        found = self._read(self._path(key))
        if found is not None:
            self._recent[key] = found
            while len(self._recent) > self.memory_items:
                self._recent.popitem(last=False)
        return found

    def put(self, key: str, chunk: ChunkBlocks) -> None:
        """Write atomically: a half-written file is never read."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        header, offset = [], 0
        for b in chunk.blocks:
            header.append({"start": b.start, "end": b.end, "tokens": list(b.tokens),
                           "pos": b.pos, "offset": offset, "size": len(b.state)})
            offset += len(b.state)
        head = json.dumps({"format": FORMAT, "blocks": header}).encode()
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            out.write(struct.pack("<Q", len(head)))
            out.write(head)
            for b in chunk.blocks:
                out.write(b.state)
        os.replace(partial, path)

    @staticmethod
    def _read(path: Path) -> ChunkBlocks | None:
        try:
            data = path.read_bytes()
            (size,) = struct.unpack_from("<Q", data)
            head = json.loads(data[8 : 8 + size])
            body = 8 + size
            if not _whole(head, size, len(data)):
                return None
            blocks = tuple(
                Block(h["start"], h["end"], tuple(h["tokens"]), h["pos"],
                      data[body + h["offset"] : body + h["offset"] + h["size"]])
                for h in head["blocks"])
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return None  # absent or damaged: the answer computes its evidence instead
        if any(len(b.state) == 0 for b in blocks):
            return None
        return ChunkBlocks(blocks)


def _whole(head: dict, header_size: int, file_size: int) -> bool:
    """A block file of this format whose length is its header's and every state's."""
    body = sum(h["size"] for h in head["blocks"])
    return bool(head.get("format") == FORMAT and file_size == 8 + header_size + body)
