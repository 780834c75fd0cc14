"""`qa serve` as its users meet it: a real server process, the official `openai` client.

One server (the 0.5B model, an API key, the chat UI mounted) for the module. The model
may answer poorly; the tests assert the contract: the shapes, the stream, what was
searched for, that markers point at citations, the errors and the key.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import qa_env

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
KEY = "test-key-1234"
MODEL = "qwen2.5-coder-0.5b"
MEMANTINE = "000_caeb206a0aa03600.txt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = qa_env()
    return {**env, "QA_LLM__MODEL": MODEL, **extra}


@pytest.fixture(scope="module")
def base_url(process_index: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--index", str(process_index), "--port",
         str(port), "--ui"], cwd=REPO, env=_env(QA_API_KEY=KEY), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"qa serve exited early: {proc.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("qa serve did not come up") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(base_url: str) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0, timeout=300)


def _qa(response: Any) -> dict[str, Any]:
    """The `qa` extension object beside the OpenAI fields."""
    return (response.model_extra or {})["qa"]


def _markers_are_citations(text: str, qa: dict[str, Any]) -> None:
    cited = {c["n"] for c in qa["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} <= cited


def test_a_plain_call(client) -> None:
    question = "What was dantrolene originally developed to treat?"
    completion = client.chat.completions.create(
        model="anything", messages=[{"role": "user", "content": question}], temperature=0.2)
    assert completion.model == MODEL and completion.object == "chat.completion"
    message = completion.choices[0].message
    qa = _qa(completion)
    assert message.role == "assistant" and message.content
    assert message.content.endswith(qa["disclaimer"])
    assert qa["standalone_question"] == question and qa["status"] in (
        "answered", "insufficient_evidence")
    _markers_are_citations(message.content, qa)
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert [m.id for m in client.models.list()] == [MODEL]


def test_a_streamed_call(client) -> None:
    stream = client.chat.completions.create(
        model=MODEL, stream=True,
        messages=[{"role": "user", "content": "How does memantine work?"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    qa = _qa(chunks[-1])
    assert all("qa" not in (c.model_extra or {}) for c in chunks[:-1])  # only the last
    assert text and text.endswith(qa["disclaimer"])
    _markers_are_citations(text, qa)
    assert chunks[-1].usage.completion_tokens > 0


def test_a_two_turn_conversation(client) -> None:
    first = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "How does memantine work?"}])
    follow_up = client.chat.completions.create(model=MODEL, messages=[
        {"role": "user", "content": "How does memantine work?"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "What about its side effects?"},
    ])
    qa = _qa(follow_up)
    assert qa["standalone_question"] == "What are the side effects of memantine?"
    for citation in qa["citations"]:  # about the right drug, never another one
        assert citation["source"] == MEMANTINE or "memantine" in citation["text"].lower()
    _markers_are_citations(follow_up.choices[0].message.content, qa)


def test_an_error_is_a_4xx_with_the_openai_error_type(client, base_url) -> None:
    from openai import AuthenticationError, BadRequestError, OpenAI

    with pytest.raises(BadRequestError) as bad:
        client.chat.completions.create(model=MODEL, messages=[
            {"role": "assistant", "content": "Hello, how can I help?"}])
    assert bad.value.status_code == 400 and bad.value.type == "invalid_request_error"
    assert bad.value.param == "messages" and "no user message" in bad.value.message
    with pytest.raises(BadRequestError) as long:
        client.chat.completions.create(model=MODEL, messages=[
            {"role": "user", "content": "x" * 100_000}])
    assert long.value.code == "message_too_long"
    stranger = OpenAI(base_url=f"{base_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(AuthenticationError) as denied:
        stranger.models.list()
    assert denied.value.status_code == 401 and denied.value.code == "invalid_api_key"


def test_the_chat_page_is_served_by_the_same_process(base_url) -> None:
    with urllib.request.urlopen(f"{base_url}/ui/", timeout=30) as page:
        assert page.status == 200


def test_off_loopback_without_a_key_it_refuses_to_start(process_index: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "serve", "--index", str(process_index), "--host",
         "0.0.0.0", "--port", str(_free_port())], cwd=REPO, env=_env(), capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert line == ("Error: refusing to listen on 0.0.0.0 without an API key. Set QA_API_KEY "
                    "(clients send 'Authorization: Bearer <key>'), or listen on 127.0.0.1.")
