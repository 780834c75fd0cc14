"""What the chat page shows, as text: answers made inert, source cards, the document table.

Answers come from documents, and documents can carry HTML, Markdown images (which fetch a
URL when rendered) and links. The chat renders Markdown, so ``inert`` escapes what would
become HTML, links or images, and puts web addresses in code spans (shown, never live).
Source cards are built from escaped text only.
"""

from __future__ import annotations

import html
import re

from qa.library import DocumentInfo
from qa.types import Answer, Citation, Passage

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>`()\[\]]*[^\s<>`()\[\].,;:!?'\"]",
                  re.IGNORECASE)
_MARKUP = re.compile(r"([\\`*_\[\]()!<>#|~])")


def inert(text: str) -> str:
    """Markdown that shows ``text`` as written: no HTML, no links, no images."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_escaped(text[last:match.start()]))
        out.append(f"`{match.group(0).replace('`', '')}`")  # a code span is never a link
        last = match.end()
    out.append(_escaped(text[last:]))
    return "".join(out)


def _escaped(text: str) -> str:
    return _MARKUP.sub(r"\\\1", html.escape(text, quote=False))


def _card(n: int, source: str, title: str, section: str, body: str, extra: str) -> str:
    """One source card; ``body`` is already HTML (escaped text, maybe with <mark>)."""
    heading = html.escape(f"[{n}] {title}")
    meta = html.escape(f"{source} · {section}" if section else source) + extra
    return (f'<div class="source" data-n="{n}"><b>{heading}</b>'
            f'<div class="meta">{meta}</div><div>{body}</div></div>')


def _passages(passages: tuple[Passage, ...], note: str) -> str:
    return "".join(_card(i, p.chunk.source, p.chunk.title, p.chunk.section,
                         html.escape(p.chunk.text), note)
                   for i, p in enumerate(passages, start=1))


def render_evidence(passages: tuple[Passage, ...]) -> str:
    """Retrieved passages, shown while the model is still writing."""
    if not passages:
        return "<i>No sources.</i>"
    return "<h4>Evidence</h4>" + _passages(passages, " · retrieved")


def _highlighted(citation: Citation, passages: tuple[Passage, ...]) -> str:
    """The cited excerpt marked inside its passage, so the reader sees it in context."""
    for passage in passages:
        chunk = passage.chunk
        if chunk.doc_id == citation.doc_id and chunk.start <= citation.start < chunk.end:
            a, b = citation.start - chunk.start, min(citation.end, chunk.end) - chunk.start
            text = chunk.text
            return (html.escape(text[:a]) + "<mark>" + html.escape(text[a:b]) + "</mark>"
                    + html.escape(text[b:]))
    return "<mark>" + html.escape(citation.text) + "</mark>"


def _cited(answer: Answer) -> str:
    if answer.refused:
        return "<i>Not found in the indexed documents: nothing to cite.</i>"
    if not answer.citations:
        kind = answer.triage.value if answer.triage else "general guidance"
        return f"<i>No citations ({html.escape(kind)}).</i>"
    blocks = []
    for c in answer.citations:
        meta = f" · chars {c.start}–{c.end}" + (
            f" · support {c.support:.2f}" if c.support is not None else "")
        blocks.append(_card(c.n, c.source, c.title, c.section,
                            _highlighted(c, answer.passages), meta))
    return "<h4>Sources</h4>" + "".join(blocks)


def render_sources(answer: Answer) -> str:
    """What was searched for, the passages the answer cites (excerpt highlighted), and
    everything retrieved (also for a refusal, so the reader sees why)."""
    searched = answer.standalone_question or answer.question
    parts = [f'<p class="searched">Searched for: <b>{html.escape(searched)}</b></p>',
             _cited(answer)]
    if answer.passages:
        parts.append(f"<details><summary>Retrieved passages ({len(answer.passages)})"
                     f"</summary>{_passages(answer.passages, ' · retrieved')}</details>")
    return "".join(parts)


def document_rows(documents: list[DocumentInfo]) -> list[list[object]]:
    """The documents table: source, title, chunks, warnings."""
    return [[d.source, d.title, d.chunks, "; ".join(d.flags) or "–"] for d in documents]
