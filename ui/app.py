"""Gradio chat: streamed answers and a sources panel showing each cited passage.

The UI owns no logic: it builds one Assistant at start-up, calls ``Assistant.stream()``,
and renders the events. Run with ``qa ui`` (it ships in the package as ``qa.ui``).

Fit for a clinic network: served on anything but loopback only behind a login (the
password from QA_UI__PASSWORD); every text, the model's and the documents', is shown as
text, never as HTML or markdown, so no tag renders, no image loads and no URL is a live
link; the upload route Gradio always has takes nothing bigger than 1 KB.
"""

from __future__ import annotations

import html
import ipaddress
from collections.abc import Iterator
from typing import Any

from qa.offline import enforce_offline

enforce_offline()  # gradio reads GRADIO_ANALYTICS_ENABLED when imported (see qa.offline)

import gradio as gr  # noqa: E402  (the offline environment must be set first)

from qa.answer import Assistant  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.errors import ConfigError, QAError  # noqa: E402
from qa.types import Answer, Citation, EventKind, Passage  # noqa: E402

TITLE = "qa · answers from your medical documents"
INTRO = (
    "Ask a question about the indexed documents. Answers come only from those documents, "
    "with numbered citations; the sources panel shows the exact passages. "
    "This is not medical advice."
)
CHECKING = "*Checking the answer against the sources…*"
MAX_UPLOAD = "1kb"  # the page takes no files; Gradio's upload route exists all the same
MIN_PASSWORD = 12
CSS = """
.source { border-left: 3px solid #2b6cb0; padding: 4px 10px; margin: 8px 0; }
.source .meta { font-size: 0.85em; color: #555; }
.source mark { background: #fff3b0; }
"""


def _passage_html(n: int, source: str, title: str, section: str, body: str, extra: str) -> str:
    """One source card; ``body`` is already HTML (escaped text, maybe with <mark>)."""
    heading = html.escape(f"[{n}] {title}")
    meta = html.escape(f"{source} · {section}" if section else source) + extra
    return (
        f'<div class="source" data-n="{n}"><b>{heading}</b>'
        f'<div class="meta">{meta}</div><div>{body}</div></div>'
    )


def render_evidence(passages: tuple[Passage, ...]) -> str:
    """Retrieved passages, shown while the model is still writing."""
    if not passages:
        return "<i>No sources.</i>"
    blocks = [
        _passage_html(i, p.chunk.source, p.chunk.title, p.chunk.section,
                      html.escape(p.chunk.text), " · retrieved")
        for i, p in enumerate(passages, start=1)
    ]
    return "<h4>Evidence</h4>" + "".join(blocks)


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


def render_sources(answer: Answer) -> str:
    """The passages the final answer cites, the supporting excerpt highlighted."""
    if answer.refused:
        return "<i>Not found in the indexed documents: nothing to cite.</i>"
    if not answer.citations:
        kind = answer.triage.value if answer.triage else "general guidance"
        return f"<i>No citations ({html.escape(kind)}).</i>"
    blocks = []
    for c in answer.citations:
        meta = f" · chars {c.start}–{c.end}" + (
            f" · support {c.support:.2f}" if c.support is not None else "")
        blocks.append(_passage_html(c.n, c.source, c.title, c.section,
                                    _highlighted(c, answer.passages), meta))
    return "<h4>Sources</h4>" + "".join(blocks)


def as_text(text: str) -> str:
    """A chat message that can only be text: HTML escaped, and the chat renders no
    markdown, so no tag, image or link in a document or an answer comes alive."""
    return html.escape(text)


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page for one loaded Assistant."""

    def respond(question: str, history: list[dict[str, str]]) -> Iterator[tuple[Any, ...]]:
        question = (question or "").strip()
        if not question:
            yield "", history, gr.update()
            return
        history = [*history, {"role": "user", "content": as_text(question)},
                   {"role": "assistant", "content": ""}]
        yield "", history, "<i>Searching the documents…</i>"
        verified: list[str] = []
        try:
            for event in assistant.stream(question):
                if event.kind is EventKind.EVIDENCE:
                    history[-1]["content"] = CHECKING
                    yield "", history, render_evidence(event.passages)
                elif event.kind is EventKind.SENTENCE:
                    # Only verified sentences are shown, and none is taken back later.
                    verified.append(event.text)
                    history[-1]["content"] = as_text(" ".join(verified))
                    yield "", history, gr.update()
                elif event.answer is not None:
                    history[-1]["content"] = as_text(event.answer.answer)
                    yield "", history, render_sources(event.answer)
        except QAError as err:
            raise gr.Error(err.one_line()) from None

    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"## {TITLE}\n{INTRO}\n\nModel: `{assistant.model_name}` · "
                    f"embedder: `{assistant.embedder.name}`")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=480, elem_id="chat",
                                  render_markdown=False, sanitize_html=True)
                box = gr.Textbox(label="Your question", placeholder="e.g. How does memantine work?",
                                 elem_id="question", submit_btn=True,
                                 max_length=assistant.settings.answer.max_question_chars)
            with gr.Column(scale=2):
                sources = gr.HTML("<i>Sources appear here.</i>", elem_id="sources")
        box.submit(respond, [box, chat], [box, chat, sources])
    return app


def login_for(settings: Settings, host: str) -> tuple[str, str] | None:
    """The (user, password) the page asks for; None on loopback without a password set.

    Any other address needs a password of at least 12 characters from QA_UI__PASSWORD,
    or the page refuses to start (ConfigError, one line).
    """
    password = settings.ui.password.get_secret_value() if settings.ui.password else ""
    if password and len(password) < MIN_PASSWORD:
        raise ConfigError(f"the web page password (QA_UI__PASSWORD) is {len(password)} "
                          f"characters; use at least {MIN_PASSWORD}")
    if password:
        return settings.ui.username, password
    if not _loopback(host):
        raise ConfigError(
            f"refusing to serve the page on {host} without a login: anyone on the network "
            "could read the documents. Set QA_UI__PASSWORD (12+ characters), or serve on "
            "127.0.0.1")
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the Assistant once and serve the chat page until interrupted."""
    login = login_for(settings, host)  # before loading models: a refusal is instant
    assistant = Assistant.load(settings=settings)
    print(f"Using LLM {assistant.model_name}, embedder {assistant.embedder.name}", flush=True)
    build_app(assistant).queue().launch(
        server_name=host, server_port=port, share=False, css=CSS,
        show_error=True, footer_links=[], auth=login, max_file_size=MAX_UPLOAD,
    )
