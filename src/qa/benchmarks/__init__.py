"""Public benchmarks (`qa bench`): one module per suite, shared data, metrics and reports.

Each suite's ``run(ctx) -> BenchReport`` indexes its corpus through the normal ingestion
path, queries it through the normal retriever / Assistant, and returns numbers that
``report.write_report`` turns into eval/reports/bench-<suite>-<time>.{json,md,png}.
Three suites are not datasets and are left out of ``all``: ``reliability`` attacks
ingestion, the index, the question path and the network boundary; ``scale`` measures the
vector stores at a million chunks; ``concurrency`` sends many openai clients to `qa serve`.
"""

from __future__ import annotations

from collections.abc import Callable

from qa.benchmarks.report import BenchReport
from qa.benchmarks.runner import BenchContext

PUBLIC = ("medicationqa", "pubmedqa", "medquad")  # what `qa bench all` runs
# The others run on their own; pubmedqa-probe needs a probe fitted by its own dev run.
SUITES = (*PUBLIC, "pubmedqa-probe", "reliability", "scale", "concurrency")


def suite_runner(name: str) -> Callable[[BenchContext], BenchReport]:
    """The ``run`` function of a suite, imported on demand (each pulls its own models)."""
    import importlib

    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    return importlib.import_module(f"qa.benchmarks.{name.replace('-', '_')}").run


__all__ = ["PUBLIC", "SUITES", "BenchContext", "BenchReport", "suite_runner"]
