"""Passages -> the few sentences the model needs, numbered, within a token budget.

Prefill costs ~16 ms per prompt token on the target CPU, so the prompt carries only the
sentences of the top passages that bear on the question: a contiguous run of sentences per
passage, quoted verbatim with its offsets into the document, so a citation points at the
exact text the model saw.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.config import AnswerSettings
from qa.embeddings import Embedder
from qa.injection import addressed_to_model
from qa.ranking import in_turn
from qa.scope import ROUTE, asks_route, scored_question
from qa.text import LEAD_IN_ONLY, LIST_ITEM, content_words, heading_like, sentence_spans, stems
from qa.types import Chunk, Evidence, Passage

# A sentence opening with one of these leans on the one before it.
_DANGLING = re.compile(r"^(it|this|these|they|that|those|such|its|their|however|additionally)\b",
                       re.IGNORECASE)
# …and one pointing back to things named before it, wherever it does: "Administer SYNTHROID
# at least 4 hours apart from these agents." (the calcium and iron of the sentence before)
_POINTS_BACK_TO = re.compile(r"\b(?:these|those|such|the above|both)\s+(?:agents|drugs|"
                             r"medications|medicines|products|foods|supplements|substances)\b",
                             re.IGNORECASE)
LEAD_IN_ITEMS = 6  # lines after a lead-in taken as its items, whatever they are
# …and after those, lines shaped like items (``_item_like``), up to this many in all: a label
# page's "call your doctor immediately…:" leads in eighteen symptoms, one a line
LEAD_IN_MAX_ITEMS = 30
ITEM_WORDS = 12  # an unmarked item is a line of at most this many words with no full stop
CHARS_PER_TOKEN = 4  # Qwen's tokenizer averages ~4 characters of English prose per token


def _leans(text: str) -> bool:
    """The sentence leans on the one before it (``_DANGLING``, ``_POINTS_BACK_TO``)."""
    return bool(_DANGLING.match(text) or _POINTS_BACK_TO.search(text))


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the passages list
    order: int  # position within its passage
    start: int  # document offsets
    end: int
    text: str
    # Shown only with the list item that brought it (the line leading into the item's list,
    # the items before it), never chosen for itself: it is about something else.
    escort: bool = False


# Whether a sentence of a chunk is about what was asked (for instance the asked drug).
About = Callable[[Chunk, str], bool]


def _item_like(text: str) -> bool:
    """A line of a list set without marks: short, no full stop ("weight loss or gain")."""
    return len(text.split()) <= ITEM_WORDS and not text.rstrip().endswith((".", ":", "?", "!"))


def _lead_in(spans: list[tuple[int, int]], text: str, order: int) -> range:
    """The orders of the lines leading into the list whose item is line ``order`` and of
    the items before it: from the line before the list's first item when it leads in
    ("They include", "…such as:"), or the one before that when the lead-in points back to
    it ("They"); nothing when no line leads in."""
    first = order
    while first > 0 and LIST_ITEM.search(text[slice(*spans[first - 1])]):
        first -= 1
    if first == 0 or not LEAD_IN_ONLY.search(text[slice(*spans[first - 1])]):
        return range(0)
    back = 2 if first >= 2 and _leans(text[slice(*spans[first - 1])]) else 1
    return range(first - back, order)


def _sentences(passages: list[Passage], about: About | None) -> list[_Sentence]:
    found: list[_Sentence] = []
    for p_index, passage in enumerate(passages):
        chunk = passage.chunk
        spans = sentence_spans(chunk.text)
        listing = False  # within the lines a lead-in ("…call your doctor immediately:") leads
        kept: dict[int, _Sentence] = {}
        for order, (s, e) in enumerate(spans):
            text = chunk.text[s:e]
            listing = text.rstrip().endswith(":") or (listing and _item_like(text))
            if text.strip() in (chunk.section, chunk.title) or text.endswith("?"):
                continue  # a heading line or a question ("Is it safe to take all of
                # these meds together?" heading a reader's letter): no facts, only tokens
            # A sentence that gives orders ("ignore previous instructions…") is never shown
            # to the model: ingestion removes them; this catches an index built before.
            # An item may be one word ("rash"); another line says nothing with fewer than two
            if len(content_words(text)) < (1 if listing else 2) \
                    or addressed_to_model(text) is not None:
                continue
            if about is not None and not about(chunk, text):
                continue  # another drug's facts cannot answer for the asked one
            kept[order] = _Sentence(p_index, order, chunk.start + s, chunk.start + e, text)
            for lead in _lead_in(spans, chunk.text, order) if LIST_ITEM.search(text) else ():
                # "A number of medications may put people at risk for developing gout.
                # They include - diuretics … - levodopa": the item alone does not say what
                # it is in, the lead-in (naming no drug, so taken as about the page's,
                # allopurinol) does, and the items between make it one excerpt
                a, b = spans[lead]
                line = chunk.text[a:b]
                if lead not in kept and line.strip() not in (chunk.section, chunk.title) \
                        and addressed_to_model(line) is None:
                    kept[lead] = _Sentence(p_index, lead, chunk.start + a, chunk.start + b,
                                           line, escort=True)
        found.extend(kept[order] for order in sorted(kept))
    return found


def _score(question: str, sentences: list[_Sentence], embedder: Embedder,
           hide: Callable[[str], str], aspect: str | None = None) -> np.ndarray:
    """Cosine to the question, plus question-word overlap, plus a little passage rank.

    The cosine is of the texts after ``hide`` (the drug names taken out), so that it
    measures what a sentence says about the question's topic, not that it names the drug.
    For a question asking how a drug is given, a sentence's cosine is also taken to what
    such an answer says (``ROUTE``), and with an ``aspect`` (the question without its
    setting, ``scope.setting_of``) to that, whichever is higher.
    """
    texts = [hide(s.text) for s in sentences]
    # "…given for depression?": depression's sentences outscored "by infusion"
    also = [*([ROUTE] if asks_route(question) else []),
            *([scored_question(aspect, hide)] if aspect else [])]
    vectors = embedder.embed([scored_question(question, hide), *also, *texts])
    said = vectors[1 + len(also):]
    cosine = said @ vectors[0]
    for k in range(1, 1 + len(also)):
        cosine = np.maximum(cosine, said @ vectors[k])
    # Stems: "monitored" meets "monitoring", "taking" "take".
    asked = set(stems(content_words(question)))
    overlap = np.array([len(asked & set(stems(content_words(s.text)))) / max(1, len(asked))
                        for s in sentences])
    rank = np.array([1.0 / (1 + s.passage) for s in sentences])
    return cosine + 0.3 * overlap + 0.05 * rank


def _cost(sentence: _Sentence) -> int:
    return len(sentence.text) // CHARS_PER_TOKEN + 1


def _list_of(i: int, sentences: list[_Sentence], by_key: dict[tuple[int, int], int]) -> list[int]:
    """The items of the list sentence ``i`` belongs to (itself when it is no list item); for
    a lead-in ("During long trips, it may help to:"), the lines after it, marked or not
    (plain-text pages set each item as a line of its own), up to LEAD_IN_ITEMS."""
    colon = sentences[i].text.rstrip().endswith(":")
    if colon or LEAD_IN_ONLY.search(sentences[i].text):
        # "…taking certain medications including", then "- diuretics", "- topiramate":
        # without a colon, only marked items are the list's
        run = [i]
        j = by_key.get((sentences[i].passage, sentences[i].order + 1))
        while j is not None and not sentences[j].text.rstrip().endswith(":") and (
                colon or LIST_ITEM.search(sentences[j].text)) and (
                len(run) <= LEAD_IN_ITEMS or (len(run) <= LEAD_IN_MAX_ITEMS
                                              and _item_like(sentences[j].text))):
            run.append(j)
            j = by_key.get((sentences[j].passage, sentences[j].order + 1))
        return run
    if not LIST_ITEM.search(sentences[i].text):
        return [i]
    run = [i]
    for step in (-1, 1):
        j = by_key.get((sentences[i].passage, sentences[i].order + step))
        while j is not None and LIST_ITEM.search(sentences[j].text):
            run = [j, *run] if step < 0 else [*run, j]
            j = by_key.get((sentences[j].passage, sentences[j].order + step))
    return run


def _leading(first: int, sentences: list[_Sentence], by_key: dict[tuple[int, int], int],
             ) -> list[int]:
    """The lines leading into the list whose first item is ``first`` ("They include"), and
    the one such a lead-in points back to, when they are among ``sentences``."""
    lead = by_key.get((sentences[first].passage, sentences[first].order - 1))
    if lead is None or not LEAD_IN_ONLY.search(sentences[lead].text):
        return []
    before = by_key.get((sentences[lead].passage, sentences[lead].order - 1))
    return [before, lead] if before is not None and _leans(sentences[lead].text) else [lead]


def _folded(sentence: _Sentence) -> str:
    return " ".join(sentence.text.split()).casefold()


def _choose(sentences: list[_Sentence], scores: np.ndarray, budget: int,
            first: Sequence[int] = ()) -> set[int]:
    """Greedy by score within the budget (``first`` before the rest); a sentence that leans
    on the one before brings it, a sentence the next one continues ("It ...") brings that
    one, a list item brings the lines leading into its list and the list, in order, as far
    as half a budget more holds: a list answer cut after "1." is worse than a longer
    prompt, and the continuation is often where the specific fact is."""
    by_key = {(s.passage, s.order): i for i, s in enumerate(sentences)}
    chosen: set[int] = set()
    said: set[str] = set()  # the chosen sentences' text, spacing and case folded
    used = 0
    early = set(first)
    candidates = [i for i in (*first, *(int(i) for i in np.argsort(-scores) if i not in early))
                  if not sentences[i].escort]
    for i in candidates:
        if _folded(sentences[i]) in said:
            continue  # the same line in two chunks (their overlap, a repeated line)
        wanted = [int(i)]
        prev = by_key.get((sentences[i].passage, sentences[i].order - 1))
        if prev is not None and prev not in chosen and _leans(sentences[i].text):
            wanted.insert(0, prev)
        items = _list_of(int(i), sentences, by_key)
        after = by_key.get((sentences[i].passage, sentences[i].order + 1))
        if after is not None and (_leans(sentences[after].text)
                                  or heading_like(sentences[i].text)):
            # "...works on muscle cells. It inhibits calcium release"; a heading ("Seizure
            # Disorders") says what the next sentence is about, and nothing alone
            items = [*items, after]
        lead = _leading(items[0], sentences, by_key) if LIST_ITEM.search(sentences[i].text) \
            else []
        if lead:  # an item says what it is in by the line leading into its list: that line
            # and the items up to this one come first, as one excerpt, when they fit
            within = [*lead, *items[:items.index(int(i)) + 1], *wanted]
            if not chosen or used + sum(_cost(sentences[j]) for j in set(within) - chosen) \
                    <= 1.5 * budget:  # as a list may run on
                wanted = list(dict.fromkeys(within))
        cost = sum(_cost(sentences[j]) for j in wanted if j not in chosen)
        if chosen and used + cost > (1.5 * budget if lead else budget):
            continue
        chosen.update(wanted)
        said.update(_folded(sentences[j]) for j in wanted)
        used += cost
        for j in (j for j in items if j not in chosen):  # as much of the list as fits
            if used + _cost(sentences[j]) > 1.5 * budget:
                break
            chosen.add(j)
            said.add(_folded(sentences[j]))
            used += _cost(sentences[j])
        if used >= budget:
            break
    return chosen


def select_evidence(
    question: str, passages: list[Passage], embedder: Embedder, cfg: AnswerSettings,
    about: About | None = None, hide: Callable[[str], str] = str,
    sides: Sequence[About] = (), aspect: str | None = None,
) -> list[Evidence]:
    """The best sentences of the top passages, merged into contiguous runs, numbered 1..n;
    with ``about``, only the sentences it accepts; ``hide`` takes out what the scoring
    should not see (``Lexicon.hider``: the drug names). With two or more ``sides`` (the
    drugs a question compares), the sides' sentences are taken in turn, each side's best
    first, so one drug's sentences cannot crowd out the other's."""
    passages = passages[: cfg.max_passages]
    sentences = _sentences(passages, about)
    if not sentences:
        return []
    scores = _score(question, sentences, embedder, hide, aspect)
    leading: list[int] = []  # the compared drugs' sentences in turn, each side best first
    if len(sides) >= 2:
        ranked = [int(i) for i in np.argsort(-scores)]
        leading = in_turn([[i for i in ranked if side(passages[sentences[i].passage].chunk,
                                                    sentences[i].text)] for side in sides])
    chosen = sorted(_choose(sentences, scores, cfg.evidence_tokens, leading),
                    key=lambda i: (sentences[i].passage, sentences[i].order))
    runs: list[list[int]] = []
    for i in chosen:
        prev = runs[-1][-1] if runs else None
        if prev is not None and sentences[prev].passage == sentences[i].passage and (
                sentences[prev].order + 1 == sentences[i].order):
            runs[-1].append(i)
        else:
            runs.append([i])
    # a heading heads what follows it: one ending a run (its sentence did not fit, or the
    # chunk ends there) is no part of an excerpt ("Travel Tips" was a whole answer)
    for run in runs:
        while run and heading_like(sentences[run[-1]].text):
            run.pop()
    runs = [run for run in runs if run]
    runs.sort(key=lambda run: -max(scores[i] for i in run))
    evidence = []
    for n, run in enumerate(runs, start=1):
        first, last = sentences[run[0]], sentences[run[-1]]
        chunk = passages[first.passage].chunk
        text = chunk.text[first.start - chunk.start : last.end - chunk.start]
        evidence.append(Evidence(n, chunk, first.start, last.end, text,
                                 float(max(scores[i] for i in run))))
    return evidence
