"""KPI formulas on constructed data; overdue open cases count against the on-time rates."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.accounts.scope import Scope
from gridgov.cases import selectors, sla
from gridgov.cases.models import State
from tests.cases.factories import MONDAY_10, make_case

pytestmark = pytest.mark.django_db

NOW = MONDAY_10
PAST, FUTURE = NOW - dt.timedelta(days=2), NOW + dt.timedelta(days=2)


@pytest.fixture
def data(personas, world):
    p, d, other = personas, personas.department, world.other_department
    day = dt.timedelta(days=1)
    # 1. closed on time, signed on time, rated 5
    make_case(
        p,
        state=State.CLOSED,
        department=d,
        sign_deadline=PAST,
        signed_at=PAST - day,
        handle_deadline=PAST,
        handled_at=PAST - day,
        closed_at=PAST,
        satisfaction=5,
    )
    # 2. closed late (feedback after the deadline), signed late, rated 2
    make_case(
        p,
        state=State.CLOSED,
        department=d,
        sign_deadline=PAST - 2 * day,
        signed_at=PAST - day,
        signed_late=True,
        handle_deadline=PAST - day,
        handled_at=PAST,
        closed_at=PAST,
        satisfaction=2,
    )
    # 3. open, handling, past its completion deadline (counts against on-time completion)
    make_case(
        p,
        state=State.HANDLING,
        department=d,
        sign_deadline=PAST,
        signed_at=PAST - day,
        handle_deadline=PAST,
        deadline=PAST,
    )
    # 4. open, dispatched, unsigned past the sign deadline (counts against on-time signing)
    make_case(
        p,
        state=State.DISPATCHED,
        department=other,
        sign_deadline=PAST,
        handle_deadline=FUTURE,
        deadline=PAST,
        region=p.tree.microgrids[2],
    )
    # 5. open, within every deadline: in no denominator yet
    make_case(
        p,
        state=State.DISPATCHED,
        department=other,
        sign_deadline=FUTURE,
        handle_deadline=FUTURE,
        deadline=FUTURE,
        region=p.tree.microgrids[2],
    )
    # 6. settled on the spot: closed without deadlines, rated 4
    make_case(p, state=State.CLOSED, settled_on_spot=True, handled_at=PAST, closed_at=PAST, satisfaction=4)
    # 7. rejected and 8. merged: outside every rate
    make_case(p, state=State.REJECTED, closed_at=PAST)
    first = make_case(
        p,
        state=State.CLOSED,
        department=d,
        sign_deadline=PAST,
        signed_at=PAST,
        handle_deadline=FUTURE,
        handled_at=PAST,
        closed_at=PAST,
    )
    make_case(p, state=State.MERGED, merged_into=first)
    # 9. in town 2: outside the town-1 subtree
    make_case(
        p,
        state=State.HANDLING,
        department=d,
        handle_deadline=PAST,
        deadline=PAST,
        region=p.tree.microgrids[8],
        center=p.tree.towns[1],
    )
    return p


def test_rates_for_the_whole_district(data):
    r = sla.case_rates(qs=selectors.case_queryset(scope=Scope.for_user(data.leader)), now=NOW)
    assert (r.total, r.open, r.overdue_open) == (8, 4, 2)
    # signed: 1 (on time), 2 (late), 3 (on time), 8 (on time) + unsigned overdue 4 → 3 / 5
    assert (r.signed_on_time, r.sign_due) == (3, 5)
    assert r.on_time_sign_rate == 60.0
    # should be closed: closed 1, 2, 6, 8 + overdue open 3, 9 = 6; on time: 1, 6, 8
    assert (r.closed, r.handle_due, r.closed_on_time) == (4, 6, 3)
    assert r.completion_rate == pytest.approx(66.67)
    assert r.on_time_completion_rate == 50.0
    # ratings 5, 2, 4 with satisfied ≥ 3 → 2 / 3
    assert (r.satisfied, r.rated) == (2, 3)
    assert r.satisfaction_rate == pytest.approx(66.67)


def test_rates_per_child_region(data):
    scope = Scope.for_user(data.leader)
    whole, children = sla.rates_by_region(
        scope=scope, region=data.tree.district, qs=selectors.case_queryset(scope=scope), now=NOW
    )
    by = {r.key: r for r in children}
    assert whole.total == 8
    assert by["330109001"].total == 7 and by["330109002"].total == 1
    assert by["330109002"].on_time_completion_rate == 0.0


def test_rates_per_department(data, world):
    scope = Scope.for_user(data.leader)
    rows = {r.label: r for r in sla.rates_by_department(qs=selectors.case_queryset(scope=scope), now=NOW)}
    assert rows["区城管局"].handle_due == 5 and rows["区城管局"].closed_on_time == 2
    assert rows["区市场监管局"].sign_due == 1 and rows["区市场监管局"].on_time_sign_rate == 0.0


def test_rates_follow_the_viewers_scope(data):
    scope = Scope.for_user(data.other_town_operator)
    r = sla.case_rates(qs=selectors.case_queryset(scope=scope), now=NOW)
    assert r.total == 1
    _, children = sla.rates_by_region(scope=scope, region=data.tree.towns[0], qs=selectors.case_queryset(scope=scope))
    assert children == []


def test_no_denominator_means_no_rate(personas):
    r = sla.case_rates(qs=selectors.case_queryset(scope=Scope.for_user(personas.leader)), now=NOW)
    assert r.on_time_sign_rate is None and r.satisfaction_rate is None
