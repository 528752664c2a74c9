from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from gridgov.common import jobs

pytestmark = pytest.mark.django_db


def test_every_job_target_resolves():
    for job in jobs.JOBS:
        assert callable(jobs._resolve(job.target)), job.target


def test_due_jobs_run_once_per_interval(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(jobs, "JOBS", [jobs.Job("a", "x.a", 60), jobs.Job("b", "x.b", 10)])
    monkeypatch.setattr(jobs, "_resolve", lambda target: lambda: calls.append(target))
    last: dict[str, float] = {}
    assert jobs.run_due(last, now=100.0) == ["a", "b"]
    assert jobs.run_due(last, now=105.0) == []
    assert jobs.run_due(last, now=111.0) == ["b"]
    assert calls == ["x.a", "x.b", "x.b"]


def test_a_failing_job_does_not_stop_the_others(monkeypatch):
    def boom() -> None:
        raise RuntimeError("adapter down")

    ran: list[str] = []
    monkeypatch.setattr(jobs, "JOBS", [jobs.Job("bad", "bad", 1), jobs.Job("good", "good", 1)])
    monkeypatch.setattr(jobs, "_resolve", lambda target: boom if target == "bad" else lambda: ran.append("good"))
    assert jobs.run_due({}, now=0.0) == ["good"]
    assert ran == ["good"]


def test_worker_once_runs_the_real_jobs_on_an_empty_database():
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "case_sla_sweep" in out.getvalue() and "integrations_deliver" in out.getvalue()
