"""Shared fixtures: the real embedder, a real small GGUF, and a real index of the seed corpus.

Heavy objects are session-scoped: loading them once keeps the suite in minutes.
``QA_STORE__BACKEND=milvus pytest`` runs the suite with every index in Milvus Lite
(``STORE``; read here, before the per-test isolation clears the QA_* variables).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.config import LLMSettings, Settings, StoreSettings
from qa.types import Answer

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "ingest"
TEST_LLM = "qwen2.5-coder-0.5b"
STORE = StoreSettings(backend=os.environ.get("QA_STORE__BACKEND", "faiss"))  # type: ignore[arg-type]


def qa_env(**extra: str) -> dict[str, str]:
    """The environment for a `qa` subprocess: none of the developer's QA_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return {**env, **extra}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's qa.toml or QA_* variables by accident."""
    for name in list(os.environ):
        if name.startswith("QA_") and not name.startswith("QA_REQUIRE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture(scope="session")
def embedder():
    from qa.config import EmbedderSettings
    from qa.embeddings import load_embedder

    return load_embedder(EmbedderSettings())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the five seed articles."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEED, folder)
    return folder


def page_text(text: str) -> str:
    """A page written wrapped in a test, as pages are: one line per paragraph (a line break
    ends a sentence); headings and list items ("- ") keep their lines."""
    return "\n\n".join(part if part.startswith(("#", "- ")) else " ".join(part.split())
                       for part in text.split("\n\n"))


def indexed_pages(folder: Path, pages: dict[str, str], embedder) -> Path:
    """``pages`` ({file name: text}) written to ``folder`` and indexed there; the index."""
    from qa.config import ChunkSettings
    from qa.ingestion import ingest

    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    index_dir = folder / "index"
    ingest(folder, index_dir, embedder, ChunkSettings(), store_cfg=settings_for(index_dir).store)
    return index_dir


def answer_of(index_dir: Path, embedder, question: str, reply, **answer: float) -> Answer:
    """The answer to ``question`` over ``index_dir`` when the model writes ``reply``
    (``fakes.FakeGenerator``; a function of the prompt, as ``fakes.citing`` makes), with
    ``answer`` as answer settings."""
    from qa.answer import Assistant
    from qa.config import AnswerSettings

    from .fakes import FakeGenerator

    settings = settings_for(index_dir, answer=AnswerSettings(**answer))
    return Assistant.load(settings=settings, embedder=embedder,
                          generator=FakeGenerator(reply)).ask(question)


def settings_for(index_dir: Path, **extra: object) -> Settings:
    """Settings for tests: the small GGUF, a private index, nothing from the environment."""
    extra.setdefault("store", STORE)
    return Settings(index_dir=index_dir, llm=LLMSettings(model=TEST_LLM, max_tokens=160), **extra)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """The seed corpus indexed once for the whole session (read-only for tests)."""
    from qa.config import ChunkSettings
    from qa.ingestion import ingest

    index_dir = tmp_path_factory.mktemp("seed") / "index"
    ingest(SEED, index_dir, embedder, ChunkSettings(), store_cfg=STORE)
    return index_dir


@pytest.fixture(scope="session")
def process_index(tmp_path_factory: pytest.TempPathFactory, seed_index: Path) -> Path:
    """The seed index for tests that run `qa` in another process. A Milvus Lite file opens
    in one process at a time, and this one keeps what it opened (``seed_index``) open, so on
    Milvus those processes get an index that `qa ingest`, in a process of its own, built."""
    if STORE.backend != "milvus":
        return seed_index
    index_dir = tmp_path_factory.mktemp("seed-process") / "index"
    subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(SEED), "--index",
                    str(index_dir)], env=qa_env(QA_STORE__BACKEND="milvus"), check=True,
                   capture_output=True, timeout=600)
    return index_dir


@pytest.fixture(scope="session")
def generator():
    from qa.config import default_cache_dir
    from qa.llm import load_generator

    return load_generator(LLMSettings(model=TEST_LLM, max_tokens=160), default_cache_dir())


@pytest.fixture(scope="session")
def assistant(seed_index: Path, embedder, generator):
    """A real Assistant: real embedder, real FAISS index, real 0.5B GGUF."""
    from qa.answer import Assistant

    return Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                          generator=generator)
