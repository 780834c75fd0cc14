"""Milvus behind the ``VectorStore`` protocol: the only importer of pymilvus.

One code path for both deployments: with ``StoreSettings.milvus_uri`` empty the data is a
Milvus Lite file (``milvus.db``) inside the index generation; with a server URI
(``http://host:19530``, token from ``QA_STORE__MILVUS_TOKEN``) it is one collection per
generation on that server.

Every vector is a row numbered in storage order (the primary key). A store object sees
its committed rows (``row < committed``, tombstones filtered out) in Milvus and the rows
added since, which wait in memory until ``save``/``save_delta`` and are searched exactly.
``save_delta`` inserts just those rows; readers of the live generation never see them
before the new generation is committed, because they filter on their own row count. Rows
left by a crashed ingest (``row >= committed``) are deleted by the next one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import StoreSettings
from qa.errors import DependencyError, StoreUnavailableError
from qa.vectorstore import Hits, RowStore, exact_hits, new_rows

log = logging.getLogger(__name__)

META, DELTA_META, LITE_FILE = "milvus.json", "milvus-delta.json", "milvus.db"
KINDS = {"flat": "FLAT", "hnsw": "HNSW", "ivf": "IVF_FLAT"}
# Milvus Lite knows only the standard and jieba tokenizers; English stemming and stop words
# come as filters (the closest to our own analyser, qa.keyword).
ANALYSER = {"tokenizer": "standard", "filter": [
    "lowercase", {"type": "stemmer", "language": "english"},
    {"type": "stop", "stop_words": ["_english_"]}]}
QUERY_BATCH = 1024  # query vectors per search call (Milvus allows at most 16,384)
BATCH = 4096  # rows per insert/query call (16 MiB of MiniLM vectors, under gRPC's 64)
INDEX_EXISTS = 35  # Milvus's error code for a second create_index on one field
INDEX_POLL_S = 2.0
# pymilvus pings every 10 s even while one call waits; Milvus Lite's gRPC server answers
# the third ping of a long create_index with GOAWAY (too_many_pings), which fails the call.
LITE_GRPC = {"grpc.keepalive_time_ms": 600_000, "grpc.keepalive_permit_without_calls": False}


def _client(uri: str, cfg: StoreSettings) -> Any:
    try:
        from pymilvus import MilvusClient
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise DependencyError("pymilvus (and milvus-lite) are not installed") from err
    token = cfg.milvus_token.get_secret_value() if cfg.milvus_token else ""
    options: dict[str, Any] = {"token": token} if token else {}
    lite = not uri.startswith(("http://", "https://", "tcp://", "unix:"))
    if lite:
        # Milvus Lite serves gRPC inside this process and logs a traceback for each call it
        # does not implement (AllocTimestamp, on create_index) although the call succeeds.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        # ... and a traceback of its own when it cannot open the file (reported below).
        logging.getLogger("milvus_lite.server_manager").setLevel(logging.CRITICAL)
        options["grpc_options"] = LITE_GRPC
    try:
        return MilvusClient(uri=uri, **options)
    except Exception as err:  # pymilvus raises its own types, or grpc's, or OSError
        if lite and _lite_locked(Path(uri)):
            raise StoreUnavailableError(
                f"the Milvus Lite file {uri} is open in another process (Milvus Lite allows "
                "one process per file)", "Stop the other qa process (ui, serve, ask), or run "
                "a Milvus server and set QA_STORE__MILVUS_URI so that several can share it."
            ) from err
        raise StoreUnavailableError(f"cannot connect to Milvus at {uri}: "
                                    f"{' '.join(str(err).split())[:200]}") from err


def _lite_locked(path: Path) -> bool:
    """Someone holds Milvus Lite's lock on this file (the check takes and drops it; this
    process's own open files pass through milvus_lite's server cache, never through here)."""
    import fcntl

    from milvus_lite.db import LOCK_FILENAME

    lock = path / LOCK_FILENAME
    if not lock.is_file():
        return False
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def _wait_indexed(client: Any, collection: str) -> None:
    """Until Milvus reports every row of the collection indexed."""
    while True:
        info = client.describe_index(collection, "vector")
        if info.get("state") == "Failed":
            raise StoreUnavailableError(f"Milvus could not index {collection}: "
                                        f"{info.get('index_state_fail_reason', '')}"[:200])
        if info.get("state") == "Finished" and not info.get("pending_index_rows"):
            return
        time.sleep(INDEX_POLL_S)


def _where(folder: Path, cfg: StoreSettings) -> tuple[str, str]:
    """(uri, collection) for a generation folder: Lite file in it, or a server collection."""
    if not cfg.milvus_uri:
        return str(folder / LITE_FILE), cfg.milvus_collection
    return cfg.milvus_uri, f"{cfg.milvus_collection}_{re.sub(r'[^A-Za-z0-9_]', '_', folder.name)}"


def _write_json(path: Path, data: object) -> None:
    with path.open("w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())


class MilvusStore(RowStore):
    """Vectors keyed by chunk id in a Milvus collection (Lite file or server)."""

    def __init__(self, dim: int, cfg: StoreSettings | None = None) -> None:
        self.dim = dim
        self.cfg = cfg or StoreSettings(backend="milvus")
        self._ids: list[str] = []  # row number -> chunk id, tombstones included
        self._row: dict[str, int] = {}  # live id -> row
        self._dead: set[int] = set()
        self._removed: list[int] = []  # rows made tombstones since the last save
        self._committed = 0  # rows [0, committed) are in Milvus
        self._pending = np.zeros((0, dim), dtype=np.float32)  # rows [committed, len(ids))
        self._client: Any = None
        self._collection = ""
        self._uri = ""
        self._kind = ""

    @property
    def kind(self) -> str:
        from qa.faiss_store import index_kind

        return KINDS[self._kind or index_kind(self.cfg, len(self))]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = new_rows(self._row, self._ids, ids, vectors, self.dim)
        self._pending = np.concatenate([self._pending, vectors])

    def remove(self, ids: Collection[str]) -> None:
        rows = [self._row.pop(i) for i in ids if i in self._row]
        self._dead.update(rows)
        self._removed.extend(rows)

    def vectors_for(self, ids: Sequence[str]) -> np.ndarray:
        return self._vectors_at([self._row[i] for i in ids])

    def _vectors_at(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        stored = [r for r in rows if r < self._committed]
        found: dict[int, Any] = {}
        for start in range(0, len(stored), BATCH):
            got = self._client.get(self._collection, ids=stored[start : start + BATCH],
                                   output_fields=["vector"])
            found.update((int(hit["row"]), hit["vector"]) for hit in got)
        for i, r in enumerate(rows):
            out[i] = found[r] if r < self._committed else self._pending[r - self._committed]
        return out

    def _filter(self) -> str:
        dead = sorted(r for r in self._dead if r < self._committed)
        return f"row < {self._committed}" + (f" and row not in {dead}" if dead else "")

    def _search_params(self) -> dict[str, Any]:
        if self._kind == "hnsw":
            return {"params": {"ef": max(self.cfg.hnsw_ef_search, 1)}}
        if self._kind == "ivf":
            return {"params": {"nprobe": self.cfg.ivf_nprobe}}
        return {}

    def _search_indexed(self, queries: np.ndarray, k: int) -> Hits:
        if not self._committed or self._client is None:
            return [[] for _ in queries]
        params = self._search_params()
        if self._kind == "hnsw":  # Milvus requires ef >= limit
            params["params"]["ef"] = max(params["params"]["ef"], k)
        out: Hits = []
        for start in range(0, len(queries), QUERY_BATCH):  # Milvus caps queries per call
            found = self._client.search(
                self._collection, data=list(queries[start : start + QUERY_BATCH]), limit=k,
                filter=self._filter(), output_fields=["row"],
                search_params={"metric_type": "IP", **params},
            )
            out += [[(int(hit["row"]), float(hit["distance"])) for hit in hits]
                    for hits in found]
        return out

    def _search_recent(self, queries: np.ndarray, k: int) -> Hits:
        rows = [r for r in range(self._committed, len(self._ids)) if r not in self._dead]
        return exact_hits(self._pending[np.array(rows, dtype=np.int64) - self._committed],
                          rows, queries, k)

    def _live_batches(self) -> Any:
        """Every live row's vector, in row order, a batch at a time."""
        live = [r for r in range(len(self._ids)) if r not in self._dead]
        for start in range(0, len(live), BATCH):
            rows = live[start : start + BATCH]
            yield rows, self._vectors_at(rows)

    def _create(self, client: Any, collection: str, kind: str) -> None:
        from pymilvus import DataType

        if client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("chunk_id", DataType.VARCHAR, max_length=128)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        client.create_collection(collection, schema=schema)

    def _build_index(self, client: Any, collection: str, kind: str, count: int) -> None:
        params: dict[str, Any] = {}
        if kind == "hnsw":
            params = {"M": self.cfg.hnsw_m, "efConstruction": self.cfg.hnsw_ef_construction}
        elif kind == "ivf":
            params = {"nlist": self.cfg.ivf_nlist or max(1, int(4 * count**0.5))}
        index = client.prepare_index_params()
        index.add_index(field_name="vector", index_type=KINDS[kind], metric_type="IP",
                        params=params)
        client.flush(collection)
        try:
            client.create_index(collection, index)
        except Exception as err:  # pymilvus's MilvusException; imported lazily
            # A call whose connection dropped mid-build is retried by pymilvus, and the retry
            # finds the index the first call registered on this new collection.
            found = client.describe_index(collection, "vector") \
                if getattr(err, "code", None) == INDEX_EXISTS else {}
            if found.get("index_type") != KINDS[kind]:
                raise
            log.info("Milvus: %s index of %s was already registered", KINDS[kind], collection)
        _wait_indexed(client, collection)
        client.load_collection(collection)

    def _insert(self, client: Any, collection: str, first: int,
                ids: Sequence[str], vectors: np.ndarray) -> None:
        rows = [{"row": first + i, "chunk_id": ids[i], "vector": vectors[i]}
                for i in range(len(ids))]
        for start in range(0, len(rows), BATCH):
            client.insert(collection, rows[start : start + BATCH])

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"backend": "milvus", "index": self.kind, "vectors": len(self),
                                  "server": bool(self.cfg.milvus_uri)}
        if self.kind == "HNSW":
            out.update(hnsw_m=self.cfg.hnsw_m, hnsw_ef_search=self.cfg.hnsw_ef_search)
        if self._dead or len(self._pending):
            out.update(pending=len(self._pending), tombstones=len(self._dead))
        return out

    def save(self, folder: Path) -> None:
        """A new collection holding every live row, renumbered; milvus.json and ids.json."""
        from qa.faiss_store import index_kind

        uri, collection = _where(folder, self.cfg)
        kind = index_kind(self.cfg, len(self))
        _write_json(folder / META, {"uri": self.cfg.milvus_uri, "collection": collection,
                                    "kind": kind, "dim": self.dim, "rows": 0})
        batches: Any = self._live_batches()
        if (uri, collection) == (self._uri, self._collection):
            batches = list(batches)  # read it all before the collection is recreated
        client = _client(uri, self.cfg)
        self._create(client, collection, kind)
        ids: list[str] = []
        for rows, vectors in batches:
            self._insert(client, collection, len(ids), [self._ids[r] for r in rows], vectors)
            ids.extend(self._ids[r] for r in rows)
        self._build_index(client, collection, kind, len(ids))
        _write_json(folder / "ids.json", ids)
        _write_json(folder / META, {"uri": self.cfg.milvus_uri, "collection": collection,
                                    "kind": kind, "dim": self.dim, "rows": len(ids)})
        self._client, self._collection, self._kind = client, collection, kind
        self._uri = uri
        self._ids, self._dead, self._removed = ids, set(), []
        self._row = {chunk_id: r for r, chunk_id in enumerate(ids)}
        self._committed, self._pending = len(ids), self._pending[:0]

    def save_delta(self, folder: Path) -> None:
        """Insert the rows added since the last save (after deleting any a crashed ingest
        left), and record them and the new tombstones in milvus-delta.json."""
        if self._client is None:
            raise ValueError("a store that was never saved has no collection to add to")
        self._client.delete(self._collection, filter=f"row >= {self._committed}")
        added = self._ids[self._committed :]
        self._insert(self._client, self._collection, self._committed, added, self._pending)
        self._client.flush(self._collection)
        _write_json(folder / DELTA_META, {"added": added, "removed": sorted(self._removed),
                                          "rows": len(self._ids)})
        self._committed, self._pending, self._removed = len(self._ids), self._pending[:0], []

    @classmethod
    def load(cls, folder: Path, cfg: StoreSettings | None = None,
             deltas: Sequence[Path] = ()) -> MilvusStore:
        """The store saved in ``folder`` with ``deltas`` applied (rows past the last one
        committed stay invisible)."""
        meta = json.loads((folder / META).read_text())
        cfg = cfg or StoreSettings(backend="milvus")
        store = cls(int(meta["dim"]), cfg)
        uri = meta["uri"] or str(folder / LITE_FILE)
        store._client, store._collection = _client(uri, cfg), meta["collection"]
        store._uri = uri
        store._kind, store._committed = meta["kind"], int(meta["rows"])
        store._ids = json.loads((folder / "ids.json").read_text())
        for delta in deltas:
            record = json.loads((delta / DELTA_META).read_text())
            store._ids.extend(record["added"])
            store._dead.update(record["removed"])
            store._committed = int(record["rows"])
        store._row = {i: r for r, i in enumerate(store._ids) if r not in store._dead}
        store._client.load_collection(store._collection)
        return store

    @staticmethod
    def discard(folder: Path, cfg: StoreSettings) -> None:
        """Drop the server collection of a generation that is being deleted."""
        try:
            meta = json.loads((folder / META).read_text())
        except (OSError, ValueError):
            return
        if meta.get("uri"):
            try:
                _client(meta["uri"], cfg).drop_collection(meta["collection"])
            except Exception as err:  # a stale collection must not stop an ingest
                log.warning("could not drop Milvus collection %s: %s", meta["collection"], err)


class MilvusFullText:
    """Milvus's own BM25 full-text search over texts (row i = texts[i]), for comparison
    with the persisted bm25s index (``qa bench scale``); English stemming (``ANALYSER``)."""

    def __init__(self, uri: str, texts: Sequence[str], cfg: StoreSettings | None = None) -> None:
        from pymilvus import DataType, Function, FunctionType

        self.cfg = cfg or StoreSettings(backend="milvus")
        self._client, self._collection = _client(uri, self.cfg), "qa_keyword"
        client = self._client
        if client.has_collection(self._collection):
            client.drop_collection(self._collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params=ANALYSER)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        index = client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX",
                        metric_type="BM25")
        client.create_collection(self._collection, schema=schema, index_params=index)
        rows = [{"row": i, "text": t[:60000]} for i, t in enumerate(texts)]
        for start in range(0, len(rows), BATCH):
            client.insert(self._collection, rows[start : start + BATCH])
        client.flush(self._collection)

    @classmethod
    def reopen(cls, uri: str, cfg: StoreSettings | None = None) -> MilvusFullText:
        """The collection written earlier at ``uri``, loaded again (a restart)."""
        self = cls.__new__(cls)
        self.cfg = cfg or StoreSettings(backend="milvus")
        self._client, self._collection = _client(uri, self.cfg), "qa_keyword"
        self._client.load_collection(self._collection)
        return self

    def search(self, query: str, k: int) -> list[int]:
        """Rows of the best ``k`` texts, best first."""
        found = self._client.search(self._collection, data=[query], anns_field="sparse",
                                    limit=k, output_fields=["row"],
                                    search_params={"metric_type": "BM25"})
        return [int(hit["row"]) for hit in found[0]]
