"""Files in ingest/ -> Document: decode, convert to lines, clean, split into sections.

Each format is first turned into a list of lines (headings marked where the markup says so),
then one rule-based cleaner removes scraped-page boilerplate. Every cleaning rule is a small
function whose docstring states the rule; none knows about a particular file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from qa.errors import DependencyError, DocumentError
from qa.types import Document, Section

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
_PLAIN_SUFFIXES = (".txt", ".pdf")  # no markup: headings are guessed from line shape

_INVISIBLE = {ord(c): None for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad"}
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CLOSERS = "\"'\u201d\u2019)]*_"
_FOOTNOTES = re.compile(r"(?:\s*\[\d{1,3}\])+\s*$")  # "... licence. [1]" still ends a sentence
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
_READ_MORE = re.compile(r"[ \t]*(?:Continue Reading|Read More)[ \t]*[:»›→]*[ \t]*")
_HASHTAGS = re.compile(r"(?:#[^\s#]*[^\W\d_][^\s#]*\s*)+")
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
class _Line:
    """One line on its way to clean text; ``markup`` means its kind came from markup."""

    text: str
    kind: Literal["text", "heading", "code"] = "text"
    markup: bool = False


# ---------------------------------------------------------------- public API


def find_documents(root: Path) -> list[Path]:
    """Supported files under ``root`` (recursive, sorted), skipping hidden files and folders."""
    if not root.is_dir():
        return []
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [
            Path(folder) / name
            for name in filenames
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES
        ]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def doc_id_for(source: str) -> str:
    """Stable document id: the relative POSIX path without its suffix ("leaflets/ibuprofen")."""
    path = PurePosixPath(source)
    return path.with_suffix("").as_posix() if path.suffix else path.as_posix()


def load_document(path: Path, root: Path) -> Document:
    """Read, convert and clean one file; raise DocumentError (never a library error) if bad."""
    name = path.as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise _error(name, f"unsupported file type {suffix or '(none)'!r} (supported: {supported})")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _error(name, exc.strerror or type(exc).__name__) from exc
    title_hint, lines = _CONVERTERS[suffix](raw, name)
    lines = _clean(lines, guess_headings=suffix in _PLAIN_SUFFIXES)
    if not lines:
        scanned = " (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""
        raise _error(name, f"contains no text{scanned}")
    text, sections = _assemble(lines)
    first = lines[0].text if lines[0].kind == "heading" else ""
    source = _source_for(path, root)
    return Document(
        doc_id=doc_id_for(source),
        source=source,
        title=title_hint or first or _prettify(path.stem),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        sections=sections,
    )


def _error(name: str, reason: str) -> DocumentError:
    """A one-line DocumentError naming the file and the reason."""
    return DocumentError(f"cannot read {name}: {' '.join(reason.split())}")


def _source_for(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with POSIX separators (the file name if outside root)."""
    for p, r in ((path, root), (path.resolve(), root.resolve())):
        try:
            return p.relative_to(r).as_posix()
        except ValueError:
            continue
    return path.name


def _prettify(stem: str) -> str:
    """A title from a file name: separators become spaces, first letter upper-cased."""
    words = re.sub(r"[_\-\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:]


# ---------------------------------------------------------------- formats -> lines


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 if clean; NULs mean a binary file."""
    if b"\x00" in raw:
        raise _error(name, "file is binary, not text (it contains NUL bytes)")
    try:
        return raw.decode("utf-8-sig")  # also covers plain utf-8: the BOM is optional
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        text = "\x00"
    if _CONTROL.search(text.replace("\x0c", "")):
        raise _error(name, "file is not UTF-8 or Windows-1252 text")
    return text


def _text_lines(raw: bytes, name: str) -> tuple[str, list[_Line]]:
    """Plain text is taken as is, line by line."""
    return "", [_Line(s) for s in _decode(raw, name).splitlines()]


_MD_FENCE = re.compile(r"\s*(```|~~~)")
_MD_ATX = re.compile(r"\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_LINK_DEF = re.compile(r"\s{0,3}\[[^\]]+\]:\s*\S+")
_MD_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images go
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url) -> text; a linked image goes
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref] -> text
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **strong**, __strong__
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *em*
    (re.compile(r"^\s{0,3}>\s?"), ""),  # blockquote marker
)


def _md_inline(text: str) -> str:
    """Strip markdown inline syntax: images, link targets, emphasis markers, quote markers."""
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return text


def _markdown_lines(raw: bytes, name: str) -> tuple[str, list[_Line]]:
    """Markdown: '#' lines become headings (the first '# ' one is the title), code kept."""
    lines: list[_Line] = []
    title, in_code = "", False
    for line in _drop_front_matter(_decode(raw, name).splitlines()):
        if _MD_FENCE.match(line):
            in_code = not in_code
        elif in_code:
            lines.append(_Line(line, "code", True))
        elif heading := _MD_ATX.match(line):
            text = _md_inline(heading.group(2)).strip()
            title = title or (text if heading.group(1) == "#" else "")
            lines.append(_Line(text, "heading", True))
        elif not _MD_LINK_DEF.match(line):
            lines.append(_Line(_md_inline(line)))
    return title, lines


def _drop_front_matter(lines: list[str]) -> list[str]:
    """A leading '---' ... '---' YAML block is metadata, not text."""
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return lines[i + 1 :]
    return lines


_HTML_DROP = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript",
              "template", "iframe", "svg", "head", "title")  # fmt: skip
_HTML_BLOCKS = ("p", "div", "section", "article", "main", "ul", "ol", "dl", "table",
                "blockquote", "pre", "figure", "figcaption", "details", "summary", "address",
                "hr", "caption")  # fmt: skip
_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HTML_LINES = ("li", "tr", "dt", "dd", "br")  # one line each, no blank line between them
# Private-use characters that mark structure inside get_text(): a paragraph break, a line
# break, and a heading line. Whitespace around them is source formatting and goes.
_PARA, _BREAK, _HEADING_MARK = "\ue001", "\ue002", "\ue000"


def _html_lines(raw: bytes, name: str) -> tuple[str, list[_Line]]:
    """HTML: boilerplate elements dropped, blocks on their own lines, h1-h6 as headings."""
    try:
        from bs4 import BeautifulSoup
    except ImportError as exc:
        raise DependencyError("beautifulsoup4 is not installed") from exc
    try:  # html.parser is lenient, but a pathological file must not escape as a crash
        soup = BeautifulSoup(_decode(raw, name), "html.parser")
        title_tag = soup.title or soup.find("h1")
        title = " ".join(title_tag.get_text(" ").split()) if title_tag else ""
        for tag in soup.find_all(_HTML_DROP):
            if not (tag.name == "header" and tag.find_parent(("article", "main"))):
                tag.decompose()  # an article's own <header> holds its h1, not site chrome
        _mark_html_structure(soup)
        text = soup.get_text()
    except DocumentError:
        raise
    except Exception as exc:  # any parser failure means a bad file
        raise _error(name, f"could not parse HTML ({exc})") from exc
    text = re.sub(rf"[\s{_BREAK}]*{_PARA}[\s{_PARA}{_BREAK}]*", "\n\n", text)
    text = re.sub(rf"\s*{_BREAK}[\s{_BREAK}]*", "\n", text)
    lines = [s.strip().rstrip(" |") for s in text.splitlines()]
    return title, [
        _Line(s[1:].strip(), "heading", True) if s.startswith(_HEADING_MARK) else _Line(s)
        for s in lines
    ]


def _mark_html_structure(soup: BeautifulSoup) -> None:
    """Mark structure: source whitespace squashed (outside <pre>), blocks and headings set
    apart as paragraphs, list items, rows and <br> as lines, '- ' before items, cells split."""
    from bs4 import NavigableString

    for string in soup.find_all(string=True):
        if type(string) is NavigableString and not string.find_parent("pre"):
            string.replace_with(re.sub(r"\s+", " ", string))
    for tag in soup.find_all(_HTML_HEADINGS):
        tag.replace_with(f"{_PARA}{_HEADING_MARK}{' '.join(tag.get_text(' ').split())}{_PARA}")
    for tag in soup.find_all(("td", "th")):
        tag.insert_after(" | ")
    for tag in soup.find_all("li"):
        tag.insert(0, "- ")
    for tag in soup.find_all(_HTML_BLOCKS + _HTML_LINES):
        mark = _BREAK if tag.name in _HTML_LINES else _PARA
        tag.insert_before(mark)
        tag.insert_after(mark)


def _pdf_lines(raw: bytes, name: str) -> tuple[str, list[_Line]]:
    """PDF: the text of each page, pages separated by a blank line; metadata title if set."""
    try:
        from pypdf import PdfReader
    except ImportError as exc:
        raise DependencyError("pypdf is not installed") from exc
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _error(name, "PDF is encrypted (password protected)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title or "") if reader.metadata else ""
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        reason = str(exc) or type(exc).__name__
        if "crypt" in reason.lower():  # wrong password, or AES support missing
            raise _error(name, f"PDF is encrypted ({reason})") from exc
        raise _error(name, f"file is not a valid PDF ({reason})") from exc
    return " ".join(str(title).split()), [_Line(s) for s in "\n\n".join(pages).splitlines()]


_CONVERTERS: dict[str, Callable[[bytes, str], tuple[str, list[_Line]]]] = {
    ".txt": _text_lines,
    ".md": _markdown_lines,
    ".markdown": _markdown_lines,
    ".html": _html_lines,
    ".htm": _html_lines,
    ".pdf": _pdf_lines,
}


# ---------------------------------------------------------------- cleaning


def _clean(lines: list[_Line], guess_headings: bool) -> list[_Line]:
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
    return _squeeze_blanks(lines)


def _normalize(line: _Line) -> _Line:
    """Rule 1: no zero-width characters, NBSP -> space, no control characters or trailing spaces.

    CRLF and CR line ends are already gone: every converter splits with ``str.splitlines``.
    """
    text = _CONTROL.sub("", line.text.translate(_INVISIBLE).translate(_SPACES))
    return replace(line, text=text.strip() if line.kind == "heading" else text.rstrip())


def _squeeze_blanks(lines: list[_Line]) -> list[_Line]:
    """Rule 1 (blank lines): none at the start or end, and never two in a row."""
    out: list[_Line] = []
    for line in lines:
        blank = not line.text.strip()
        if not (blank and (not out or not out[-1].text.strip())):
            out.append(_Line("") if blank else line)
    while out and not out[-1].text.strip():
        out.pop()
    return out


def _split_read_more(lines: list[_Line]) -> list[_Line]:
    """Rule 2: split lines at "Continue Reading"/"Read More"; drop teasers ending in an ellipsis.

    Listing widgets glue a post teaser ("Some Title...") before the link text and the next real
    paragraph right after it ("Continue ReadingKetamine, a well-known ..."). Real text is kept
    as its own line; a teaser can also be the line before the link.
    """
    out: list[_Line] = []
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


def _pop_teaser(out: list[_Line]) -> None:
    """Remove the last non-blank line of ``out`` if it is a teaser."""
    i = len(out) - 1
    while i >= 0 and not out[i].text.strip():
        i -= 1
    if i >= 0 and out[i].kind == "text" and _is_teaser(out[i].text):
        del out[i]


def _is_junk_line(line: _Line) -> bool:
    """Rules 3 and 4: hashtag-only lines, and lines of bare punctuation or markers ("+", "[5]")."""
    text = line.text.strip()
    if line.kind == "code" or not text:
        return False
    return bool(_HASHTAGS.fullmatch(text) or _MARKER.fullmatch(text))


def _drop_category_lines(lines: list[_Line]) -> list[_Line]:
    """Rule 6: a category/tag line ("Health, Lifestyle") in the page header or footer goes.

    It is short (<= 40 chars), only capitalised words separated by commas, and sits before the
    first or after the last sentence, so a list of brand names inside the text is safe.
    """
    prose = [i for i, line in enumerate(lines) if line.kind == "text" and _ends_sentence(line.text)]
    first, last = (prose[0], prose[-1]) if prose else (len(lines), -1)

    def is_category(i: int, line: _Line) -> bool:
        text = line.text.strip()
        outside = i < first or i > last
        return (
            outside and line.kind == "text" and len(text) <= 40 and bool(_CATEGORY.fullmatch(text))
        )

    return [line for i, line in enumerate(lines) if not is_category(i, line)]


def _drop_disclaimers(lines: list[_Line]) -> list[_Line]:
    """Rule 9: a paragraph opening with "Disclaimer:" (bold or not) is site boilerplate.

    The paragraph runs until a line ends a sentence, so a hard-wrapped disclaimer goes whole;
    a bare "Disclaimer" label also takes the paragraph after it. The product adds its own.
    """
    out: list[_Line] = []
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


def _mark_headings(lines: list[_Line]) -> list[_Line]:
    """Guess headings in plain text: heading-shaped lines that are not part of a wrapped sentence.

    The line before must be blank, a heading, or end a sentence; the line right after must not
    start in lower case (that would be the rest of a hard-wrapped sentence, as in PDFs).
    """
    out: list[_Line] = []
    for i, line in enumerate(lines):
        prev = out[-1] if out else _Line("")
        after = lines[i + 1].text.lstrip() if i + 1 < len(lines) else ""
        starts_block = prev.kind == "heading" or not prev.text.strip() or _ends_sentence(prev.text)
        if (
            line.kind == "text"
            and _looks_like_heading(line.text)
            and starts_block
            and not after[:1].islower()
        ):
            line = _Line(line.text.strip(), "heading")
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


def _drop_bylines(lines: list[_Line]) -> list[_Line]:
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


def _author_box_end(lines: list[_Line], i: int) -> int | None:
    """Index after the author box whose name is line ``i``, or None if this is no author box."""
    end = i + 1
    bio = _next_content(lines, end)
    if bio < len(lines) and lines[bio].kind == "text":
        end = _paragraph_end(lines, bio)
        if sum(len(line.text) for line in lines[bio:end]) >= _MAX_BIO_CHARS:
            return None
    return end if all(_is_trailer(line) for line in lines[end:]) else None


def _collapse_heading_runs(lines: list[_Line]) -> list[_Line]:
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


def _heading_runs(lines: list[_Line]) -> list[list[int]]:
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


def _drop_trailing_orphans(lines: list[_Line]) -> list[_Line]:
    """Rule 8: headings and title-like link lines after the last body text go (related posts).

    The first line stays even then: a one-line note is a document, not an orphan heading.
    """
    end, first = len(lines), _next_content(lines, 0)
    while end > first + 1 and _is_trailer(lines[end - 1]):
        end -= 1
    return lines[:end]


def _is_trailer(line: _Line) -> bool:
    """Rule 8's orphan: blank, a heading, or a long title-like line (a related-post link).

    A guessed heading or plain line that reads like a sentence (5+ words, mostly lower case)
    is body text that merely lacks a full stop, and stays; so do lists, tables and code.
    """
    text = line.text.strip()
    if not text or (line.kind == "heading" and line.markup):
        return True
    if line.kind == "code" or _ends_sentence(text) or _LIST_ITEM.match(text) or len(text) > 200:
        return False
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    title_case = sum(w.lstrip("\"'(")[:1].isupper() for w in words) >= 0.6 * len(words)
    if line.kind == "heading":
        return len(words) < 5 or title_case
    return len(words) >= 5 and title_case


def _ends_sentence(text: str) -> bool:
    """True if ``text`` ends with . ! ? or an ellipsis (closing quotes, ** and [1] ignored)."""
    return _ending(text).endswith(_SENTENCE_ENDS)


def _ending(text: str) -> str:
    """``text`` without trailing spaces, footnote markers, closing quotes/brackets and ``**``."""
    return _FOOTNOTES.sub("", text).rstrip().rstrip(_CLOSERS)


def _paragraph_end(lines: list[_Line], i: int) -> int:
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


def _next_content(lines: list[_Line], i: int) -> int:
    """Index of the first non-blank line at or after ``i`` (``len(lines)`` if none)."""
    while i < len(lines) and not lines[i].text.strip():
        i += 1
    return i


def _assemble(lines: list[_Line]) -> tuple[str, tuple[Section, ...]]:
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
