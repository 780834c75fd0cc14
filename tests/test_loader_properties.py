"""Property: any bytes under any file name go through the loaders without an exception
other than the project's one-line DocumentError (hypothesis generates both)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.corpus import SUPPORTED_SUFFIXES, scan_corpus
from qa.errors import DocumentError
from qa.loaders import document_from_bytes, load_document

# Markup fragments make the converters' branches reachable from random input.
FRAGMENTS = [b"<p>", b"</p>", b"<div hidden>", b"<!--", b"-->", b"<h1>", b"<pre>", b"<li>",
             b"<table><tr><td>", b"# ", b"**", b"[", b"](", b"![", b"\n", b"\r\n", b"\x00",
             b"\xef\xbb\xbf", b"\xff\xfe", b"\xe2\x80\xae", b"\x1b[31m", b"%PDF-1.4\n",
             b"obj <<", b"stream\n", b"Continue Reading", b"By Jane Doe", b"#tag",
             b"Disclaimer:", "é".encode("cp1252"), "布".encode("gb2312")]
CONTENT = st.one_of(
    st.binary(max_size=2000),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=40)),
             max_size=60).map(b"".join),
    st.text(max_size=800).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
NAME = st.binary(min_size=1, max_size=60).filter(lambda b: b"/" not in b and b"\x00" not in b
                                                 and b not in (b".", b".."))


def _check(raw: bytes, source: str) -> None:
    try:
        doc = document_from_bytes(raw, source)
    except DocumentError as err:
        assert "\n" not in str(err) and str(err).startswith("cannot read ")
        return
    doc.text.encode("utf-8")  # no lone surrogates: the index is written as UTF-8
    assert doc.text.strip() and doc.doc_id


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=CONTENT, suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_any_bytes_in_any_format(raw: bytes, suffix: str) -> None:
    _check(raw, f"doc{suffix}")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=NAME, suffix=st.sampled_from([*SUPPORTED_SUFFIXES, b"", b".xlsx"]),
       raw=st.binary(max_size=300))
def test_any_file_name_on_disk(tmp_path: Path, name: bytes, suffix: bytes | str,
                               raw: bytes) -> None:
    folder = tmp_path / os.urandom(6).hex()
    folder.mkdir()
    ending = suffix if isinstance(suffix, bytes) else suffix.encode()
    with open(os.path.join(os.fsencode(folder), name + ending), "wb") as fh:
        fh.write(raw)
    scan = scan_corpus(folder)
    assert len(scan.documents) + len(scan.ignored) == 1
    for source, reason in scan.ignored.items():
        assert "\n" not in source and "\n" not in reason
        source.encode("utf-8")
    for candidate in scan.documents:
        assert "\n" not in candidate.source
        candidate.source.encode("utf-8")
        try:
            load_document(candidate.path, folder)
        except DocumentError as err:
            assert "\n" not in str(err)
