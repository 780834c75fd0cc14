"""The Gradio chat in a real browser: streamed answers, follow-ups, uploads, feedback, export.

One `qa ui` process (the 0.5B model) over a private copy of the seed corpus and index,
so uploads and removals touch nothing else. The small model may answer poorly: the tests
assert what the pipeline guarantees (what was searched for, what is listed, retrieved and
written), not its wording.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import SEED, qa_env

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MEMANTINE = "000_caeb206a0aa03600.txt"
LONG = 120_000  # ms: an answer from the 0.5B model on a shared 2-core CPU


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


@pytest.fixture(scope="module")
def site(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("QA_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (make browser installs it)")
        pytest.skip("chromium is not installed")
    root = tmp_path_factory.mktemp("ui")
    shutil.copytree(SEED, root / "corpus")
    shutil.copytree(seed_index, root / "index")  # built from the same files: reused as is
    port = _free_port()
    env = qa_env()
    env.update(QA_LLM__MODEL="qwen2.5-coder-0.5b", QA_CORPUS_DIR=str(root / "corpus"),
               QA_FEEDBACK_FILE=str(root / "feedback.jsonl"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ui", "--index", str(root / "index"), "--port",
         str(port)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url, proc)
        yield {"url": url, "root": root}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def page(site: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        tab = browser.new_page(accept_downloads=True)
        outside: list[str] = []  # the page must load nothing from another host
        tab.on("request", lambda r: None if r.url.startswith((site["url"], "data:", "blob:"))
               else outside.append(r.url))
        tab.goto(site["url"])
        yield tab
        out = REPO / "test-results"
        out.mkdir(exist_ok=True)
        tab.screenshot(path=str(out / "ui-last.png"), full_page=True)
        browser.close()
    assert outside == []


def _ask(page: Any, question: str) -> None:
    """Ask and wait for the final answer (the sources panel says what was searched for)."""
    from playwright.sync_api import expect

    before = page.locator("#chat .message-row").count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#chat .message-row")).to_have_count(before + 2, timeout=LONG)
    expect(page.locator("#sources .searched")).to_be_visible(timeout=LONG)
    expect(page.locator("#question textarea")).to_have_value("", timeout=LONG)
    expect(page.locator("#chat")).not_to_contain_text("Checking the answer", timeout=LONG)


def test_chat_streams_an_answer_and_shows_the_cited_passage(page: Any) -> None:
    from playwright.sync_api import expect

    _ask(page, "What was dantrolene originally developed to treat?")
    sources = page.locator("#sources")
    expect(sources).to_contain_text("Sources")
    expect(sources).to_contain_text("malignant hyperthermia")
    expect(sources).to_contain_text("003_ff34f6fd0d9cc91e.txt")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("hyperthermia")
    expect(chat).to_contain_text("not medical advice")


def test_a_follow_up_is_about_the_right_drug_rated_and_exported(page: Any, site) -> None:
    from playwright.sync_api import expect

    _ask(page, "How does memantine work?")
    _ask(page, "What about its side effects?")
    searched = page.locator("#sources .searched")
    expect(searched).to_have_text("Searched for: What are the side effects of memantine?")
    first_retrieved = page.locator("#sources details .source").first
    expect(first_retrieved).to_contain_text(MEMANTINE)  # retrieval followed the rewrite

    page.locator("#feedback-comment textarea").fill("checked against the leaflet")
    page.locator("#chat button[aria-label=Dislike]").last.click()
    expect(page.locator("#feedback-status")).to_contain_text("saved for answer 2")
    [line] = (site["root"] / "feedback.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["rating"] == "down" and record["comment"] == "checked against the leaflet"
    assert record["question"] == "What about its side effects?"
    assert record["standalone_question"] == "What are the side effects of memantine?"
    assert record["answer"] and record["settings_hash"]
    for citation in record["citations"]:  # no other drug's facts
        assert citation["source"] == MEMANTINE or "memantine" in citation["text"].lower()

    page.locator("#export").click()
    link = page.locator("#export-file a").first
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## 1. How does memantine work?" in exported
    assert "## 2. What about its side effects?" in exported
    assert "*Searched for:* What are the side effects of memantine?" in exported
    assert record["answer"] in exported
    for citation in record["citations"]:
        assert f"[{citation['n']}] {citation['title']}" in exported

    page.locator("#new-conversation").click()
    expect(page.locator("#chat .message-row")).to_have_count(0)
    _ask(page, "What about its side effects?")  # nothing to carry over any more
    expect(searched).to_have_text("Searched for: What about its side effects?")


def test_an_uploaded_document_becomes_searchable_then_is_removed(page: Any, site,
                                                                tmp_path: Path) -> None:
    from playwright.sync_api import expect

    guide = tmp_path / "zorbitolamine.txt"
    guide.write_text("Zorbitolamine patient guide\n\nZorbitolamine is an invented medicine "
                     "for this browser test. Zorbitolamine tablets are taken with water "
                     "after breakfast.\n")
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"%PDF-1.4 not really a PDF")
    page.get_by_role("button", name=re.compile("^Documents")).click()
    table = page.locator("#documents")
    expect(table).to_contain_text(MEMANTINE, timeout=30_000)
    page.locator("#upload input[type=file]").set_input_files([str(guide), str(broken)])
    uploaded = page.locator("#upload").get_by_role("row")  # one row per file, once sent
    expect(uploaded).to_have_count(2, timeout=30_000)
    page.locator("#add-documents").click()
    status = page.locator("#library-status")
    expect(status).to_contain_text("Added uploads/zorbitolamine.txt", timeout=LONG)
    expect(status).to_contain_text("Skipped uploads/scan.pdf: cannot read scan.pdf")
    expect(table).to_contain_text("uploads/zorbitolamine.txt")
    assert (site["root"] / "corpus" / "uploads" / "zorbitolamine.txt").is_file()

    _ask(page, "When are zorbitolamine tablets taken?")
    expect(page.locator("#sources")).to_contain_text("uploads/zorbitolamine.txt")

    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="uploads/zorbitolamine.txt").click()
    page.locator("#remove-document").click()
    expect(status).to_contain_text("Removed uploads/zorbitolamine.txt", timeout=LONG)
    expect(table).not_to_contain_text("uploads/zorbitolamine.txt")
