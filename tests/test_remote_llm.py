"""The remote generator against a real server process (llama-cpp-python's, the 0.5B GGUF).

The same greedy prompt must give the same text as the local backend, stop at the same
ChatML stop tokens, and stream in pieces; token counts and label scores come from the
server. The server listens on a free loopback port and is stopped after the module.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import LLMSettings, default_cache_dir
from qa.errors import RemoteLLMError
from qa.llm import ChatPrompt, load_generator
from qa.models import resolve_llm

from .conftest import TEST_LLM

pytestmark = pytest.mark.slow
PROMPTS = (ChatPrompt("You are a careful pharmacist. Answer in one sentence.",
                      "What is paracetamol used for?"),
           ChatPrompt("You answer with a list.", "Name three fruits, one a line."),
           # The 0.5B model loops on this one ("- Headaches" again and again) without a
           # repeat penalty; the server's default penalty (1.1) would end the loop early.
           ChatPrompt("You are a careful pharmacist.",
                      "List the side effects of ibuprofen as a bulleted list."))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extras missing")
    _, path = resolve_llm(TEST_LLM, default_cache_dir())
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--seed", "0", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError("server did not start in 120 s")


def _remote(url: str, **extra: object) -> object:
    cfg = LLMSettings(backend="remote", model=TEST_LLM, base_url=url, max_tokens=160, **extra)
    return load_generator(cfg, Path("/nonexistent"))  # a remote model needs no local file


@pytest.fixture(scope="module")
def same_kernels():
    """The local backend with the server's weight layout (llama.cpp repacks by default; qa
    does not on AVX-512 CPUs): another matrix kernel rounds differently, and over a long
    greedy reply that can change a word."""
    return load_generator(LLMSettings(model=TEST_LLM, max_tokens=160, repack=True),
                          default_cache_dir())


def test_remote_text_equals_the_local_backend(server: str, same_kernels) -> None:
    generator = same_kernels
    remote = _remote(server)
    assert remote.name == TEST_LLM
    for prompt in PROMPTS:
        pieces = list(remote.generate(prompt))
        assert len(pieces) > 3  # streamed, not one block
        text = "".join(pieces)
        assert text == "".join(generator.generate(prompt))
        assert "<|im_end|>" not in text and "<|im_start|>" not in text


def test_remote_counts_tokens_and_scores_labels_like_the_local_one(server: str,
                                                                   generator) -> None:
    remote = _remote(server)
    remote.warm_up(PROMPTS[0].system)
    for text in ("Metformin 500 mg twice daily.", "<|im_start|>user\nhi<|im_end|>"):
        assert remote.count_tokens(text) == generator.count_tokens(text)
    prompt = ChatPrompt("You are a careful assistant.",
                        "Is Paris the capital of France? Reply with one word: yes or no.")
    local = generator.label_logprobs(prompt, ("yes", "no"), prefill="Answer:")
    served = remote.label_logprobs(prompt, ("yes", "no"), prefill="Answer:")
    assert max(served, key=served.get) == max(local, key=local.get)
    assert abs(served["yes"] - local["yes"]) < 0.1


def test_an_unreachable_server_is_a_one_line_error() -> None:
    remote = _remote(f"http://127.0.0.1:{_free_port()}/v1", timeout_s=2)
    with pytest.raises(RemoteLLMError, match="cannot reach") as err:
        list(remote.generate(PROMPTS[0]))
    assert "\n" not in err.value.one_line() and "QA_LLM__BASE_URL" in err.value.one_line()
    with pytest.raises(RemoteLLMError, match="base_url"):
        _remote("")
