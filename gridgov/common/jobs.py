"""Periodic jobs, run by `gridgov worker` (or cron calling the individual commands).

Each job is a dotted path to a function taking no arguments; a job that fails is logged and the
others still run, so one broken adapter never stops SLA warnings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

log = logging.getLogger("gridgov.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # dotted path of a zero-argument callable
    every: float  # seconds


JOBS: list[Job] = [
    # Nearing-deadline and overdue notifications for the case loop.
    Job("case_sla_sweep", "gridgov.cases.services.sla_sweep", 60),
    # Outbound webhooks and 12345/110 push-back with back-off.
    Job("integrations_deliver", "gridgov.integrations.outbox.deliver_due", 15),
]


def _resolve(dotted: str) -> Callable[[], object]:
    module, _, name = dotted.rpartition(".")
    fn: Callable[[], object] = getattr(import_module(module), name)
    return fn


def run_due(last_run: dict[str, float], *, now: float | None = None) -> list[str]:
    """Run every job whose interval has elapsed; returns the names of the jobs that ran."""
    now = time.monotonic() if now is None else now
    ran: list[str] = []
    for job in JOBS:
        if now - last_run.get(job.name, float("-inf")) < job.every:
            continue
        try:
            _resolve(job.target)()
        except Exception:  # one failing job must not stop the others (logged with traceback)
            log.exception("job %s failed", job.name)
        else:
            ran.append(job.name)
        last_run[job.name] = now
    return ran
