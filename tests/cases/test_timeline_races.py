"""Concurrent transitions on the same cases keep every timeline consistent: threads play operators
and handlers firing accept/dispatch/sign/return/handle/verify/rework/close/reject/notes at a few
shared cases, each with the version it read. Afterwards each case's events form a valid path
through the transition table (gridgov/cases/states.py): every event starts where the previous one
ended, its action is allowed from there and lands on one of its targets; the case's version went
up by exactly one per event; no transition is recorded twice for one version.
Real threads and transactions, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import OperationalError, connection

from gridgov.cases import services
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.states import TRANSITIONS
from gridgov.common import clock
from gridgov.common.errors import DomainError
from tests.cases.factories import MONDAY_10, photo, report
from tests.factories import UserFactory, build_personas
from tests.probe_stats import count

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CASES = 4
THREADS = 4
STEPS = 25


def _actions(p, op2, handler2):
    ops, handlers = [p.village_operator, op2], [p.handler, handler2]
    return [
        ("accept", lambda c, v, r: services.case_accept(actor=r.choice(ops), case=c, expected_version=v)),
        ("reject", lambda c, v, r: services.case_reject(actor=r.choice(ops), case=c, reason="不属于受理范围", expected_version=v)),
        ("dispatch", lambda c, v, r: services.case_dispatch(actor=r.choice(ops), case=c, department=p.department, expected_version=v)),
        ("sign", lambda c, v, r: services.case_sign(actor=r.choice(handlers), case=c, expected_version=v)),
        ("return", lambda c, v, r: services.case_return(actor=r.choice(handlers), case=c, grounds="不属于本单位职责范围", expected_version=v)),
        ("handle", lambda c, v, r: services.case_handle(actor=r.choice(handlers), case=c, result="已清运完毕", photos=[photo()], expected_version=v)),
        ("verify", lambda c, v, r: services.case_verify(actor=r.choice(ops), case=c, expected_version=v)),
        ("rework", lambda c, v, r: services.case_rework(actor=r.choice(ops), case=c, reason="现场仍有垃圾残留", expected_version=v)),
        ("close", lambda c, v, r: services.case_close(actor=r.choice(ops), case=c, expected_version=v)),
        ("note", lambda c, v, r: services.case_add_note(actor=r.choice(ops), case=c, text="电话联系了报告人")),
    ]  # fmt: skip


def _retrying(fn):
    # Shared-cache in-memory SQLite reports a competing writer as "locked" at once instead of
    # waiting; retrying stands in for the wait a file database or PostgreSQL would do.
    for _ in range(300):
        try:
            return fn()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.01)
    raise TimeoutError("database stayed locked")


def _valid_path(events: list[CaseEvent]) -> list[str]:
    problems = []
    assert events and events[0].action == "report"
    state = events[0].to_state
    for e in events[1:]:
        t = TRANSITIONS.get(e.action)
        if t is None:
            problems.append(f"unknown action {e.action}")
            continue
        if e.from_state != state:
            problems.append(f"{e.action} starts at {e.from_state}, the case was {state}")
        if not t.allows_state(e.from_state):
            problems.append(f"{e.action} is not allowed from {e.from_state}")
        if e.to_state not in (t.targets() or (e.from_state,)):
            problems.append(f"{e.action} landed on {e.to_state}")
        state = e.to_state
    return problems


def test_racing_transitions_keep_every_timeline_a_valid_path():
    p = build_personas()
    op2 = UserFactory(username="vera2", role="center_operator", jurisdiction=p.tree.communities[0])
    handler2 = UserFactory(username="hank2", role="department_handler", department=p.department)
    with clock.frozen(MONDAY_10):
        cases = [report(p) for _ in range(CASES)]
    actions = _actions(p, op2, handler2)
    outcomes: dict[str, int] = {"done": 0, "refused": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def play(seed: int) -> None:
        rng = random.Random(seed)
        try:
            barrier.wait(timeout=30)
            with clock.frozen(MONDAY_10):
                for _ in range(STEPS):
                    target = rng.choice(cases)
                    _name, act = rng.choice(actions)
                    case = _retrying(lambda target=target: Case.objects.get(pk=target.pk))
                    try:
                        _retrying(lambda act=act, case=case: act(case, case.version, rng))
                        key = "done"
                    except DomainError:  # 409 lost race / wrong state, 403 wrong party: refused whole
                        key = "refused"
                    with lock:
                        outcomes[key] += 1
        except BaseException as exc:  # noqa: BLE001 — asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=play, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    count("race transitions attempted", outcomes["done"] + outcomes["refused"])
    assert not errors, errors
    assert outcomes["done"] > CASES, outcomes  # the races did move cases along

    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        events = list(CaseEvent.objects.filter(case=case).order_by("id"))
        assert _valid_path(events) == [], (case.number, [(e.action, e.from_state, e.to_state) for e in events])
        assert case.state == events[-1].to_state
        # every recorded event (notes too) bumped the version once from the report's 1: none was
        # lost to a race, none written twice for the same version
        assert case.version == len(events), (case.number, case.version, [e.action for e in events])
