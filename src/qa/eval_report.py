"""The eval's files: ``<time>.json`` (everything), ``<time>.md`` (the headline table) and
``<time>-audit.md`` (each question, its answer and the cited excerpts, for a person to read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.reporting import stamp, write_json


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write the JSON, the summary and the audit sheet into ``out_dir``; return the first two."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = stamp()
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    write_json(json_path, report)
    md_path.write_text(render_markdown(report), encoding="utf-8")
    (out_dir / f"{name}-audit.md").write_text(render_audit(report), encoding="utf-8")
    return json_path, md_path


def _fmt(value: object) -> str:
    return "n/a" if value is None else str(value)


def _metric_rows(s: dict[str, Any]) -> list[tuple[str, object]]:
    lat, right = s["latency_ms"], s["correctness"]
    return [
        *[(f"retrieval {k}", v) for k, v in s["retrieval"].items()],
        ("key-fact recall (answerable)", s["key_fact_recall"]),
        ("key facts in the evidence shown to the model", s.get("evidence_fact_recall")),
        ("citation validity", s["citation_validity"]),
        ("refusal accuracy (unanswerable)", s["refusal_accuracy"]),
        ("false refusals (should answer)", s["false_refusal_rate"]),
        ("disclaimer rate", s["disclaimer_rate"]),
        ("injection resistance", s["injection_resistance"]),
        ("wrong-entity answers", right["wrong_entity_answers"]),
        ("unsupported yes/no openers", right["unsupported_yes_no_openers"]),
        ("answered without a key fact (echo / off-topic)", right["answers_without_a_key_fact"]),
        ("list answers missing items / list questions",
         f"{right['list_answers_incomplete']} / {right['list_questions']}"),
        ("poisoned instructions followed / poisoned questions",
         f"{right['poisoned_instructions_followed']} / {right['poisoned_questions']}"),
        ("citation precision, key facts in cited excerpts (independent)",
         right["fact_citation_precision"]),
        ("facts located", right["facts_located"]),
        *[(f"lexical-judge {name.replace('_', ' ')} ({stage})", s[f"citations_{stage}"][name])
          for stage in ("final", "raw")
          for name in ("citation_precision", "citation_recall", "unsupported_sentence_rate")],
        ("first token ms, median / p90", f"{_fmt(lat['first_token_median'])} / "
                                         f"{_fmt(lat['first_token_p90'])}"),
        ("total ms, median / p90", f"{_fmt(lat['total_median'])} / {_fmt(lat['total_p90'])}"),
    ]


def render_markdown(report: dict[str, Any]) -> str:
    """A readable summary: headline metrics for all, dev and test; then triage per type."""
    s = report["summary"]
    splits = report.get("by_split", {})
    columns = [("all", s)] + [(name, splits[name]) for name in ("dev", "test") if name in splits]
    table = [_metric_rows(summary) for _, summary in columns]
    header = " | ".join(f"{name} ({summary['counts']['questions']})"
                        for name, summary in columns)
    machine = report.get("machine", {})
    lines = [
        f"# qa eval {report['created']}",
        "",
        f"{report['questions']} questions · model `{report['model']}` · embedder "
        f"`{report['embedder']}` · commit `{report['git_commit']}` · "
        f"settings `{report['settings_hash']}` · {report['wall_seconds']} s · "
        f"CPU {machine.get('cpu', '?')} ({machine.get('cpus', '?')} cores)",
        "",
    ]
    if report.get("cached_generations"):
        lines += [f"**{report['cached_generations']} model replies came from the generation "
                  "cache: latency figures are not meaningful.**", ""]
    lines += [
        f"| metric | {header} |",
        "|---|" + "---|" * len(columns),
        *[f"| {rows[0][0]} | " + " | ".join(_fmt(col[i][1]) for col in table) + " |"
          for i, rows in enumerate(zip(*table, strict=True))],
        "",
        "| triage | precision | recall | support |",
        "|---|---|---|---|",
        *[f"| {k} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {v['support']} |"
          for k, v in s["triage"].items()],
        "",
    ]
    if "conversations" in report:
        lines += _conversation_lines(report["conversations"])
    if "flagged_documents" in report:
        lines += ["Documents flagged in the poisoned corpus:", ""]
        lines += [f"- `{source}`: {'; '.join(flags)}"
                  for source, flags in sorted(report["flagged_documents"].items())]
        lines.append("")
    return "\n".join(lines)


def _conversation_lines(chats: dict[str, Any]) -> list[str]:
    """The follow-up table: the last turn of every conversation, scored."""
    summary = chats["summary"]
    names = ("conversations", "follow_up_accuracy", "wrong_drug_answers", "rewrite_accuracy",
             "rewrite_ms_median")
    lines = ["Conversations (last turn scored; `eval/conversations.jsonl`):", "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {split} | " + " | ".join(_fmt(summary[split][n]) for n in names) + " |"
              for split in ("all", "dev", "test")]
    misses = [r for r in chats["results"] if not r["correct"]]
    if misses:
        lines += ["", "Missed follow-ups:", ""]
        lines += [f"- {r['id']} ({r['split']}, {r['kind']}): searched for "
                  f"\u201c{r['standalone_question']}\u201d" for r in misses]
    return [*lines, ""]


def _quote(text: str) -> str:
    return "> " + " ".join(text.split())


def render_audit(report: dict[str, Any]) -> str:
    """Each question with its answer and the excerpts it cites, side by side."""
    lines = [f"# qa eval audit sheet {report['created']} (commit `{report['git_commit']}`)", "",
             "For a person to read: does each answer say what its cited excerpts say, and "
             "is it what was asked? Marks: key-fact recall, a forbidden fact said, the "
             "yes/no opener against the documents' answer.", ""]
    for row in report["results"]:
        marks = [f"recall {row['key_fact_recall']}" if row["key_fact_recall"] is not None
                 else "", "**forbidden fact said**" if row["forbidden_said"] else "",
                 f"opener {row['opener']} (documents: {row['polarity']})" if row["opener"]
                 else "", f"triage {row['triage']}" if row["triage"] else "",
                 "refused" if row["refused"] else ""]
        lines += [f"## {row['id']} ({row['split']}, {row['category']}) · "
                  + " · ".join(m for m in marks if m), "",
                  f"**Q:** {row['question']}", "", "**A:**", "", _quote(row["answer"]), ""]
        for c in row["citations"]:
            lines += [f"[{c['n']}] `{c['source']}`", "", _quote(c["text"]), ""]
    return "\n".join(lines)


COMPARED = ("answer", "raw_answer", "cited_sources")  # what "the same answer" means


def diff_reports(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, int]:
    """Markdown: which questions two eval reports answered differently (answer text, raw
    model text, cited sources), over the questions both hold; conversations too. Also
    returns how many answers differ."""
    old = {r["id"]: r for r in before["results"]}
    new = {r["id"]: r for r in after["results"]}
    shared = [q for q in old if q in new]
    changed = [(q, [f for f in COMPARED if old[q].get(f) != new[q].get(f)]) for q in shared]
    changed = [(q, fields) for q, fields in changed if fields]
    lines = [f"# Eval answers compared: `{before.get('git_commit')}` vs "
             f"`{after.get('git_commit')}`", "",
             f"- before: {before.get('created')}, model `{before.get('model')}`",
             f"- after: {after.get('created')}, model `{after.get('model')}`", "",
             f"**{len(changed)} of {len(shared)} answers differ** "
             f"(compared: {', '.join(COMPARED)}).", ""]
    for q, fields in changed:
        lines += [f"- {q} ({', '.join(fields)}): {_quote(old[q]['answer'])} → "
                  f"{_quote(new[q]['answer'])}"]
    chats_old = {c["id"]: c for c in before.get("conversations", {}).get("results", [])}
    chats_new = {c["id"]: c for c in after.get("conversations", {}).get("results", [])}
    both = [c for c in chats_old if c in chats_new]
    differ = [c for c in both if chats_old[c].get("answer") != chats_new[c].get("answer")]
    if both:
        lines += ["", f"**{len(differ)} of {len(both)} conversation answers differ**: "
                  + (", ".join(differ) or "none") + "."]
    return "\n".join(lines) + "\n", len(changed) + len(differ)
