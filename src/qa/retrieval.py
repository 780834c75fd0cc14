"""Question -> ranked list[Passage]: dense (FAISS) and keyword (BM25) retrieval fused by rank."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from qa.config import RetrievalSettings
from qa.embeddings import Embedder
from qa.index import Index
from qa.types import Passage

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


def normalise_query(question: str) -> str:
    """Collapse whitespace and stray punctuation; users type fast and lower-case."""
    return re.sub(r"\s+", " ", question).strip()


@dataclass
class Retriever:
    """Hybrid retriever over one loaded index. Build once, query many times."""

    index: Index
    embedder: Embedder
    cfg: RetrievalSettings
    _bm25: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        import bm25s

        corpus = [f"{c.title} {c.section} {c.text}" for c in self.index.chunks]
        self._bm25 = bm25s.BM25()
        if corpus:
            tokens = bm25s.tokenize(corpus, stopwords="en", show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def _dense(self, vector: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        scores, ids = self.index.faiss_index.search(vector[None, :], k)
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        return [i for i, _ in pairs], [s for _, s in pairs]

    def _keyword(self, query: str, k: int) -> list[int]:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab or not len(self.index.chunks):
            return []
        try:
            ids, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
        except (ValueError, KeyError):  # a query of only unknown words
            return []
        return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def retrieve(self, question: str, top_k: int | None = None) -> list[Passage]:
        """Fuse both rankings with reciprocal rank fusion; best first."""
        top_k = top_k or self.cfg.top_k
        n = len(self.index.chunks)
        if n == 0:
            return []
        query = normalise_query(question)
        k = min(self.cfg.candidates, n)
        vector = self.embedder.embed([query])[0]
        dense_ids, _ = self._dense(vector, k)
        bm25_ids = self._keyword(query, k)
        fused: dict[int, float] = {}
        for rank, i in enumerate(dense_ids):
            fused[i] = fused.get(i, 0.0) + 1.0 / (self.cfg.rrf_k + rank + 1)
        for rank, i in enumerate(bm25_ids):
            fused[i] = fused.get(i, 0.0) + 1.0 / (self.cfg.rrf_k + rank + 1)
        dense_rank = {i: r for r, i in enumerate(dense_ids)}
        bm25_rank = {i: r for r, i in enumerate(bm25_ids)}
        cosine = self._cosines(vector, list(fused))
        order = sorted(fused, key=lambda i: (-fused[i], -cosine[i]))[:top_k]
        return [
            Passage(
                chunk=self.index.chunks[i],
                score=fused[i],
                dense_score=cosine[i],
                dense_rank=dense_rank.get(i),
                bm25_rank=bm25_rank.get(i),
            )
            for i in order
        ]

    def _cosines(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Cosine of the query with each candidate (BM25-only hits have no dense score yet)."""
        if not rows:
            return {}
        sims = self.index.vectors[rows] @ vector
        return {i: float(s) for i, s in zip(rows, np.asarray(sims), strict=True)}
