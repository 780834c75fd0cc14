"""Retrieval: query normalisation from the corpus, source filters, FAISS type, ONNX backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import RetrievalSettings
from qa.index import make_faiss_index, open_index
from qa.query import QueryNormaliser
from qa.retrieval import Retriever

CORPUS = [
    "Diazepam (Valium) is a benzodiazepine used for anxiety.",
    "Rivastigmine is used for dementia; rivastigmine patches are changed daily.",
    "Take metformin with meals to reduce stomach upset.",
]


def test_misspelled_words_are_fixed_from_the_corpus_vocabulary() -> None:
    normaliser = QueryNormaliser.from_texts(CORPUS)
    assert normaliser.normalise("How does RIVATIGMINE interact") == \
        "how does rivastigmine interact"
    assert normaliser.normalise("metforman dose") == "metformin dose"


def test_brand_and_generic_names_the_corpus_pairs_are_added() -> None:
    normaliser = QueryNormaliser.from_texts(CORPUS)
    assert normaliser.normalise("how does valium affect the brain").endswith(" diazepam")
    assert normaliser.normalise("diazepam dose", aliases=False) == "diazepam dose"


def test_unknown_short_words_are_left_alone() -> None:
    normaliser = QueryNormaliser.from_texts(CORPUS)
    assert normaliser.normalise("is it ok") == "is it ok"


@pytest.fixture(scope="module")
def retriever(seed_index: Path, embedder) -> Retriever:
    index = open_index(seed_index, embedder.name, embedder.sha256)
    return Retriever(index, embedder, RetrievalSettings())


def test_retrieve_keeps_its_positional_signature(retriever: Retriever) -> None:
    passages = retriever.retrieve("What was dantrolene originally developed to treat?", 3)
    assert len(passages) == 3
    assert passages[0].score >= passages[-1].score
    assert passages[0].dense_score is not None


def test_sources_filter_keeps_only_matching_documents(retriever: Retriever) -> None:
    sources = sorted({c.source for c in retriever.index.chunks})
    wanted = sources[0]
    passages = retriever.retrieve("ketamine depression dose", top_k=5, sources=[wanted])
    assert passages and {p.chunk.source for p in passages} == {wanted}
    assert retriever.retrieve("ketamine", sources=["no-such-folder/"]) == []


def test_exact_search_below_the_threshold_hnsw_above() -> None:
    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert type(make_faiss_index(vectors)).__name__ == "IndexFlatIP"
    hnsw = make_faiss_index(vectors, exact_limit=100)
    assert "HNSW" in type(hnsw).__name__
    _, ids = hnsw.search(vectors[:5], 1)
    assert list(ids[:, 0]) == [0, 1, 2, 3, 4]


def test_onnx_backend_matches_the_float_model(embedder) -> None:
    from qa.embeddings import OnnxEmbedder

    assert isinstance(embedder, OnnxEmbedder)  # the default backend
    texts = ["Take metformin with meals.", "Valium is diazepam.", "Take metformin with meals."]
    fast = embedder.embed(texts)
    plain = embedder.base.embed(texts)
    assert fast.shape == (3, embedder.dim)
    assert np.allclose(fast[0], fast[2])  # duplicates embedded once, scattered back
    assert float(np.min(np.sum(fast * plain, axis=1))) > 0.98
    assert embedder.sha256.endswith("+onnx-int8") and embedder.name == "all-MiniLM-L6-v2"


def test_token_counts_do_not_change_after_a_batch_is_embedded(embedder) -> None:
    text = "Take metformin with meals to reduce stomach upset. " * 30
    before = embedder.count_tokens(text)
    embedder.embed(["short", "a somewhat longer text to pad the batch"])
    assert embedder.count_tokens(text) == before > 256  # no padding, no truncation
