"""Retrieval: query normalisation from the corpus, source filters, FAISS type, ONNX backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import RetrievalSettings, StoreSettings
from qa.faiss_store import FaissStore
from qa.index import open_index
from qa.query import QueryNormaliser
from qa.retrieval import Retriever
from qa.scope import Lexicon, Relevance, focus_of

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


def test_a_shortened_name_stands_for_the_one_corpus_word_it_starts() -> None:
    """"Can cipro cause diarrhea?" was refused ("They never mention 'cipro'"). A start
    shared by two corpus words ("rivas…" is not; "diaz…" is not) or a short one stays."""
    normaliser = QueryNormaliser.from_texts(
        [*CORPUS, "Ciprofloxacin tablets are antibiotics.", "Metronidazole and metoprolol."])
    assert normaliser.normalise("can cipro cause diarrhea") == "can ciprofloxacin cause diarrhea"
    assert normaliser.normalise("metro dose") == "metro dose"  # two words start so
    assert normaliser.normalise("cip dose") == "cip dose"  # too short to tell


def test_brand_and_generic_names_the_corpus_pairs_are_added() -> None:
    normaliser = QueryNormaliser.from_texts(CORPUS)
    assert normaliser.normalise("how does valium affect the brain").endswith(" diazepam")
    assert normaliser.normalise("diazepam dose", aliases=False) == "diazepam dose"


def test_a_negated_word_the_corpus_does_not_use_is_searched_as_not_its_root() -> None:
    """"Which patients are unsuitable for ketamine?" did not find "may not be suitable
    candidates": neither BM25 nor the embedder matched "unsuitable" to it."""
    normaliser = QueryNormaliser.from_texts(
        [*CORPUS, "Some patients may not be suitable candidates. It is safe, unlike others."])
    assert normaliser.normalise("Which patients are unsuitable for diazepam?") == \
        "which patients are not suitable for diazepam valium"
    assert normaliser.normalise("is it unsafe") == "is it not safe"
    # a word the corpus uses, or whose rest it does not, stays
    assert normaliser.normalise("unlike metformin") == "unlike metformin"
    assert normaliser.normalise("an unusual rash") == "an unusual rash"


def test_common_english_words_are_not_corrected_into_corpus_words() -> None:
    """"Can medicines stop it getting worse?" was searched as "getting works", "always
    caused by genes" as "away caused", "the whole bottle" as "the while battle"."""
    normaliser = QueryNormaliser.from_texts(
        [*CORPUS, "It works while away. A battle. Some cases, not the class."])
    assert normaliser.normalise("getting worse always the whole bottle class") == \
        "getting worse always the whole bottle class"
    assert normaliser.normalise("metforman works") == "metformin works"  # still fixed


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


def test_a_search_in_parts_takes_each_parts_passages_in_turn(retriever: Retriever) -> None:
    parts = ["dantrolene side effects", "memantine side effects"]
    alone = [retriever.search(part, top_k=4).passages for part in parts]
    both = retriever.search_each("dantrolene and memantine side effects", parts, top_k=4)
    assert [p.chunk.chunk_id for p in both.passages] == [
        alone[0][0].chunk.chunk_id, alone[1][0].chunk.chunk_id,
        alone[0][1].chunk.chunk_id, alone[1][1].chunk.chunk_id]
    assert both.query == "dantrolene and memantine side effects"


def test_each_side_of_a_comparison_is_searched_without_the_words_that_frame_it() -> None:
    """"Contrast the way ketamine and dantrolene work" searched each drug with "contrast",
    which ranked ketamine's summaries above its "How does ketamine work?" section."""
    lexicon = Lexicon.build({"k": "Ketamine acts on NMDA receptors in the brain.",
                             "d": "Dantrolene acts on muscle cells directly."}, {})
    relevance = Relevance.of("q", focus_of("contrast ketamine and dantrolene", lexicon), lexicon)
    assert relevance.side_questions("contrast the way ketamine and dantrolene work") == [
        "Describe the way dantrolene work", "Describe the way ketamine work"]
    assert relevance.side_questions("ketamine and dantrolene: both sedating?") == [
        "Dantrolene: sedating?", "Ketamine: sedating?"]


def _unit_vectors(n: int, dim: int = 16) -> np.ndarray:
    vectors = np.random.default_rng(0).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_exact_search_below_the_threshold_ivf_above(tmp_path: Path) -> None:
    vectors = _unit_vectors(300)
    ids = [f"c{i}" for i in range(300)]
    for limit, kind in ((1000, "IndexFlatIP"), (100, "IndexIVFFlat")):
        store = FaissStore(16, StoreSettings(exact_limit=limit))
        store.add(ids, vectors)
        assert store.describe()["index"] == kind
        assert [hits[0][0] for hits in store.search(vectors[:5], 1)] == ids[:5]
        store.save(tmp_path)
        again = FaissStore.load(tmp_path, StoreSettings(exact_limit=limit))
        assert again.ids() == ids and again.describe()["index"] == kind
        assert np.array_equal(again.vectors_for(["c7", "c3"]), vectors[[7, 3]])


def test_store_removes_by_id_and_filters_searches() -> None:
    vectors = _unit_vectors(10)
    store = FaissStore(16)
    store.add([f"c{i}" for i in range(10)], vectors)
    store.remove(["c0", "c5", "missing"])
    assert len(store) == 8 and "c5" not in store.ids()
    assert store.search(vectors[5:6], 1)[0][0][0] != "c5"
    hits = store.search(vectors[2:3], 3, allowed={"c2", "c9"})[0]
    assert [i for i, _ in hits] == ["c2", "c9"] and hits[0][1] > hits[1][1]
    with pytest.raises(ValueError, match="already stored"):
        store.add(["c1"], vectors[:1])


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


def test_the_onnx_embedder_answers_without_loading_torch(embedder) -> None:
    """Once exported, queries need neither torch nor transformers (memory, start-up)."""
    import subprocess
    import sys

    embedder.embed(["make sure the export is cached"])
    code = ("import sys; from qa.config import EmbedderSettings; "
            "from qa.embeddings import load_embedder; e = load_embedder(EmbedderSettings()); "
            "v = e.embed(['Memantine blocks NMDA receptors.']); "
            "print(v.shape, e.count_tokens('Memantine blocks NMDA receptors.'), "
            "'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out[-2:] == ["False", "False"], out
    assert out[-3] == str(embedder.count_tokens("Memantine blocks NMDA receptors."))


def test_the_one_passage_naming_a_rare_term_is_among_the_relevant(retriever: Retriever) -> None:
    """"Does ketamine increase blood pressure?": only the ketamine article's side-effects line
    says "increased blood pressure"; BM25 ranks it first, the embedder 29th, and at BM25's
    fusion weight it fell out of the eight passages (and under the cosine floor), so the
    answer was refused. BM25's best passage now always has a place, above the floor when
    another passage is."""
    query = retriever.rewrite("Does ketamine increase blood pressure?")
    found = retriever.search(query)
    assert any("blood pressure" in p.chunk.text for p in found.relevant)
    without = Retriever(retriever.index, retriever.embedder, RetrievalSettings(keyword_slots=0))
    assert not any("blood pressure" in p.chunk.text for p in without.search(query).relevant)
    # nothing relevant stays nothing relevant: the floor still refuses off-topic questions
    assert not retriever.search(retriever.rewrite("Write a Python function to sort a list"),
                                ).relevant
