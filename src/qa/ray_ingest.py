"""Ingestion on Ray (`qa ingest --engine ray`): the only importer of ray.

Ray Data runs the per-document work: read + clean (a map over the changed files), chunk
(an actor pool holding the embedder's tokenizer) and embed (an actor pool holding the
embedder). The index is then written in this process, as by the local engine: one writer,
the same generation/delta commit, so a crash leaves the previous index usable.

Sameness with the local path is by construction: order is preserved end to end, and the
texts are embedded in exactly the local engine's batches (``embed_batches``; the int8
embedder's output depends on the batch), so chunk files, chunk ids and vectors are equal.

``ray.init()`` joins the cluster named by ``RAY_ADDRESS`` (Ray's own variable) or starts a
local one; the workers load the embedder from their own ``cache_dir`` (the default
embedder ships as a Python package, so installing qa on them is enough).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import ChunkSettings, EmbedderSettings, IngestSettings
from qa.embeddings import Embedder, load_embedder
from qa.errors import DependencyError, DocumentError
from qa.ingest_engine import chunk_all, embed_batches, load_or_error
from qa.types import Chunk, Document

log = logging.getLogger(__name__)


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise DependencyError("ray[data] is not installed (pip install 'ray[data]')") from err
    return ray


class _Chunker:
    """Ray actor: splits documents into chunks, with the embedder's token counter."""

    def __init__(self, embedder_cfg: EmbedderSettings, cache_dir: str, cfg: ChunkSettings):
        self.count_tokens = load_embedder(embedder_cfg, Path(cache_dir)).count_tokens
        self.cfg = cfg

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        docs = [pickle.loads(b) for b in batch["doc"]]
        return {"chunks": [pickle.dumps(c) for c in chunk_all(docs, self.count_tokens,
                                                              self.cfg)]}


class _Encoder:
    """Ray actor: embeds one batch of texts per row, exactly as the local engine does."""

    def __init__(self, embedder_cfg: EmbedderSettings, cache_dir: str):
        self.embedder = load_embedder(embedder_cfg, Path(cache_dir))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {"vectors": [pickle.dumps(self.embedder.embed(list(texts)))
                            for texts in batch["texts"]]}


def _load_rows(row: dict[str, Any]) -> dict[str, Any]:
    limits = IngestSettings.model_validate_json(row["limits"])
    return {"doc": pickle.dumps(load_or_error(Path(row["path"]), Path(row["root"]), limits))}


# Ray waits a fixed 30 s for a new local node's raylet to register; on a busy 2-core machine
# (the test suite's own process holding models) it has missed that once in a while, and a
# second start, with the files warm, succeeds.
START_ATTEMPTS = 2


def _start(ray: Any, address: str | None) -> None:
    """``ray.init``, tried again when a local node times out during startup."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            return
        except Exception as error:  # Ray raises a bare Exception for this
            if attempt == START_ATTEMPTS or "timed out during startup" not in str(error):
                raise
            log.warning("Ray's node did not start in time (%s); starting it again", error)
            ray.shutdown()


class RayEngine:
    """The ingestion engine on Ray; ``actors`` embedders (and chunkers) at a time."""

    def __init__(self, embedder_cfg: EmbedderSettings, cache_dir: Path, actors: int = 2,
                 address: str | None = None) -> None:
        self.embedder_cfg, self.cache_dir, self.actors = embedder_cfg, str(cache_dir), actors
        ray = _ray()
        if not ray.is_initialized():
            _start(ray, address)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # chunk files in corpus order
        context.enable_progress_bars = False

    def _items(self, items: list[dict[str, Any]]) -> Any:
        """A dataset in enough blocks for every actor to get work."""
        blocks = max(1, min(len(items), 4 * self.actors))
        return _ray().data.from_items(items, override_num_blocks=blocks)

    def load(self, paths: Sequence[Path], root: Path,
             limits: IngestSettings) -> list[Document | DocumentError]:
        """Each Ray worker is its own process; the size and text limits apply there."""
        if not paths:
            return []
        limit = limits.model_dump_json()
        items = [{"path": str(p), "root": str(root), "limits": limit} for p in paths]
        rows = self._items(items).map(_load_rows).take_all()
        return [pickle.loads(r["doc"]) for r in rows]

    def chunk_and_embed(self, documents: Sequence[Document], embedder: Embedder,
                        cfg: ChunkSettings, progress: bool) -> tuple[list[Chunk], np.ndarray]:
        if not documents:
            return [], np.zeros((0, embedder.dim), np.float32)
        chunked = self._items([{"doc": pickle.dumps(d)} for d in documents]).map_batches(
            _Chunker, fn_constructor_args=(self.embedder_cfg, self.cache_dir, cfg),
            batch_size=16, concurrency=self.actors).take_all()
        chunks = [c for row in chunked for c in pickle.loads(row["chunks"])]
        batches = embed_batches(chunks)
        if not batches:
            return chunks, np.zeros((0, embedder.dim), np.float32)
        embedded = self._items([{"texts": b} for b in batches]).map_batches(
            _Encoder, fn_constructor_args=(self.embedder_cfg, self.cache_dir),
            batch_size=1, concurrency=self.actors).take_all()
        vectors = np.concatenate([pickle.loads(row["vectors"]) for row in embedded])
        return chunks, vectors.astype(np.float32, copy=False)
