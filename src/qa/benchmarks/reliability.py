"""`qa bench reliability`: nothing breaks it and nothing leaves the machine, measured.

Sections, each against the targets of issue 14:

1. the malformed corpus (``malformed``): every entry's outcome, its one line, time and
   peak memory; the 50 MB text file and the largest file the size policy accepts;
2. kill -9 and Ctrl-C during ingestion (``crash_trials``), and 10,000 index loads while
   ingests commit in a loop;
3. hostile questions and 10 concurrent sessions x 3 questions over one Assistant
   (``sessions``, the configured LLM: use the 0.5B model);
4. the network-free run: ingest and ask in a namespace with no network, and under strace.

``--limit N`` shrinks every section (N trials, N questions, N x 100 loads) for a smoke run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from qa.benchmarks import crash_trials, malformed_run, network, sessions
from qa.benchmarks.reliability_report import markdown
from qa.benchmarks.report import BenchReport
from qa.benchmarks.runner import BenchContext

SEED = Path(__file__).resolve().parents[3] / "ingest"


def _env(ctx: BenchContext) -> dict[str, str]:
    """The environment of every `qa` process the benchmark starts: this code, this LLM."""
    src = str(Path(__file__).resolve().parents[2])
    paths = [src, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return {**env, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
            "QA_LLM__MODEL": ctx.settings.llm.model}


def _timed(name: str, section: dict[str, Any], fn: Any, *args: Any) -> None:
    started = time.monotonic()
    print(f"reliability: {name}…", file=sys.stderr, flush=True)
    section[name] = fn(*args)
    section[name + "_seconds"] = round(time.monotonic() - started, 1)


def _network_free(work: Path, env: dict[str, str], question: str) -> dict[str, Any]:
    """Ingest and ask with no network at all, then the same under strace."""
    out: dict[str, Any] = {"unshare": network.unshare_available(),
                           "strace": network.strace_available()}
    cli = [sys.executable, "-m", "qa.cli"]
    index = work / "offline-index"
    if out["unshare"]:
        ingest = network.run_offline([*cli, "ingest", str(SEED), "--index", str(index)],
                                     1800, env)
        ask = network.run_offline([*cli, "ask", "--index", str(index), question], 1800, env)
        out.update(offline_ingest_exit=ingest.returncode, offline_ask_exit=ask.returncode,
                   offline_answer=ask.stdout.strip()[:200])
    if out["strace"]:
        traced = network.run_traced([*cli, "ingest", str(SEED), "--index",
                                     str(work / "traced-index")], work / "ingest.trace",
                                    1800, env)
        asked = network.run_traced([sys.executable, "-c", network.ASK_AND_LINGER,
                                    str(work / "traced-index"), question, "20"],
                                   work / "ask.trace", 1800, env)
        out.update(traced_exit=[traced.returncode, asked.returncode],
                   traced_calls=traced.calls + asked.calls,
                   outside_attempts=list(traced.attempts + asked.attempts))
    return out


def run(ctx: BenchContext) -> BenchReport:
    """Every section; the report says which targets hold."""
    work = ctx.index_root / "reliability" / time.strftime("%Y%m%d-%H%M%S")
    env = _env(ctx)
    limit = ctx.limit
    found: dict[str, Any] = {}
    _timed("malformed", found, malformed_run.run_malformed, work / "malformed", env,
           ctx.settings.ingest)
    _timed("big_file", found, malformed_run.run_big_file, work / "big", env,
           ctx.settings.ingest)
    _timed("crash", found, crash_trials.run_trials, work / "crash", env, SEED,
           limit or 20, limit or 10)
    _timed("loads", found, crash_trials.race_loads, work / "loads", env, SEED,
           (limit or 100) * 100)
    if ctx.generate:
        assistant = _assistant(ctx, work)
        _timed("hostile", found, sessions.hostile_questions, assistant, 600.0, limit)
        _timed("concurrency", found, sessions.concurrent_sessions, assistant, limit)
    _timed("network", found, _network_free, work / "network", env,
           sessions.SESSIONS[1][0])
    return BenchReport(suite="reliability", metrics=_metrics(found),
                       settings=ctx.settings_dump(), models=ctx.models(ctx.generate),
                       limit=limit, markdown=markdown(found), details=found)


def _assistant(ctx: BenchContext, work: Path) -> Any:
    """An Assistant over the seed corpus, built fresh for this run."""
    from qa.answer import Assistant
    from qa.ingestion import ingest

    index_dir = work / "seed-index"
    ingest(SEED, index_dir, ctx.get_embedder(), ctx.settings.chunking,
           store_cfg=ctx.settings.store, limits=ctx.settings.ingest)
    settings = ctx.settings.model_copy(update={"index_dir": index_dir})
    return Assistant.load(settings=settings, embedder=ctx.get_embedder(),
                          generator=ctx.get_generator())


def _metrics(found: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers, one per target."""
    mal, crash, loads = found["malformed"], found["crash"], found["loads"]
    kills = [t for t in crash["trials"] if t["signal"] == "SIGKILL"]
    ints = [t for t in crash["trials"] if t["signal"] == "SIGINT"]
    out: dict[str, Any] = {
        "malformed_entries": mal["entries"], "malformed_tracebacks": mal["tracebacks"],
        "malformed_hung": mal["hung"], "malformed_unexpected": len(mal["unexpected"]),
        "bad_files_not_one_line": len(mal["bad_not_one_line"]),
        "outside_files_indexed": mal["outside_indexed"],
        "malformed_ingest_s": mal["seconds"], "malformed_peak_mb": mal["peak_bound_mb"],
        "big_50mb_s": found["big_file"]["50mb"]["seconds"],
        "big_50mb_peak_mb": found["big_file"]["50mb"]["peak_bound_mb"],
        "kill_trials_usable": f"{sum(t['usable'] for t in kills)}/{len(kills)}",
        "kill_trials_lost": sum(bool(t["lost_documents"] or t["lost_chunks"]) for t in kills),
        "interrupt_trials_usable": f"{sum(t['usable'] for t in ints)}/{len(ints)}",
        "interrupt_trials_lost": sum(bool(t["lost_documents"] or t["lost_chunks"])
                                     for t in ints),
        "orphan_processes": sum(t["orphan_processes"] for t in crash["trials"]),
        "index_loads": loads["loads"], "index_loads_failed": loads["failed"],
    }
    if "hostile" in found:
        hostile, conc = found["hostile"], found["concurrency"]
        out.update(hostile_questions=hostile["questions"],
                   hostile_tracebacks=hostile["tracebacks"], hostile_hangs=hostile["hangs"],
                   concurrent_errors=conc["errors"], concurrent_cross_talk=conc["cross_talk"])
    net = found["network"]
    out["outside_network_attempts"] = len(net.get("outside_attempts", [])) \
        if net.get("strace") else None
    return out
