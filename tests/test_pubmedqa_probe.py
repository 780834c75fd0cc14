"""The PubMedQA probe (`qa bench pubmedqa-probe`): hidden states read from the real model,
a layer and penalty chosen by cross-validation, a probe file that decides the test split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.benchmarks.pubmedqa_probe import LABELS, Probe, choose, fit, grid, nested
from tests.conftest import REPO, qa_env
from tests.test_benchmarks import DATA

pytestmark = pytest.mark.skipif(not (DATA / "pubmedqa").is_dir(),
                                reason=f"benchmark datasets not found in {DATA}")


def _states(n: int, layers: int, width: int, signal_layer: int,
            seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Random states in which only ``signal_layer`` tells the labels apart."""
    rng = np.random.default_rng(seed)
    gold = [LABELS[i] for i in rng.choice(3, size=n, p=[0.55, 0.33, 0.12])]
    states = rng.normal(size=(n, layers, width))
    for i, label in enumerate(gold):
        states[i, signal_layer, LABELS.index(label)] += 5.0
    return states, gold


def test_the_layer_that_tells_the_labels_apart_is_chosen() -> None:
    states, gold = _states(150, layers=28, width=24, signal_layer=16)
    scores = grid(states, gold)
    assert choose(scores)[0] == 16
    best_elsewhere = max(v for (layer, _), v in scores.items() if layer != 16)
    assert scores[choose(scores)] > 0.85 and best_elsewhere < 0.6  # noise: ~"always yes"
    assert nested(states, gold) > 0.85


def test_a_probe_without_signal_is_not_better_than_saying_yes() -> None:
    states, gold = _states(150, layers=28, width=24, signal_layer=0)  # 0 is no candidate
    assert nested(states, gold) <= gold.count("yes") / len(gold) + 0.08


def test_a_probe_file_decides_as_the_fitted_probe() -> None:
    states, gold = _states(90, layers=14, width=16, signal_layer=12)
    probe = fit(states, gold, layer=12, penalty=1.0)
    loaded = Probe.from_json(json.loads(json.dumps(probe.to_json())))
    assert loaded.decide(states) == probe.decide(states)
    assert np.allclose(loaded.probabilities(states).sum(axis=1), 1.0)
    assert sum(a == b for a, b in zip(probe.decide(states), gold, strict=True)) > 80


def test_a_label_never_seen_in_training_is_never_chosen() -> None:
    states, gold = _states(60, layers=14, width=8, signal_layer=12)
    seen = [i for i, g in enumerate(gold) if g != "maybe"]
    probe = fit(states[seen], [gold[i] for i in seen], layer=12, penalty=1.0)
    assert "maybe" not in probe.decide(states)
    assert set(probe.decide(states)) == {"yes", "no"}


@pytest.mark.slow
def test_layer_states_come_from_the_same_forward_pass_as_the_answers(generator) -> None:
    """The probe reads the real model: its next-token scores after "Answer:" equal the ones the
    generator computes for the same prompt, every layer is read, and nothing of an earlier
    prompt stays in the context."""
    from qa.config import LLMSettings, default_cache_dir
    from qa.llama_context import LayerStates
    from qa.llm import ChatMLFormat, ChatPrompt
    from qa.models import resolve_llm

    _, path = resolve_llm("qwen2.5-coder-0.5b", default_cache_dir())
    reader = LayerStates(path, LLMSettings(model="qwen2.5-coder-0.5b"))
    prompt = ChatPrompt("You are a careful biomedical research assistant.",
                        "Findings: mortality fell from 12% to 4% (p<0.01). Question: Does the "
                        "drug reduce mortality? Answer with one word: yes, no or maybe.")
    tokens = reader.llama.tokenize(ChatMLFormat.render(prompt) + "Answer:")
    states, logits = reader.read(tokens)
    assert states.shape == (reader.layers, reader.tap.width) == (24, 896)
    assert np.isfinite(states).all() and len(np.unique(np.linalg.norm(states, axis=1))) == 24

    # The generator computes the same prompt after its cached system turn and in other
    # batches, so the numbers agree to rounding (seen: 0.06 apart in a full test run), not
    # bit for bit; another prompt moves them by whole units.
    expected = generator.label_logprobs(prompt, LABELS, prefill="Answer:")
    top = np.logaddexp.reduce(logits.astype(np.float64))
    read = {}
    for label in LABELS:
        ids = sorted({reader.llama.tokenize(s, special=False)[0] for s in
                      (label, label.capitalize(), f" {label}", f" {label.capitalize()}")})
        read[label] = float(np.logaddexp.reduce(logits[ids]) - top)
    assert read == pytest.approx(expected, abs=0.2)
    assert max(read, key=read.__getitem__) == max(expected, key=expected.__getitem__)

    other = reader.llama.tokenize(ChatMLFormat.render(ChatPrompt("x", "Say no.")) + "Answer:")
    assert not np.allclose(reader.read(other)[0][-1], states[-1])
    again, _ = reader.read(tokens)
    assert np.allclose(again, states, atol=1e-3)


@pytest.mark.slow
def test_the_test_split_is_decided_by_the_probe_file_alone(tmp_path: Path) -> None:
    from qa.benchmarks import BenchContext, suite_runner
    from qa.benchmarks.data import load_pubmedqa
    from qa.benchmarks.pubmedqa_probe import read_states, run
    from tests.conftest import settings_for

    def context(split: str, limit: int) -> BenchContext:
        return BenchContext(settings=settings_for(tmp_path / "unused"), data_dir=DATA,
                            index_root=tmp_path / "bench", limit=limit, split=split)

    dev = [r for r in load_pubmedqa(DATA) if r.split == "dev"][:8]
    states, _, _ = read_states(context("dev", 8), dev)
    probe = fit(states, [r.final_decision for r in dev], layer=12, penalty=0.01)
    probe_path = tmp_path / "probe.json"
    probe_path.write_text(json.dumps(probe.to_json()))

    report = run(context("test", 2), probe_path=probe_path)
    scored, questions = report.metrics["probe"], report.details["questions"]
    assert scored["n"] == 2 and scored["layer"] == 12
    assert scored["accuracy"] == sum(q["probe"] == q["gold"] for q in questions) / 2
    for q in questions:  # the "direct" decision is the argmax of its kept scores
        assert q["direct"] == max(q["direct_logprobs"], key=q["direct_logprobs"].get)
    assert "layer 12" in report.markdown and suite_runner("pubmedqa-probe").__module__ == (
        "qa.benchmarks.pubmedqa_probe")


def test_scoring_without_a_probe_file_says_how_to_make_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "bench", "pubmedqa-probe", "--limit", "1",
         "--out", str(tmp_path)],
        cwd=tmp_path, env=qa_env(QA_BENCH_DATA_DIR=str(DATA), PYTHONPATH=str(REPO / "src")),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: no PubMedQA probe at eval/pubmedqa-probe.json. Fit one first: qa bench "
        "pubmedqa-probe --split dev."]
