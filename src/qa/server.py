"""`qa serve`: an OpenAI-compatible HTTP API over the shared ``AnswerService``.

Routes: ``GET /v1/models``, ``POST /v1/chat/completions`` (plain or server-sent events),
``GET /health``, and the OpenAPI page at ``/docs``. The only importer of fastapi and
uvicorn. Every error, a bad request or a failure inside, leaves as an OpenAI-style error
body (``{"error": {"message", "type", "param", "code"}}``), never as a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from qa.chat_api import ChatRequest, Completion, RequestError, error_body, to_turns
from qa.config import Settings
from qa.errors import ConfigError, DependencyError, QAError, RequestTimeoutError, ServiceBusyError
from qa.service import AnswerService, Reply, Waiting
from qa.types import EventKind, StreamEvent

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response

log = logging.getLogger(__name__)
DESCRIPTION = (
    "OpenAI-compatible chat over your indexed medical documents. Answers cite their "
    "passages; the `qa` object on each response (the last chunk when streaming) says what "
    "was searched for, what is cited, and whether the question was refused or triaged. "
    "Send `Authorization: Bearer <QA_API_KEY>` when the server has a key."
)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not is_loopback(host) and not api_key:
        raise ConfigError(
            f"refusing to listen on {host} without an API key",
            hint="Set QA_API_KEY (clients send 'Authorization: Bearer <key>'), "
                 "or listen on 127.0.0.1.")


def _error(status: int, message: str, kind: str = "invalid_request_error",
           param: str | None = None, code: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    from fastapi.responses import JSONResponse

    return JSONResponse(error_body(message, kind, param, code), status, headers=headers)


def _qa_failure(err: QAError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A core error as HTTP status, body and headers: busy 503 (Retry-After), over time
    504, anything else 500."""
    if isinstance(err, ServiceBusyError):
        return (503, error_body(err.one_line(), "server_error", None, "queue_full"),
                {"Retry-After": str(err.retry_after_s)})
    if isinstance(err, RequestTimeoutError):
        return 504, error_body(err.one_line(), "server_error", None, "time_limit"), {}
    return 500, error_body(err.one_line(), "server_error", None, "internal_error"), {}


def _param(loc: tuple[int | str, ...]) -> str | None:
    """'messages.0.role' from pydantic's ('body', 'messages', 0, 'role')."""
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or None


def _install_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return _error(400, "the request body is not valid JSON", code="invalid_json")
        loc = tuple(first.get("loc", ()))
        where = _param(loc)
        return _error(400, f"{where or 'body'}: {first.get('msg', 'invalid')}", param=where,
                      code=str(first.get("type", "invalid_value")))

    @app.exception_handler(RequestError)
    async def unanswerable(_: Request, exc: RequestError) -> Response:
        return _error(400, str(exc), param=exc.param, code=exc.code)

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> Response:
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return _error(exc.status_code, str(exc.detail), kind,
                      code="not_found" if exc.status_code == 404 else None)

    @app.exception_handler(QAError)
    async def core(_: Request, exc: QAError) -> Response:
        from fastapi.responses import JSONResponse

        status, body, headers = _qa_failure(exc)
        return JSONResponse(body, status, headers=headers)

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return _error(500, "internal error; see the server log", "server_error")


def _guard(app: FastAPI, settings: Settings) -> None:
    """Body-size limit, and the API key on /v1 when one is set."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    limit = settings.server.max_body_bytes

    @app.middleware("http")
    async def checks(request: Request, call_next: Any) -> Response:
        size = request.headers.get("content-length", "0")
        if not size.isdigit() or int(size) > limit:
            return _error(413, f"the request body is over {limit} bytes", code="too_large")
        if key and request.url.path.startswith("/v1"):
            sent = request.headers.get("authorization", "")
            scheme, _, token = sent.partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), key):
                return _error(401, "missing or wrong API key: send 'Authorization: Bearer "
                              "<QA_API_KEY>'", code="invalid_api_key")
        response: Response = await call_next(request)
        return response


def _sse(data: dict[str, Any] | str) -> str:
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {body}\n\n"


def _stream(service_items: Iterator[StreamEvent | Reply | Waiting],
            reply: Completion) -> Iterator[str]:
    """SSE: the role, then each verified sentence as it holds, then the rest of the
    answer with usage and ``qa``; ``[DONE]``. Waiting shows as an SSE comment."""
    yield _sse(reply.chunk({"role": "assistant", "content": ""}))
    streamed = ""
    try:
        for item in service_items:
            if isinstance(item, Waiting):
                yield f": queued, {item.ahead} ahead\n\n"
            elif isinstance(item, Reply):
                yield _sse(reply.last_chunk(item, streamed))
            elif item.kind is EventKind.SENTENCE:
                piece = f" {item.text}" if streamed else item.text
                streamed += piece
                yield _sse(reply.chunk({"content": piece}))
    except QAError as err:  # the status line is sent: the error goes in the stream
        yield _sse(_qa_failure(err)[1])
    yield _sse("[DONE]")


def _answer(items: Iterator[StreamEvent | Reply | Waiting]) -> Reply:
    """The Reply, once the job is over (read to the end, so it is never cancelled)."""
    replies = [item for item in items if isinstance(item, Reply)]
    if not replies:
        raise QAError("the answer ended without a reply", hint="See the server log.")
    return replies[-1]


def create_app(service: AnswerService, settings: Settings) -> FastAPI:
    """The API app over one running service (the UI may be mounted on it at /ui)."""
    try:
        from fastapi import FastAPI
        from fastapi.responses import StreamingResponse
    except ImportError as err:  # pragma: no cover - fastapi comes with gradio
        raise DependencyError("fastapi is not installed") from err

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # Each waiting request holds a worker thread; leave room for /health and friends.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.server.max_queue + 8)
        yield
        service.close()

    app = FastAPI(title="qa", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.service = service
    _install_handlers(app)
    _guard(app, settings)
    model = service.assistant.model_name

    def model_card() -> dict[str, Any]:
        return {"id": model, "object": "model", "created": 0, "owned_by": "qa"}

    @app.get("/health", summary="Liveness, the models, the index and the queue")
    def health() -> dict[str, Any]:
        assistant = service.assistant
        return {"status": "ok", "model": assistant.model_name,
                "embedder": assistant.embedder.name,
                "documents": len(assistant.index.documents), "queue": service.status()}

    @app.get("/v1/models", summary="The one model served")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{name}", summary="The served model, by its id")
    def model_by_id(name: str) -> dict[str, Any]:
        if name != model:
            raise RequestError(f"no model {name!r}; this server has {model!r}", "model",
                               "model_not_found")
        return model_card()

    @app.post("/v1/chat/completions", summary="Answer the last user message, with citations")
    def chat(request: ChatRequest) -> Any:
        turns = to_turns(request, settings.server)
        ticket = service.chat(turns)  # a full queue raises here: a 503 before any byte
        reply = Completion(model)
        if request.stream:
            return StreamingResponse(_stream(ticket.updates(), reply),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        return reply.whole(_answer(ticket.updates()))

    return app


def run(app: FastAPI, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C stops cleanly)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
