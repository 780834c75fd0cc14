"""Prompt files are an interface: bad templates are rejected, the chat format is pinned."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.errors import ConfigError
from qa.llm import ChatMLFormat, ChatPrompt
from qa.prompts import PROMPT_FILES, load_prompts, packaged_prompts

REPO_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


def test_every_prompt_file_is_registered_and_shipped_with_the_package() -> None:
    on_disk = {p.name for p in REPO_PROMPTS.iterdir() if p.suffix in (".txt", ".gbnf")}
    assert on_disk == set(PROMPT_FILES)
    shipped = packaged_prompts()
    assert all((shipped / name).read_text(encoding="utf-8") == (REPO_PROMPTS / name).read_text(
        encoding="utf-8") for name in PROMPT_FILES)


def test_repository_prompts_load_and_render() -> None:
    prompts = load_prompts()
    system = prompts.render("system.txt", refusal=prompts.text("refusal.txt"))
    assert "could not find the answer" in system
    assert "instructions" in system  # documents are data, never instructions


def test_unknown_placeholder_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, folder)
    (folder / "answer.txt").write_text("$passages\n$question\n$patient_name")
    with pytest.raises(ConfigError, match="patient_name"):
        load_prompts(folder)


def test_missing_prompt_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, folder)
    (folder / "system.txt").unlink()
    with pytest.raises(ConfigError, match="system.txt"):
        load_prompts(folder)


def test_missing_value_is_named() -> None:
    with pytest.raises(ConfigError, match="question"):
        load_prompts().render("answer.txt", passages="[1] x")


def test_braces_and_percent_signs_in_documents_render_verbatim() -> None:
    text = load_prompts().render("answer.txt", passages="[1] 5 mg {daily} 100% ${x}",
                                 question="q?")
    assert "5 mg {daily} 100% ${x}" in text


def test_chatml_format_is_exact() -> None:
    assert ChatMLFormat.render(ChatPrompt("S", "U")) == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    # The system turn and the opening of the user turn are computed once and shared.
    assert ChatMLFormat.head("S") + "U" + ChatMLFormat.foot == ChatMLFormat.render(
        ChatPrompt("S", "U"))
