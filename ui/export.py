"""A conversation as a Markdown file: each question, what was searched for, the answer,
and the passages it cites (source, section, character offsets, excerpt)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from qa.types import Answer, Citation


@dataclass(frozen=True)
class Exchange:
    """One question of the conversation and the Answer it got."""

    question: str
    answer: Answer


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def _citation(c: Citation) -> str:
    where = f"{c.source}" + (f", section “{c.section}”" if c.section else "")
    support = f", support {c.support:.2f}" if c.support is not None else ""
    return f"- **[{c.n}] {c.title}** ({where}, chars {c.start}–{c.end}{support})\n\n" \
           + _quote(" ".join(c.text.split()))


def conversation_markdown(exchanges: Sequence[Exchange]) -> str:
    """The whole conversation; each answer exactly as it was shown, with its sources."""
    first = exchanges[0].answer if exchanges else None
    lines = ["# Conversation with qa", "",
             f"Exported {time.strftime('%Y-%m-%d %H:%M')}"
             + (f" · model `{first.model}` · settings `{first.settings_hash}`" if first else ""),
             ""]
    for i, ex in enumerate(exchanges, start=1):
        searched = ex.answer.standalone_question or ex.question
        lines += [f"## {i}. {ex.question}", ""]
        if searched != ex.question:
            lines += [f"*Searched for:* {searched}", ""]
        lines += [ex.answer.answer, ""]
        if ex.answer.citations:
            lines += ["**Sources**", ""]
            lines += [_citation(c) + "\n" for c in ex.answer.citations]
    return "\n".join(lines).rstrip() + "\n"
