"""The Gradio chat in a real browser: ask, watch the answer stream, see the cited passage."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"qa ui exited early: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not come up within {seconds}s")


@pytest.fixture
def ui_url(seed_index: Path):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("QA_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (make browser installs it)")
        pytest.skip("chromium is not installed")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["QA_LLM__MODEL"] = "qwen2.5-coder-0.5b"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ui", "--index", str(seed_index), "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_chat_streams_an_answer_and_shows_the_cited_passage(ui_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        outside: list[str] = []  # the page must load nothing from another host
        page.on("request", lambda r: None if r.url.startswith((ui_url, "data:", "blob:"))
                else outside.append(r.url))
        page.goto(ui_url)
        box = page.locator("#question textarea")
        box.fill("What was dantrolene originally developed to treat?")
        box.press("Enter")
        sources = page.locator("#sources")
        # The heading of the final panel, not the word: a retrieved passage can say "Sources".
        expect(sources.locator("h4")).to_have_text("Sources", timeout=120_000)
        expect(sources).to_contain_text("malignant hyperthermia")
        expect(sources).to_contain_text("003_ff34f6fd0d9cc91e.txt")
        chat = page.locator("#chat")
        expect(chat).to_contain_text("hyperthermia")
        expect(chat).to_contain_text("not medical advice")
        out = REPO / "test-results"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / "ui-answer.png"), full_page=True)
        browser.close()
    assert outside == []
