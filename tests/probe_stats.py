"""Counters of generated requests (access probes, fuzzed API calls, …), summed over xdist workers
and printed at the end of the run, so the totals can be reported.

Tests call `count("access probes")`; tests/conftest.py re-exports the hooks below.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

COUNTS: Counter[str] = Counter()
_TOTALS: Counter[str] = Counter()


def count(what: str, n: int = 1) -> None:
    COUNTS[what] += n


def pytest_sessionfinish(session: Any) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["gridgov_counts"] = dict(COUNTS)
    else:
        _TOTALS.update(COUNTS)


def pytest_testnodedown(node: Any, error: Any) -> None:
    _TOTALS.update(getattr(node, "workeroutput", {}).get("gridgov_counts", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TOTALS:
        return
    terminalreporter.section("generated requests")
    for what, n in sorted(_TOTALS.items()):
        terminalreporter.write_line(f"{what}: {n}")
