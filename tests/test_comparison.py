"""The second-embedder pass of `qa bench medicationqa --compare` (benchmarks/comparison.py)."""

from __future__ import annotations

from pathlib import Path

from qa.benchmarks.comparison import variant_settings, variants
from qa.config import RetrievalSettings, Settings
from qa.index import open_index
from qa.rerank import EmbedderReranker
from qa.retrieval import Retriever


def test_second_pass_reorders_only_the_hybrid_head(seed_index: Path, embedder) -> None:
    index = open_index(seed_index, embedder.name, embedder.sha256)
    retriever = Retriever(index, embedder, RetrievalSettings())
    question = "What was dantrolene originally developed to treat?"
    hybrid = retriever.retrieve(question, top_k=10)
    # Negated vectors: the second embedder prefers what is least similar to the question.
    ids = index.store.ids()
    negated = dict(zip(ids, -index.store.vectors_for(ids), strict=True))
    second = Retriever(index, embedder, RetrievalSettings(),
                       EmbedderReranker(embedder, negated, depth=4, mode="rerank"))
    reranked = [p.chunk.chunk_id for p in second.retrieve(question, top_k=10)]
    head = sorted(hybrid[:4], key=lambda p: p.dense_score)
    assert reranked == [p.chunk.chunk_id for p in head + hybrid[4:]]


def test_each_variant_changes_only_its_own_settings() -> None:
    base = Settings()
    names = [v.name for v in variants()]
    assert len(names) == len(set(names)) and names[0] == "configured"
    for variant in variants():
        changed = variant_settings(base, variant)
        assert changed.retrieval == base.retrieval and changed.answer == base.answer
        if not variant.embedder:
            assert changed.embedder == base.embedder
        if not variant.chunking:
            assert changed.chunking == base.chunking


def test_dev_winner_respects_the_latency_budget() -> None:
    from qa.benchmarks.comparison import dev_winner

    def result(name: str, mrr: float, p99: float) -> dict:
        return {"name": name, "dev": {"mrr@10": mrr, "hit@5": 0.9}, "latency": {"p99_ms": p99}}

    fast, slow = result("configured", 0.81, 4.0), result("mpnet float", 0.83, 72.0)
    assert dev_winner([fast, slow])["name"] == "configured"
    assert dev_winner([fast, slow], budget_ms=None)["name"] == "mpnet float"
