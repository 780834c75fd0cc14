"""What a user may ask: a question within the length limit, with nothing hidden in it.

Stage 0 of ``Assistant.stream``, before triage: bidi controls, invisible characters, ANSI
escapes and control characters are removed (``qa.characters``), so the question the
stages see is the one the user saw; then a question longer than
``answer.max_question_chars`` is refused with one line (the CLI exits 1, the page shows
a notice). The prompt's token count is bounded separately, in the generator.
"""

from __future__ import annotations

from qa.characters import clean_text
from qa.errors import QuestionTooLongError


def checked_question(question: str, max_chars: int) -> str:
    """``question`` without hidden characters; QuestionTooLongError if over ``max_chars``."""
    text = clean_text(question).strip()
    if len(text) > max_chars:
        raise QuestionTooLongError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,} "
            "(setting answer.max_question_chars, QA_ANSWER__MAX_QUESTION_CHARS)")
    return text
