"""qa: private, offline question answering over medical documents, with cited passages."""

from qa.offline import enforce_offline

enforce_offline()  # before any library that could phone home is imported (qa.offline)

from qa.types import Answer, AnswerStatus, Citation, Passage, StreamEvent  # noqa: E402

__all__ = ["Answer", "AnswerStatus", "Assistant", "Citation", "Conversation", "Passage",
           "StreamEvent", "Turn"]


def __getattr__(name: str) -> object:
    # Import lazily: `from qa import Answer` must not load torch, faiss and llama.cpp.
    if name == "Assistant":
        from qa.answer import Assistant

        return Assistant
    if name in ("Conversation", "Turn"):
        from qa import conversation

        return getattr(conversation, name)
    raise AttributeError(name)
