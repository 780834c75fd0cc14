"""The web page on a clinic network: a login off loopback, text that never renders as HTML
or a link, and an upload route that takes nothing bigger than the ingest reads."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from qa.config import IngestSettings, Settings, UISettings
from qa.errors import ConfigError
from qa.types import (
    Answer,
    AnswerStatus,
    Chunk,
    Citation,
    EventKind,
    Passage,
    StreamEvent,
    Timings,
)

from .test_cli import qa

HOSTILE = ('Dantrolene treats malignant hyperthermia [1]. <img src="http://tracker.example/p.png">'
           ' <b>bold</b> see https://evil.example/a and [click](https://evil.example/b) '
           '<a href="https://evil.example/c">c</a>')


def _settings(password: str | None = None) -> Settings:
    return Settings(ui=UISettings(password=password))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_login(host: str) -> None:
    from qa.ui.app import login_for

    assert login_for(_settings(), host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "clinic-pc"])
def test_any_other_address_needs_a_password(host: str) -> None:
    from qa.ui.app import login_for

    with pytest.raises(ConfigError, match="without a login.*QA_UI__PASSWORD"):
        login_for(_settings(), host)
    with pytest.raises(ConfigError, match="at least 12"):
        login_for(_settings("short"), host)
    assert login_for(_settings("correct horse battery"), host) == ("qa", "correct horse battery")


def test_qa_ui_on_all_interfaces_refuses_at_once_in_one_line(tmp_path: Path) -> None:
    result = qa("ui", "--host", "0.0.0.0", "--index", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: refusing to serve the page on 0.0.0.0 without a "
                                    "login")


def test_messages_are_text_only() -> None:
    from qa.ui.render import inert

    shown = inert('<img src="x"> & <b>bold</b> [a](https://evil.example/b)')
    assert "<" not in shown.replace("&lt;", "")  # no tag survives
    assert "`https://evil.example/b`" in shown  # an address is shown, in a code span
    assert "\\[a\\]" in shown  # no markdown link either


def test_the_api_key_is_the_page_password_when_no_other_is_set() -> None:
    from qa.ui.app import login_for

    settings = Settings(api_key="a-long-enough-api-key")
    assert login_for(settings, "0.0.0.0") == ("qa", "a-long-enough-api-key")


class _HostileAssistant:
    """Stands in for Assistant: streams evidence, a sentence and an answer full of markup."""

    model_name = "stub"
    embedder = SimpleNamespace(name="stub-embedder")
    generator = SimpleNamespace(count_tokens=len)
    settings = Settings()

    def chat_stream(self, turns: list[Any]) -> Iterator[StreamEvent]:
        question = turns[-1].content
        chunk = Chunk("c1", "d1", "leaflet.html", "<img src=http://tracker.example/t.png>",
                      "", 0, len(HOSTILE), HOSTILE)
        yield StreamEvent(EventKind.EVIDENCE, passages=(Passage(chunk, 1.0),))
        yield StreamEvent(EventKind.SENTENCE, text=HOSTILE)
        citation = Citation(n=1, doc_id="d1", source="leaflet.html", title=chunk.title,
                            section="", start=0, end=40, text=HOSTILE[:40])
        yield StreamEvent(EventKind.ANSWER, answer=Answer(
            question=question, text=HOSTILE, status=AnswerStatus.ANSWERED, model="stub",
            timings=Timings(), citations=(citation,), disclaimer="This is not medical advice.",
            passages=(Passage(chunk, 1.0),)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def hostile_page() -> Iterator[str]:
    from qa.service import AnswerService
    from qa.ui.app import CSS, build_app, upload_limit

    settings = Settings(ingest=IngestSettings(max_file_mb=0.001),  # 1 KB
                        index_dir=Path(tempfile.mkdtemp()) / "index",
                        feedback_file=Path(tempfile.mkdtemp()) / "feedback.jsonl")
    service = AnswerService(_HostileAssistant(), settings.server)  # type: ignore[arg-type]
    app = build_app(service, settings)
    port = _free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                       css=CSS, footer_links=[], max_file_size=upload_limit(settings))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.close()
        service.close()


def test_the_upload_route_takes_nothing_bigger_than_the_ingest_limit(hostile_page: str) -> None:
    body = (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.pdf\"\r\n"
            b"Content-Type: application/pdf\r\n\r\n" + b"x" * 4096 + b"\r\n--b--\r\n")
    request = urllib.request.Request(f"{hostile_page}/gradio_api/upload", data=body,
                                     headers={"Content-Type": "multipart/form-data; boundary=b"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 413


@pytest.mark.slow
@pytest.mark.browser
def test_markup_in_answers_and_sources_never_renders(hostile_page: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("chromium is not installed")
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
        page.goto(hostile_page)
        page.locator("#question textarea").fill("What does dantrolene treat?")
        page.locator("#question textarea").press("Enter")
        expect(page.locator("#sources")).to_contain_text("Sources", timeout=60_000)
        chat, sources = page.locator("#chat"), page.locator("#sources")
        expect(chat).to_contain_text("not medical advice")
        expect(chat).to_contain_text('<img src="http://tracker.example/p.png">')
        for region in (chat, sources):
            assert region.locator("img").count() == 0
            assert region.locator("b", has_text="bold").count() == 0  # the '<b>bold</b>'
            hrefs = [a.get_attribute("href") or "" for a in region.locator("a").all()]
            assert not [h for h in hrefs if "evil.example" in h or "tracker" in h]
        browser.close()
    assert outside == []
