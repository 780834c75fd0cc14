"""The OpenAI chat-completions wire format, as `qa serve` speaks it: requests in, JSON out.

Pydantic models at the input edge (strict, unknown fields rejected as OpenAI does), the
checks that need settings (``to_turns``), and builders for completions, stream chunks,
the ``qa`` extension and OpenAI-style error bodies. No HTTP here: ``qa.server`` routes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.config import ServerSettings
from qa.conversation import Turn
from qa.service import Reply


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TextPart(_Strict):
    type: Literal["text"]
    text: str


class Message(_Strict):
    """One chat message. ``system``/``developer`` messages are accepted and not followed:
    the assistant's instructions are fixed (see README, "The HTTP API")."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(_Strict):
    """POST /v1/chat/completions. Only ``messages`` and ``stream`` change what happens;
    ``model`` is echoed as the served model, and the sampling fields are accepted and
    ignored (answers are greedy and verified, so they would change nothing safe)."""

    model: str = Field("qa", description="Ignored: one model is served (see /v1/models).")
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    n: int = Field(1, ge=1, le=1, description="Only 1 answer per request.")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    user: str | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    stream_options: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    parallel_tool_calls: bool | None = None


class RequestError(Exception):
    """A request that parses but cannot be answered: 400 with an OpenAI error body."""

    def __init__(self, message: str, param: str | None = None,
                 code: str | None = "invalid_value") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def to_turns(request: ChatRequest, cfg: ServerSettings) -> list[Turn]:
    """The conversation as the core takes it: user and assistant turns, checked."""
    if len(request.messages) > cfg.max_messages:
        raise RequestError(f"at most {cfg.max_messages} messages per request", "messages")
    turns: list[Turn] = []
    for i, message in enumerate(request.messages):
        text = message.text()
        if len(text) > cfg.max_message_chars:
            raise RequestError(
                f"message {i} has {len(text)} characters; the limit is "
                f"{cfg.max_message_chars}", f"messages.{i}.content", "message_too_long")
        if message.role in ("user", "assistant"):
            turns.append(Turn(message.role, text))
    if not any(t.role == "user" for t in turns):
        raise RequestError("the messages contain no user message", "messages")
    if turns[-1].role != "user":
        raise RequestError("the last message must come from the user", "messages")
    if not turns[-1].content.strip():
        raise RequestError("the last user message is empty",
                           f"messages.{len(request.messages) - 1}.content")
    return turns


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def qa_extension(reply: Reply) -> dict[str, Any]:
    """The ``qa`` object beside the OpenAI fields: what the core decided, and from what."""
    answer = reply.answer
    return {
        "refused": answer.refused,
        "status": answer.status.value,
        "triage": answer.triage.value if answer.triage else None,
        "standalone_question": answer.standalone_question or answer.question,
        "citations": [asdict(c) for c in answer.citations],
        "disclaimer": answer.disclaimer,
        "timings": {**asdict(answer.timings), "queue_ms": reply.queued_ms},
        "settings_hash": answer.settings_hash,
    }


def usage(reply: Reply) -> dict[str, int]:
    """Token counts in the model's vocabulary: the messages sent, and the answer."""
    return {"prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens}


class Completion:
    """One response's id, time and model name, shared by all of its chunks."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model

    def whole(self, reply: Reply) -> dict[str, Any]:
        """A ``chat.completion``: the composed answer as the assistant message."""
        return {
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model, "system_fingerprint": reply.answer.settings_hash,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": reply.answer.answer}}],
            "usage": usage(reply), "qa": qa_extension(reply),
        }

    def chunk(self, delta: dict[str, str], finish: str | None = None,
              **extra: Any) -> dict[str, Any]:
        """A ``chat.completion.chunk`` with one delta (the last one carries ``extra``)."""
        return {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                         "logprobs": None}],
            **extra,
        }

    def last_chunk(self, reply: Reply, streamed: str) -> dict[str, Any]:
        """What the sentences did not say yet (triage guidance, the disclaimer; all of a
        refusal), with ``usage`` and the ``qa`` extension."""
        answer = reply.answer
        rest = "\n\n".join(p for p in (answer.guidance, answer.disclaimer) if p)
        if not streamed or answer.answer.startswith(streamed):
            tail = answer.answer[len(streamed):]
        else:  # cannot happen (the sentences are the text); never repeat what was sent
            tail = f"\n\n{rest}" if rest else ""
        return self.chunk({"content": tail} if tail else {}, "stop",
                          system_fingerprint=reply.answer.settings_hash,
                          usage=usage(reply), qa=qa_extension(reply))
