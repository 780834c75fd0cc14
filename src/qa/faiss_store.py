"""FAISS behind the ``VectorStore`` protocol: the only importer of faiss.

Exact search (``IndexFlatIP``) up to ``StoreSettings.exact_limit`` vectors; above it an
HNSW graph (``IndexHNSWFlat``) keeps queries sub-linear at a small recall cost. The
vectors themselves are kept too (``vectors.npy``): filtered searches are exact over the
allowed rows, and rebuilding after a removal needs them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import StoreSettings
from qa.errors import DependencyError


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise DependencyError("faiss-cpu is not installed") from err
    return faiss


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class FaissStore:
    """Vectors keyed by chunk id in one FAISS index (rebuilt lazily after changes)."""

    def __init__(self, dim: int, cfg: StoreSettings | None = None) -> None:
        self.dim = dim
        self.cfg = cfg or StoreSettings()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._index: Any = None

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def kind(self) -> str:
        """The FAISS index type this many vectors get."""
        return "IndexFlatIP" if len(self) <= self.cfg.exact_limit else "IndexHNSWFlat"

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        clash = [i for i in ids if i in self._row]
        if clash or len(set(ids)) != len(ids):
            raise ValueError(f"ids already stored: {clash[:3]}")
        for offset, chunk_id in enumerate(ids):
            self._row[chunk_id] = len(self._ids) + offset
        self._ids.extend(ids)
        self._vectors = (np.concatenate([self._vectors, vectors]) if len(self._vectors)
                         else vectors.copy())
        self._index = None

    def remove(self, ids: Collection[str]) -> None:
        gone = {self._row[i] for i in ids if i in self._row}
        if not gone:
            return
        keep = [r for r in range(len(self._ids)) if r not in gone]
        self._ids = [self._ids[r] for r in keep]
        self._vectors = np.ascontiguousarray(self._vectors[keep])
        self._row = {chunk_id: r for r, chunk_id in enumerate(self._ids)}
        self._index = None

    def ids(self) -> list[str]:
        return list(self._ids)

    def vectors_for(self, ids: Sequence[str]) -> np.ndarray:
        return self._vectors[[self._row[i] for i in ids]]

    def search(
        self, queries: np.ndarray, k: int, allowed: Collection[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if allowed is not None:
            return [self._exact(q, k, allowed) for q in queries]
        if not len(self) or k <= 0:
            return [[] for _ in queries]
        scores, rows = self._built().search(queries, min(k, len(self)))
        return [[(self._ids[r], float(s)) for r, s in zip(row, score, strict=True) if r >= 0]
                for row, score in zip(rows, scores, strict=True)]

    def _exact(self, query: np.ndarray, k: int,
               allowed: Collection[str]) -> list[tuple[str, float]]:
        """Exact search over the allowed rows only, ties in storage order."""
        rows = np.array(sorted(self._row[i] for i in allowed if i in self._row), dtype=np.int64)
        if not len(rows):
            return []
        sims = self._vectors[rows] @ query
        top = np.argsort(-sims, kind="stable")[:k]
        return [(self._ids[int(rows[i])], float(sims[i])) for i in top]

    def _built(self) -> Any:
        if self._index is None:
            self._index = self._make_index()
        return self._index

    def _make_index(self) -> Any:
        faiss = _faiss()
        if self.kind == "IndexFlatIP":
            index = faiss.IndexFlatIP(self.dim)
        else:
            index = faiss.IndexHNSWFlat(self.dim, self.cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = self.cfg.hnsw_ef_search
        if len(self._vectors):
            index.add(self._vectors)
        return index

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"backend": "faiss", "index": self.kind, "vectors": len(self)}
        if self.kind == "IndexHNSWFlat":
            out.update(hnsw_m=self.cfg.hnsw_m, hnsw_ef_search=self.cfg.hnsw_ef_search)
        return out

    def save(self, folder: Path) -> None:
        """vectors.npy, ids.json and faiss.index, each flushed to disk."""
        with (folder / "vectors.npy").open("wb") as fh:
            np.save(fh, self._vectors)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_write(folder / "ids.json", json.dumps(self._ids).encode())
        _faiss().write_index(self._built(), str(folder / "faiss.index"))

    @classmethod
    def load(cls, folder: Path, cfg: StoreSettings | None = None) -> FaissStore:
        vectors = np.load(folder / "vectors.npy")
        store = cls(int(vectors.shape[1]), cfg)
        store._ids = json.loads((folder / "ids.json").read_text())
        store._row = {chunk_id: r for r, chunk_id in enumerate(store._ids)}
        store._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        store._index = _faiss().read_index(str(folder / "faiss.index"))
        if store._index.ntotal != len(store._ids):
            store._index = None  # rebuilt on first search
        return store


def greedy_unique(vectors: np.ndarray, threshold: float, block: int = 256) -> np.ndarray:
    """Which rows to keep, greedily in order: a row goes when its cosine with an earlier
    kept row is at least ``threshold``.

    The kept rows go into a flat index searched one block of rows at a time, so memory is
    linear: the range search this replaces returned every similar pair, and a corpus of
    one paragraph repeated 3,000 times gave it millions.
    """
    faiss = _faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    keep = np.zeros(len(vectors), dtype=bool)
    if not len(vectors):
        return keep
    kept = faiss.IndexFlatIP(vectors.shape[1])
    for start in range(0, len(vectors), block):
        part = vectors[start : start + block]
        fresh = np.ones(len(part), dtype=bool)
        if kept.ntotal:
            fresh = kept.search(part, 1)[0][:, 0] < threshold
        sims = part @ part.T
        chosen: list[int] = []
        for i in np.flatnonzero(fresh):
            if not chosen or not (sims[i, chosen] >= threshold).any():
                chosen.append(int(i))
        keep[start + np.array(chosen, dtype=np.int64)] = True
        kept.add(part[chosen])
    return keep
