"""Files in ingest/ -> Document: decode, convert to lines, clean, split into sections.

Each format is first turned into a list of lines (headings marked where the markup says so),
then the rule-based cleaner in ``qa.cleaning`` removes scraped-page boilerplate. Every cleaning
rule is a small function whose docstring states the rule; none knows about a particular file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from qa.cleaning import CONTROL, Line, assemble, clean_lines
from qa.errors import DependencyError, DocumentError
from qa.injection import addressed_to_model, remove_addressed, snippet
from qa.types import Document

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
_PLAIN_SUFFIXES = (".txt", ".pdf")  # no markup: headings are guessed from line shape


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
    converted = _CONVERTERS[suffix](raw, name)
    lines = clean_lines(converted.lines, guess_headings=suffix in _PLAIN_SUFFIXES)
    lines, addressed = remove_addressed(lines)  # never evidence; the document is flagged
    if not lines:
        scanned = " (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""
        raise _error(name, f"contains no text{scanned}")
    text, sections = assemble(lines)
    first = lines[0].text if lines[0].kind == "heading" else ""
    source = _source_for(path, root)
    return Document(
        doc_id=doc_id_for(source),
        source=source,
        title=converted.title or first or _prettify(path.stem),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        sections=sections,
        flags=tuple(converted.flags + addressed),
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
    if CONTROL.search(text.replace("\x0c", "")):
        raise _error(name, "file is not UTF-8 or Windows-1252 text")
    return text


def _text_lines(raw: bytes, name: str) -> _Converted:
    """Plain text is taken as is, line by line."""
    return _Converted("", [Line(s) for s in _decode(raw, name).splitlines()])


# An image whose address carries a query or a template ("...png?q={question}"): rendering
# it would send data to that server.
_MD_FETCHING_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?(https?://[^)\s>]*[?{$][^)\s>]*)")
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


def _markdown_lines(raw: bytes, name: str) -> _Converted:
    """Markdown: '#' lines become headings (the first '# ' one is the title), code kept;
    images go, and one whose address would carry data away flags the document."""
    lines: list[Line] = []
    title, in_code = "", False
    text = _decode(raw, name)
    flags = [f"markdown image that fetches a URL: {snippet(url)}"
             for url in _MD_FETCHING_IMAGE.findall(text)]
    text = re.sub(r"<!--.*?-->", lambda m: _comment(m.group(0), flags), text, flags=re.DOTALL)
    for line in _drop_front_matter(text.splitlines()):
        if _MD_FENCE.match(line):
            in_code = not in_code
        elif in_code:
            lines.append(Line(line, "code", True))
        elif heading := _MD_ATX.match(line):
            text = _md_inline(heading.group(2)).strip()
            title = title or (text if heading.group(1) == "#" else "")
            lines.append(Line(text, "heading", True))
        elif not _MD_LINK_DEF.match(line):
            lines.append(Line(_md_inline(line)))
    return _Converted(title, lines, flags)


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


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0"
                           r"(?![.\d])|opacity\s*:\s*0(?![.\d])", re.IGNORECASE)


def _is_hidden(tag: Tag) -> bool:
    """Hidden from readers: the hidden attribute, aria-hidden, or an invisible style."""
    return (tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true"
            or bool(_HIDDEN_STYLE.search(str(tag.get("style", "")))))


def _drop_hidden(soup: BeautifulSoup) -> list[str]:
    """Remove comments and hidden elements (readers never see them, so they are never
    evidence); return a flag for each one that is addressed to a model."""
    from bs4 import Comment

    flags: list[str] = []
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        _comment(str(comment), flags)
        comment.extract()
    for tag in soup.find_all(_is_hidden):
        text = tag.get_text(" ", strip=True)
        if text and addressed_to_model(text):
            flags.append(f"hidden HTML addressed to the model: {snippet(text)}")
        tag.decompose()
    return flags


def _html_lines(raw: bytes, name: str) -> _Converted:
    """HTML: boilerplate elements dropped, blocks on their own lines, h1-h6 as headings."""
    try:
        from bs4 import BeautifulSoup
    except ImportError as exc:
        raise DependencyError("beautifulsoup4 is not installed") from exc
    try:  # html.parser is lenient, but a pathological file must not escape as a crash
        soup = BeautifulSoup(_decode(raw, name), "html.parser")
        flags = _drop_hidden(soup)
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
    return _Converted(title, [
        Line(s[1:].strip(), "heading", True) if s.startswith(_HEADING_MARK) else Line(s)
        for s in lines
    ], flags)


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
    return _Converted(" ".join(str(title).split()),
                      [Line(s) for s in "\n\n".join(pages).splitlines()])


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
