"""The reranking stage: passages in, passages out, after hybrid retrieval.

``NoReranker`` (the default) keeps the hybrid order. ``EmbedderReranker`` re-orders the
hybrid top-``depth`` by a second embedder (all-mpnet-base-v2 in ``qa bench medicationqa
--compare``); on the MedicationQA dev half it gained at most +0.006 MRR@10 within the
latency budget, so it is not the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from qa.embeddings import Embedder
from qa.types import Passage


class Reranker(Protocol):
    """Re-orders the head of a ranking; ``depth`` is how many passages it wants to see."""

    depth: int

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]: ...


class NoReranker:
    """The hybrid order as it is."""

    depth = 0

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        return passages


@dataclass
class EmbedderReranker:
    """Re-order the top-``depth`` passages by a second embedder's chunk vectors.

    The chunk vectors are computed once at index time (``vectors[chunk_id]``), so a query
    costs one encoding by the second embedder plus ``depth`` dot products. ``mode="rerank"``
    orders by its cosine; ``"fuse"`` adds its ranks to the hybrid ranks (reciprocal rank).
    """

    embedder: Embedder
    vectors: dict[str, np.ndarray]
    depth: int = 20
    mode: Literal["rerank", "fuse"] = "rerank"
    rrf_k: int = 5

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        head, tail = passages[: self.depth], passages[self.depth :]
        if not head:
            return passages
        vector = self.embedder.embed([query])[0]
        sims = np.stack([self.vectors[p.chunk.chunk_id] for p in head]) @ vector
        if self.mode == "rerank":
            score = sims
        else:  # the hybrid order and the second embedder's order, fused by rank
            second_rank = np.argsort(np.argsort(-sims, kind="stable"), kind="stable")
            score = np.array([1 / (self.rrf_k + r + 1) + 1 / (self.rrf_k + s + 1)
                              for r, s in enumerate(second_rank)])
        order = np.argsort(-score, kind="stable")
        return [head[i] for i in order] + tail
