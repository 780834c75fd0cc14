"""End to end with real components: embedder, FAISS index of the seed corpus, 0.5B GGUF."""

from __future__ import annotations

import pytest

from qa.types import AnswerStatus

pytestmark = pytest.mark.slow


def test_answer_cites_real_passages_and_carries_the_disclaimer(assistant) -> None:
    answer = assistant.ask("What was dantrolene originally developed to treat?")
    assert not answer.refused, answer.raw_answer
    assert answer.status is AnswerStatus.ANSWERED
    assert "malignant hyperthermia" in answer.answer.lower()
    assert answer.citations
    for citation in answer.citations:
        doc = assistant.index.documents[citation.doc_id]
        assert doc.text[citation.start : citation.end] == citation.text
        assert f"[{citation.n}]" in answer.answer
    assert any(c.source == "003_ff34f6fd0d9cc91e.txt" for c in answer.citations)
    assert answer.answer.endswith(answer.disclaimer) and answer.disclaimer
    assert answer.timings.first_token_ms is not None
    assert answer.timings.total_ms >= answer.timings.first_token_ms


def test_off_topic_question_is_refused_without_a_guess(assistant) -> None:
    answer = assistant.ask("What is the capital of France?")
    assert answer.refused
    assert answer.status is AnswerStatus.INSUFFICIENT_EVIDENCE
    assert "paris" not in answer.answer.lower()
    assert answer.citations == ()
    assert "could not find" in answer.answer


def test_evidence_arrives_before_the_first_verified_sentence(assistant) -> None:
    kinds = [e.kind for e in assistant.stream("How does memantine work?")]
    assert kinds[0] == "evidence"
    assert "token" not in kinds  # people see verified sentences, not the draft
    assert kinds[-1] == "answer" and kinds.count("answer") == 1


def test_streamed_sentences_are_the_answer(assistant) -> None:
    events = list(assistant.stream("What are common side effects of ketamine therapy?"))
    sent = " ".join(e.text for e in events if e.kind == "sentence")
    assert sent == events[-1].answer.text


def test_json_shape_matches_the_documented_contract(assistant) -> None:
    data = assistant.ask("What are the side effects of memantine?").to_dict()
    assert set(data) >= {"question", "answer", "refused", "triage", "citations",
                         "disclaimer", "model", "timings"}
    assert set(data["timings"]) == {"retrieve_ms", "first_token_ms", "first_sentence_ms",
                                    "total_ms"}
    for citation in data["citations"]:
        assert set(citation) >= {"n", "doc_id", "source", "title", "start", "end", "text"}
    assert data["model"] == "qwen2.5-coder-0.5b"
