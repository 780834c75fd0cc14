"""One model, many clients: requests start in arrival order, a few at a time.

``AnswerService`` owns the single ``Assistant`` (one model in memory) and ``workers``
threads (``llm.parallel``: the answers the model decodes together). ``chat()`` and
``run()`` queue a job and return a ``Ticket`` at once, or raise ``ServiceBusyError`` when
``max_queue`` jobs are already waiting. Jobs start in order as workers free up;
``Ticket.updates()`` yields a job's items as they come, and ``Waiting(ahead)`` while it is
still queued. Each job may run ``time_limit_s`` once its turn comes: the generator is
stopped at its next token and the ticket fails with ``RequestTimeoutError``.

The HTTP API (``qa.server``) and the chat UI share one service, so one process serves
both with one model. Changes to the index (``update_index``) run alone: they wait for the
running answers to end and hold back the next ones, so no question ever sees a
half-updated index.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from qa.config import ServerSettings
from qa.conversation import Turn
from qa.errors import QAError, RequestTimeoutError, ServiceBusyError
from qa.llm import ChatPrompt, WrappedGenerator
from qa.types import Answer, StreamEvent

if TYPE_CHECKING:
    from qa.answer import Assistant

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[["Assistant"], Iterator[T]]  # runs on the worker thread
Clock = Callable[[], float]


@dataclass(frozen=True)
class Waiting:
    """The job is queued: ``ahead`` jobs (the running one included) come before it."""

    ahead: int


@dataclass(frozen=True)
class Reply:
    """An answered chat: the Answer, its token counts (OpenAI ``usage``) and queue time."""

    answer: Answer
    prompt_tokens: int
    completion_tokens: int
    queued_ms: float


class _Stopped(Exception):
    """The ticket was cancelled (its client went away): stop generating."""


@dataclass(frozen=True)
class _Failure:
    error: QAError


_END = object()


class Ticket(Generic[T]):
    """One queued job; read its items with ``updates()`` (from any one thread)."""

    def __init__(self, seq: int, job: Job[T], service: AnswerService,
                 exclusive: bool = False) -> None:
        self.seq = seq
        self.job = job
        self.exclusive = exclusive  # runs with no other job at the same time
        self.cancelled = False
        self._service = service
        self._items: queue.Queue[object] = queue.Queue()

    def updates(self, poll_s: float = 0.25) -> Iterator[T | Waiting]:
        """The job's items as they come, ``Waiting`` while queued; raises the job's
        QAError. Leaving the loop early cancels the job."""
        shown = 0
        try:
            while True:
                ahead = self._service.ahead_of(self)
                if ahead and ahead != shown:
                    shown = ahead
                    yield Waiting(ahead)
                try:
                    item = self._items.get(timeout=poll_s)
                except queue.Empty:
                    continue
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item  # type: ignore[misc]  # only the job's items reach here
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Drop the job if it is still queued; stop it at its next step if it runs."""
        self.cancelled = True
        self._service._forget(self)

    def _put(self, item: object) -> None:
        self._items.put(item)


@dataclass
class _Guard(WrappedGenerator):
    """Wraps the Generator so a running job stops mid-answer when it is over time or its
    client has gone (the model would otherwise finish a reply nobody reads)."""

    check: Callable[[], None]

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        for piece in self.inner.generate(prompt):
            self.check()
            yield piece


@dataclass
class AnswerService:
    """The shared queue in front of one Assistant; see the module docstring."""

    assistant: Assistant
    cfg: ServerSettings = field(default_factory=ServerSettings)
    clock: Clock = time.monotonic
    workers: int = 1
    _waiting: deque[Ticket[object]] = field(default_factory=deque, init=False, repr=False)
    _running: dict[Ticket[object], float] = field(  # running job -> its deadline
        default_factory=dict, init=False, repr=False)
    _alone: bool = field(default=False, init=False, repr=False)  # an exclusive job runs
    _mine: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _seq: int = field(default=0, init=False, repr=False)
    _mean_s: float = field(default=5.0, init=False, repr=False)  # recent job duration
    _closed: bool = field(default=False, init=False, repr=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, init=False,
                                       repr=False)

    def __post_init__(self) -> None:
        self._install(self.assistant)
        self._threads = [threading.Thread(target=self._work, name=f"qa-service-{i}",
                                          daemon=True) for i in range(self.workers)]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------ submitting

    def chat(self, messages: Sequence[Turn]) -> Ticket[StreamEvent | Reply]:
        """Queue an answer to the last user message: evidence and verified sentences as
        ``StreamEvent``s, then one ``Reply`` (instead of the ANSWER event)."""
        turns = list(messages)
        queued = self.clock()

        def job(assistant: Assistant) -> Iterator[StreamEvent | Reply]:
            waited = round((self.clock() - queued) * 1000, 1)
            for event in assistant.chat_stream(turns):
                if event.answer is None:
                    yield event
                    continue
                count = assistant.generator.count_tokens
                yield Reply(event.answer, sum(count(t.content) for t in turns),
                            count(event.answer.answer), waited)

        return self.run(job)

    def run(self, job: Job[T], *, exclusive: bool = False) -> Ticket[T]:
        """Queue any job that needs the model or the index; ``exclusive`` ones run alone."""
        with self._lock:
            if self._closed:
                raise QAError("the service is shutting down", hint="Retry in a moment.")
            if len(self._waiting) >= self.cfg.max_queue:
                retry = max(1, math.ceil(self._mean_s))
                raise ServiceBusyError(
                    f"{len(self._waiting)} requests are already waiting", retry_after_s=retry)
            self._seq += 1
            ticket: Ticket[T] = Ticket(self._seq, job, self, exclusive)
            self._waiting.append(ticket)  # type: ignore[arg-type]
            self._lock.notify_all()
        return ticket

    def update_index(self, task: Callable[[], Iterator[T]]) -> Ticket[T]:
        """Queue a change to the index on disk; the live Assistant is reopened after it,
        with no question running."""
        from qa.library import reopen

        def job(assistant: Assistant) -> Iterator[T]:
            try:
                yield from task()
            finally:  # even a failed change may have written a new generation
                self._install(reopen(assistant))

        return self.run(job, exclusive=True)

    # ------------------------------------------------------------ state

    def ahead_of(self, ticket: Ticket[T]) -> int:
        """Jobs that come before a queued ticket, the running ones included (0 once it
        runs or is done)."""
        with self._lock:
            for i, waiting in enumerate(self._waiting):
                if waiting is ticket:
                    return i + len(self._running)
        return 0

    def status(self) -> dict[str, object]:
        """Queue length and limits, for /health."""
        with self._lock:
            return {"waiting": len(self._waiting), "running": len(self._running),
                    "workers": self.workers, "max_queue": self.cfg.max_queue,
                    "time_limit_s": self.cfg.time_limit_s}

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop taking jobs; cancel the waiting ones; let the running ones stop."""
        with self._lock:
            self._closed = True
            for ticket in self._waiting:
                ticket.cancelled = True
                ticket._put(_Failure(QAError("the service shut down", hint="Retry later.")))
            self._waiting.clear()
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)

    # ------------------------------------------------------------ workers

    def _install(self, assistant: Assistant) -> None:
        model = assistant.generator
        inner = model.inner if isinstance(model, _Guard) else model
        assistant.generator = _Guard(inner, self._check)
        self.assistant = assistant

    def _check(self) -> None:
        """Called on a worker at every token of its job: stop it if cancelled or late."""
        current: Ticket[object] | None = getattr(self._mine, "ticket", None)
        if current is None:
            return
        if current.cancelled:
            raise _Stopped
        if self.clock() > self._running.get(current, math.inf):
            raise RequestTimeoutError(
                f"the answer took longer than the {self.cfg.time_limit_s:g} s time limit")

    def _forget(self, ticket: Ticket[T]) -> None:
        with self._lock:
            if ticket in self._waiting:
                self._waiting.remove(ticket)  # type: ignore[arg-type]
                self._lock.notify_all()

    def _startable(self) -> Ticket[object] | None:
        """The first waiting job, if it may start now: nothing runs beside an exclusive
        job, and an exclusive job waits for the running ones to end."""
        head = self._waiting[0] if self._waiting else None
        if head is None or self._alone or (head.exclusive and self._running):
            return None
        return head

    def _next(self) -> Ticket[object] | None:
        with self._lock:
            while (ticket := self._startable()) is None and not self._closed:
                self._lock.wait()
            if ticket is None or self._closed:
                return None
            self._waiting.popleft()
            self._running[ticket] = self.clock() + self.cfg.time_limit_s
            self._alone = ticket.exclusive
            return ticket

    def _work(self) -> None:
        while (ticket := self._next()) is not None:
            started = self.clock()
            self._mine.ticket = ticket
            try:
                self._run(ticket)
            finally:
                self._mine.ticket = None
                with self._lock:
                    self._mean_s = 0.7 * self._mean_s + 0.3 * (self.clock() - started)
                    del self._running[ticket]
                    self._alone = False
                    self._lock.notify_all()

    def _run(self, ticket: Ticket[object]) -> None:
        """Run one job, passing its items on; never lets an error kill the worker."""
        try:
            for item in ticket.job(self.assistant):
                self._check()
                ticket._put(item)
        except _Stopped:
            log.info("request %d cancelled by its client", ticket.seq)
        except QAError as err:
            ticket._put(_Failure(err))
        except Exception:  # a bug must fail one request, not the service
            log.exception("request %d failed", ticket.seq)
            ticket._put(_Failure(QAError("internal error while answering",
                                         hint="See the server log; other requests go on.")))
        ticket._put(_END)
