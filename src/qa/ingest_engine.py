"""Where ingestion's heavy steps run: read + clean, then chunk + embed.

``LocalEngine`` runs them in this process; ``qa.ray_ingest.RayEngine`` runs the same
functions as Ray Data stages on a local or remote Ray cluster. Both hand back documents,
chunks and vectors in corpus order, embedded in the same batches, so the index written
from them (by ``qa.ingestion``, in this process: one writer) is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.chunking import chunk_document, embedding_text, make_splitter
from qa.config import ChunkSettings, IngestSettings
from qa.corpus import source_name
from qa.embeddings import Embedder
from qa.errors import DocumentError
from qa.isolation import Converter
from qa.loaders import load_document, read_document_bytes
from qa.types import Chunk, Document

EMBED_BATCH = 256  # texts per embedder call; the int8 embedder's output depends on its batch


class Engine(Protocol):
    """Runs ingestion's per-document work."""

    def load(self, paths: Sequence[Path], root: Path,
             limits: IngestSettings) -> list[Document | DocumentError]:
        """Each file read, converted and cleaned within ``limits``, or the error that made
        it unreadable."""

    def chunk_and_embed(self, documents: Sequence[Document], embedder: Embedder,
                        cfg: ChunkSettings, progress: bool) -> tuple[list[Chunk], np.ndarray]:
        """The chunks of the documents in order, and one vector per chunk."""


def load_or_error(path: Path, root: Path, limits: IngestSettings) -> Document | DocumentError:
    try:
        return load_document(path, root, limits)
    except DocumentError as err:
        return err


def chunk_all(documents: Sequence[Document], count_tokens: Callable[[str], int],
              cfg: ChunkSettings) -> list[list[Chunk]]:
    splitter = make_splitter(count_tokens, cfg)
    return [chunk_document(doc, splitter) for doc in documents]


def embed_batches(chunks: Sequence[Chunk]) -> list[list[str]]:
    """The texts to embed, cut into the batches every engine uses."""
    texts = [embedding_text(c) for c in chunks]
    return [texts[i : i + EMBED_BATCH] for i in range(0, len(texts), EMBED_BATCH)]


class LocalEngine:
    """Everything in this process."""

    def load(self, paths: Sequence[Path], root: Path,
             limits: IngestSettings) -> list[Document | DocumentError]:
        """Converted in a child process with a time and memory limit (``qa.isolation``), so
        no file can hang or exhaust the ingest."""
        out: list[Document | DocumentError] = []
        with Converter(limits) as converter:
            for path in paths:
                source = source_name(path, root)
                try:
                    raw = read_document_bytes(path, root, source, limits)
                    out.append(converter.convert(raw, source))
                except DocumentError as err:
                    out.append(err)
        return out

    def chunk_and_embed(self, documents: Sequence[Document], embedder: Embedder,
                        cfg: ChunkSettings, progress: bool) -> tuple[list[Chunk], np.ndarray]:
        from tqdm import tqdm

        docs = tqdm(documents, desc="chunking", unit="doc", disable=not progress)
        chunks = [c for per_doc in chunk_all(list(docs), embedder.count_tokens, cfg)
                  for c in per_doc]
        batches = embed_batches(chunks)
        parts = [embedder.embed(b) for b in tqdm(batches, desc="embedding",
                                                 disable=not progress)]
        vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)
        return chunks, vectors
