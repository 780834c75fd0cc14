"""The markdown of `qa bench reliability`: targets first, then every section's evidence."""

from __future__ import annotations

from typing import Any

from qa.benchmarks.report import table


def _held(ok: bool) -> str:
    return "**yes**" if ok else "**NO**"


def _targets(found: dict[str, Any]) -> list[dict[str, Any]]:
    mal, big, crash = found["malformed"], found["big_file"]["50mb"], found["crash"]
    kills = [t for t in crash["trials"] if t["signal"] == "SIGKILL"]
    ints = [t for t in crash["trials"] if t["signal"] == "SIGINT"]
    lost = sum(bool(t["lost_documents"] or t["lost_chunks"]) for t in kills)
    lost_ints = sum(bool(t["lost_documents"] or t["lost_chunks"]) for t in ints)
    rows = [
        ("0 tracebacks, 0 hangs (malformed corpus)",
         f"{mal['tracebacks']} tracebacks, {'a hang' if mal['hung'] else 'no hang'}",
         mal["tracebacks"] == 0 and not mal["hung"]),
        ("every bad file reported in one line",
         f"{len(mal['bad_not_one_line'])} not on exactly one line; {len(mal['stray_lines'])} "
         "other stderr lines", not mal["bad_not_one_line"] and not mal["stray_lines"]),
        ("every entry gets its expected outcome", f"{len(mal['unexpected'])} unexpected",
         not mal["unexpected"]),
        ("0 files outside the corpus indexed", f"{mal['outside_indexed']} (hard link: "
         f"{'indexed' if mal['hard_link_indexed'] else 'not indexed'}, by design)",
         mal["outside_indexed"] == 0),
        ("50 MB text file within the policy, < 2 min, < 1.5 GB",
         f"{big['seconds']} s, {big['peak_bound_mb']:.0f} MB (exit {big['exit_status']})",
         big["seconds"] < 120 and big["peak_bound_mb"] < 1536),
        ("20/20 kill -9 trials usable, nothing lost",
         f"{sum(t['usable'] for t in kills)}/{len(kills)} usable, {lost} with losses",
         all(t["usable"] for t in kills) and lost == 0 and len(kills) >= 20),
        ("10 Ctrl-C trials usable, nothing lost, message truthful",
         f"{sum(t['usable'] for t in ints)}/{len(ints)} usable, {lost_ints} with losses, "
         f"{sum(t['message_truthful'] is False for t in ints)} untruthful messages",
         all(t["usable"] for t in ints) and lost_ints == 0
         and not any(t["message_truthful"] is False for t in ints)),
        ("0 failed loads in 10,000 during repeated ingests",
         f"{found['loads']['failed']} of {found['loads']['loads']} "
         f"({found['loads']['commits_during_loads']} commits meanwhile)",
         found["loads"]["failed"] == 0 and found["loads"]["loads"] >= 10_000),
    ]
    if "hostile" in found:
        hostile, conc = found["hostile"], found["concurrency"]
        rows += [
            ("hostile questions: 0 tracebacks, 0 hangs",
             f"{hostile['questions']} questions: {hostile['tracebacks']} tracebacks, "
             f"{hostile['hangs']} hangs", hostile["tracebacks"] == 0 and hostile["hangs"] == 0),
            ("10 concurrent sessions x 3: 0 errors, 0 cross-talk",
             f"{conc['errors']} errors, {conc['cross_talk']} cross-talk "
             f"({conc['same_as_alone']}/{conc['questions']} identical to asking alone)",
             conc["errors"] == 0 and conc["cross_talk"] == 0),
        ]
    net = found["network"]
    attempts = net.get("outside_attempts")
    rows.append(("0 outside network attempts",
                 "strace unavailable" if attempts is None else
                 f"{len(attempts)} attempts in {net['traced_calls']} traced inet calls",
                 attempts == []))
    return [{"target": t, "measured": m, "held": _held(ok)} for t, m, ok in rows]


def _malformed_rows(found: dict[str, Any]) -> str:
    rows = [{"entry": c["name"][:48], "what": c["what"], "expected": c["expected"],
             "outcome": c["outcome"], "lines": c["lines"],
             "seconds": c.get("seconds"), "child MB": c.get("child_peak_mb"),
             "reason": (c.get("detail") or c.get("note") or "")[:70]}
            for c in found["malformed"]["cases"]]
    return table(rows, ["entry", "what", "expected", "outcome", "lines", "seconds",
                        "child MB", "reason"])


def _trial_rows(found: dict[str, Any]) -> str:
    rows = [{"trial": t["trial"], "signal": t["signal"], "delay s": t["delay_s"],
             "finished first": t["finished_before_signal"], "exit": t["exit_status"],
             "committed": t["committed"], "usable": t["usable"],
             "lost": len(t["lost_documents"]) + t["lost_chunks"],
             "orphans": t["orphan_processes"], "message": t["message"][:70]}
            for t in found["crash"]["trials"]]
    return table(rows, ["trial", "signal", "delay s", "finished first", "exit", "committed",
                        "usable", "lost", "orphans", "message"])


def markdown(found: dict[str, Any]) -> str:
    """The report body."""
    mal, big = found["malformed"], found["big_file"]
    parts = ["## Targets", "", table(_targets(found), ["target", "measured", "held"]), "",
             "## Malformed corpus", "",
             f"{mal['entries']} entries ({mal['made']} could be made here), generated by "
             "`qa.benchmarks.malformed`. One `qa ingest` of the folder: exit status "
             f"{mal['exit_status']}, {mal['seconds']} s, peak memory of the process tree "
             f"{mal['peak_tree_mb']:.0f} MB sampled ({mal['peak_bound_mb']:.0f} MB as the "
             f"sum of each process's high-water mark). Outcomes: {mal['outcomes']}. "
             f"Summary line: `{' '.join(mal['summary_line'])}`", "",
             "Per entry: `seconds` and `child MB` are one conversion alone in a fresh "
             "converter child (its peak resident memory); `lines` counts the stderr lines "
             "naming the entry in the full run.", "", _malformed_rows(found), "",
             "## One big file", ""]
    for label, row in big.items():
        parts.append(f"- `{label}` ({row['file_mb']} MB beside a leaflet): exit "
                     f"{row['exit_status']}, {row['seconds']} s, peak {row['peak_tree_mb']:.0f}"
                     f" MB sampled / {row['peak_bound_mb']:.0f} MB bound; "
                     f"{' '.join(row['lines'])[:200]}")
    crash, loads = found["crash"], found["loads"]
    parts += ["", "## Interrupted ingests", "",
              f"An incremental ingest took {crash['incremental_ingest_s']} s here; each trial "
              "signals at a seeded random moment inside that window. After the trials a "
              f"clean ingest exits {crash['final_exit_status']}, holds every file: "
              f"{crash['final_has_every_file']}, leaves {crash['generations_left']} "
              f"generation(s) and {crash['temporary_files_left']} temporary files.", "",
              _trial_rows(found), "", "## Index loads during repeated ingests", "",
              f"{loads['loads']} loads, {loads['failed']} failed {loads['failures'] or ''}; "
              f"the writer committed {loads['commits_during_loads']} generations meanwhile; "
              f"a load took {loads['load_ms_median']} ms (median), {loads['load_ms_max']} ms "
              "at most."]
    parts += _question_parts(found) + _network_parts(found)
    return "\n".join(parts)


def _question_parts(found: dict[str, Any]) -> list[str]:
    if "hostile" not in found:
        return ["", "Hostile questions and concurrent sessions: not run (--no-generate)."]
    hostile, conc = found["hostile"], found["concurrency"]
    rows = [{"case": r["case"], "chars": r["chars"], "outcome": r["outcome"],
             "seconds": r["seconds"], "says": (r.get("error") or r.get("answer") or "")
             .replace("\n", " ").replace("|", "/")[:90]} for r in hostile["rows"]]
    return ["", "## Hostile questions", "", table(rows, ["case", "chars", "outcome", "seconds",
                                                          "says"]), "",
            "## Concurrent sessions", "",
            f"{conc['sessions']} sessions x 3 questions from {conc['sessions']} threads over "
            f"one Assistant, {conc['seconds']} s: {conc['errors']} errors, "
            f"{conc['cross_talk']} cross-talk (an answer naming another question, or citing "
            "a document its question did not retrieve alone); "
            f"{conc['same_as_alone']}/{conc['questions']} answers identical to the same "
            "question asked alone. The model serves one request at a time (a lock): "
            "sessions queue for it."]


def _network_parts(found: dict[str, Any]) -> list[str]:
    net = found["network"]
    parts = ["", "## Network-free run", ""]
    if net.get("unshare"):
        parts.append(f"- In a network namespace of its own (`unshare -n`): ingest exit "
                     f"{net['offline_ingest_exit']}, ask exit {net['offline_ask_exit']}: "
                     f"{net['offline_answer'][:120]!r}")
    if net.get("strace"):
        parts.append(f"- Under `strace -f -e trace=network` (ingest, then an ask that stays "
                     f"up 20 s): exit {net['traced_exit']}, {net['traced_calls']} inet calls "
                     f"traced, {len(net['outside_attempts'])} outside loopback or to port 53.")
    return parts
