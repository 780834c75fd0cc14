"""Merging ranked lists in turn: each list's first, then each one's second, and so on.

Used where one ranking would let one side crowd out another: the passages of a comparison's
per-drug searches (``Retriever.search_each``) and the evidence sentences of each compared
drug (``evidence.select_evidence``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import zip_longest
from typing import TypeVar

T = TypeVar("T")


def in_turn(rankings: Sequence[Sequence[T]],
            key: Callable[[T], Hashable] = lambda item: item) -> list[T]:
    """The rankings' items in turn, best first; an item already taken (by ``key``) is
    skipped."""
    merged: dict[Hashable, T] = {}
    for turn in zip_longest(*rankings):
        for item in turn:
            if item is not None:
                merged.setdefault(key(item), item)
    return list(merged.values())
