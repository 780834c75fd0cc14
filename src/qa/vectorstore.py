"""The retrieval seam: a ``VectorStore`` holds one vector per chunk id and searches them.

Vectors are L2-normalised, so inner product is cosine. ``FaissStore`` (``qa.faiss_store``)
is the default backend; another store implements the same protocol and is chosen with
``Settings.store.backend`` through ``make_store``/``load_store``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import StoreSettings


class VectorStore(Protocol):
    """Vectors keyed by chunk id, searchable by inner product."""

    dim: int

    def __len__(self) -> int: ...

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Append vectors under new ids (an id already present is an error)."""

    def remove(self, ids: Collection[str]) -> None:
        """Drop the vectors of these ids (unknown ids are ignored)."""

    def search(
        self, queries: np.ndarray, k: int, allowed: Collection[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """For each query row, the ``k`` nearest ids and their scores, best first; only
        ``allowed`` ids when given (then the search is exact)."""

    def vectors_for(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids``, one row each, in that order."""

    def ids(self) -> list[str]:
        """Every stored id, in storage order."""

    def describe(self) -> dict[str, object]:
        """What was built (backend, index type, count), for the index manifest."""

    def save(self, folder: Path) -> None:
        """Write everything needed to ``load`` the store again into ``folder``."""


def make_store(cfg: StoreSettings, dim: int) -> VectorStore:
    """An empty store of the configured backend."""
    from qa.faiss_store import FaissStore

    if cfg.backend == "faiss":
        return FaissStore(dim, cfg)
    raise ValueError(f"unknown vector store backend {cfg.backend!r}")


def load_store(backend: str, cfg: StoreSettings, folder: Path) -> VectorStore:
    """The ``backend`` store saved in ``folder`` by ``VectorStore.save``."""
    from qa.faiss_store import FaissStore

    if backend == "faiss":
        return FaissStore.load(folder, cfg)
    raise ValueError(f"unknown vector store backend {backend!r}")
