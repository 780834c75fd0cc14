"""Bytes -> text: the encoding from a byte-order mark, UTF-8, or charset-normalizer.

1. A byte-order mark names the encoding: UTF-32 or UTF-16 (either byte order), or UTF-8.
2. Text that is valid UTF-8 is UTF-8 (nearly every file, and the fast path).
3. A file mixing UTF-8 lines with lines in another encoding (two sources pasted together)
   keeps its UTF-8 lines; the others are decoded as a group, with the encoding
   charset-normalizer finds for them.
4. Anything else is decoded with charset-normalizer's best guess (GB2312, Shift-JIS,
   KOI8-R, Windows-1252, ...; a tie between equally good readings goes to Windows-1252,
   the commonest legacy code page), or refused when it finds none. NUL bytes mean a binary
   file unless the detector finds UTF-16/32 without a byte-order mark.

charset-normalizer needs a few dozen characters to be sure; a file of a handful of
non-ASCII bytes may be decoded as the wrong script (it is garbage in any encoding).
"""

from __future__ import annotations

import codecs
import re

from qa.errors import DependencyError

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PREFERRED = "cp1252"  # Windows' Western code page: the likeliest of equally good readings
_WIDE = ("utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class NotText(ValueError):
    """The bytes are not text in any encoding found; ``str(err)`` says why."""


def decode(raw: bytes) -> str:
    """The text of ``raw`` (see the module docstring for the order of the rules)."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise NotText(f"file starts with a {codec} byte-order mark but is not "
                              f"valid {codec} (byte {exc.start + len(bom)})") from None
    if b"\x00" in raw:  # valid UTF-8, but UTF-16/32 without a mark, or binary
        return _detected(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mixed = _mixed_utf8(raw)
    return mixed if mixed is not None else _detected(raw)


def _detected(raw: bytes) -> str:
    """charset-normalizer's best reading of ``raw``; NotText if it has none."""
    try:
        from charset_normalizer import from_bytes
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError("charset-normalizer is not installed") from exc
    matches = from_bytes(raw)
    best = matches.best()
    if best is not None:  # a tie (same mess, same coherence) goes to the commonest codec
        tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
        best = next((m for m in tied if _PREFERRED in m.could_be_from_charset), best)
    has_nul = b"\x00" in raw
    if best is None or (has_nul and best.encoding not in _WIDE):
        if has_nul:
            raise NotText("file is binary, not text (it contains NUL bytes)")
        raise NotText("file is not text in any encoding charset-normalizer recognises "
                      "(not UTF-8 either)")
    text = str(best)
    if len(_BINARY_CONTROLS.findall(text)) > max(2, len(text) // 100):
        raise NotText(f"file is binary, not text (control characters as {best.encoding})")
    return text


def _mixed_utf8(raw: bytes) -> str | None:
    """UTF-8 lines kept, the rest decoded together by the detector; None unless some
    line is non-ASCII UTF-8 (else the whole file is one other encoding)."""
    lines = raw.split(b"\n")
    good: list[bool] = []
    saw_utf8 = False
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            good.append(False)
            continue
        good.append(True)
        saw_utf8 = saw_utf8 or bool(_NON_ASCII.search(line))
    if not saw_utf8:
        return None
    others = _detected(b"\n".join(line for line, ok in zip(lines, good, strict=True) if not ok))
    rest = iter(others.split("\n"))
    out = [line.decode("utf-8") if ok else next(rest, "") for line, ok in zip(lines, good,
                                                                           strict=True)]
    return "\n".join(out)
