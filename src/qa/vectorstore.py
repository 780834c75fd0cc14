"""The retrieval seam: a ``VectorStore`` holds one vector per chunk id and searches them.

Vectors are L2-normalised, so inner product is cosine. ``FaissStore`` (``qa.faiss_store``)
is the default backend, ``MilvusStore`` (``qa.milvus_store``) the other; the backend is
chosen with ``Settings.store.backend`` through ``make_store``/``load_store``.

A store is written whole into an index generation (``save``) or, after an incremental
ingest, only as what changed since it was loaded (``save_delta``), which is what keeps
adding one document to a large index in proportion to that document.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import StoreSettings

BACKENDS = ("faiss", "milvus")


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

    def save_delta(self, folder: Path) -> None:
        """Write only the changes since the last ``save``/``save_delta``/load into
        ``folder``; ``load_store`` applies such folders, in order, after the full save."""


Hits = list[list[tuple[int, float]]]  # per query: (row, score), best first


def merge_hits(parts: Sequence[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    """The best ``k`` (row, score) pairs of several hit lists; ties in row order."""
    return sorted((hit for part in parts for hit in part), key=lambda h: (-h[1], h[0]))[:k]


def exact_hits(vectors: np.ndarray, rows: Sequence[int] | np.ndarray, queries: np.ndarray,
               k: int) -> Hits:
    """Exact top ``k`` of ``rows`` (``vectors`` holds their vectors, in that order) for each
    query row; ties in row order."""
    if not len(rows):
        return [[] for _ in queries]
    sims = vectors @ queries.T
    out = []
    for column in sims.T:
        top = np.argsort(-column, kind="stable")[:k]
        out.append([(int(rows[i]), float(column[i])) for i in top])
    return out


class RowStore:
    """What both stores share: ids kept in row order, searched as an indexed part (FAISS
    base, Milvus collection) plus the rows added since it was built, searched exactly.

    A subclass keeps ``dim``, ``_ids`` (every row, removed ones included), ``_row`` (live
    id -> row) and ``_dead``, and supplies ``_vectors_at``, ``_search_indexed`` and
    ``_search_recent``.
    """

    dim: int
    _ids: list[str]
    _row: dict[str, int]
    _dead: set[int]  # removed rows not yet compacted away

    def __len__(self) -> int:
        return len(self._row)

    def ids(self) -> list[str]:
        return [i for r, i in enumerate(self._ids) if r not in self._dead]

    def _vectors_at(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _search_indexed(self, queries: np.ndarray, k: int) -> Hits:
        raise NotImplementedError

    def _search_recent(self, queries: np.ndarray, k: int) -> Hits:
        raise NotImplementedError

    def search(
        self, queries: np.ndarray, k: int, allowed: Collection[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """See ``VectorStore.search``: the two parts' hits merged, or an exact search over
        the ``allowed`` rows (their vectors fetched) when given."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if allowed is not None:
            rows = sorted(self._row[i] for i in allowed if i in self._row)
            hits = exact_hits(self._vectors_at(rows), rows, queries, k)
        elif not len(self) or k <= 0:
            return [[] for _ in queries]
        else:
            hits = [merge_hits(parts, k) for parts in zip(
                self._search_indexed(queries, k), self._search_recent(queries, k),
                strict=True)]
        return [[(self._ids[r], s) for r, s in found] for found in hits]


def new_rows(row: dict[str, int], stored: list[str], ids: Sequence[str],
             vectors: np.ndarray, dim: int) -> np.ndarray:
    """Give each new id the next row (``row`` and ``stored`` are updated) and return the
    vectors as one float32 block; ValueError if the counts differ or an id is stored."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
    if len(ids) != len(vectors):
        raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
    clash = [i for i in ids if i in row]
    if clash or len(set(ids)) != len(ids):
        raise ValueError(f"ids already stored: {clash[:3]}")
    for offset, chunk_id in enumerate(ids):
        row[chunk_id] = len(stored) + offset
    stored.extend(ids)
    return vectors


def _check(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown vector store backend {backend!r}; known: {BACKENDS}")


def make_store(cfg: StoreSettings, dim: int) -> VectorStore:
    """An empty store of the configured backend."""
    _check(cfg.backend)
    if cfg.backend == "milvus":
        from qa.milvus_store import MilvusStore

        return MilvusStore(dim, cfg)
    from qa.faiss_store import FaissStore

    return FaissStore(dim, cfg)


def load_store(backend: str, cfg: StoreSettings, folder: Path,
               deltas: Sequence[Path] = ()) -> VectorStore:
    """The ``backend`` store saved in ``folder``, with the ``deltas`` saved since applied."""
    _check(backend)
    if backend == "milvus":
        from qa.milvus_store import MilvusStore

        return MilvusStore.load(folder, cfg, deltas)
    from qa.faiss_store import FaissStore

    return FaissStore.load(folder, cfg, deltas)


def discard_store(backend: str, cfg: StoreSettings, folder: Path) -> None:
    """Free what a store saved in ``folder`` holds outside it (a server collection)."""
    if backend == "milvus":
        from qa.milvus_store import MilvusStore

        MilvusStore.discard(folder, cfg)
