"""The keyword side of retrieval: BM25 (bm25s, its only importer), persisted per generation.

Ingestion writes the BM25 index of a new generation into it (``bm25/``), so a Retriever
loads it instead of re-tokenising every chunk at start-up. Chunks added by deltas since
are scored in memory with the same BM25 formula and the generation's corpus statistics
(document count, average length, document frequencies, a term new since then counting
the delta chunks that have it), and chunks the deltas dropped are masked out: the ranking
of a compacted generation is exactly bm25s's, a delta's is BM25 with statistics as of the
last compaction. Without a persisted index (an older generation, another analyser) the
index is built in memory, as before.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.text import stems, terms
from qa.types import Chunk

log = logging.getLogger(__name__)

FOLDER, META = "bm25", "keyword.json"
K1, B = 1.5, 0.75  # bm25s defaults (method "lucene")


def keyword_text(chunk: Chunk) -> str:
    """What BM25 sees: the title and heading carry the drug and the topic of short passages."""
    return f"{chunk.title} {chunk.section} {chunk.text}"


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG, which floods any CLI run with "Building index".
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def make_analyser(stem: bool) -> Callable[[str], list[str]]:
    """Words of a text without stop words and one-letter words, stemmed if ``stem``."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)

    def analyse(text: str) -> list[str]:
        tokens = [w for w in terms(text) if len(w) > 1 and w not in stop]
        return stems(tokens) if stem else tokens

    return analyse


@dataclass
class _Extra:
    """BM25 scores of the rows added since the persisted index, token -> (rows, scores)."""

    postings: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class KeywordIndex:
    """BM25 over stemmed, stop-worded words, queried with the same analyser.

    ``base_rows[i]`` is the row (in the caller's chunk list) of the persisted index's
    document ``i``, or -1 when that chunk is gone; rows not covered there are ``extra``.
    """

    rows: int
    stem: bool = True
    avgdl: float = 1.0  # mean analysed length of the persisted documents
    _bm25: Any = field(default=None, repr=False)
    _base_rows: np.ndarray | None = field(default=None, repr=False)
    _extra: _Extra = field(default_factory=_Extra, repr=False)
    _analyse: Callable[[str], list[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._analyse = make_analyser(self.stem)

    @classmethod
    def build(cls, texts: Sequence[str], stem: bool = True) -> KeywordIndex:
        """A fresh in-memory index of ``texts`` (row i = texts[i])."""
        index = cls(len(texts), stem)
        index._bm25 = _bm25s().BM25()
        if texts:
            analysed = [index._analyse(t) for t in texts]
            index.avgdl = float(np.mean([len(tokens) for tokens in analysed]))
            index._bm25.index(analysed, show_progress=False)
        return index

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[int]:
        """Row ids of the best ``k`` texts with a positive score, best first."""
        tokens = self._analyse(query)
        scores = self.scores(tokens)
        if scores is None:
            return []
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [int(i) for i in top if scores[i] > 0]

    def scores(self, tokens: list[str]) -> np.ndarray | None:
        """BM25 score of every row for the analysed query, or None if no token is known."""
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        known = [t for t in tokens if t in vocab]
        extra = [t for t in tokens if t in self._extra.postings]
        if not self.rows or not (known or extra):
            return None
        if self._base_rows is None:  # built in memory: row i is document i
            return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        out = np.zeros(self.rows, dtype=np.float32)
        if known:
            base = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
            live = self._base_rows >= 0
            out[self._base_rows[live]] = base[live]
        for token in extra:
            rows, values = self._extra.postings[token]
            np.add.at(out, rows, values)
        return out

    def save(self, folder: Path, chunk_ids: Sequence[str]) -> None:
        """The bm25s files, the ids of its documents, and the statistics deltas need."""
        target = folder / FOLDER
        self._bm25.save(str(target), show_progress=False)
        meta = {"stem": self.stem, "ids": list(chunk_ids), "avgdl": self.avgdl}
        (target / META).write_text(json.dumps(meta))

    @classmethod
    def for_chunks(cls, chunks: Sequence[Chunk], folder: Path | None, stem: bool = True,
                   changed_docs: frozenset[str] = frozenset()) -> KeywordIndex:
        """The persisted index of ``folder`` brought up to ``chunks`` (chunks of
        ``changed_docs`` are scored in memory), or one built in memory if there is none."""
        meta = _read_meta(folder / FOLDER) if folder else None
        if meta is None or meta["stem"] != stem:
            return cls.build([keyword_text(c) for c in chunks], stem)
        index = cls(len(chunks), stem, float(meta["avgdl"]))
        index._bm25 = _bm25s().BM25.load(str(folder / FOLDER), mmap=True)  # type: ignore[operator]
        row_of = {c.chunk_id: i for i, c in enumerate(chunks) if c.doc_id not in changed_docs}
        index._base_rows = np.array([row_of.get(i, -1) for i in meta["ids"]], dtype=np.int64)
        covered = set(index._base_rows[index._base_rows >= 0].tolist())
        added = [i for i in range(len(chunks)) if i not in covered]
        index._extra = _score_added(index, [keyword_text(chunks[i]) for i in added],
                                    np.array(added, dtype=np.int64))
        return index


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((path / META).read_text()))
    except (OSError, ValueError):
        return None


def _score_added(index: KeywordIndex, texts: list[str], rows: np.ndarray) -> _Extra:
    """BM25 (bm25s's "lucene" variant) of added texts, with the persisted statistics."""
    if not len(rows):
        return _Extra()
    bm25 = index._bm25
    n_docs = int(bm25.scores["num_docs"])
    indptr = np.asarray(bm25.scores["indptr"])
    analysed = [index._analyse(t) for t in texts]
    fresh_df = Counter(t for tokens in analysed for t in set(tokens))
    postings: dict[str, tuple[list[int], list[float]]] = {}
    for row, tokens in zip(rows.tolist(), analysed, strict=True):
        norm = K1 * ((1 - B) + B * len(tokens) / index.avgdl)
        for token, tf in Counter(tokens).items():
            tid = bm25.vocab_dict.get(token)
            df = int(indptr[tid + 1] - indptr[tid]) if tid is not None else fresh_df[token]
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            entry = postings.setdefault(token, ([], []))
            entry[0].append(row)
            entry[1].append(idf * tf / (norm + tf))
    return _Extra({t: (np.array(r, dtype=np.int64), np.array(s, dtype=np.float32))
                   for t, (r, s) in postings.items()})


def save_keyword_index(chunks: Sequence[Chunk], folder: Path, stem: bool = True) -> None:
    """Build the BM25 index of ``chunks`` and write it into the generation ``folder``."""
    KeywordIndex.build([keyword_text(c) for c in chunks], stem).save(
        folder, [c.chunk_id for c in chunks])
