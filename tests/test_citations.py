"""Citation markers map to real passages; invented ones disappear."""

from __future__ import annotations

from qa.citations import looks_like_refusal, resolve_citations, split_sentences
from qa.types import Chunk, Passage


def _passage(text: str, source: str = "a.txt", start: int = 0) -> Passage:
    chunk = Chunk("c" + source, source.split(".")[0], source, "Title", "Section", start,
                  start + len(text), text)
    return Passage(chunk=chunk, score=1.0, dense_score=0.8)


PASSAGES = [
    _passage("Dantrolene was originally developed for the treatment of malignant hyperthermia.",
             "003.txt", 100),
    _passage("Memantine blocks NMDA receptors and reduces the effects of glutamate.", "000.txt"),
]


def test_markers_map_to_the_passages_shown() -> None:
    result = resolve_citations(
        "Dantrolene was developed for malignant hyperthermia [1]. Memantine blocks NMDA "
        "receptors [2].", PASSAGES)
    assert [c.n for c in result.citations] == [1, 2]
    first = result.citations[0]
    assert (first.source, first.start, first.end) == ("003.txt", 100, 100 + len(first.text))
    assert "[1]" in result.text and "[2]" in result.text


def test_marker_pointing_to_no_passage_is_removed() -> None:
    result = resolve_citations("Memantine blocks NMDA receptors [2][7].", PASSAGES)
    assert "[7]" not in result.text
    assert [c.n for c in result.citations] == [2]


def test_grouped_and_fullwidth_markers_are_understood() -> None:
    result = resolve_citations("Both drugs are described [1, 2]. See also 【1】.", PASSAGES)
    assert "[1][2]" in result.text
    assert [c.n for c in result.citations] == [1, 2]


def test_uncited_sentence_is_attributed_to_the_passage_that_supports_it() -> None:
    result = resolve_citations(
        "Dantrolene was originally developed for malignant hyperthermia.", PASSAGES)
    assert result.text.endswith("hyperthermia [1].")
    assert result.citations[0].support >= 0.5


def test_unsupported_uncited_sentence_gets_no_citation() -> None:
    result = resolve_citations("The moon is made of green cheese.", PASSAGES)
    assert result.citations == ()


def test_sentences_keep_their_markers() -> None:
    assert split_sentences("One fact. [1] Two facts [2]. Three.") == [
        "One fact. [1]", "Two facts [2].", "Three."]


def test_refusal_wording_is_recognised() -> None:
    refusal = "I could not find the answer in the indexed documents."
    assert looks_like_refusal("I could not find the answer in the indexed documents.", refusal)
    assert looks_like_refusal("The passages do not mention grapefruit.", refusal)
    assert not looks_like_refusal("Dantrolene relaxes muscles [1].", refusal)
