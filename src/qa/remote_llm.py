"""A Generator that calls an OpenAI-compatible completions server (the only httpx importer).

For deployments where many users share generation servers (llama.cpp's server, vLLM,
``python -m llama_cpp.server``) while retrieval, verification and safety stay in qa. The
prompt is the same ChatML text the local backend renders (``ChatMLFormat``), sent to the
plain ``/completions`` endpoint (not ``/chat/completions``, whose server-side template
could differ), with the same stop strings and every decoding setting spelled out
(``qa.llm.sampling``: a server's own defaults differ, e.g. a 1.1 repeat penalty), streamed
as server-sent events.

What a server may not offer, and what happens then:

* ``count_tokens``: llama-cpp-python's ``/extras/tokenize/count`` or llama.cpp's
  ``/tokenize``; a server with neither raises ``RemoteLLMError``.
* ``warm_up``: one 1-token completion of the system turn, so a server that keeps its KV
  cache (llama.cpp) has it prefilled; harmless elsewhere.
* ``label_logprobs``: from the top-20 log-probabilities of the first generated token
  (``logprobs``); a label none of whose spellings is among them gets the lowest of the 20,
  an upper bound (the local backend reads the full distribution). A server that returns
  no log-probabilities raises ``RemoteLLMError``.
* grammars: sent as llama.cpp's ``grammar`` field; other servers may ignore it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.config import LLMSettings
from qa.errors import DependencyError, RemoteLLMError
from qa.llm import ChatMLFormat, ChatPrompt, sampling

log = logging.getLogger(__name__)

TOP_LOGPROBS = 20
TOKEN_COUNTERS = (("/extras/tokenize/count", "input", "count"),  # llama-cpp-python
                  ("/tokenize", "content", "tokens"))  # llama.cpp server


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise DependencyError("httpx is not installed") from err
    return httpx


@dataclass
class RemoteGenerator:
    """A model served over HTTP; ``cfg.base_url`` is the API root (``.../v1``)."""

    cfg: LLMSettings
    chat: ChatMLFormat = field(default_factory=ChatMLFormat)
    _client: Any = field(init=False, repr=False)
    _counter: tuple[str, str, str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.cfg.base_url:
            raise RemoteLLMError("the remote LLM backend needs llm.base_url",
                                 "Set QA_LLM__BASE_URL, e.g. http://gen-host:8080/v1.")
        key = self.cfg.api_key.get_secret_value() if self.cfg.api_key else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = _httpx().Client(base_url=self.cfg.base_url.rstrip("/"),
                                       headers=headers, timeout=self.cfg.timeout_s)

    @property
    def name(self) -> str:
        return self.cfg.model

    def _body(self, text: str, **extra: Any) -> dict[str, Any]:
        decoding = sampling(self.cfg)
        decoding["repetition_penalty"] = decoding["repeat_penalty"]  # vLLM's name for it
        return {"model": self.cfg.model, "prompt": text, "max_tokens": self.cfg.max_tokens,
                "stop": list(self.chat.stop), **decoding, **extra}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        httpx = _httpx()
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as err:
            raise RemoteLLMError(f"cannot reach the LLM server at {self.cfg.base_url}: "
                                 f"{err}") from err
        if response.status_code != 200:
            raise RemoteLLMError(f"LLM server {self.cfg.base_url}{path} answered "
                                 f"{response.status_code}: {response.text[:200]}")
        return dict(response.json())

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        """Stream the completion of the ChatML-rendered prompt, piece by piece."""
        extra: dict[str, Any] = {"stream": True}
        if prompt.grammar is not None:
            extra["grammar"] = prompt.grammar
        body = self._body(self.chat.render(prompt), **extra)
        httpx = _httpx()
        try:
            with self._client.stream("POST", "/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise RemoteLLMError(f"LLM server answered {response.status_code}: "
                                         f"{response.text[:200]}")
                yield from _events(response.iter_lines())
        except httpx.ConnectError as err:
            raise RemoteLLMError(f"cannot reach the LLM server at {self.cfg.base_url}: "
                                 f"{err}") from err
        except httpx.HTTPError as err:
            raise RemoteLLMError(f"LLM server {self.cfg.base_url} failed mid-answer: "
                                 f"{err}") from err

    def warm_up(self, system: str) -> None:
        """Have the server evaluate the fixed system turn once (its KV cache keeps it)."""
        prefix = self.chat.render(ChatPrompt(system, "")).split("<|im_start|>user")[0]
        self._post("/completions", self._body(prefix, max_tokens=1))

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the served model's vocabulary, counted by the server."""
        root = self.cfg.base_url.rstrip("/").removesuffix("/v1")
        httpx = _httpx()
        for path, field_name, answer in ([self._counter] if self._counter else TOKEN_COUNTERS):
            try:
                response = httpx.post(root + path, json={field_name: text},
                                      headers=self._client.headers, timeout=self.cfg.timeout_s)
            except httpx.HTTPError as err:
                raise RemoteLLMError(f"cannot reach the LLM server at {root}: {err}") from err
            if response.status_code == 200:
                self._counter = (path, field_name, answer)
                value = response.json()[answer]
                return value if isinstance(value, int) else len(value)
        raise RemoteLLMError(f"the LLM server at {root} cannot count tokens (no "
                             "/extras/tokenize/count or /tokenize endpoint)")

    def label_logprobs(self, prompt: ChatPrompt, labels: Sequence[str],
                       prefill: str = "") -> dict[str, float]:
        """Log-probability of each label as the next word, from the server's top 20."""
        body = self._body(self.chat.render(prompt) + prefill, max_tokens=1,
                          logprobs=TOP_LOGPROBS, temperature=0.0)
        choice = self._post("/completions", body)["choices"][0]
        tops = (choice.get("logprobs") or {}).get("top_logprobs") or []
        if not tops or not tops[0]:
            raise RemoteLLMError(f"the LLM server at {self.cfg.base_url} returns no "
                                 "log-probabilities", "Use a server that supports `logprobs` "
                                 "on /completions (llama.cpp, vLLM), or the local backend.")
        top: dict[str, float] = tops[0]
        floor = min(top.values())
        out = {}
        for label in labels:
            spellings = {label, label.capitalize(), f" {label}", f" {label.capitalize()}"}
            found = [lp for token, lp in top.items() if token in spellings]
            out[label] = (math.log(sum(math.exp(lp) for lp in found)) if found else floor)
        return out

    def prepare(self, system: str, chunks: Sequence[tuple[str, str]]) -> int:
        """Nothing to precompute: the server computes every prompt."""
        return 0


def _events(lines: Iterator[str]) -> Iterator[str]:
    """The text pieces of an OpenAI server-sent event stream."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        text = json.loads(data)["choices"][0].get("text") or ""
        if text:
            yield text
