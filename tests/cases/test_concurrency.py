"""Two people acting on the same case at the same moment: exactly one wins, the other gets a
409 conflict. Real threads and real transactions, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection

from gridgov.cases import services
from gridgov.cases.models import Case, CaseEvent, State
from gridgov.common import clock
from gridgov.common.errors import Conflict
from tests.cases.factories import MONDAY_10, drive, report
from tests.factories import UserFactory, build_personas

# Transactional tests flush the database afterwards; serialized_rollback restores what the data
# migrations put there (the category code table) for the tests that run after these.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def race(*calls):
    """Run the calls in threads released together; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    errors: list[BaseException] = []

    def attempt(fn):
        # The in-memory test database is shared-cache SQLite, which reports a competing writer as
        # "table is locked" at once instead of waiting like a file database (busy timeout) or
        # PostgreSQL (row lock). Retrying stands in for that wait; the loser still sees the winner's
        # committed state afterwards, which is what is under test.
        for _ in range(200):
            try:
                return fn()
            except OperationalError as exc:
                if connection.vendor != "sqlite" or "locked" not in str(exc):
                    raise
                time.sleep(0.02)
        raise TimeoutError("database stayed locked")

    def run(fn):
        try:
            barrier.wait(timeout=10)
            with clock.frozen(MONDAY_10):
                results.append(attempt(fn))
        except BaseException as exc:  # noqa: BLE001 — collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_two_handlers_sign_at_once_one_wins():
    p = build_personas()
    second_handler = UserFactory(username="hank2", role="department_handler", department=p.department)
    case = drive(p, report(p), State.DISPATCHED)
    results, errors = race(
        lambda: services.case_sign(actor=p.handler, case=Case.objects.get(pk=case.pk)),
        lambda: services.case_sign(actor=second_handler, case=Case.objects.get(pk=case.pk)),
    )
    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
    assert CaseEvent.objects.filter(case=case, action="sign").count() == 1
    assert Case.objects.get(pk=case.pk).state == State.HANDLING


def test_accept_and_reject_race_with_the_same_version_one_wins():
    p = build_personas()
    second_operator = UserFactory(username="vera2", role="center_operator", jurisdiction=p.tree.communities[0])
    case = report(p)
    results, errors = race(
        lambda: services.case_accept(actor=p.village_operator, case=case, expected_version=1),
        lambda: services.case_reject(actor=second_operator, case=case, reason="重复件", expected_version=1),
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict), errors
    final = Case.objects.get(pk=case.pk)
    assert final.state in (State.ACCEPTED, State.REJECTED) and final.version == 2
    assert CaseEvent.objects.filter(case=case).count() == 2


def test_concurrent_reports_get_distinct_numbers():
    p = build_personas()
    results, errors = race(*[lambda: report(p) for _ in range(4)])
    assert not errors, errors
    numbers = sorted(c.number for c in results)  # type: ignore[attr-defined]
    assert numbers == [f"330109-20261123-00000{i}" for i in range(1, 5)]


def test_the_code_table_is_still_there_for_later_tests():
    from gridgov.cases.models import CaseCategory

    assert CaseCategory.objects.filter(code="0502").exists()
