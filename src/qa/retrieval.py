"""Question -> ranked list[Passage]: dense (FAISS) and keyword (BM25) retrieval fused by rank.

The query is normalised against the corpus first (lower-case, spelling fixed from the corpus
vocabulary, brand/generic aliases the corpus states); both rankings are then fused with a
weighted reciprocal-rank fusion. Weights were tuned on the MedicationQA dev half
(``qa bench medicationqa``; see eval/reports).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.config import RetrievalSettings
from qa.embeddings import Embedder
from qa.index import Index
from qa.query import QueryNormaliser, words
from qa.types import Chunk, Passage

log = logging.getLogger(__name__)


def normalise_query(question: str) -> str:
    """Collapse whitespace and stray punctuation; users type fast and lower-case."""
    return re.sub(r"\s+", " ", question).strip()


@dataclass
class KeywordIndex:
    """BM25 over stemmed, stop-worded words (bm25s), queried with the same analyser."""

    texts: list[str]
    stem: bool = True
    _bm25: object = field(default=None, init=False, repr=False)
    _analyse: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        import bm25s
        from bm25s.stopwords import STOPWORDS_EN

        # bm25s sets its own logger to DEBUG, which floods any CLI run with "Building index".
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        stop = set(STOPWORDS_EN)
        stemmer = _stemmer() if self.stem else None

        def analyse(text: str) -> list[str]:
            tokens = [w for w in words(text) if len(w) > 1 and w not in stop]
            return stemmer.stemWords(tokens) if stemmer else tokens

        self._analyse = analyse
        self._bm25 = bm25s.BM25()
        if self.texts:
            self._bm25.index([analyse(t) for t in self.texts], show_progress=False)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[int]:
        """Row ids of the best ``k`` texts with a positive score, best first."""
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        tokens = [t for t in self._analyse(query) if t in vocab]
        if not tokens or not self.texts:
            return []
        scores = self._bm25.get_scores(tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [int(i) for i in top if scores[i] > 0]


def _stemmer():  # noqa: ANN202 - a PyStemmer object
    import Stemmer

    return Stemmer.Stemmer("english")


def keyword_text(chunk: Chunk) -> str:
    """What BM25 sees: the title and heading carry the drug and the topic of short passages."""
    return f"{chunk.title} {chunk.section} {chunk.text}"


@dataclass
class Retriever:
    """Hybrid retriever over one loaded index. Build once, query many times."""

    index: Index
    embedder: Embedder
    cfg: RetrievalSettings
    _keyword: KeywordIndex = field(default=None, init=False, repr=False)
    _normaliser: QueryNormaliser = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        texts = [keyword_text(c) for c in self.index.chunks]
        self._keyword = KeywordIndex(texts, stem=self.cfg.stem)
        self._normaliser = QueryNormaliser.from_texts(texts)

    def rewrite(self, question: str) -> str:
        """The query both retrievers see (see ``QueryNormaliser``)."""
        query = normalise_query(question)
        if self.cfg.spelling or self.cfg.aliases:
            query = self._normaliser.normalise(
                query, spelling=self.cfg.spelling, aliases=self.cfg.aliases
            ) or query
        return query

    def source_mask(self, sources: Sequence[str] | None) -> np.ndarray | None:
        """Rows whose source starts with one of ``sources`` (None: no filter)."""
        if not sources:
            return None
        prefixes = tuple(sources)
        return np.fromiter((c.source.startswith(prefixes) for c in self.index.chunks),
                           dtype=bool, count=len(self.index.chunks))

    def _dense(self, vector: np.ndarray, k: int, mask: np.ndarray | None) -> list[int]:
        if mask is not None:  # filtered: exact search over the allowed rows only
            rows = np.flatnonzero(mask)
            sims = self.index.vectors[rows] @ vector
            top = np.argsort(-sims, kind="stable")[:k]
            return [int(rows[i]) for i in top]
        _, ids = self.index.faiss_index.search(vector[None, :], k)
        return [int(i) for i in ids[0] if i >= 0]

    def retrieve(
        self, question: str, top_k: int | None = None, *, sources: Sequence[str] | None = None
    ) -> list[Passage]:
        """Fuse the dense and BM25 rankings (weighted reciprocal rank fusion); best first.

        Args:
            question: the user's words, as typed.
            top_k: passages to return (default: ``cfg.top_k``).
            sources: only passages whose document source starts with one of these prefixes,
                e.g. ``["leaflets/"]`` or one document's source.
        """
        top_k = top_k or self.cfg.top_k
        n = len(self.index.chunks)
        mask = self.source_mask(sources)
        if n == 0 or (mask is not None and not mask.any()):
            return []
        query = self.rewrite(question)
        k = min(self.cfg.candidates, n if mask is None else int(mask.sum()))
        vector = self.embedder.embed([query])[0]
        dense_ids = self._dense(vector, k, mask) if self.cfg.dense_weight > 0 else []
        bm25_ids = self._keyword.search(query, k, mask) if self.cfg.bm25_weight > 0 else []
        fused: dict[int, float] = {}
        for weight, ranking in ((self.cfg.dense_weight, dense_ids),
                                (self.cfg.bm25_weight, bm25_ids)):
            for rank, i in enumerate(ranking):
                fused[i] = fused.get(i, 0.0) + weight / (self.cfg.rrf_k + rank + 1)
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
