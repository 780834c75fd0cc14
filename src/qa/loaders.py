"""Files in ingest/ -> Document: decode, convert to lines, clean, split into sections.

Each format is first turned into a list of lines (headings marked where the markup says so),
then the rule-based cleaner in ``qa.cleaning`` removes scraped-page boilerplate. Every cleaning
rule is a small function whose docstring states the rule; none knows about a particular file.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from qa.characters import clean_text
from qa.cleaning import Line, assemble, clean_lines, page_starts
from qa.config import IngestSettings
from qa.corpus import (
    SUPPORTED_SUFFIXES,
    TooLarge,
    Unreadable,
    read_file,
    scan_corpus,
    source_name,
    supported_reason,
)
from qa.decoding import NotText, decode
from qa.errors import DependencyError, DocumentError
from qa.html_reader import MalformedHtml, read_html
from qa.injection import addressed_to_model, remove_addressed, snippet
from qa.types import Document

_PLAIN_SUFFIXES = (".txt", ".pdf")  # no markup: headings are guessed from line shape
__all__ = ["SUPPORTED_SUFFIXES", "doc_id_for", "document_from_bytes", "find_documents",
           "load_document", "read_document_bytes"]


# ---------------------------------------------------------------- public API


def find_documents(root: Path) -> list[Path]:
    """The documents under ``root`` (recursive, sorted by source name); see
    ``qa.corpus.scan_corpus`` for what is ignored and why."""
    return [candidate.path for candidate in scan_corpus(root).documents]


def doc_id_for(source: str) -> str:
    """Stable document id: the relative POSIX path without its suffix ("leaflets/ibuprofen")."""
    path = PurePosixPath(source)
    return path.with_suffix("").as_posix() if path.suffix else path.as_posix()


def load_document(path: Path, root: Path, cfg: IngestSettings | None = None) -> Document:
    """Read, convert and clean one file; raise DocumentError (never a library error) if bad."""
    cfg = cfg or IngestSettings()
    source = source_name(path, root)
    raw = read_document_bytes(path, root, source, cfg)
    return document_from_bytes(raw, source, cfg)


def read_document_bytes(path: Path, root: Path, source: str, cfg: IngestSettings) -> bytes:
    """The bytes of a document file, within the size limit; DocumentError otherwise."""
    if reason := supported_reason(path.name):
        raise _error(source, reason)
    try:
        return read_file(path, root, int(cfg.max_file_mb * 1e6))
    except TooLarge as exc:
        raise _error(source, f"{exc}, over the {cfg.max_file_mb:g} MB limit "
                             "(setting ingest.max_file_mb, QA_INGEST__MAX_FILE_MB)") from None
    except Unreadable as exc:
        raise _error(source, str(exc)) from None


def document_from_bytes(raw: bytes, source: str, cfg: IngestSettings | None = None) -> Document:
    """Convert and clean the bytes of the file named ``source`` (its suffix picks the
    format); DocumentError if they hold no usable text."""
    cfg = cfg or IngestSettings()
    suffix = PurePosixPath(source).suffix.lower()
    if suffix not in _CONVERTERS:
        raise _error(source, supported_reason(source) or "unsupported file type")
    converted = _CONVERTERS[suffix](raw, source)
    size = sum(len(line.text) + 1 for line in converted.lines)
    if size > cfg.max_text_chars:
        raise _error(source, f"holds {size:,} characters of text, over the limit of "
                             f"{cfg.max_text_chars:,} (setting ingest.max_text_chars, "
                             "QA_INGEST__MAX_TEXT_CHARS); split it into smaller files")
    lines = clean_lines(converted.lines, guess_headings=suffix in _PLAIN_SUFFIXES)
    lines, addressed = remove_addressed(lines)  # never evidence; the document is flagged
    if not lines:
        scanned = " (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""
        raise _error(source, f"contains no text{scanned}")
    text, sections = assemble(lines)
    first = lines[0].text if lines[0].kind == "heading" else ""
    title = " ".join(clean_text(converted.title).split())
    return Document(
        doc_id=doc_id_for(source),
        source=source,
        title=title or first or _prettify(PurePosixPath(source).stem),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        sections=sections,
        flags=tuple(converted.flags + addressed),
        pages=page_starts(lines),
    )


@dataclass
class _Converted:
    """A file turned into lines: its title (if the format has one), lines, and flags for
    what the converter removed because it was hidden or aimed at a model."""

    title: str
    lines: list[Line]
    flags: list[str] = field(default_factory=list)


def _error(name: str, reason: str) -> DocumentError:
    """A one-line DocumentError naming the file and the reason."""
    return DocumentError(f"cannot read {name}: {' '.join(reason.split())}")


def _prettify(stem: str) -> str:
    """A title from a file name: separators become spaces, first letter upper-cased."""
    words = re.sub(r"[_\-\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:]


# ---------------------------------------------------------------- formats -> lines


def _decode(raw: bytes, name: str) -> str:
    """The text of ``raw`` (see ``qa.decoding``); DocumentError naming the file if none."""
    try:
        return decode(raw)
    except NotText as exc:
        raise _error(name, str(exc)) from None


def _text_lines(raw: bytes, name: str) -> _Converted:
    """Plain text is taken as is, line by line."""
    return _Converted("", [Line(s) for s in _decode(raw, name).splitlines()])


# An image whose address carries a query or a template ("...png?q={question}"): rendering
# it would send data to that server.
# Bracket contents stop at the next bracket and link targets at the next parenthesis, so
# a line of a million "[" is read in linear time (nested brackets are not markdown links).
_MD_FETCHING_IMAGE = re.compile(r"!\[[^\][]*\]\(\s*<?(https?://[^()\s>]*?[?{$][^()\s>]*)")
_MD_FENCE = re.compile(r"\s*(```|~~~)")
_MD_ATX = re.compile(r"\s{0,3}(#{1,6})\s+(.*)")
_MD_LINK_DEF = re.compile(r"\s{0,3}\[[^\][]+\]:\s*\S+")
_MD_INLINE = (
    (re.compile(r"!\[[^\][]*\]\([^()]*\)"), ""),  # images go
    (re.compile(r"\[([^\][]*)\]\([^()]*\)"), r"\1"),  # [text](url) -> text; linked image goes
    (re.compile(r"\[([^\][]+)\]\[[^\][]*\]"), r"\1"),  # [text][ref] -> text
    (re.compile(r"\*\*(?=\S)([^*]+?)(?<=\S)\*\*"), r"\1"),  # **strong**
    (re.compile(r"__(?=\S)([^_]+?)(?<=\S)__"), r"\1"),  # __strong__
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *em*
    (re.compile(r"^\s{0,3}>\s?"), ""),  # blockquote marker
)


def _md_inline(text: str) -> str:
    """Strip markdown inline syntax: images, link targets, emphasis markers, quote markers."""
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return text


def _markdown_lines(raw: bytes, name: str) -> _Converted:
    """Markdown: '#' lines become headings (the first '# ' one is the title), code kept;
    images go, and one whose address would carry data away flags the document."""
    lines: list[Line] = []
    title, in_code = "", False
    text = _decode(raw, name)
    flags = [f"markdown image that fetches a URL: {snippet(url)}"
             for url in _MD_FETCHING_IMAGE.findall(text)]
    text = _drop_comments(text, flags)
    for line in _drop_front_matter(text.splitlines()):
        if _MD_FENCE.match(line):
            in_code = not in_code
        elif in_code:
            lines.append(Line(line, "code", True))
        elif heading := _MD_ATX.match(line):
            text = _md_inline(_atx_text(heading.group(2))).strip()
            title = title or (text if heading.group(1) == "#" else "")
            lines.append(Line(text, "heading", True))
        elif not _MD_LINK_DEF.match(line):
            lines.append(Line(_md_inline(line)))
    return _Converted(title, lines, flags)


def _atx_text(text: str) -> str:
    """An ATX heading's text without its optional closing hashes ("Dosage ##" -> "Dosage")."""
    text = text.rstrip()
    bare = text.rstrip("#")
    return bare.rstrip() if bare != text and (not bare or bare[-1].isspace()) else text


def _drop_comments(text: str, flags: list[str]) -> str:
    """``<!-- ... -->`` out (flagged if addressed to a model), in one left-to-right scan; an
    unclosed ``<!--`` stays text."""
    out: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        out.append(text[at:start])
        _comment(text[start : end + 3], flags)
        at = end + 3
    return "".join(out) + text[at:]


def _comment(comment: str, flags: list[str]) -> str:
    """A comment is never text; one addressed to a model flags the document."""
    if addressed_to_model(comment):
        flags.append(f"comment addressed to the model: {snippet(comment)}")
    return ""


def _drop_front_matter(lines: list[str]) -> list[str]:
    """A leading '---' ... '---' YAML block is metadata, not text."""
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return lines[i + 1 :]
    return lines


def _html_lines(raw: bytes, name: str) -> _Converted:
    """HTML: one linear pass with lxml (see ``qa.html_reader``)."""
    try:
        page = read_html(_decode(raw, name))
    except MalformedHtml as exc:
        raise _error(name, str(exc)) from exc
    return _Converted(page.title, page.lines, page.flags)


def _pdf_lines(raw: bytes, name: str) -> _Converted:
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
    lines: list[Line] = []
    for number, page in enumerate(pages, start=1):  # a blank line between pages
        lines += [Line("", page=number)] if lines else []
        lines += [Line(s, page=number) for s in page.splitlines()]
    return _Converted(" ".join(str(title).split()), lines)


def _docx_lines(raw: bytes, name: str) -> _Converted:
    """Word (.docx): paragraphs in order, "Heading n"/"Title" styles as headings, then each
    table row as "cell | cell"; the core-properties title if set."""
    try:
        import docx
    except ImportError as exc:
        raise DependencyError("python-docx is not installed") from exc
    try:
        document = docx.Document(io.BytesIO(raw))
        lines = [Line(p.text.strip(), "heading", True)
                 if (p.style is not None and (p.style.name or "").startswith(("Heading", "Title")))
                 else Line(p.text) for p in document.paragraphs]
        for table in document.tables:
            lines += [Line(" | ".join(c.text.strip() for c in row.cells)) for row in table.rows]
        title = document.core_properties.title or ""
    except Exception as exc:  # python-docx raises many types on damaged files
        raise _error(name, f"file is not a valid .docx ({str(exc) or type(exc).__name__})") from exc
    return _Converted(" ".join(title.split()), lines)


_CONVERTERS: dict[str, Callable[[bytes, str], _Converted]] = {
    ".txt": _text_lines,
    ".md": _markdown_lines,
    ".markdown": _markdown_lines,
    ".html": _html_lines,
    ".htm": _html_lines,
    ".pdf": _pdf_lines,
    ".docx": _docx_lines,
}
