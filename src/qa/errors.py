"""User-facing errors. Each carries a one-line hint that says what to do.

Core code raises these; only the CLI turns them into exit codes and only the UI into
``gr.Error``, so no user ever sees a traceback for a problem they can fix.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class: ``str(err)`` is the problem, ``err.hint`` the remedy."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def one_line(self) -> str:
        """Problem and remedy on one line, for a terminal or a UI toast."""
        return f"{self}. {self.hint}".strip() if self.hint else str(self)


class ConfigError(QAError):
    hint = "Check qa.toml and the QA_* environment variables."


class ModelMissingError(QAError):
    hint = "Run `make models` (or `qa models pull`) to provision the default models."


class ModelCorruptError(QAError):
    hint = "Delete the file and run `qa models pull` to provision it again."


class IndexMissingError(QAError):
    hint = "Build it with `qa ingest ingest/` (or `make index`)."


class IndexMismatchError(QAError):
    hint = "Rebuild it with `qa ingest --rebuild`, or set QA_EMBEDDER__MODEL to the model it used."


class IndexLoadError(QAError):
    hint = ("Run the command again; if it keeps failing, rebuild the index with "
            "`qa ingest --rebuild`.")


class EmptyCorpusError(QAError):
    hint = "Put .txt, .md, .html, .pdf or .docx files in the folder and run `qa ingest` again."


class DocumentError(QAError):
    """One document could not be read; ingestion skips it and reports it."""

    hint = "Fix or remove the file; the other documents were indexed."


class DependencyError(QAError):
    hint = "Run `make setup` to install the project's dependencies."


class QuestionTooLongError(QAError):
    hint = "Ask a shorter question: one or two sentences about the documents."


class PromptTooLongError(QAError):
    hint = ("Ask a shorter question, or raise QA_LLM__N_CTX (the model's context window) "
            "or lower QA_ANSWER__EVIDENCE_TOKENS.")


class StoreUnavailableError(QAError):
    hint = ("Check QA_STORE__MILVUS_URI and QA_STORE__MILVUS_TOKEN, and that the Milvus "
            "server is running (or leave the URI empty for a local Milvus Lite file).")


class RemoteLLMError(QAError):
    hint = ("Check QA_LLM__BASE_URL (the server's /v1 root), QA_LLM__API_KEY, and that the "
            "generation server is running.")


class ServiceBusyError(QAError):
    """The request queue is full; ``retry_after_s`` estimates when a place frees up."""

    hint = "Retry in a few seconds, or raise QA_SERVER__MAX_QUEUE."

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RequestTimeoutError(QAError):
    hint = "Ask a shorter question, or raise QA_SERVER__TIME_LIMIT_S."


class LibraryError(QAError):
    """A document could not be added to or removed from the live index."""

    hint = "Check the document list; the index is unchanged."
