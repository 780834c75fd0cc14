"""👍/👎 on answers, appended to a local JSONL file for the people who run the assistant.

One JSON object per line: when, the rating, the comment, the question as typed and as
searched (standalone), the answer shown, its citations, the model and the settings hash,
so a reviewer can see what was answered, from what, under which settings. Nothing leaves
the machine.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from qa.types import Answer

Rating = Literal["up", "down"]
_LOCK = threading.Lock()  # one appender at a time: lines never interleave


def feedback_record(answer: Answer, rating: Rating, comment: str = "") -> dict[str, object]:
    """The line written for one rated answer."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rating": rating,
        "comment": " ".join(comment.split()),
        "question": answer.question,
        "standalone_question": answer.standalone_question or answer.question,
        "answer": answer.answer,
        "status": answer.status.value,
        "citations": [asdict(c) for c in answer.citations],
        "model": answer.model,
        "settings_hash": answer.settings_hash,
    }


def record_feedback(path: Path, answer: Answer, rating: Rating,
                    comment: str = "") -> dict[str, object]:
    """Append one rated answer to ``path`` (created with its folder); returns the record."""
    record = feedback_record(answer, rating, comment)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
    return record
