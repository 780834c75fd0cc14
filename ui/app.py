"""Gradio chat: conversations with streamed, verified answers, sources, documents, feedback.

The UI owns no logic. Questions go through the shared ``AnswerService`` (the same queue
and model as `qa serve`), as the whole conversation, to ``Assistant.chat_stream``; uploads
and removals go through ``qa.library`` on the same queue; ratings through
``qa.feedback``. This module lays out the page and turns results into widgets. Run with
``qa ui``, or ``qa serve --ui`` for the API and the chat in one process (at /ui).

Fit for a clinic network: served on anything but loopback only behind a login
(``login_for``); every text, the model's and the documents', is made inert (no tag
renders, no image loads, no URL is a live link); uploads are limited to the document
types and the size the ingest accepts.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

import gradio as gr  # noqa: E402  (the environment variable must be set first)

from qa.config import Settings  # noqa: E402
from qa.conversation import Turn  # noqa: E402
from qa.errors import ConfigError, QAError  # noqa: E402
from qa.feedback import record_feedback  # noqa: E402
from qa.library import Change, Progress, add_files, list_documents, remove_document  # noqa: E402
from qa.service import AnswerService, Reply, Waiting  # noqa: E402
from qa.types import EventKind  # noqa: E402
from qa.ui.export import Exchange, conversation_markdown  # noqa: E402
from qa.ui.render import document_rows, inert, render_evidence, render_sources  # noqa: E402

TITLE = "qa · answers from your medical documents"
INTRO = (
    "Ask a question about the indexed documents, and follow up as in a conversation. "
    "Answers come only from those documents, with numbered citations; the sources panel "
    "shows what was searched for and the exact passages. This is not medical advice."
)
CHECKING = "*Checking the answer against the sources…*"
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
MIN_PASSWORD = 12
CSS = """
.source { border-left: 3px solid #2b6cb0; padding: 4px 10px; margin: 8px 0; }
.source .meta { font-size: 0.85em; color: #555; }
.source mark { background: #fff3b0; }
.searched { font-size: 0.95em; }
"""
Updates = Iterator[tuple[Any, ...]]
PROGRESS = gr.Progress()  # a Progress default is how Gradio knows to send a progress bar


def _history(exchanges: list[Exchange]) -> list[dict[str, str]]:
    """The chat as shown: each question and its answer, made inert."""
    rows: list[dict[str, str]] = []
    for ex in exchanges:
        rows += [{"role": "user", "content": inert(ex.question)},
                 {"role": "assistant", "content": inert(ex.answer.answer)}]
    return rows


def _turns(exchanges: list[Exchange], question: str) -> list[Turn]:
    """The conversation the core answers: every earlier turn, then the new question."""
    turns = [t for ex in exchanges for t in (Turn("user", ex.question),
                                             Turn("assistant", ex.answer.answer))]
    return [*turns, Turn("user", question)]


def _waiting(ahead: int) -> str:
    return f"*Waiting for {ahead} earlier question{'s' if ahead != 1 else ''}…*"


def _change_text(change: Change) -> str:
    """What an upload or removal did, one line per file, names made inert."""
    lines = [f"Added {inert(s)}" for s in change.added]
    lines += [f"Updated {inert(s)}" for s in change.updated]
    lines += [f"Removed {inert(s)}" for s in change.removed]
    lines += [f"Skipped {inert(s)}: {inert(why)}" for s, why in change.skipped.items()]
    lines += [f"⚠ {inert(s)} flagged: {inert('; '.join(f))} (that text is never evidence)"
              for s, f in change.flagged.items()]
    return "\n\n".join(lines) or "Nothing changed."


class ChatPage:
    """The page's handlers over one service; each returns widget values, nothing more."""

    def __init__(self, service: AnswerService, settings: Settings) -> None:
        self.service = service
        self.settings = settings

    def respond(self, question: str, exchanges: list[Exchange]) -> Updates:
        """Stream the answer to the next message of the conversation."""
        question = (question or "").strip()
        if not question:
            yield "", _history(exchanges), exchanges, gr.update()
            return
        shown = [*_history(exchanges), {"role": "user", "content": inert(question)},
                 {"role": "assistant", "content": "*Searching the documents…*"}]
        yield "", shown, exchanges, "<i>Searching the documents…</i>"
        verified: list[str] = []
        try:
            for item in self.service.chat(_turns(exchanges, question)).updates():
                if isinstance(item, Waiting):
                    shown[-1]["content"] = _waiting(item.ahead)
                    yield "", shown, exchanges, gr.update()
                elif isinstance(item, Reply):
                    exchanges = [*exchanges, Exchange(question, item.answer)]
                    yield "", _history(exchanges), exchanges, render_sources(item.answer)
                elif item.kind is EventKind.EVIDENCE:
                    shown[-1]["content"] = CHECKING
                    yield "", shown, exchanges, render_evidence(item.passages)
                elif item.kind is EventKind.SENTENCE:
                    # Only verified sentences are shown, and none is taken back later.
                    verified.append(item.text)
                    shown[-1]["content"] = inert(" ".join(verified))
                    yield "", shown, exchanges, gr.update()
        except QAError as err:  # the question goes back in the box; the chat is unchanged
            yield question, _history(exchanges), exchanges, gr.update()
            raise gr.Error(err.one_line()) from None

    def rate(self, like: gr.LikeData, exchanges: list[Exchange], comment: str) -> tuple[str, str]:
        """👍/👎 on one answer (with the comment box's text) into the feedback file."""
        index = like.index if isinstance(like.index, int) else like.index[0]
        if not 0 <= index // 2 < len(exchanges):
            return gr.update(), comment  # type: ignore[return-value]  # not an answer
        up = like.liked is True or like.liked == "Like"
        record_feedback(self.settings.feedback_file, exchanges[index // 2].answer,
                        "up" if up else "down", comment or "")
        said = "👍 helpful" if up else "👎 not helpful"
        return f"Thanks: {said} saved for answer {index // 2 + 1}.", ""

    def export(self, exchanges: list[Exchange]) -> Any:
        """The conversation as a Markdown file to download."""
        if not exchanges:
            raise gr.Error("Nothing to export yet: ask a question first.")
        folder = Path(tempfile.mkdtemp(prefix="qa-export-"))
        path = folder / f"conversation-{len(exchanges)}-answers.md"
        path.write_text(conversation_markdown(exchanges), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def documents(self) -> tuple[Any, Any]:
        """The documents table and the choices of the remove list."""
        docs = list_documents(self.settings.index_dir)
        return document_rows(docs), gr.update(choices=[d.source for d in docs], value=None)

    def add(self, files: list[str] | None, progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
        """Index uploaded files into the live index, with a progress bar."""
        if not files:
            return ("Choose one or more files first.", *self.documents())
        embedder = self.service.assistant.embedder
        ticket = self.service.update_index(
            lambda: add_files([Path(f) for f in files], self.settings, embedder))
        change = Change()
        for item in self._run(ticket.updates(), progress):
            if isinstance(item, Progress):
                progress(item.done / item.total, desc=item.step)
            elif isinstance(item, Change):
                change = item
        return (_change_text(change), *self.documents())

    def remove(self, source: str | None) -> tuple[Any, ...]:
        """Take the chosen document out of the live index."""
        if not source:
            return ("Choose a document to remove.", *self.documents())
        embedder = self.service.assistant.embedder
        ticket = self.service.update_index(
            lambda: iter([remove_document(source, self.settings, embedder)]))
        changes = [i for i in self._run(ticket.updates(), None) if isinstance(i, Change)]
        return (_change_text(changes[-1]) if changes else "Nothing changed.",
                *self.documents())

    @staticmethod
    def _run(items: Iterator[object], progress: gr.Progress | None) -> Iterator[object]:
        """A library job's items; waiting shown on the progress bar; errors as toasts."""
        try:
            for item in items:
                if isinstance(item, Waiting) and progress is not None:
                    progress(0, desc=f"waiting for {item.ahead} earlier requests")
                yield item
        except QAError as err:
            raise gr.Error(err.one_line()) from None


def _chat_column(page: ChatPage, exchanges: gr.State) -> tuple[gr.Chatbot, gr.HTML]:
    with gr.Row():
        with gr.Column(scale=3):
            chat = gr.Chatbot(label="Chat", height=480, elem_id="chat", sanitize_html=True,
                              allow_tags=False, feedback_options=("Like", "Dislike"))
            box = gr.Textbox(label="Your question", placeholder="e.g. How does memantine work?",
                             elem_id="question", submit_btn=True)
            with gr.Row():
                comment = gr.Textbox(label="Comment on an answer (optional), then 👍 or 👎 "
                                     "on it", elem_id="feedback-comment", scale=3)
                new = gr.Button("New conversation", elem_id="new-conversation", scale=1)
            thanks = gr.Markdown(elem_id="feedback-status")
            with gr.Row():
                export = gr.Button("Export conversation (Markdown)", elem_id="export")
                exported = gr.File(label="Export", visible=False, elem_id="export-file")
        with gr.Column(scale=2):
            sources = gr.HTML("<i>Sources appear here.</i>", elem_id="sources")
    box.submit(page.respond, [box, exchanges], [box, chat, exchanges, sources],
               concurrency_limit=None)  # the service queues; Gradio must not serialise
    new.click(lambda: ("", [], [], "<i>Sources appear here.</i>", ""), None,
              [box, chat, exchanges, sources, thanks])
    chat.clear(lambda: ([], "<i>Sources appear here.</i>"), None, [exchanges, sources])
    chat.like(page.rate, [exchanges, comment], [thanks, comment])
    export.click(page.export, [exchanges], [exported])
    return chat, sources


def _documents_panel(page: ChatPage) -> tuple[gr.Dataframe, gr.Dropdown]:
    with gr.Accordion("Documents", open=False, elem_id="documents-panel"):
        with gr.Row():
            upload = gr.File(label="Add documents (" + ", ".join(UPLOAD_TYPES) + ")",
                             file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload")
            add = gr.Button("Add to index", elem_id="add-documents")
        status = gr.Markdown(elem_id="library-status")
        table = gr.Dataframe(headers=["Source", "Title", "Chunks", "Warnings"],
                             interactive=False, elem_id="documents", wrap=True)
        with gr.Row():
            choice = gr.Dropdown(label="Document", choices=[], elem_id="remove-choice")
            remove = gr.Button("Remove from index", elem_id="remove-document", variant="stop")
    add.click(page.add, [upload], [status, table, choice], concurrency_limit=None)
    remove.click(page.remove, [choice], [status, table, choice], concurrency_limit=None)
    return table, choice


def build_app(service: AnswerService, settings: Settings) -> gr.Blocks:
    """The chat page over one running service."""
    page = ChatPage(service, settings)
    assistant = service.assistant
    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"## {TITLE}\n{INTRO}\n\nModel: `{assistant.model_name}` · "
                    f"embedder: `{assistant.embedder.name}`")
        exchanges = gr.State([])
        _chat_column(page, exchanges)
        table, choice = _documents_panel(page)
        app.load(page.documents, None, [table, choice])
    return app


def upload_limit(settings: Settings) -> int:
    """Largest upload in bytes: the size the ingest reads (QA_INGEST__MAX_FILE_MB)."""
    return int(settings.ingest.max_file_mb * 1_000_000)


def login_for(settings: Settings, host: str) -> tuple[str, str] | None:
    """The (user, password) the page asks for; None on loopback with no password set.

    The password is QA_UI__PASSWORD, else QA_API_KEY (the key `qa serve` checks), and must
    have at least 12 characters. Any address but loopback needs one, or the page refuses
    to start (ConfigError, one line) before any model is loaded.
    """
    secret = settings.ui.password or settings.api_key
    password = secret.get_secret_value() if secret else ""
    if password and len(password) < MIN_PASSWORD:
        raise ConfigError(f"the web page password (QA_UI__PASSWORD or QA_API_KEY) is "
                          f"{len(password)} characters; use at least {MIN_PASSWORD}")
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


def mount(app: Any, service: AnswerService, settings: Settings, host: str,
          path: str = "/ui") -> Any:
    """Serve the chat page inside the API's FastAPI app (one process, one model)."""
    login = login_for(settings, host)
    return gr.mount_gradio_app(app, build_app(service, settings).queue(), path=path,
                               auth=login, css=CSS, footer_links=[],
                               max_file_size=upload_limit(settings), show_error=True)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the Assistant once and serve the chat page until interrupted."""
    from qa.answer import Assistant

    login = login_for(settings, host)  # before loading models: a refusal is instant
    assistant = Assistant.load(settings=settings)
    print(f"Using LLM {assistant.model_name}, embedder {assistant.embedder.name}", flush=True)
    service = AnswerService(assistant, settings.server, workers=settings.llm.parallel)
    build_app(service, settings).queue().launch(
        server_name=host, server_port=port, share=False, css=CSS, auth=login,
        show_error=True, footer_links=[], max_file_size=upload_limit(settings),
    )
