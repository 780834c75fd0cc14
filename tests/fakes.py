"""Test fakes for the two model seams: a generator with queued replies, a word-hash embedder.

Fakes over mocks: each implements the whole protocol (``qa.llm.Generator``,
``qa.embeddings.Embedder``), records what it was asked, and fails loudly when called in a
way the test did not plan for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from qa.llm import ChatPrompt
from qa.text import words

Reply = str | Callable[[ChatPrompt], str]


def first_sentence_cited(prompt: ChatPrompt) -> str:
    """A reply copying the first sentence of excerpt [1], cited: always supported."""
    excerpt = prompt.user.split("\n[1] ", 1)[1].split("\n\n")[0]
    return excerpt.split(". ")[0].rstrip(".") + " [1]."


def citing(words: str, text: str) -> Callable[[ChatPrompt], str]:
    """A reply ``text`` with "[n]" standing for the excerpt that contains ``words`` (lower
    case, spacing folded): the reply cites whichever number the excerpt was given."""
    def reply(prompt: ChatPrompt) -> str:
        for match in re.finditer(r"^\[(\d+)\] (.*?)(?=\n\n\[\d+\] |\n\nQuestion: )",
                                 prompt.user, re.MULTILINE | re.DOTALL):
            if words in " ".join(match.group(2).split()).lower():
                return text.replace("[n]", f"[{match.group(1)}]")
        raise AssertionError(f"no excerpt with {words!r} in {prompt.user!r}")
    return reply


class FakeGenerator:
    """Replies from a queue, in order, streamed a few characters at a time; records prompts.

    A reply is a string, or a function of the prompt (to cite the excerpt numbers the
    prompt shows). With an empty queue, any call to ``generate`` fails the test: use
    ``FakeGenerator()`` where the model must not be called at all.
    """

    def __init__(self, *replies: Reply, name: str = "fake-llm") -> None:
        self.name = name
        self.replies = list(replies)
        self.prompts: list[ChatPrompt] = []
        self.warmed: list[str] = []
        self.logprobs: list[dict[str, float]] = []
        self.prepared: list[tuple[str, str]] = []

    def generate(self, prompt: ChatPrompt) -> Iterator[str]:
        if not self.replies:
            raise AssertionError(f"the model was called but no reply was queued: {prompt.user!r}")
        self.prompts.append(prompt)
        queued = self.replies.pop(0)
        reply = queued if isinstance(queued, str) else queued(prompt)
        for start in range(0, len(reply), 5):
            yield reply[start : start + 5]

    def warm_up(self, system: str) -> None:
        self.warmed.append(system)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def label_logprobs(self, prompt: ChatPrompt, labels: Sequence[str],
                       prefill: str = "") -> dict[str, float]:
        if not self.logprobs:
            raise AssertionError("label_logprobs was called but no scores were queued")
        self.prompts.append(prompt)
        scores = self.logprobs.pop(0)
        return {label: scores[label] for label in labels}

    def prepare(self, system: str, chunks: Sequence[tuple[str, str]]) -> int:
        self.prepared.extend(chunks)
        return len(chunks)


class FakeEmbedder:
    """Bag of hashed words, L2-normalised: texts sharing words have a high cosine."""

    name = "fake-embedder"
    sha256 = "fake"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                digest = hashlib.md5(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0
            out[row, -1] += 0.01  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def count_tokens(self, text: str) -> int:
        return len(text.split())
