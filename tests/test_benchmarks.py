"""Smoke runs of the public benchmarks (`qa bench SUITE --limit N`): reports exist, sane numbers.

Full runs are not tests (they take tens of minutes); these use a few questions each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.benchmarks import BenchContext, suite_runner
from qa.benchmarks.data import default_data_dir
from qa.benchmarks.report import write_report
from tests.conftest import REPO, qa_env, settings_for

DATA = Path(os.environ.get("QA_BENCH_DATA_DIR") or default_data_dir())
pytestmark = pytest.mark.skipif(not (DATA / "medicationqa").is_dir(),
                                reason=f"benchmark datasets not found in {DATA}")


def _run(suite: str, tmp_path: Path, embedder, generator=None, limit: int = 3,
         sample: int = 2) -> dict:
    ctx = BenchContext(settings=settings_for(tmp_path / "unused"), data_dir=DATA,
                       index_root=tmp_path / "bench", limit=limit, generate=generator is not None,
                       generate_sample=sample, embedder=embedder, generator=generator)
    json_path, md_path = write_report(suite_runner(suite)(ctx), tmp_path / "reports")
    assert md_path.read_text().startswith(f"# Benchmark: {suite}")
    assert json_path.with_suffix(".png").stat().st_size > 1000  # the plot was drawn
    report = json.loads(json_path.read_text())
    assert report["git_commit"] and report["models"]["embedder"] == "all-MiniLM-L6-v2"
    assert report["limit"] == limit and report["settings"]["retrieval"]["top_k"] >= 1
    return report


@pytest.mark.slow
def test_medicationqa_smoke(tmp_path: Path, embedder, generator) -> None:
    report = _run("medicationqa", tmp_path, embedder, generator)
    metrics = report["metrics"]
    configured = metrics["retrieval"]["configured"]["all"]
    # Three real consumer questions over a 40-answer slice (chance: ~1 in 8 for hit@5).
    assert configured["n"] == 3 and configured["hit@5"] >= 2 / 3
    ablations = metrics["retrieval"]["ablations"]
    assert set(ablations) >= {"dense only", "bm25 only"}
    assert all(a["all"]["n"] == 3 for a in ablations.values())
    generation = metrics["generation"]
    assert generation["n"] == 2
    answered = [e for e in generation["examples"] if "answer" in e]
    assert generation["answered"] == len(answered)
    assert generation["refusal_rate"] == sum(e.get("refused", False)
                                             for e in generation["examples"]) / 2
    assert report["models"]["llm"] == "qwen2.5-coder-0.5b"


def test_medquad_smoke(tmp_path: Path, embedder) -> None:
    metrics = _run("medquad", tmp_path, embedder, limit=2)["metrics"]
    assert metrics["throughput"]["plain_chunks_per_s"] > 0
    assert metrics["throughput"]["cosine_to_plain_min"] > 0.95
    assert metrics["ingest"]["chunks"] >= metrics["ingest"]["documents"] > 40
    assert metrics["ingest"]["index_mb"] > 0 and metrics["peak_memory_mb"] > 0
    latency = metrics["retrieval"]["latency"]
    assert 0 < latency["median_ms"] <= latency["p99_ms"]
    # ~40 vectors: the HNSW graph finds the same neighbours as exact search.
    assert metrics["retrieval"]["faiss"]["hnsw_recall@10"] >= 0.9


@pytest.mark.slow
def test_pubmedqa_smoke(tmp_path: Path, embedder, generator) -> None:
    report = _run("pubmedqa", tmp_path, embedder, generator, limit=2)
    metrics = report["metrics"]
    assert metrics["documents"] == 40 and metrics["n"] == 2
    assert metrics["retrieval"]["hit@5"] == 1.0  # each question's own abstract is found
    # every question keeps its label log-probabilities, so offsets can be refitted offline
    questions = report["details"]["questions"]
    assert len(questions) == 2 and all(q["gold"] in {"yes", "no", "maybe"} for q in questions)
    for setting in ("reasoning_required", "open_retrieval"):
        scored = metrics[setting]
        assert scored["n"] == 2 and scored["seconds_per_q"] > 0
        # the reported accuracy is the argmax of the kept log-probabilities against gold
        picks = [max(q[setting]["logprobs"], key=q[setting]["logprobs"].get) for q in questions]
        right = sum(p == q["gold"] for p, q in zip(picks, questions, strict=True))
        assert scored["uncalibrated"]["accuracy"] == right / 2
        assert sum(scored["uncalibrated"]["predicted"].values()) == 2


def test_pubmedqa_offsets_fitted_on_dev_undo_a_yes_bias() -> None:
    from qa.benchmarks.pubmedqa import calibrated, dev_fit

    # The model prefers "yes" everywhere, but by less when the gold answer is "no".
    scores = ([{"yes": -0.1, "no": -1.1, "maybe": -5.0}] * 30
              + [{"yes": -0.1, "no": -3.1, "maybe": -5.0}] * 30)
    gold = ["no"] * 30 + ["yes"] * 30
    fit = dev_fit(scores, gold)
    assert 1.0 < fit["offsets"]["no"] < 3.0
    assert fit["fitted"] == fit["cv5"] == 1.0 and fit["uncalibrated"] == 0.5 and fit["use"]
    assert [calibrated(s, fit["offsets"]) for s in scores] == gold


def test_pubmedqa_offsets_are_not_used_when_the_scores_carry_no_signal() -> None:
    from qa.benchmarks.pubmedqa import dev_fit

    fit = dev_fit([{"yes": -0.3, "no": -1.5, "maybe": -2.5}] * 40, ["yes"] * 25 + ["no"] * 15)
    assert fit["uncalibrated"] == 0.625 and not fit["use"]


def test_pubmedqa_label_offsets_move_the_decision() -> None:
    from qa.benchmarks.pubmedqa import calibrated

    scores = {"yes": -0.2, "no": -2.0, "maybe": -4.0}
    assert calibrated(scores, {}) == "yes"
    assert calibrated(scores, {"no": 2.5}) == "no"
    assert calibrated(scores, {"maybe": 4.0}) == "maybe"


def test_pubmedqa_reason_is_cut_at_the_answer_marker() -> None:
    from qa.benchmarks.pubmedqa import reason_prefill

    assert reason_prefill("Rates fell. Answer: yes") == "Rates fell. Answer:"
    assert reason_prefill("Rates fell.\nanswer:") == "Rates fell.\nAnswer:"
    assert reason_prefill("Rates fell. ") == "Rates fell.\nAnswer:"


def test_bench_cli_writes_reports(tmp_path: Path) -> None:
    env = qa_env()
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "bench", "medicationqa", "--limit", "2",
         "--no-generate", "--out", str(tmp_path / "out"), "--index-dir", str(tmp_path / "ix"),
         "--data-dir", str(DATA)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("medicationqa: ")
    names = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert names == [".json", ".md", ".png"]


def test_bench_cli_names_a_missing_dataset(tmp_path: Path) -> None:
    env = qa_env()
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "bench", "pubmedqa", "--limit", "1", "--no-generate",
         "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 1
    assert "Error: dataset file" in result.stderr and "--data-dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_scale_smoke(tmp_path: Path, embedder) -> None:
    ctx = BenchContext(settings=settings_for(tmp_path / "unused"), data_dir=DATA,
                       index_root=tmp_path / "bench", limit=2, generate=False,
                       embedder=embedder, chunks=1500)
    json_path, _ = write_report(suite_runner("scale")(ctx), tmp_path / "reports")
    metrics = json.loads(json_path.read_text())["metrics"]
    assert metrics["vectors"] == 1500 and metrics["real_vectors"] < 1500
    stores = {s["name"]: s for s in metrics["stores"]}
    assert {"faiss flat", "milvus-lite flat"} <= set(stores)
    for exact in ("faiss flat", "milvus-lite flat"):  # exact search is its own ground truth
        assert stores[exact]["sweep"][0]["recall@10"] == 1.0
    hnsw = stores["faiss hnsw M=32"]["sweep"]
    assert [p["value"] for p in hnsw] == [16, 32, 64, 128]
    assert hnsw[-1]["recall@10"] >= hnsw[0]["recall@10"]  # wider search, better recall
    assert all(s["add_doc_found"] and s["disk_mb"] > 0 for s in stores.values())
    keyword = {k["name"]: k for k in metrics["keyword"]["indexes"]}
    assert keyword["bm25s persisted (loaded)"]["same_top30_as_rebuilt"] is True
    one = metrics["ingest_one_document"]
    assert one["as_delta"] and one["chunks_added"] >= 1
    best = metrics["choice"]["best"]
    assert best is None or best.startswith(tuple(stores))


def test_a_benchmark_index_ingestion_would_rebuild_is_not_reused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The reuse key follows what makes ingestion rebuild: a new cleaning version or store
    backend gives a new key (a reused stale index broke the scale report's one-document
    ingest, which refuses an index of another cleaning version)."""
    from qa.benchmarks import runner
    from qa.config import Settings, StoreSettings
    from qa.types import Document

    from .fakes import FakeEmbedder

    docs = [Document(doc_id="d", source="d.txt", title="D", text="Text.", sha256="x")]
    embedder, settings = FakeEmbedder(), Settings()
    key = runner.corpus_key(docs, embedder, settings)
    assert runner.corpus_key(docs, embedder, settings) == key
    milvus = settings.model_copy(update={"store": StoreSettings(backend="milvus")})
    assert runner.corpus_key(docs, embedder, milvus) != key
    monkeypatch.setattr(runner, "CLEANING_VERSION", runner.CLEANING_VERSION + 1)
    assert runner.corpus_key(docs, embedder, settings) != key
