"""Question -> ranked passages: dense (vector store) and keyword (BM25) retrieval fused by rank.

The query is normalised against the corpus once (``rewrite``: lower-case, spelling fixed
from the corpus vocabulary, brand/generic aliases the corpus states); both rankings are
then fused with a weighted reciprocal-rank fusion, BM25's best passage keeps a place in
the head (``keyword_slots``), the reranker re-orders the head, and passages whose cosine to
the question is under the floor are not relevant. Weights were tuned on the MedicationQA
dev half (``qa bench medicationqa``; see eval/reports).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.config import RetrievalSettings
from qa.embeddings import Embedder
from qa.index import Index
from qa.keyword import KeywordIndex
from qa.query import QueryNormaliser
from qa.ranking import in_turn
from qa.rerank import NoReranker, Reranker
from qa.types import Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retrieval:
    """One search: the normalised query, the ranked passages, and those above the floor."""

    query: str
    passages: tuple[Passage, ...]
    relevant: tuple[Passage, ...]


@dataclass
class Retriever:
    """Hybrid retriever over one loaded index. Build once, query many times."""

    index: Index
    embedder: Embedder
    cfg: RetrievalSettings
    reranker: Reranker = field(default_factory=NoReranker)
    _keyword: KeywordIndex = field(init=False, repr=False)
    _normaliser: QueryNormaliser = field(init=False, repr=False)
    _rows: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the title and heading as paragraphs of their own: a brand list's drug is read
        # from the paragraph before it (``listed_brands``)
        texts = [f"{c.title}\n\n{c.section}\n\n{c.text}" for c in self.index.chunks]
        self._keyword = KeywordIndex.for_chunks(self.index.chunks, self.index.path,
                                                self.cfg.stem, self.index.delta_docs)
        self._normaliser = QueryNormaliser.from_texts(texts, [c.doc_id for c in self.index.chunks])
        self._rows = {c.chunk_id: i for i, c in enumerate(self.index.chunks)}

    @property
    def aliases(self) -> dict[str, set[str]]:
        """Brand/generic names the corpus pairs ("diazepam (Valium)"), both ways."""
        return self._normaliser.aliases

    def rewrite(self, question: str) -> str:
        """The query both retrievers see (see ``QueryNormaliser``)."""
        query = " ".join(question.split())
        if self.cfg.spelling or self.cfg.aliases:
            query = self._normaliser.normalise(
                query, spelling=self.cfg.spelling, aliases=self.cfg.aliases
            ) or query
        return query

    def spell_names(self, text: str, names: Collection[str]) -> str:
        """``text`` with misspelled ``names`` spelled as the corpus does (when spelling
        correction is on; ``QueryNormaliser.spell_names``)."""
        return self._normaliser.spell_names(text, names) if self.cfg.spelling else text

    def retrieve(
        self, question: str, top_k: int | None = None, *, sources: Sequence[str] | None = None
    ) -> list[Passage]:
        """The best passages for a question as typed (normalised here), best first.

        Args:
            question: the user's words, as typed.
            top_k: passages to return (default: ``cfg.top_k``).
            sources: only passages whose document source starts with one of these prefixes,
                e.g. ``["leaflets/"]`` or one document's source.
        """
        return list(self.search(self.rewrite(question), top_k, sources=sources).passages)

    def search(
        self, query: str, top_k: int | None = None, *, sources: Sequence[str] | None = None
    ) -> Retrieval:
        """Fuse the dense and BM25 rankings of a normalised ``query``, rerank the head, and
        mark the passages above the relevance floor (``cfg.min_dense_score``)."""
        top_k = top_k or self.cfg.top_k
        mask = self._source_mask(sources)
        n = len(self.index.chunks)
        if n == 0 or (mask is not None and not mask.any()) or not query:
            return Retrieval(query, (), ())
        k = min(self.cfg.candidates, n if mask is None else int(mask.sum()))
        vector = self.embedder.embed([query])[0]
        dense = self._dense(vector, k, mask) if self.cfg.dense_weight > 0 else []
        bm25 = self._keyword.search(query, k, mask) if self.cfg.bm25_weight > 0 else []
        fused: dict[int, float] = {}
        for weight, ranking in ((self.cfg.dense_weight, dense), (self.cfg.bm25_weight, bm25)):
            for rank, i in enumerate(ranking):
                fused[i] = fused.get(i, 0.0) + weight / (self.cfg.rrf_k + rank + 1)
        cosine = self._cosines(vector, list(fused))
        keyword = bm25[: self.cfg.keyword_slots]
        order = _with_places_for(sorted(fused, key=lambda i: (-fused[i], -cosine[i])),
                                 keyword, top_k)
        dense_rank = {i: r for r, i in enumerate(dense)}
        bm25_rank = {i: r for r, i in enumerate(bm25)}
        ranked = [Passage(self.index.chunks[i], fused[i], cosine[i], dense_rank.get(i),
                          bm25_rank.get(i))
                  for i in order[: max(top_k, self.reranker.depth)]]
        passages = tuple(self.reranker.rerank(query, ranked)[:top_k])
        floor = self.cfg.min_dense_score
        above = [p for p in passages if (p.dense_score or 0.0) >= floor]
        # BM25's best passage counts when the question is on topic at all (another passage
        # clears the floor): its cosine is low for the same reason its dense rank is.
        kept = {self.index.chunks[i].chunk_id for i in keyword} if above else set()
        return Retrieval(query, passages, tuple(
            p for p in passages if (p.dense_score or 0.0) >= floor or p.chunk.chunk_id in kept))

    def search_each(self, query: str, parts: Sequence[str], top_k: int | None = None) -> Retrieval:
        """One search per part of a comparison ("memantine's side effects", "dantrolene's
        side effects"), their passages taken in turn (each part's best, then each part's
        second…): a single search for "How do X and Y differ?" can rank only X's."""
        top_k = top_k or self.cfg.top_k
        return self.taken_in_turn(query, [self.search(part, top_k) for part in parts], top_k)

    def taken_in_turn(self, query: str, found: Sequence[Retrieval],
                      top_k: int | None = None) -> Retrieval:
        """Searches already made, their passages taken in turn (see ``search_each``)."""
        top_k = top_k or self.cfg.top_k

        def merged(rankings: list[tuple[Passage, ...]]) -> tuple[Passage, ...]:
            return tuple(in_turn(rankings, key=lambda p: p.chunk.chunk_id)[:top_k])

        return Retrieval(query, merged([f.passages for f in found]),
                         merged([f.relevant for f in found]))

    def _source_mask(self, sources: Sequence[str] | None) -> np.ndarray | None:
        """Rows whose source starts with one of ``sources`` (None: no filter)."""
        if not sources:
            return None
        prefixes = tuple(sources)
        return np.fromiter((c.source.startswith(prefixes) for c in self.index.chunks),
                           dtype=bool, count=len(self.index.chunks))

    def _dense(self, vector: np.ndarray, k: int, mask: np.ndarray | None) -> list[int]:
        chunks = self.index.chunks
        allowed = None if mask is None else [chunks[i].chunk_id for i in np.flatnonzero(mask)]
        hits = self.index.store.search(vector[None, :], k, allowed=allowed)[0]
        return [self._rows[chunk_id] for chunk_id, _ in hits]

    def _cosines(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Cosine of the query with each candidate (BM25-only hits have no dense score yet)."""
        if not rows:
            return {}
        ids = [self.index.chunks[i].chunk_id for i in rows]
        sims = self.index.store.vectors_for(ids) @ vector
        return {i: float(s) for i, s in zip(rows, np.asarray(sims), strict=True)}


def _with_places_for(order: list[int], wanted: Sequence[int], top_k: int) -> list[int]:
    """``order`` with each of ``wanted`` among its first ``top_k`` (the last of the others
    make room, in order)."""
    head = order[:top_k]
    for i in wanted:
        if i in head:
            continue
        room = next((j for j in reversed(head) if j not in wanted), None)
        if room is None:
            break
        head.remove(room)
        head.append(i)
    return head + [i for i in order if i not in head]
