"""Characters that must never reach the index or a screen: they make text lie.

- **Bidi controls** (U+202A-202E, U+2066-2069, U+200E/200F, U+061C) can show "50 mg"
  as "gm 05" or hide a reversed clause; natural right-to-left text needs none of them.
- **Other invisible format characters** (Unicode category Cf: zero-width spaces and
  joiners, soft hyphens, word joiners, byte-order marks, interlinear annotations, tag
  characters) split words so that search and verification miss them.
- **ANSI terminal escapes** (``ESC [ 31m`` and friends) recolour or rewrite a terminal.
- **Control characters** other than tab and line ends, and lone surrogates (which cannot be
  written as UTF-8 at all).

Odd spaces (no-break, narrow no-break, figure space) become plain spaces.
"""

from __future__ import annotations

import re
import unicodedata

# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences,
# and the 8-bit CSI (U+009B).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                   r"|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007"}
# Every format (Cf) character of Unicode 14 (Python 3.11's tables; a test keeps this in
# step with unicodedata). Built from the ranges, not by scanning all code points at import.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_HIDDEN = re.compile(f"[{_FORMAT}\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without ANSI escapes, format characters, controls (tab and line ends stay)
    or lone surrogates; no-break and other odd spaces as plain spaces."""
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub("", text)
    return _HIDDEN.sub("", text).translate(_SPACES)


def escape_invisible(text: str) -> str:
    """``text`` with every control, format or surrogate character written as ``\\uXXXX``
    (``\\xNN`` below 256): safe to print on one line, and nothing hidden."""
    return "".join(_escaped(c) for c in text)


def _escaped(char: str) -> str:
    if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by os.fsdecode (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
