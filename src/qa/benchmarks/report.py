"""Write a benchmark run as ``bench-<suite>-<time>.json`` + ``.md`` + ``.png`` in eval/reports.

Every report carries the git commit, the models and the settings that produced it, so a
committed number can always be traced back and reproduced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.reporting import git_commit, machine, stamp, write_json


@dataclass
class Plot:
    """A bar chart: one bar per label (values in the metric's own unit)."""

    title: str
    values: dict[str, float]
    ylabel: str = ""
    reference: dict[str, float] = field(default_factory=dict)  # horizontal lines


@dataclass
class BenchReport:
    """What a suite hands back: metrics, a markdown body and the plot to draw."""

    suite: str
    metrics: dict[str, Any]
    settings: dict[str, Any]
    models: dict[str, str]
    limit: int | None
    markdown: str
    plots: list[Plot] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        return {
            "suite": self.suite, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "git_commit": git_commit(), "models": self.models, "limit": self.limit,
            "settings": self.settings, "machine": machine(),
        }


def draw(plots: list[Plot], path: Path) -> None:
    """All plots of a report side by side in one PNG (Agg: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(plots), figsize=(5.5 * len(plots), 4), squeeze=False)
    for ax, plot in zip(axes[0], plots, strict=True):
        labels = list(plot.values)
        bars = ax.bar(labels, [plot.values[k] for k in labels], color="#4C72B0")
        ax.bar_label(bars, fmt="%.3g", fontsize=8)
        for i, (name, y) in enumerate(plot.reference.items()):
            ax.axhline(y, linestyle="--", linewidth=1, color=f"C{i + 1}", label=name)
        if plot.reference:
            ax.legend(fontsize=7)
        ax.set_title(plot.title, fontsize=10)
        ax.set_ylabel(plot.ylabel)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: BenchReport, out_dir: Path) -> tuple[Path, Path]:
    """Write JSON, markdown and PNG; returns (json path, markdown path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bench-{report.suite}-{stamp()}"
    header = report.header()
    json_path = out_dir / f"{stem}.json"
    write_json(json_path, {**header, "metrics": report.metrics, "details": report.details})
    lines = [f"# Benchmark: {report.suite}", "",
             f"commit `{header['git_commit']}` · {header['created']} · models "
             + ", ".join(f"{k} `{v}`" for k, v in report.models.items())
             + (f" · limit {report.limit}" if report.limit else " · full run"), ""]
    if report.plots:
        png = out_dir / f"{stem}.png"
        draw(report.plots, png)
        lines += [f"![{report.suite}]({png.name})", ""]
    lines += [report.markdown.strip(), "", "Settings: see the JSON report (`settings`).", ""]
    md_path = out_dir / f"{stem}.md"
    md_path.write_text("\n".join(lines))
    return json_path, md_path


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A markdown table; floats in [0, 1] print with 3 decimals."""
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
        return "–" if v is None else str(v)

    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(out)
