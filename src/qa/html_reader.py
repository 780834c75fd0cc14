"""HTML -> lines, in one pass over an lxml tree: time linear in the file, whatever the markup.

libxml2 (through lxml, the only importer of lxml) parses in C and refuses to nest more
than 256 elements; the walk below visits every node twice (in and out) with an explicit
stack, never searches parents and never edits the tree. 100,000 unclosed tags take about
a second (html.parser + BeautifulSoup took 11 minutes: each text node searched its
ancestors and each insertion scanned its siblings).

What becomes text, as before: boilerplate elements (script, style, nav, site header and
footer, aside, form, ...) are dropped, except an article's own ``<header>``; hidden
elements (``hidden``, ``aria-hidden="true"``, an invisible style) and comments are never
text, and each one addressed to a model flags the document; blocks sit on their own
lines with a blank line around them, list items, rows and ``<br>`` on one line each
(items get "- ", cells " | "), h1-h6 become heading lines; whitespace is squashed except
inside ``<pre>``. The title is the first ``<title>``, else the first ``<h1>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qa.cleaning import Line
from qa.errors import DependencyError
from qa.injection import addressed_to_model, snippet

_DROP = frozenset(("script", "style", "nav", "header", "footer", "aside", "form", "noscript",
                   "template", "iframe", "svg", "head", "title"))  # fmt: skip
_NO_TEXT = frozenset(("script", "style", "template"))  # their strings are never text
_BLOCKS = frozenset(("p", "div", "section", "article", "main", "ul", "ol", "dl", "table",
                     "blockquote", "pre", "figure", "figcaption", "details", "summary",
                     "address", "hr", "caption"))  # fmt: skip
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_LINES = frozenset(("li", "tr", "dt", "dd", "br"))  # one line each, no blank line between
_INLINE = frozenset(("a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em",
                     "font", "i", "kbd", "mark", "q", "s", "samp", "small", "span", "strong",
                     "sub", "sup", "time", "u", "var", "wbr"))  # fmt: skip
# Private-use characters that mark structure in the joined text: a paragraph break, a line
# break, and a heading line. Whitespace around them is source formatting and goes.
_PARA, _BREAK, _HEADING_MARK = "\ue001", "\ue002", "\ue000"
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0"
                           r"(?![.\d])|opacity\s*:\s*0(?![.\d])", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_INLINE_TAG = re.compile(rf"</?(?:{'|'.join(sorted(_INLINE))})\b[^<>]*>", re.IGNORECASE)
_LIMITS = (("depth", "HTML nests elements more than 256 deep (malformed or hostile)"),
           ("buffer size", "HTML holds a single run of text over 10 MB"))  # fmt: skip


class MalformedHtml(ValueError):
    """HTML that libxml2 refuses to parse whole; ``str(err)`` is the reason."""


@dataclass
class Page:
    """The readable part of an HTML file: its title, lines, and flags for hidden or
    commented text addressed to a model."""

    title: str
    lines: list[Line]
    flags: list[str] = field(default_factory=list)


def read_html(text: str) -> Page:
    """The lines of an HTML document (see the module docstring)."""
    walker = _Walker()
    for node in _top_level(text):
        walker.walk(node)
    return Page(walker.title(), _lines(walker.text()), walker.flags)


def _top_level(text: str) -> list[Any]:
    """The root element and the comments beside it, in document order.

    Unclosed inline tags (a page of ``<b>`` or ``<font>`` never closed) nest as deep as
    they are many; when libxml2 stops at its depth limit, inline tags, which only style
    text, are removed and the page parsed once more.
    """
    try:
        root = _parse(text)
    except MalformedHtml as exc:
        if str(exc) != _LIMITS[0][1]:
            raise
        root = _parse(_INLINE_TAG.sub("", text))
    if root is None:
        return []
    return [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]


def _parse(text: str) -> Any:
    """The lxml root element of ``text`` (None when empty); MalformedHtml when libxml2 hit
    one of its resource limits and would silently drop the rest."""
    try:
        from lxml import etree
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError("lxml is not installed") from exc
    parser = etree.HTMLParser(encoding="utf-8", recover=True, remove_pis=True,
                              remove_comments=False, no_network=True)
    root = etree.HTML(text.encode("utf-8", "replace"), parser)
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            message = error.message.lower()
            raise MalformedHtml(next((why for key, why in _LIMITS if key in message),
                                     " ".join(error.message.split())))
    return root


def _lines(text: str) -> list[Line]:
    """Joined text with structure marks -> lines; heading marks become heading lines."""
    text = re.sub(rf"[\s{_BREAK}]*{_PARA}[\s{_PARA}{_BREAK}]*", "\n\n", text)
    text = re.sub(rf"\s*{_BREAK}[\s{_BREAK}]*", "\n", text)
    lines = [s.strip().rstrip(" |") for s in text.splitlines()]
    return [Line(s[1:].strip(), "heading", True) if s.startswith(_HEADING_MARK) else Line(s)
            for s in lines]


def _is_hidden(attrib: Any) -> bool:
    """Hidden from readers: the hidden attribute, aria-hidden, or an invisible style."""
    return ("hidden" in attrib or str(attrib.get("aria-hidden", "")).lower() == "true"
            or bool(_HIDDEN_STYLE.search(str(attrib.get("style", "")))))


@dataclass
class _Walker:
    """The walk's state: what is open around the current node, and what was collected."""

    out: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    skip: int = 0  # open dropped or hidden elements: nothing inside is text
    hidden: int = 0  # open hidden elements
    no_text: int = 0  # open script/style/template
    pre: int = 0
    main: int = 0  # open <article>/<main>: their <header> is content
    heading: list[str] | None = None  # the open heading's text
    hidden_text: list[str] | None = None  # the outermost open hidden element's text
    captures: dict[str, list[str]] = field(default_factory=dict)  # "title"/"h1" -> text
    capturing: set[str] = field(default_factory=set)

    def walk(self, node: Any) -> None:
        """Visit ``node`` and its descendants, each on the way in and on the way out."""
        stack: list[tuple[Any, int]] = [(node, -1)]
        while stack:
            element, effects = stack.pop()
            if effects >= 0:
                self._leave(element, effects)
                self._string(element.tail)
            elif not isinstance(element.tag, str):  # a comment (PIs are removed)
                self._comment(element.text or "")
                self._string(element.tail)
            else:
                stack.append((element, self._enter(element)))
                self._string(element.text)
                stack.extend((child, -1) for child in reversed(element))

    def _enter(self, element: Any) -> int:
        """Open an element; returns a bit set of what it opened, for ``_leave``."""
        tag = element.tag.lower()
        effects = 0
        if _is_hidden(element.attrib):
            effects |= _HIDDEN
            if self.hidden_text is None:
                self.hidden_text, effects = [], effects | _HIDDEN_OWNER
            self.hidden += 1
            self.skip += 1
        elif tag in _DROP and not (tag == "header" and self.main):
            effects |= _SKIP
            self.skip += 1
        if tag in ("article", "main"):
            self.main += 1
        self.pre += tag == "pre"
        self.no_text += tag in _NO_TEXT
        effects |= self._open_captures(tag)
        if not self.skip:
            effects |= self._open_structure(tag)
        return effects

    def _open_captures(self, tag: str) -> int:
        """The first <title> and the first <h1> outside hidden elements: title candidates."""
        if tag in ("title", "h1") and tag not in self.captures and not self.hidden:
            self.captures[tag] = []
            self.capturing.add(tag)
            return _CAPTURE
        return 0

    def _open_structure(self, tag: str) -> int:
        """Marks before a visible element: heading capture, block or line break, "- "."""
        if self.heading is not None:
            if tag not in _INLINE:
                self.heading.append(" ")
            return 0
        if tag in _HEADINGS:
            self.heading = []
            return _HEADING
        if tag in _BLOCKS or tag in _LINES:
            self.out.append(_BREAK if tag in _LINES else _PARA)
            if tag == "li":
                self.out.append("- ")
            return _MARKED
        return _CELL if tag in ("td", "th") else 0

    def _leave(self, element: Any, effects: int) -> None:
        """Close an element: undo what ``_enter`` opened, emit the marks after it."""
        tag = element.tag.lower()
        if effects & _HEADING and self.heading is not None:
            text = " ".join("".join(self.heading).split())
            self.out.append(f"{_PARA}{_HEADING_MARK}{text}{_PARA}")
            self.heading = None
        elif self.heading is not None and not self.skip and tag not in _INLINE:
            self.heading.append(" ")
        if effects & _MARKED:
            self.out.append(_BREAK if tag in _LINES else _PARA)
        if effects & _CELL:
            self.out.append(" | ")
        if effects & _CAPTURE:
            self.capturing.discard(tag)
        if effects & _HIDDEN_OWNER and self.hidden_text is not None:
            text = " ".join(s.strip() for s in self.hidden_text if s.strip())
            if text and addressed_to_model(text):
                self.flags.append(f"hidden HTML addressed to the model: {snippet(text)}")
            self.hidden_text = None
        self.hidden -= bool(effects & _HIDDEN)
        self.skip -= bool(effects & (_HIDDEN | _SKIP))
        self.main -= tag in ("article", "main")
        self.pre -= tag == "pre"
        self.no_text -= tag in _NO_TEXT

    def _string(self, text: str | None) -> None:
        """A text node in the current context."""
        if not text or self.no_text:
            return
        if self.hidden_text is not None:
            self.hidden_text.append(text)
        for name in self.capturing:
            self.captures[name].append(text)
        if self.skip:
            return
        piece = text if self.pre else _SPACE.sub(" ", text)
        (self.heading if self.heading is not None else self.out).append(piece)

    def _comment(self, comment: str) -> None:
        """A comment is never text; one addressed to a model flags the document."""
        if addressed_to_model(comment):
            self.flags.append(f"comment addressed to the model: {snippet(comment)}")

    def title(self) -> str:
        """The first <title>'s text if there is one (even empty), else the first <h1>'s."""
        parts = self.captures.get("title", self.captures.get("h1", []))
        return " ".join(" ".join(parts).split())

    def text(self) -> str:
        return "".join(self.out)


# What an element opened (bits of the int stored on the walk's stack).
_HIDDEN, _HIDDEN_OWNER, _SKIP, _CAPTURE, _HEADING, _MARKED, _CELL = (1 << i for i in range(7))
