"""The `qa` command as a user runs it: real processes, exact exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import qa_env

REPO = Path(__file__).resolve().parents[1]


def qa(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    full_env = qa_env()
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=600)


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.slow
def test_batch_prints_one_json_object_per_question(process_index: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("What is memantine used for?\n\nWhat is the capital of France?\n")
    result = qa("ask", "--index", str(process_index), "--json", "--batch", str(questions),
                env={"QA_LLM__MODEL": "qwen2.5-coder-0.5b"})
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["What is memantine used for?",
                                            "What is the capital of France?"]
    assert [r["refused"] for r in rows] == [False, True]


def test_missing_model_file_is_one_clear_line(process_index: Path) -> None:
    result = qa("ask", "--index", str(process_index), "hello",
                env={"QA_LLM__MODEL": "/nonexistent/model.gguf"})
    line = _one_line_error(result)
    assert "/nonexistent/model.gguf does not exist" in line
    assert "QA_LLM__MODEL" in line


def test_corrupt_model_file_is_one_clear_line(process_index: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    line = _one_line_error(qa("ask", "--index", str(process_index), "hello",
                              env={"QA_LLM__MODEL": str(bad)}))
    assert "could not load" in line and "bad.gguf" in line


def test_unprovisioned_default_model_names_the_command(process_index: Path, tmp_path: Path) -> None:
    line = _one_line_error(qa("ask", "--index", str(process_index), "hello",
                              env={"XDG_CACHE_HOME": str(tmp_path / "empty-cache")}))
    assert "not provisioned" in line and "qa models pull" in line


def test_malformed_question_file_names_the_line_and_field(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    good = json.loads((REPO / "eval" / "questions.jsonl").read_text().splitlines()[0])
    questions.write_text(json.dumps(good) + "\n" + json.dumps({"id": "x", "question": "?"})
                         + "\n")
    for command in ("eval", "speed"):
        line = _one_line_error(qa(command, "--questions", str(questions), "--out",
                                  str(tmp_path / "out"), cwd=tmp_path))
        assert "line 2" in line and "category" in line and "eval/README.md" in line
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_missing_index_names_the_command(tmp_path: Path) -> None:
    line = _one_line_error(qa("ask", "--index", str(tmp_path / "none"), "hello"))
    assert "qa ingest" in line


def test_ingest_empty_folder_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    line = _one_line_error(qa("ingest", str(tmp_path / "docs"), "--index",
                              str(tmp_path / "index")))
    assert "no supported documents" in line


def test_ingest_reports_unreadable_file_and_keeps_the_rest(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# Aspirin\n\nAspirin can upset the stomach when taken "
                                  "without food, so take it with a meal.\n")
    (docs / "bad.pdf").write_bytes(b"not a pdf at all")
    result = qa("ingest", str(docs), "--index", str(tmp_path / "index"))
    assert result.returncode == 1  # something was skipped: the exit status says so
    assert "skipped bad.pdf" in result.stderr
    assert "1 added" in result.stdout and "1 skipped" in result.stdout
    again = qa("ingest", str(docs), "--index", str(tmp_path / "index"))
    assert "already up to date" in again.stdout


def test_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    line = _one_line_error(qa("ask", "--index", str(tmp_path), "hi",
                              env={"QA_RETRIEVAL__TOP_K": "zero"}))
    assert "retrieval.top_k" in line


def test_ingest_reports_each_ignored_and_skipped_entry_on_one_line(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# Aspirin\n\nAspirin can upset the stomach when taken "
                                  "without food, so take it with a meal.\n")
    (docs / "bad.pdf").write_bytes(b"%PDF-1.4 truncated")
    (docs / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (docs / ".DS_Store").write_bytes(b"\x00\x01")
    os.mkfifo(docs / "pipe.txt")  # opened, it would hang the ingest while holding the lock
    with open(os.path.join(os.fsencode(docs), b"caf\xe9.txt"), "wb") as fh:
        fh.write(b"Paracetamol lowers fever and eases mild pain in adults and children.\n")
    result = qa("ingest", str(docs), "--index", str(tmp_path / "index"))
    assert result.returncode == 1, result.stderr  # a document was skipped
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith("Using")] == [
        "ignored .DS_Store", "ignored notes.xlsx", "ignored pipe.txt", "skipped bad.pdf"]
    assert "ignored pipe.txt: a named pipe (FIFO), not a regular file (never opened)" in lines
    assert "2 added, 0 changed, 0 removed, 0 unchanged, 1 skipped, 3 ignored" in result.stdout
    (docs / "bad.pdf").unlink()
    again = qa("ingest", str(docs), "--index", str(tmp_path / "index"))
    assert again.returncode == 0, again.stderr  # ignored entries alone are not a failure
    assert "already up to date" in again.stdout and "3 ignored" in again.stdout


@pytest.mark.parametrize("after_commit", [False, True])
def test_ctrl_c_during_ingest_says_whether_the_new_index_is_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after_commit: bool
) -> None:
    from click.testing import CliRunner

    import qa.embeddings
    from qa import index
    from qa.cli import cli

    from .fakes import FakeEmbedder

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Aspirin thins the blood and can upset the stomach.\n")
    monkeypatch.setattr(qa.embeddings, "load_embedder", lambda *_: FakeEmbedder())
    calls = {"n": 0}
    original = index.remove_stale_generations

    def interrupt(index_dir: Path, *args: object) -> None:
        calls["n"] += 1  # call 1: start of the ingest; call 2: right after the commit
        if calls["n"] == (2 if after_commit else 1):
            raise KeyboardInterrupt
        original(index_dir, *args)

    monkeypatch.setattr(index, "remove_stale_generations", interrupt)
    result = CliRunner().invoke(cli, ["ingest", str(docs), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 130
    live = index.current_generation(tmp_path / "ix") is not None
    assert live is after_commit
    expected = ("the new index had already been committed and is live" if after_commit
                else "the previous index is unchanged")
    assert f"Interrupted; {expected}." in result.output
