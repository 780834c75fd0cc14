"""Embedder protocol and its sentence-transformers backend (the only importer of that library)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import EmbedderSettings
from qa.errors import DependencyError
from qa.models import resolve_embedder

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, so inner product = cosine."""

    name: str
    sha256: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass
class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers folder) on the CPU."""

    name: str
    path: Path
    sha256: str
    batch_size: int = 32

    _model: object | None = field(default=None, init=False, repr=False)

    @property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily
        """Load on first use: an unchanged re-ingest never pays the ~3 s model load."""
        if self._model is None:
            # Never let transformers reach for a model hub: weights come from disk only.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as err:  # pragma: no cover - depends on the environment
                raise DependencyError("sentence-transformers is not installed") from err
            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def tokenizer(self):  # noqa: ANN201 - a transformers tokenizer
        return self.model.tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode in batches; sorted by length inside sentence-transformers to limit padding."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens, without the [CLS]/[SEP] specials."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))


def load_embedder(cfg: EmbedderSettings) -> SentenceTransformerEmbedder:
    """Resolve, checksum-verify and load the configured embedder."""
    name, path, sha = resolve_embedder(cfg.model)
    log.info("embedder: %s (%s)", name, path)
    return SentenceTransformerEmbedder(name=name, path=path, sha256=sha, batch_size=cfg.batch_size)
