"""Any folder: special files never opened, symlinks kept inside, any file name, limits that
name their setting, a converter that cannot hang or exhaust the ingest."""

from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

import pytest

from qa import isolation
from qa.config import ChunkSettings, IngestSettings
from qa.corpus import Unreadable, read_file, scan_corpus
from qa.errors import DocumentError
from qa.index import open_index
from qa.ingestion import ingest
from qa.loaders import load_document

from .fakes import FakeEmbedder

LEAFLET = "Aspirin Leaflet\n\nAspirin thins the blood and can upset the stomach when taken " \
          "without food.\n"


def _folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "good.txt").write_text(LEAFLET)
    return docs


def test_special_files_are_ignored_with_their_kind_and_never_opened(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    os.mkfifo(docs / "pipe.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(docs / "sock.md"))
        scan = scan_corpus(docs)
    assert [c.source for c in scan.documents] == ["good.txt"]
    assert scan.ignored["pipe.txt"] == "a named pipe (FIFO), not a regular file (never opened)"
    assert scan.ignored["sock.md"].startswith("a socket, not a regular file")
    started = time.monotonic()
    with pytest.raises(Unreadable, match="named pipe"):  # opened here it would block forever
        read_file(docs / "pipe.txt", docs, 1000)
    assert time.monotonic() - started < 5


def test_a_device_is_ignored(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    try:
        os.mknod(docs / "null.txt", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    assert scan_corpus(docs).ignored["null.txt"].startswith("a character device")


def test_symlinks_are_followed_only_inside_the_folder(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (docs / ".drafts").mkdir()
    (docs / ".drafts" / "v3.txt").write_text(LEAFLET.replace("Aspirin", "Ibuprofen"))
    links = {"passwd.txt": outside, "zero.txt": Path("/dev/zero"), "alias.txt": docs / "good.txt",
             "draft.txt": docs / ".drafts" / "v3.txt", "broken.txt": docs / "missing.txt",
             "loop1.txt": docs / "loop2.txt", "loop2.txt": docs / "loop1.txt",
             "up": tmp_path, "sub/back": docs}
    for name, target in links.items():
        (docs / name).symlink_to(target)
    scan = scan_corpus(docs)
    assert [c.source for c in scan.documents] == ["draft.txt", "good.txt"]
    reasons = scan.ignored
    assert reasons["passwd.txt"] == "symlink to a file outside the corpus folder, not followed"
    assert reasons["zero.txt"] == reasons["passwd.txt"]
    assert reasons["alias.txt"] == "symlink to good.txt, which is indexed itself"
    assert reasons["broken.txt"].startswith("broken symlink")
    assert reasons["loop1.txt"] == reasons["loop2.txt"] == "symlink loop"
    assert reasons["up/"].startswith("symlink to a folder, not followed")
    assert reasons["sub/back/"] == reasons["up/"]
    assert reasons[".drafts/"] == "hidden folder, not searched"


def test_a_link_swapped_in_after_the_scan_is_still_refused(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    (docs / "good.txt").unlink()
    (docs / "good.txt").symlink_to(outside)  # a race: the scan saw a regular file here
    with pytest.raises(DocumentError, match="outside the corpus folder"):
        load_document(docs / "good.txt", docs)


def test_hidden_unsupported_and_extensionless_files_are_reported(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    for name in (".DS_Store", "notes.xlsx", "data.csv", "README", "sub/.env"):
        (docs / name).write_text("x")
    ignored = scan_corpus(docs).ignored
    assert set(ignored) == {".DS_Store", "notes.xlsx", "data.csv", "README", "sub/.env"}
    assert ignored["notes.xlsx"].startswith("unsupported file type '.xlsx' (supported: .txt")
    assert ignored["README"].startswith("no file extension")
    assert ignored["sub/.env"] == "hidden file (its name starts with '.')"


def test_any_file_name_is_indexed_under_a_visible_name(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    names = {b"b\xff.txt": "b\\xff.txt", "rtl\u202egnp.txt".encode(): "rtl\\u202egnp.txt",
             b"new\nline.txt": "new\\x0aline.txt", "caf\u00e9.md".encode(): "caf\u00e9.md"}
    for n, raw_name in enumerate(names):
        with open(os.path.join(os.fsencode(docs), raw_name), "wb") as fh:
            drug = ("Ibuprofen", "Naproxen", "Codeine", "Morphine")[n]
            fh.write(LEAFLET.replace("Aspirin", drug).encode())
    report = ingest(docs, tmp_path / "index", FakeEmbedder(), ChunkSettings())
    assert sorted(report.added) == sorted([*names.values(), "good.txt"])
    index = open_index(tmp_path / "index", "fake-embedder", "fake")
    assert {d.source for d in index.documents.values()} == {*names.values(), "good.txt"}
    assert "b\\xff.txt" in {c.source for c in index.chunks}  # its chunk ids hash fine
    assert all("\n" not in s and "\u202e" not in s for s in report.added)


def test_size_limits_name_their_setting(tmp_path: Path) -> None:
    docs = _folder(tmp_path)
    big = docs / "big.txt"
    big.write_text(LEAFLET * 40)
    with pytest.raises(DocumentError) as err:
        load_document(big, docs, IngestSettings(max_file_mb=0.001))
    assert "over the 0.001 MB limit (setting ingest.max_file_mb, QA_INGEST__MAX_FILE_MB)" \
        in str(err.value)
    with pytest.raises(DocumentError, match=r"ingest\.max_text_chars"):
        load_document(big, docs, IngestSettings(max_text_chars=1000))
    assert len(load_document(big, docs).text) > 1000  # within the default limits


def _stuck(raw: bytes, source: str, cfg: IngestSettings):  # runs in the child process
    if source == "slow.txt":
        time.sleep(600)
    if source == "greedy.txt":
        hoard = [bytearray(64 << 20) for _ in range(10_000)]
        return hoard
    if source == "crash.txt":
        os._exit(7)
    if source == "buggy.txt":
        raise ValueError("a converter bug")
    return isolation.document_from_bytes(raw, source, cfg)


def test_a_file_that_hangs_or_explodes_costs_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _folder(tmp_path)
    for name in ("slow.txt", "greedy.txt", "crash.txt", "buggy.txt", "after.txt"):
        (docs / name).write_text(LEAFLET.replace("Aspirin", name.split(".")[0].title()))
    monkeypatch.setattr(isolation, "CONVERT", _stuck)
    limits = IngestSettings(seconds_per_file=3, memory_mb=256)
    report = ingest(docs, tmp_path / "index", FakeEmbedder(), ChunkSettings(), limits=limits)
    assert sorted(report.added) == ["after.txt", "good.txt"]
    skipped = report.skipped
    assert skipped["slow.txt"] == ("cannot read slow.txt: took longer than 3 s to convert "
                                   "(setting ingest.seconds_per_file, "
                                   "QA_INGEST__SECONDS_PER_FILE)")
    assert "needed more than 256 MB of memory" in skipped["greedy.txt"]
    assert "ingest.memory_mb" in skipped["greedy.txt"]
    assert skipped["crash.txt"] == "cannot read crash.txt: the converter crashed on it " \
                                   "(exit status 7)"
    assert skipped["buggy.txt"] == ("cannot read buggy.txt: unexpected error "
                                    "(ValueError: a converter bug)")
    assert all("\n" not in reason for reason in skipped.values())
