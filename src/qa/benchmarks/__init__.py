"""Public benchmarks (`qa bench`): one module per suite, shared data, metrics and reports.

Each suite's ``run(ctx) -> BenchReport`` indexes its corpus through the normal ingestion
path, queries it through the normal retriever / Assistant, and returns numbers that
``report.write_report`` turns into eval/reports/bench-<suite>-<time>.{json,md,png}.
"""

from __future__ import annotations

from collections.abc import Callable

from qa.benchmarks.report import BenchReport
from qa.benchmarks.runner import BenchContext

SUITES = ("medicationqa", "pubmedqa", "medquad")  # the public data sets ("all")
SERVING = ("concurrency",)  # how `qa serve` holds up; run on its own


def suite_runner(name: str) -> Callable[[BenchContext], BenchReport]:
    """The ``run`` function of a suite, imported on demand (each pulls its own models)."""
    import importlib

    if name not in SUITES + SERVING:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES + SERVING)}")
    return importlib.import_module(f"qa.benchmarks.{name}").run


__all__ = ["SERVING", "SUITES", "BenchContext", "BenchReport", "suite_runner"]
