"""Rule-based cleaning of converted lines: scraped-page boilerplate out, headings found.

The format readers in ``qa.loaders`` turn a file into ``Line``s; ``clean_lines`` then applies
these rules in order, and ``assemble`` joins the result into text and sections:

1. Normalise: invisible, bidi and control characters and ANSI escapes out
   (``qa.characters``), odd spaces to plain ones, and blank lines squeezed.
2. Teaser links: lines split at "Continue Reading"/"Read More"; cut-off teasers ("...") go.
3. Hashtag-only lines go.
4. Marker lines of bare punctuation or footnote numbers ("+", "•", "[5]") go.
5. Bylines ("By Jane Doe") anywhere, and an author box (name + short bio) at the page end.
6. Category/tag lines ("Health, Lifestyle") before the first or after the last sentence.
7. Caption-repeated headings: in a run of headings, a near-duplicate of a later one goes.
8. Trailing orphans: headings and title-like link lines after the last body text go.
9. Disclaimers: a paragraph opening with "Disclaimer:" goes.
10. Run-on lists: a list line holding several items joined by " - " becomes a line each.
11. Lead-ins: no blank line between a line leading into a list and the list.

Plain text (.txt, .pdf) has no markup, so its headings are guessed from line shape: short,
not a list item, not ending a sentence, and not the middle of a hard-wrapped sentence.
Every rule is a small function whose docstring states it; none knows about a particular file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from qa.characters import clean_text
from qa.text import LEAD_IN_ONLY
from qa.types import Section

# Bump when a rule changes: ingestion then re-reads every document instead of reusing
# text cleaned by the old rules. 3: bidi/format characters and ANSI out, lxml, encodings;
# 4: a line stating a measurement is no trailing orphan; 5: run-on lists, lead-ins.
CLEANING_VERSION = 5
_CLOSERS = "\"'\u201d\u2019)]*_"
_FOOTNOTE = re.compile(r"\[\d{1,3}\]$")  # "... licence. [1]" still ends a sentence
_SENTENCE_ENDS = (".", "!", "?", "\u2026", "\u3002", "\uff01", "\uff1f")
_FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for with from as that which is are was were be "
    "its their this these than into not".split()
)
# Capitalised two/three-word headings that must never be mistaken for an author's name.
_HEADING_WORDS = frozenset(
    "final thoughts key findings summary conclusion conclusions introduction overview background "
    "references sources resources related posts articles further reading side effects dosage "
    "dose treatment symptoms causes diagnosis warnings precautions interactions benefits risks "
    "next steps more information about contact bottom line takeaways faq faqs".split()
)
# Linear on any line: a match starts at a blank run's first blank; hashtags are possessive.
_READ_MORE = re.compile(r"(?<![ \t])[ \t]*(?:Continue Reading|Read More)[ \t]*[:»›→]*[ \t]*")
_HASHTAGS = re.compile(r"(?:#(?=[^\s#]*[^\W\d_])[^\s#]*+\s*+)+")
_MARKER = re.compile(r"[\W_]+|\[\d{1,3}\]|\(\d{1,3}\)")  # "+", "•", "[5]", "(5)"
_LIST_ITEM = re.compile(r"\s*(?:[-*+\u2022\u2013]|\d{1,3}[.)])\s")
_CAP_WORDS = r"[A-Z&][\w'&-]*(?: [A-Z&][\w'&-]*)*"
_CATEGORY = re.compile(rf"{_CAP_WORDS}(?:\s*,\s*{_CAP_WORDS})+")
_DISCLAIMER = re.compile(
    r"[*_\s]*(?:Medical |Site )?Disclaimer\b[*_\s]*(?:[:.\-\u2013\u2014]|$)", re.I
)
_NAME_WORD = r"[A-Z][a-z]+(?:[-'\u2019][A-Z]?[a-z]+)*"
_PERSON = rf"{_NAME_WORD}(?: (?:[A-Z]\. )?{_NAME_WORD}){{1,2}}"
_BY_LINE = re.compile(
    rf"(?:(?:Written|Reviewed|Medically reviewed|Posted) )?[Bb]y (?:Dr\.? )?{_PERSON}"
    r"(?:\s*[,|\u00b7\u2022\u2013\u2014-].{0,60})?"
)
_PERSON_RE = re.compile(_PERSON)
_BYLINE_ZONE = 0.8  # author boxes sit in the last 20% of a page
_MAX_BIO_CHARS = 300


@dataclass(frozen=True)
class Line:
    """One line on its way to clean text; ``markup`` means its kind came from markup."""

    text: str
    kind: Literal["text", "heading", "code"] = "text"
    markup: bool = False
    page: int = 0  # PDF page number (1-based); 0: unknown, or not from a PDF


def clean_lines(lines: list[Line], guess_headings: bool) -> list[Line]:
    """Apply the cleaning rules in order; no blank lines at the ends or two in a row."""
    lines = [_normalize(line) for line in lines]
    lines = _split_read_more(lines)
    lines = [line for line in lines if not _is_junk_line(line)]
    lines = _drop_category_lines(lines)
    lines = _drop_disclaimers(lines)
    if guess_headings:
        lines = _mark_headings(lines)
    lines = _drop_bylines(lines)
    lines = _collapse_heading_runs(lines)
    lines = _drop_trailing_orphans(lines)
    lines = _split_run_on_lists(lines)
    return _join_lead_ins(_squeeze_blanks(lines))


def _normalize(line: Line) -> Line:
    """Rule 1: no invisible or control characters, NBSP -> space, no trailing spaces
    (CRLF and CR line ends are already gone: every converter uses ``str.splitlines``)."""
    text = clean_text(line.text)
    return replace(line, text=text.strip() if line.kind == "heading" else text.rstrip())


def _squeeze_blanks(lines: list[Line]) -> list[Line]:
    """Rule 1 (blank lines): none at the start or end, and never two in a row."""
    out: list[Line] = []
    for line in lines:
        blank = not line.text.strip()
        if not (blank and (not out or not out[-1].text.strip())):
            out.append(Line("") if blank else line)
    while out and not out[-1].text.strip():
        out.pop()
    return out


def _split_read_more(lines: list[Line]) -> list[Line]:
    """Rule 2: split lines at "Continue Reading"/"Read More"; drop teasers ending in an ellipsis.

    Listing widgets glue a post teaser ("Some Title...") before the link text and the next real
    paragraph right after it ("Continue ReadingKetamine, a well-known ..."). Real text is kept
    as its own line; a teaser can also be the line before the link.
    """
    out: list[Line] = []
    for line in lines:
        parts = _READ_MORE.split(line.text) if line.kind == "text" else [line.text]
        if len(parts) == 1:
            out.append(line)
            continue
        if not parts[0].strip():
            _pop_teaser(out)
        out += [replace(line, text=part) for part in parts if part.strip() and not _is_teaser(part)]
    return out


def _is_teaser(text: str) -> bool:
    """A teaser is a fragment cut off with "..." or "…"."""
    return text.rstrip().endswith(("...", "\u2026"))


def _pop_teaser(out: list[Line]) -> None:
    """Remove the last non-blank line of ``out`` if it is a teaser."""
    i = len(out) - 1
    while i >= 0 and not out[i].text.strip():
        i -= 1
    if i >= 0 and out[i].kind == "text" and _is_teaser(out[i].text):
        del out[i]


def _is_junk_line(line: Line) -> bool:
    """Rules 3 and 4: hashtag-only lines, and lines of bare punctuation or markers ("+", "[5]")."""
    text = line.text.strip()
    if line.kind == "code" or not text:
        return False
    return bool(_HASHTAGS.fullmatch(text) or _MARKER.fullmatch(text))


def _drop_category_lines(lines: list[Line]) -> list[Line]:
    """Rule 6: a category/tag line ("Health, Lifestyle") in the page header or footer goes.

    It is short (<= 40 chars), only capitalised words separated by commas, and sits before the
    first or after the last sentence, so a list of brand names inside the text is safe.
    """
    prose = [i for i, line in enumerate(lines) if line.kind == "text" and _ends_sentence(line.text)]
    first, last = (prose[0], prose[-1]) if prose else (len(lines), -1)

    def is_category(i: int, line: Line) -> bool:
        text = line.text.strip()
        outside = i < first or i > last
        return (
            outside and line.kind == "text" and len(text) <= 40 and bool(_CATEGORY.fullmatch(text))
        )

    return [line for i, line in enumerate(lines) if not is_category(i, line)]


def _drop_disclaimers(lines: list[Line]) -> list[Line]:
    """Rule 9: a paragraph opening with "Disclaimer:" (bold or not) is site boilerplate.

    The paragraph runs until a line ends a sentence, so a hard-wrapped disclaimer goes whole;
    a bare "Disclaimer" label also takes the paragraph after it. The product adds its own.
    """
    out: list[Line] = []
    i = 0
    while i < len(lines):
        label = _DISCLAIMER.match(lines[i].text) if lines[i].kind != "code" else None
        if label is None:
            out.append(lines[i])
            i += 1
            continue
        bare = not re.search(r"[^\W\d_]", lines[i].text[label.end() :])
        i = _paragraph_end(lines, _next_content(lines, i + 1) if bare else i)
    return out


def _mark_headings(lines: list[Line]) -> list[Line]:
    """Guess headings in plain text: heading-shaped lines that are not part of a wrapped sentence.

    The line before must be blank, a heading, or end a sentence; the line right after must not
    start in lower case (that would be the rest of a hard-wrapped sentence, as in PDFs).
    """
    out: list[Line] = []
    for i, line in enumerate(lines):
        prev = out[-1] if out else Line("")
        after = lines[i + 1].text.lstrip() if i + 1 < len(lines) else ""
        starts_block = prev.kind == "heading" or not prev.text.strip() or _ends_sentence(prev.text)
        if (
            line.kind == "text"
            and _looks_like_heading(line.text)
            and starts_block
            and not after[:1].islower()
        ):
            line = Line(line.text.strip(), "heading", page=line.page)
        out.append(line)
    return out


def _looks_like_heading(text: str) -> bool:
    """Heading shape: 1-15 words, <= 100 chars, not a list item, not ending in . ! ; , or "...".

    A trailing ":" or "?" is fine ("Common Side Effects:", FAQ questions); a last word like "of"
    or "the" means a line broken mid-sentence, not a heading.
    """
    s = text.strip()
    words = s.split()
    if not 1 <= len(words) <= 15 or len(s) > 100 or _LIST_ITEM.match(s):
        return False
    if not any(c.isalpha() for c in s) or "://" in s or "www." in s:
        return False
    if words[-1] in _FUNCTION_WORDS:
        return False
    end = _ending(s)[-1:]
    return end in ("?", "\uff1f") or end not in (";", ",", "\u3001", *_SENTENCE_ENDS)


def _drop_bylines(lines: list[Line]) -> list[Line]:
    """Rule 5: "By Jane Doe" lines anywhere, and an author box at the end of the page.

    An author box is a line holding only a person's name (2-3 capitalised words, none of them a
    usual heading word such as "Final Thoughts") in the last 20% of the text, then a short bio
    (< 300 chars) or nothing, with no body text after it.
    """
    lines = [ln for ln in lines if ln.kind == "code" or not _BY_LINE.fullmatch(ln.text.strip())]
    total = sum(len(line.text) + 1 for line in lines)
    offset = 0
    for i, line in enumerate(lines):
        if offset >= _BYLINE_ZONE * total and _is_person_name(line.text):
            end = _author_box_end(lines, i)
            if end is not None:
                return lines[:i] + lines[end:]
        offset += len(line.text) + 1
    return lines


def _is_person_name(text: str) -> bool:
    """Only a name: 2-3 capitalised alphabetic words, none of them a usual heading word."""
    s = text.strip()
    words = re.split(r"[\s.]+", s)
    return bool(_PERSON_RE.fullmatch(s)) and not any(w.casefold() in _HEADING_WORDS for w in words)


def _author_box_end(lines: list[Line], i: int) -> int | None:
    """Index after the author box whose name is line ``i``, or None if this is no author box."""
    end = i + 1
    bio = _next_content(lines, end)
    if bio < len(lines) and lines[bio].kind == "text":
        end = _paragraph_end(lines, bio)
        if sum(len(line.text) for line in lines[bio:end]) >= _MAX_BIO_CHARS:
            return None
    return end if all(_is_trailer(line) for line in lines[end:]) else None


def _collapse_heading_runs(lines: list[Line]) -> list[Line]:
    """Rule 7: in a run of headings with no body between them, keep the last one.

    Scraped pages repeat a heading as an image caption ("Mechanism of Action", then "Mechanism
    of Action of Memantine"). A heading goes when a later one in its run shares at least half
    its words, or when it repeats (case-insensitively) a heading kept earlier. Markup headings
    are only compared within their run ("## Dosage" may recur under each drug) and never by
    word overlap. The document's first line, the title, always stays.
    """
    first = _next_content(lines, 0)
    seen: set[str] = set()
    drop: set[int] = set()
    for run in _heading_runs(lines):
        in_run: set[str] = set()
        for pos, i in enumerate(run):
            line, key = lines[i], lines[i].text.casefold()
            repeat = key in in_run or (not line.markup and key in seen)
            caption = not line.markup and any(
                _similar(line.text, lines[j].text) for j in run[pos + 1 :]
            )
            if i != first and (repeat or caption):
                drop.add(i)
            else:
                in_run.add(key)
                seen.add(key)
    return [line for i, line in enumerate(lines) if i not in drop]


def _heading_runs(lines: list[Line]) -> list[list[int]]:
    """Indexes of headings grouped into runs; blank lines continue a run, body text ends it."""
    runs: list[list[int]] = [[]]
    for i, line in enumerate(lines):
        if line.kind == "heading":
            runs[-1].append(i)
        elif (line.text.strip() or line.kind == "code") and runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _similar(a: str, b: str) -> bool:
    """Same heading twice: equal, or sharing 2+ content words and half those of the shorter.

    "Mechanism of Action" ~ "Mechanism of Action of Memantine"; but list-like lines such as
    "Stomach pain" and "Stomach bleeding" (one shared word) are different.
    """
    if a.casefold() == b.casefold():
        return True
    words_a, words_b = _content_words(a), _content_words(b)
    shared = len(words_a & words_b)
    return shared >= 2 and shared >= 0.5 * min(len(words_a), len(words_b))


def _content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` without function words, numbers and single letters."""
    words = re.findall(r"[^\W\d_]{2,}", text.casefold())
    return {w for w in words if w not in _FUNCTION_WORDS}


def _drop_trailing_orphans(lines: list[Line]) -> list[Line]:
    """Rule 8: headings and title-like link lines after the last body text go (related posts).

    The first line stays even then: a one-line note is a document, not an orphan heading.
    """
    end, first = len(lines), _next_content(lines, 0)
    while end > first + 1 and _is_trailer(lines[end - 1]):
        end -= 1
    return lines[:end]


# A measurement: "Size 11mm", "10 mg in 1 mL".
_MEASURE = re.compile(r"\d(?:[.,]\d+)?\s?(?:mm|cm|mg|mcg|ml|g|kg|%)(?![a-z])", re.IGNORECASE)


def _is_trailer(line: Line) -> bool:
    """Rule 8's orphan: blank, a heading, or a long title-like line (a related-post link).

    A guessed heading or plain line that reads like a sentence (5+ words, mostly lower case)
    is body text that merely lacks a full stop, and stays; so do lists, tables and code,
    and a line stating a measurement: a label's last row, "Product Characteristics Color
    WHITE Score 2 pieces Shape OVAL (Capsule-Shaped) Size 11mm", is data, not a post title
    (it went, and with it the only answer to "What does metoprolol look like?").
    """
    text = line.text.strip()
    if not text or (line.kind == "heading" and line.markup):
        return True
    if line.kind == "code" or _ends_sentence(text) or _LIST_ITEM.match(text) or len(text) > 200 \
            or _MEASURE.search(text):
        return False
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    title_case = sum(w.lstrip("\"'(")[:1].isupper() for w in words) >= 0.6 * len(words)
    if line.kind == "heading":
        return len(words) < 5 or title_case
    return len(words) >= 5 and title_case


# Rule 10's separator: " - " before the next item's first word.
_RUN_ON = re.compile(r"\s+-\s+(?=[A-Za-z(])")
RUN_ON_ITEMS = 3  # a "- " line joining at least this many items is a run-on list


def _split_run_on_lists(lines: list[Line]) -> list[Line]:
    """Rule 10: a "- " list line holding several items joined by " - " becomes one line per
    item. MedQuAD's pages come flattened so ("- hypercalciuria, a condition … - a family
    history of kidney stones - cystic kidney diseases …"): as one line, the list was cut
    into chunks mid-item, and no item was found to be one."""
    out: list[Line] = []
    for line in lines:
        parts = _RUN_ON.split(line.text) if line.kind == "text" \
            and line.text.lstrip().startswith("- ") else [line.text]
        if len(parts) < RUN_ON_ITEMS:
            out.append(line)
            continue
        out += [replace(line, text=parts[0]),
                *(replace(line, text=f"- {part}") for part in parts[1:])]
    return out


def _join_lead_ins(lines: list[Line]) -> list[Line]:
    """Rule 11: a line leading into a list ("…are those with", "…may include:") is not parted
    from the list by a blank line, so that the chunker keeps them together: apart, the
    answer to "Who is at risk of kidney stones?" was the lead-in alone."""
    def parts_lead_in_from_list(i: int) -> bool:
        before, after = lines[i - 1], lines[i + 1]
        return (not lines[i].text.strip() and before.kind == "text"
                and bool(LEAD_IN_ONLY.search(before.text)) and bool(_LIST_ITEM.match(after.text)))

    return [line for i, line in enumerate(lines)
            if not (0 < i < len(lines) - 1 and parts_lead_in_from_list(i))]


def _ends_sentence(text: str) -> bool:
    """True if ``text`` ends with . ! ? or an ellipsis (closing quotes, ** and [1] ignored)."""
    return _ending(text).endswith(_SENTENCE_ENDS)


def _ending(text: str) -> str:
    """``text`` without trailing spaces, footnote markers, closing quotes/brackets and ``**``."""
    while found := _FOOTNOTE.search(text := text.rstrip(), max(0, len(text) - 5)):
        text = text[: found.start()]
    return text.rstrip(_CLOSERS)


def _paragraph_end(lines: list[Line], i: int) -> int:
    """Index after the paragraph starting at line ``i``: lines run on until one ends a sentence."""
    j = min(i, len(lines) - 1)
    while (
        j + 1 < len(lines)
        and not _ends_sentence(lines[j].text)
        and lines[j + 1].kind == "text"
        and lines[j + 1].text.strip()
    ):
        j += 1
    return j + 1


def _next_content(lines: list[Line], i: int) -> int:
    """Index of the first non-blank line at or after ``i`` (``len(lines)`` if none)."""
    while i < len(lines) and not lines[i].text.strip():
        i += 1
    return i


def page_starts(lines: list[Line]) -> tuple[int, ...]:
    """Offsets in the assembled text where pages 1, 2, ... start (lines of an unknown page,
    such as blank ones, belong to the page before); () when no line knows its page."""
    starts: list[int] = []
    offset = 0
    for line in lines:
        while line.page > len(starts):  # a page with no line left still gets its start
            starts.append(offset)
        offset += len(line.text) + 1
    return tuple(starts)


def assemble(lines: list[Line]) -> tuple[str, tuple[Section, ...]]:
    """Join lines into the text; each heading line opens a Section that runs to the next one."""
    starts: list[tuple[int, str]] = []
    offset = 0
    for line in lines:
        if line.kind == "heading":
            starts.append((offset, line.text))
        offset += len(line.text) + 1
    text = "\n".join(line.text for line in lines)
    if not starts or starts[0][0] != 0:
        starts.insert(0, (0, ""))
    ends = [start for start, _ in starts[1:]] + [len(text)]
    return text, tuple(Section(h, s, e) for (s, h), e in zip(starts, ends, strict=True))
