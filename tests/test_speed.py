"""`qa speed`: every set-up answers the same questions in turn, beside the naive yardstick
(real 0.5B GGUF and embedder for the command; fake set-ups for the order)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from qa.speed import DEFAULT, NAIVE, SETUPS, Sample, interleaved, setups_named, summarise

from .conftest import TEST_LLM, qa_env
from .test_kv_blocks import private_cache, write_corpus


@dataclass
class _Setup:
    name: str
    calls: list[tuple[str, str]]
    refuses: frozenset[str] = field(default_factory=frozenset)

    def run(self, question: str) -> Sample | None:
        self.calls.append((self.name, question))
        return None if question in self.refuses else Sample(100.0, 300.0, 400.0, 5)


def test_each_question_goes_through_every_set_up_in_turn_after_one_warm_up() -> None:
    calls: list[tuple[str, str]] = []
    setups = [_Setup("a", calls), _Setup("b", calls, refuses=frozenset({"q2"}))]
    samples = list(interleaved(setups, ["q1", "q2"]))
    assert calls == [("a", "q1"), ("b", "q1"),  # warm-ups, not measured
                     ("a", "q1"), ("b", "q1"), ("a", "q2"), ("b", "q2")]
    assert [name for name, _ in samples] == ["a", "b", "a"]  # a refusal is no timing


def test_summary_counts_decode_speed_after_the_first_token() -> None:
    found = summarise([Sample(100.0, 300.0, 400.0, 5, 250.0, 40),
                       Sample(200.0, 400.0, 500.0, 3, None, 60),
                       Sample(300.0, 300.0, 350.0, 1, 450.0, 80)])
    assert found["n"] == 3
    assert found["first_token_ms_median"] == 200.0
    assert found["first_sentence_ms_median"] == 250.0  # of the answers that had one
    assert found["computed_tokens_median"] == 60
    # 4 tokens in 0.2 s and 2 in 0.2 s; a one-token answer has no decode speed
    assert found["decode_tokens_per_s_median"] == 15.0


def test_qa_speed_reports_every_set_up_beside_naive_rag(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps({
        "id": f"s{i}", "category": "answerable", "split": "test", "question": q,
        "gold_sources": [], "key_facts": [], "expected_triage": None, "expect_refusal": False})
        + "\n" for i, q in enumerate(
            ["What are the side effects of memantine?", "Why is liver function checked "
             "during dantrolene treatment?"])))
    env = qa_env(QA_LLM__MODEL=TEST_LLM, QA_LLM__MAX_TOKENS="40",
                 QA_INDEX_DIR=str(tmp_path / "index"), XDG_CACHE_HOME=str(private_cache(tmp_path)))

    def qa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=900)

    assert qa("ingest", str(corpus)).returncode == 0
    result = qa("speed", "--questions", str(questions), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(next((tmp_path / "out").glob("speed-*.json")).read_text())
    results = report["results"]
    assert set(results) == {*SETUPS, NAIVE}
    assert all(r["n"] == 2 for r in results.values())
    assert results[NAIVE]["naive_over_this_first_token"] == 1.0
    computed = {name: r["computed_tokens_median"] for name, r in results.items()}
    default = computed[DEFAULT]
    # Spliced evidence leaves only the question (and the recomputed openings) to compute.
    assert computed["KV blocks, none recomputed"] < computed[
        "KV blocks, 8 tokens per excerpt recomputed (llm.splice)"] < default
    assert "naive ÷ this" in result.stdout


def test_only_times_the_default_and_the_named_setups() -> None:
    assert set(setups_named(["q8_0"])) == {DEFAULT, "computed, KV cache q8_0 (llm.kv_type)"}
    assert set(setups_named(["KV blocks"])) == {
        DEFAULT, "KV blocks, 8 tokens per excerpt recomputed (llm.splice)",
        "KV blocks, none recomputed"}
    assert setups_named([]) == SETUPS
