"""Nothing leaves the machine, proven: ingest and ask work with no network at all, and a
trace of every connect and DNS lookup (ingest, ask, the web page) finds none outside."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qa.benchmarks.network import (
    ASK_AND_LINGER,
    outside_attempts,
    run_offline,
    run_traced,
    strace_available,
    trace_ui,
    unshare_available,
)
from qa.offline import OFFLINE_ENVIRONMENT

from .conftest import REPO, SEED, TEST_LLM, qa_env

QUESTION = "What was dantrolene originally developed to treat?"
# Lines from real traces: onnxruntime's telemetry lookup before the fix, and loopback.
TELEMETRY_DNS = ('19985 connect(11, {sa_family=AF_INET, sin_port=htons(53), '
                 'sin_addr=inet_addr("10.255.255.53")}, 16) = 0')
RESOLVED_DNS = ('7 sendto(5, "wK\\1\\0", 50, MSG_NOSIGNAL, {sa_family=AF_INET, '
                'sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 50')
HTTPS_V6 = ('8 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),'
            ' inet_pton(AF_INET6, "2606:4700::6810:85e5", &sin6_addr), sin6_scope_id=0}, 28)')
LOOPBACK = ('9 connect(4, {sa_family=AF_INET, sin_port=htons(7860), '
            'sin_addr=inet_addr("127.0.0.1")}, 16) = 0')
UNIX = '9 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT'


def _require(available: bool, tool: str) -> None:
    if not available:
        if os.environ.get("QA_REQUIRE_SANDBOX"):
            pytest.fail(f"{tool} is not usable here (make test installs it; run as root)")
        pytest.skip(f"{tool} is not usable here")


def _env() -> dict[str, str]:
    env = qa_env()
    return {**env, "QA_LLM__MODEL": TEST_LLM, "PYTHONPATH": str(REPO / "src")}


def test_the_trace_reader_flags_dns_and_outside_addresses_only() -> None:
    trace = "\n".join([TELEMETRY_DNS, RESOLVED_DNS, HTTPS_V6, LOOPBACK, UNIX])
    assert outside_attempts(trace) == [TELEMETRY_DNS, RESOLVED_DNS, HTTPS_V6]


def test_importing_qa_turns_every_library_offline() -> None:
    env = {**_env(), "GRADIO_ANALYTICS_ENABLED": "True", "HF_HUB_OFFLINE": "0"}
    code = "import json, os, qa; print(json.dumps({k: os.environ.get(k) for k in %r}))"
    out = subprocess.run([sys.executable, "-c", code % list(OFFLINE_ENVIRONMENT)],
                         capture_output=True, text=True, env=env, check=True).stdout
    assert json.loads(out) == OFFLINE_ENVIRONMENT


@pytest.mark.slow
def test_ingest_and_ask_work_in_a_namespace_with_no_network(tmp_path: Path) -> None:
    _require(unshare_available(), "unshare -n")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED, corpus)
    cli = [sys.executable, "-m", "qa.cli"]
    ingest = run_offline([*cli, "ingest", str(corpus), "--index", str(tmp_path / "ix")],
                         timeout=600, env=_env(), cwd=REPO)
    assert ingest.returncode == 0, ingest.stderr
    asked = run_offline([*cli, "ask", "--json", "--index", str(tmp_path / "ix"), QUESTION],
                        timeout=600, env=_env(), cwd=REPO)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert not answer["refused"] and "hyperthermia" in answer["answer"].lower()


@pytest.mark.slow
def test_no_connection_or_lookup_leaves_the_machine(tmp_path: Path) -> None:
    _require(strace_available(), "strace")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED, corpus)
    index = tmp_path / "ix"
    ingest = run_traced([sys.executable, "-m", "qa.cli", "ingest", str(corpus), "--index",
                         str(index)], tmp_path / "ingest.trace", 600, _env(), REPO)
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.attempts == ()
    ask = run_traced([sys.executable, "-c", ASK_AND_LINGER, str(index), QUESTION, "15"],
                     tmp_path / "ask.trace", 600, _env(), REPO)
    assert ask.returncode == 0, ask.stderr
    assert not json.loads(ask.stdout)["refused"]
    assert ask.calls >= 1  # the loopback canary: the trace did see network calls
    assert ask.attempts == ()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    page = trace_ui([sys.executable, "-m", "qa.cli", "ui", "--index", str(index), "--port",
                     str(port)], f"http://127.0.0.1:{port}/", tmp_path / "ui.trace",
                    linger=15, startup=240, env=_env(), cwd=REPO)
    assert page.status == 200 and page.calls >= 1
    assert page.attempts == ()
