"""The llama-cpp backend's label scoring (real 0.5B GGUF): one forward pass, no decoding."""

from __future__ import annotations

import math

import pytest

from qa.llm import ChatPrompt

pytestmark = pytest.mark.slow
SYSTEM = "You are a careful assistant."
LABELS = ("yes", "no", "maybe")


def _ask(question: str) -> ChatPrompt:
    return ChatPrompt(SYSTEM, f"{question} Reply with one word: yes, no or maybe.")


def test_label_logprobs_are_log_probabilities_of_every_label(generator) -> None:
    scores = generator.label_logprobs(_ask("Is water wet?"), LABELS, prefill="Answer:")
    assert list(scores) == list(LABELS)
    assert all(v < 0 for v in scores.values())
    assert math.fsum(math.exp(v) for v in scores.values()) <= 1.0 + 1e-6


def test_label_logprobs_follow_the_question(generator) -> None:
    true = generator.label_logprobs(_ask("Is Paris the capital of France?"), LABELS)
    false = generator.label_logprobs(_ask("Is Paris the capital of Germany?"), LABELS)
    assert true["yes"] - true["no"] > false["yes"] - false["no"]


def test_label_logprobs_leave_generation_unchanged(generator) -> None:
    """Scoring reuses and trims llama.cpp's KV cache; a later answer must not see stale state."""
    prompt = _ask("Is aspirin a drug?")
    before = "".join(generator.generate(prompt))
    first = generator.label_logprobs(prompt, LABELS, prefill="Answer:")
    again = generator.label_logprobs(prompt, LABELS, prefill="Answer:")  # fully cached prompt
    assert "".join(generator.generate(prompt)) == before
    # A fully cached prompt recomputes only its last token, and a one-token decode rounds
    # differently from a batched one on some CPUs (AVX2: up to 0.1 nat seen on "no"); stale
    # state would change the scores far more, and the decision not at all.
    assert max(first, key=first.__getitem__) == max(again, key=again.__getitem__)
    assert all(abs(first[k] - again[k]) < 0.25 for k in LABELS)


def test_labels_sharing_a_first_token_are_refused(generator) -> None:
    with pytest.raises(ValueError, match="share a first token"):
        generator.label_logprobs(_ask("Is it?"), ("yes", "Yes"))


def test_the_system_turn_cache_is_saved_once_and_loaded_after(tmp_path) -> None:
    """A second start loads the system turn's KV cache instead of computing it; the reply
    to a prompt is the same either way."""
    from qa.config import LLMSettings, default_cache_dir
    from qa.llm import load_generator

    cfg = LLMSettings(model="qwen2.5-coder-0.5b", max_tokens=40)
    prompt = ChatPrompt(SYSTEM, "Passages:\n[1] Memantine blocks NMDA receptors.\n\n"
                                "Question: How does memantine work?")
    replies = []
    for _ in range(2):
        generator = load_generator(cfg, default_cache_dir())
        generator.state_dir = tmp_path
        generator.warm_up(SYSTEM)
        assert len(generator.engine.prefix) > 10  # the system turn is in the cache
        replies.append("".join(generator.generate(prompt)))
    [saved] = list(tmp_path.glob("*.kv"))
    assert saved.stat().st_size > 100_000 and replies[0] == replies[1]
    saved.write_bytes(b"not a state")  # a damaged file is recomputed, not trusted
    generator = load_generator(cfg, default_cache_dir())
    generator.state_dir = tmp_path
    generator.warm_up(SYSTEM)
    assert "".join(generator.generate(prompt)) == replies[0]


def test_a_quantised_kv_cache_holds_the_system_turn_in_about_half_the_bytes(tmp_path) -> None:
    """``llm.kv_type = "q8_0"``: the system turn's saved cache is about half the size of the
    f16 one, kept apart from it (another key), and the model still answers."""
    from qa.config import LLMSettings, default_cache_dir
    from qa.llm import load_generator

    sizes = {}
    for kv_type in ("f16", "q8_0"):
        cfg = LLMSettings(model="qwen2.5-coder-0.5b", max_tokens=20, kv_type=kv_type)
        generator = load_generator(cfg, default_cache_dir())
        generator.state_dir = tmp_path / kv_type
        generator.warm_up(SYSTEM)
        [saved] = list((tmp_path / kv_type).glob("*.kv"))
        sizes[kv_type] = saved.stat().st_size
        assert "".join(generator.generate(_ask("Is water wet?"))).strip()
    assert 0.4 < sizes["q8_0"] / sizes["f16"] < 0.65
