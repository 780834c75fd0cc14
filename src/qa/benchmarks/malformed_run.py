"""Ingest the malformed corpus and check every entry's outcome, its one line, its cost.

Two passes: each document converted alone in a fresh converter child (outcome, seconds,
the child's peak memory), then the whole folder through ``qa ingest`` as a user runs it
(exit status, every stderr line, wall time, peak memory of the process tree), with a
timeout that turns a hang into a finding instead of a stuck benchmark.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from qa.benchmarks.malformed import HARD_LINKED, SECRET, Built, build_corpus
from qa.benchmarks.procs import run_measured, tree_mb
from qa.config import IngestSettings
from qa.corpus import scan_corpus
from qa.errors import DocumentError
from qa.isolation import Converter
from qa.loaders import read_document_bytes

PREFIXES = ("ignored ", "skipped ", "flagged ", "Using ")


def reported_as(item: Built, root: Path) -> str:
    """The name a case's line uses: the hidden folder holding it, a linked folder with a
    trailing "/", or its own source name."""
    parts = Path(item.case.name).parts
    for i, part in enumerate(parts[:-1]):
        if part.startswith("."):
            return "/".join(parts[: i + 1]) + "/"
    return item.source + "/" if item.path.is_symlink() and item.path.is_dir() else item.source


def convert_each(root: Path, limits: IngestSettings,
                 fresh: bool = True) -> dict[str, dict[str, Any]]:
    """Every document of the folder converted, each in a fresh child (``fresh``: its
    peak memory is then its own) or all in one: outcome, seconds, child peak MB, text."""
    rows: dict[str, dict[str, Any]] = {}
    shared = Converter(limits)
    try:
        for candidate in scan_corpus(root).documents:
            converter = Converter(limits) if fresh else shared
            started = time.perf_counter()
            rows[candidate.source] = _convert_one(converter, candidate.path, candidate.source,
                                                  root, limits)
            rows[candidate.source]["seconds"] = round(time.perf_counter() - started, 3)
            if fresh:
                converter.close()
    finally:
        shared.close()
    return rows


def _convert_one(converter: Converter, path: Path, source: str, root: Path,
                 limits: IngestSettings) -> dict[str, Any]:
    peak, text = None, ""
    try:
        raw = read_document_bytes(path, root, source, limits)
        doc = converter.convert(raw, source)
        outcome, detail, text = "indexed", f"{len(doc.text):,} characters", doc.text
    except DocumentError as err:
        outcome, detail = "skipped", str(err).split(": ", 1)[-1]
    if converter.pid is not None:
        peak = round(tree_mb(converter.pid, "VmHWM:"), 1)
    return {"outcome": outcome, "detail": detail, "child_peak_mb": peak, "text": text}


def _outcome(key: str, source: str, lines: list[str], indexed: set[str]) -> tuple[str, int]:
    """What the CLI did with one entry, and how many lines named it."""
    named = [line for line in lines if line.startswith((f"ignored {key}: ", f"skipped {key}: "))]
    if source in indexed:
        return "indexed", len(named)
    if named:
        return named[0].split(" ", 1)[0], len(named)
    return "missing", 0


def _indexed_text(index_dir: Path) -> tuple[set[str], str]:
    """Sources and all document text of the live generation (read as files, no models)."""
    current = (index_dir / "CURRENT").read_text().strip()
    rows = [json.loads(line) for line in
            (index_dir / current / "documents.jsonl").read_text().splitlines() if line]
    return {r["source"] for r in rows}, "\n".join(r["text"] for r in rows)


def run_malformed(work: Path, env: dict[str, str], limits: IngestSettings) -> dict[str, Any]:
    """Build the corpus under ``work``, convert each file, ingest it all; the findings."""
    root = work / "corpus"
    built = build_corpus(root, work / "outside")
    per_file = convert_each(root, limits)
    run = run_measured([sys.executable, "-m", "qa.cli", "ingest", str(root), "--index",
                        str(work / "index")], timeout=3600, env=env)
    lines = run.stderr.splitlines()
    indexed, text = _indexed_text(work / "index") if not run.hung else (set(), "")
    cases = []
    for item in built:
        key = reported_as(item, root)
        got, count = _outcome(key, item.source, lines, indexed)
        cases.append({"name": item.source, "what": item.case.what, "expected": item.case.expected,
                      "outcome": got, "lines": count, "made": item.made, "note": item.note,
                      **{k: v for k, v in per_file.get(item.source, {}).items()
                         if k != "text"}})
    made = [c for c in cases if c["made"]]
    stray = [line for line in lines if not line.startswith(PREFIXES)]
    return {
        "entries": len(built), "made": len(made), "exit_status": run.returncode,
        "hung": run.hung, "seconds": run.seconds, "peak_tree_mb": run.peak_tree_mb,
        "peak_bound_mb": run.peak_bound_mb, "tracebacks": run.stderr.count("Traceback"),
        "stray_lines": stray, "outcomes": dict(Counter(c["outcome"] for c in made)),
        "unexpected": [c for c in made if c["outcome"] != c["expected"]],
        "bad_not_one_line": [c["name"] for c in made
                             if c["expected"] != "indexed" and c["lines"] != 1],
        "outside_indexed": int(SECRET in text),
        "hard_link_indexed": int(HARD_LINKED in text),
        "summary_line": run.stdout.strip().splitlines()[-1:] if run.stdout else [],
        "cases": cases,
    }


def run_big_file(work: Path, env: dict[str, str], limits: IngestSettings) -> dict[str, Any]:
    """A 50 MB text file beside a leaflet (refused by the size policy), and a file just
    under the text limit (the largest the policy accepts), each through `qa ingest`."""
    from qa.benchmarks import hostile_bytes as hb

    out: dict[str, Any] = {}
    largest = round(limits.max_text_chars * 0.9 / 1e6, 2)  # MB of ASCII: 90% of the limit
    for label, megabytes in (("50mb", 50.0), ("under_text_limit", largest)):
        root = work / label / "corpus"
        root.mkdir(parents=True)
        (root / "leaflet.txt").write_text(f"Leaflet\n\n{hb.LEAFLET}\n")
        (root / f"big-{label}.txt").write_bytes(hb.big_text(megabytes))
        run = run_measured([sys.executable, "-m", "qa.cli", "ingest", str(root), "--index",
                            str(work / label / "index")], timeout=3600, env=env)
        out[label] = {"file_mb": round((root / f"big-{label}.txt").stat().st_size / 1e6, 1),
                      "exit_status": run.returncode, "seconds": run.seconds,
                      "peak_tree_mb": run.peak_tree_mb, "peak_bound_mb": run.peak_bound_mb,
                      "lines": [ln for ln in run.stderr.splitlines() if "big-" in ln],
                      "summary": run.stdout.strip().splitlines()[-1:]}
    return out
