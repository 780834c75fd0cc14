"""FAISS behind the ``VectorStore`` protocol: the only importer of faiss.

The rows of a store are a *base*, covered by one FAISS index (exact ``IndexFlatIP``, an
``IndexHNSWFlat`` graph or an ``IndexIVFFlat``; see ``StoreSettings.index``), and a *tail*
of rows added since the base was last written whole. The tail is searched exactly and its
hits merged with the base's, and a removed row only becomes a tombstone that searches skip;
so an incremental ingest saves just the tail and the tombstones (``save_delta``), in time
proportional to the change, and the next full ``save`` compacts them into a new base.

The vectors are kept too (``vectors.npy``, memory-mapped on load): filtered searches are
exact over the allowed rows, and compaction needs them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import StoreSettings
from qa.errors import DependencyError
from qa.vectorstore import Hits, RowStore, exact_hits, new_rows

KINDS = {"flat": "IndexFlatIP", "hnsw": "IndexHNSWFlat", "ivf": "IndexIVFFlat"}
DELTA_VECTORS, DELTA_META = "faiss-delta.npy", "faiss-delta.json"


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


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as fh:
        np.save(fh, array)
        fh.flush()
        os.fsync(fh.fileno())


def index_kind(cfg: StoreSettings, count: int) -> str:
    """'flat', 'hnsw' or 'ivf' for a store of ``count`` vectors under ``cfg``.

    'auto' is exact up to ``exact_limit`` and IVF above it: at a million vectors IVF
    (nlist 4 x sqrt(n), nprobe 64) met every target with the highest recall (0.974, p99
    13 ms) and built in a fifth of HNSW's time (``qa bench scale``, README "Scaling out").
    """
    if cfg.index != "auto":
        return cfg.index
    return "flat" if count <= cfg.exact_limit else "ivf"


class FaissStore(RowStore):
    """Vectors keyed by chunk id: a FAISS-indexed base plus an exactly searched tail."""

    def __init__(self, dim: int, cfg: StoreSettings | None = None) -> None:
        self.dim = dim
        self.cfg = cfg or StoreSettings()
        self._ids: list[str] = []  # every row in storage order, tombstones included
        self._row: dict[str, int] = {}  # live id -> row
        self._dead: set[int] = set()
        self._base = np.zeros((0, dim), dtype=np.float32)  # rows [0, len(base))
        self._tail = np.zeros((0, dim), dtype=np.float32)  # rows after the base
        self._index: Any = None  # over the base rows (built lazily)
        self._kind = ""  # of the built or loaded index
        self._sealed = False  # the base is on disk: changes go to the tail and tombstones
        self._saved = 0  # rows written to disk (base plus deltas)
        self._removed: list[str] = []  # ids removed since the last save

    @property
    def kind(self) -> str:
        """The FAISS index type of the base (the one a full save would build, if none yet)."""
        return KINDS[self._kind or index_kind(self.cfg, len(self))]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = new_rows(self._row, self._ids, ids, vectors, self.dim)
        if self._sealed:
            self._tail = np.concatenate([self._tail, vectors])
        else:
            self._base = np.concatenate([self._base, vectors]) if len(self._base) else vectors
            self._index = None

    def remove(self, ids: Collection[str]) -> None:
        gone = [i for i in ids if i in self._row]
        if not gone:
            return
        self._removed.extend(gone)
        self._dead.update(self._row.pop(i) for i in gone)
        if not self._sealed:
            self._compact()

    def _vectors_at(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        base_n = len(self._base)
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        low = rows < base_n
        out[low] = self._base[rows[low]]
        out[~low] = self._tail[rows[~low] - base_n]
        return out

    def vectors_for(self, ids: Sequence[str]) -> np.ndarray:
        return self._vectors_at(np.array([self._row[i] for i in ids], dtype=np.int64))

    def _search_indexed(self, queries: np.ndarray, k: int) -> Hits:
        live = len(self._base) - sum(1 for r in self._dead if r < len(self._base))
        if live <= 0:
            return [[] for _ in queries]
        index = self._built()
        params, keep = self._params(index)
        scores, rows = index.search(queries, min(k, live), params=params)
        del keep  # the selector had to outlive the search
        return [[(int(r), float(s)) for r, s in zip(row, score, strict=True) if r >= 0]
                for row, score in zip(rows, scores, strict=True)]

    def _params(self, index: Any) -> tuple[Any, Any]:
        """Search parameters: the HNSW/IVF breadth, and a selector that skips tombstones."""
        faiss = _faiss()
        dead = sorted(r for r in self._dead if r < len(self._base))
        selector = keep = None
        if dead:
            keep = faiss.IDSelectorBatch(np.array(dead, dtype=np.int64))
            selector = faiss.IDSelectorNot(keep)
        if self._kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=self.cfg.hnsw_ef_search)
        elif self._kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=self.cfg.ivf_nprobe)
        elif selector is None:
            return None, None
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        return params, (keep, selector)

    def _search_recent(self, queries: np.ndarray, k: int) -> Hits:
        base_n = len(self._base)
        rows = np.array([r for r in range(base_n, len(self._ids)) if r not in self._dead],
                        dtype=np.int64)
        return exact_hits(self._tail[rows - base_n], rows, queries, k)

    def _built(self) -> Any:
        if self._index is None:
            self._kind = self._kind or index_kind(self.cfg, len(self._base))
            self._index = self._make_index(self._kind, self._base)
        return self._index

    def _make_index(self, kind: str, vectors: np.ndarray) -> Any:
        faiss = _faiss()
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, self.cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.cfg.hnsw_ef_construction
            index.hnsw.efSearch = self.cfg.hnsw_ef_search
        elif kind == "ivf":
            nlist = self.cfg.ivf_nlist or max(1, int(4 * math.sqrt(len(vectors))))
            nlist = max(1, min(nlist, len(vectors)))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist,
                                       faiss.METRIC_INNER_PRODUCT)
            sample = vectors[:: max(1, len(vectors) // (64 * nlist))]  # ~64 per cluster
            index.train(np.ascontiguousarray(sample))
            index.nprobe = self.cfg.ivf_nprobe
        else:
            index = faiss.IndexFlatIP(self.dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors))
        return index

    def _compact(self) -> None:
        """Fold the tail into the base and drop tombstones (the base index is rebuilt,
        except that tail rows are appended to an index that has no tombstones)."""
        if not self._dead and not len(self._tail):
            return
        live = np.array([r for r in range(len(self._ids)) if r not in self._dead],
                        dtype=np.int64)
        if not self._dead and self._index is not None:
            self._index.add(self._tail)  # appends: HNSW/IVF/flat all grow in place
        else:
            self._index = None
        self._base = self._vectors_at(live) if len(live) else self._base[:0]
        self._tail = self._tail[:0]
        self._ids = [self._ids[r] for r in live]
        self._row = {chunk_id: r for r, chunk_id in enumerate(self._ids)}
        self._dead = set()

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"backend": "faiss", "index": self.kind, "vectors": len(self)}
        if self.kind == "IndexHNSWFlat":
            out.update(hnsw_m=self.cfg.hnsw_m, hnsw_ef_search=self.cfg.hnsw_ef_search)
        elif self.kind == "IndexIVFFlat":
            out.update(ivf_nlist=int(self._built().nlist), ivf_nprobe=self.cfg.ivf_nprobe)
        if len(self._tail) or self._dead:
            out.update(tail=len(self._tail), tombstones=len(self._dead))
        return out

    def save(self, folder: Path) -> None:
        """Everything, compacted: vectors.npy, ids.json and (HNSW, IVF) faiss.index."""
        self._compact()
        kind = index_kind(self.cfg, len(self._base))
        if kind != self._kind:  # the corpus grew past exact_limit, or the setting changed
            self._index, self._kind = None, kind
        _save_npy(folder / "vectors.npy", self._base)
        _fsync_write(folder / "ids.json", json.dumps(self._ids).encode())
        if self._kind != "flat":  # a flat index is just the vectors: rebuilt on load
            _faiss().write_index(self._built(), str(folder / "faiss.index"))
        else:
            (folder / "faiss.index").unlink(missing_ok=True)
        self._sealed, self._saved, self._removed = True, len(self._ids), []

    def save_delta(self, folder: Path) -> None:
        """Only the rows added and the ids removed since the last save or load."""
        if not self._sealed:
            raise ValueError("a store that was never saved has no base to add a delta to")
        added = self._ids[self._saved :]
        _save_npy(folder / DELTA_VECTORS, self._tail[len(self._tail) - len(added) :])
        meta = {"added": added, "removed": self._removed}
        _fsync_write(folder / DELTA_META, json.dumps(meta).encode())
        self._saved, self._removed = len(self._ids), []

    @classmethod
    def load(cls, folder: Path, cfg: StoreSettings | None = None,
             deltas: Sequence[Path] = ()) -> FaissStore:
        """The store saved in ``folder``, with the ``deltas`` saved after it applied."""
        store = cls(0, cfg)
        store._base = np.load(folder / "vectors.npy", mmap_mode="r")
        store.dim = int(store._base.shape[1])
        store._tail = np.zeros((0, store.dim), dtype=np.float32)
        store._ids = json.loads((folder / "ids.json").read_text())
        store._row = {chunk_id: r for r, chunk_id in enumerate(store._ids)}
        path = folder / "faiss.index"
        if path.is_file():
            store._index = _faiss().read_index(str(path))
            store._kind = next(k for k, v in KINDS.items() if v in type(store._index).__name__)
        else:
            store._kind = "flat"
        store._sealed = True
        for delta in deltas:
            meta = json.loads((delta / DELTA_META).read_text())
            store.remove(meta["removed"])
            store.add(meta["added"], np.load(delta / DELTA_VECTORS))
        store._saved, store._removed = len(store._ids), []
        return store


def greedy_unique(vectors: np.ndarray, threshold: float, block: int = 256,
                  same: Callable[[int, int], bool] | None = None,
                  neighbours: int = 8) -> np.ndarray:
    """Which rows to keep, greedily in order: a row goes when its cosine with an earlier
    kept row is at least ``threshold`` (and, when given, ``same(row, kept_row)`` holds for
    that row; then only the ``neighbours`` nearest kept rows are asked).

    The kept rows go into a flat index searched one block of rows at a time, so memory is
    linear: the range search this replaces returned every similar pair, and a corpus of
    one paragraph repeated 3,000 times gave it millions.
    """
    faiss = _faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    keep = np.zeros(len(vectors), dtype=bool)
    if not len(vectors):
        return keep
    alike = same or (lambda _i, _j: True)
    kept = faiss.IndexFlatIP(vectors.shape[1])
    rows: list[int] = []  # the kept index's rows, as rows of ``vectors``
    for start in range(0, len(vectors), block):
        part = vectors[start : start + block]
        fresh = np.ones(len(part), dtype=bool)
        if kept.ntotal:
            sims, hits = kept.search(part, 1 if same is None else min(neighbours, kept.ntotal))
            fresh = np.array([not any(sim >= threshold and alike(start + i, rows[hit])
                                      for sim, hit in zip(sims[i], hits[i], strict=True))
                              for i in range(len(part))])
        within = part @ part.T
        chosen: list[int] = []
        for i in np.flatnonzero(fresh):
            close = np.array(chosen, dtype=np.int64)[within[i, chosen] >= threshold] \
                if chosen else ()
            if not any(alike(start + int(i), start + int(j)) for j in close):
                chosen.append(int(i))
        keep[start + np.array(chosen, dtype=np.int64)] = True
        kept.add(part[chosen])
        rows.extend(start + i for i in chosen)
    return keep
