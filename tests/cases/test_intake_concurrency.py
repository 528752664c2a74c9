"""Many reports of one district at the same moment, on real threads and real transactions: every
case gets its own number, increasing per district and day, and the rollups count every one.
PostgreSQL only (numbers come from a sequence there; SQLite has one writer at a time)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from gridgov.cases import numbering, services
from gridgov.cases.models import Case, CaseCounter, CaseEvent
from gridgov.common import clock
from gridgov.dashboard.models import LiveCase, RegionDayStat
from tests.cases.factories import IN_GRID_1, IN_GRID_2, MONDAY_10, report
from tests.factories import build_personas

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS, EACH = 6, 5


def day_total(path: str, day: object = None) -> int:
    """A region's reports of a day, over its day rows (a district's day is several shards)."""
    rows = RegionDayStat.objects.filter(region_path=path)
    if day is not None:
        rows = rows.filter(day=day)
    return sum(rows.values_list("reported", flat=True))


def test_concurrent_reports_in_one_district_get_distinct_increasing_numbers(tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (the suite's SQLite is one writer at a time)")
    settings.MEDIA_ROOT = tmp_path / "media"
    p = build_personas()
    with clock.frozen(MONDAY_10):
        day = services.sla_local_date(clock.now())
        # Numbers a loader already gave today through the counter are never handed out again.
        CaseCounter.objects.create(key=numbering.day_key("330109", day), value=7)
    barrier = threading.Barrier(THREADS)
    numbers: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            with clock.frozen(MONDAY_10):
                barrier.wait(timeout=30)
                mine = []
                for i in range(EACH):
                    at = IN_GRID_1 if (k + i) % 2 else IN_GRID_2
                    mine.append(report(p, at=at, description=f"并发上报 线程{k} 第{i}件").number)
                numbers[k] = mine
        except BaseException as exc:  # noqa: BLE001 — asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    every = [n for mine in numbers.values() for n in mine]
    assert len(every) == THREADS * EACH == len(set(every))
    prefix = f"330109-{day:%Y%m%d}-"
    assert all(n.startswith(prefix) for n in every)
    for mine in numbers.values():  # each thread's reports came one after the other
        seqs = [int(n.rsplit("-", 1)[1]) for n in mine]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert min(int(n.rsplit("-", 1)[1]) for n in every) > 7
    # Every report left its timeline row, its live row and its count in the day rows.
    assert CaseEvent.objects.filter(action="report").count() == len(every) == Case.objects.count()
    assert LiveCase.objects.count() == len(every)
    assert day_total("/330109/", day) == len(every)


def test_a_tracking_code_collision_outside_any_transaction_runs_the_report_again(tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    p = build_personas()
    with clock.frozen(MONDAY_10):
        first = report(p)
        codes = iter([first.tracking_code, "YYYYYYYYYY"])
        monkeypatch.setattr(services, "new_tracking_code", lambda: next(codes))
        assert not connection.in_atomic_block
        second = report(p)
    assert second.tracking_code == "YYYYYYYYYY"
    assert Case.objects.count() == 2 and CaseEvent.objects.count() == 2 and LiveCase.objects.count() == 2
    assert day_total("/330109/") == 2
