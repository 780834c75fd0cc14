"""The shared queue: one job at a time in arrival order, bounded, cancellable, time-limited.

Jobs that block on an Event keep the worker busy for exactly as long as a test needs, so
the order and the queue positions are deterministic (no sleeps, no timing assertions).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import ServerSettings
from qa.conversation import Turn
from qa.errors import QAError, RequestTimeoutError, ServiceBusyError
from qa.service import AnswerService, Reply, Waiting
from qa.types import EventKind

from .conftest import settings_for
from .fakes import FakeGenerator, first_sentence_cited

QUESTION = "What was dantrolene originally developed to treat?"


_reply = first_sentence_cited


@pytest.fixture(scope="module")
def assistant(seed_index: Path, embedder):
    from qa.answer import Assistant

    return Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                          generator=FakeGenerator(*[_reply] * 20))


@pytest.fixture
def service(assistant) -> Iterator[AnswerService]:
    running = AnswerService(assistant, ServerSettings(max_queue=2))
    yield running
    running.close()


def _blocker(service: AnswerService) -> tuple[threading.Event, threading.Event]:
    """Occupy the worker until ``release`` is set; ``started`` says it is running."""
    started, release = threading.Event(), threading.Event()

    def job(_assistant) -> Iterator[str]:
        started.set()
        release.wait(30)
        yield "blocker done"

    service.run(job)
    assert started.wait(30)
    return started, release


def _items(ticket) -> list[object]:
    """What a job yielded (queue notices left out: how long a blocker takes to let go
    is not the test's business)."""
    return [i for i in ticket.updates(poll_s=0.01) if not isinstance(i, Waiting)]


def test_jobs_run_in_arrival_order_and_say_how_many_come_first(service) -> None:
    _, release = _blocker(service)
    done: list[str] = []

    def job(name: str):
        def run(_assistant) -> Iterator[str]:
            done.append(name)
            yield name
        return run

    first, second = service.run(job("first")), service.run(job("second"))
    assert service.ahead_of(first) == 1 and service.ahead_of(second) == 2
    updates = second.updates(poll_s=0.01)
    assert next(updates) == Waiting(2)  # the running blocker and `first`
    release.set()
    assert [i for i in updates if not isinstance(i, Waiting)] == ["second"]
    assert _items(first) == ["first"]
    assert done == ["first", "second"]


def test_a_full_queue_refuses_at_once_with_a_retry_estimate(service) -> None:
    _, release = _blocker(service)
    service.run(lambda _a: iter(["a"]))
    service.run(lambda _a: iter(["b"]))  # max_queue=2: now full
    with pytest.raises(ServiceBusyError) as caught:
        service.run(lambda _a: iter(["c"]))
    assert caught.value.retry_after_s >= 1
    release.set()


def test_a_job_cancelled_while_queued_never_runs(service) -> None:
    _, release = _blocker(service)
    ran: list[str] = []
    ticket = service.run(lambda _a: iter(ran.append("ran") or ["x"]))
    ticket.cancel()
    assert service.status()["waiting"] == 0
    release.set()
    assert _items(service.run(lambda _a: iter(["after"]))) == ["after"]
    assert ran == []


def test_a_chat_streams_events_then_a_reply_with_token_counts(service) -> None:
    turns = [Turn("user", QUESTION)]
    items = _items(service.chat(turns))
    kinds = [i.kind for i in items if not isinstance(i, Reply)]
    assert kinds[0] is EventKind.EVIDENCE and EventKind.SENTENCE in kinds
    reply = items[-1]
    assert isinstance(reply, Reply) and not reply.answer.refused
    assert reply.prompt_tokens == len(QUESTION.split())  # FakeGenerator counts words
    assert reply.completion_tokens == len(reply.answer.answer.split())


def test_a_request_over_its_time_limit_is_stopped_mid_answer(seed_index, embedder) -> None:
    from qa.answer import Assistant

    now = [0.0]

    def slow_reply(prompt) -> str:  # the model starts; meanwhile 1000 s go by
        now[0] += 1000
        return _reply(prompt) + " More words that will never be sent."

    generator = FakeGenerator(slow_reply)
    assistant = Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                               generator=generator)
    slow = AnswerService(assistant, ServerSettings(time_limit_s=60), clock=lambda: now[0])
    try:
        items: list[object] = []
        with pytest.raises(RequestTimeoutError, match="60 s time limit"):
            for item in slow.chat([Turn("user", QUESTION)]).updates(poll_s=0.01):
                items.append(item)
        assert len(generator.prompts) == 1  # the model was called, then stopped
        assert not any(getattr(i, "kind", None) is EventKind.SENTENCE for i in items)
        assert _items(slow.run(lambda _a: iter(["still serving"]))) == ["still serving"]
    finally:
        slow.close()


def test_a_failing_job_fails_its_ticket_not_the_service(service) -> None:
    def broken(_assistant) -> Iterator[str]:
        raise RuntimeError("bug")
        yield "never"

    with pytest.raises(QAError, match="internal error"):
        _items(service.run(broken))
    with pytest.raises(QAError, match="no user message"):
        _items(service.chat([Turn("assistant", "hello")]))
    assert _items(service.run(lambda _a: iter(["ok"]))) == ["ok"]


def test_two_workers_run_two_jobs_at_once(assistant) -> None:
    both = AnswerService(assistant, ServerSettings(max_queue=4), workers=2)
    try:
        first_in, release = threading.Event(), threading.Event()

        def waits(_assistant) -> Iterator[str]:
            first_in.set()
            release.wait(30)
            yield "first"

        first = both.run(waits)
        assert first_in.wait(30)
        # The second job runs while the first still holds its worker.
        assert _items(both.run(lambda _a: iter(["second"]))) == ["second"]
        assert both.status()["running"] == 1
        release.set()
        assert _items(first) == ["first"]
    finally:
        both.close()


def test_an_index_change_waits_for_running_answers_and_runs_alone(assistant) -> None:
    both = AnswerService(assistant, ServerSettings(max_queue=4), workers=2)
    order: list[str] = []
    try:
        answering, release = threading.Event(), threading.Event()

        def answer(_assistant) -> Iterator[str]:
            answering.set()
            release.wait(30)
            order.append("answer done")
            yield "answer"

        def change() -> Iterator[str]:
            order.append("change")
            yield "changed"

        running = both.run(answer)
        assert answering.wait(30)
        change_ticket = both.update_index(change)
        later = both.run(lambda _a: iter(order.append("later") or ["later"]))
        assert both.ahead_of(later) == 2  # the change, and the running answer
        release.set()
        assert _items(running) == ["answer"]
        assert _items(change_ticket) == ["changed"]
        assert _items(later) == ["later"]
        assert order == ["answer done", "change", "later"]
    finally:
        both.close()
