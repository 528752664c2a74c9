"""Work-queue lists and their tab counts: the same rows in the same order as the straightforward
queries they replaced (the department scope as `assigned OR reported`, one COUNT per tab), for
every persona and every queue, over rows of every state, centre, department and deadline."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Q, QuerySet

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases import selectors
from gridgov.cases.models import Case, CaseAssignment, State
from gridgov.common.errors import NotFound
from tests.cases.factories import MONDAY_10, World, make_case

pytestmark = pytest.mark.django_db

NOW = MONDAY_10


def reference_queryset(scope: Scope) -> QuerySet[Case]:
    """The scope as it was written before: assigned to the department OR reported by the viewer."""
    if scope.is_empty:
        return Case.objects.none()
    mine = Q(reporter_id=scope.user_id) if scope.user_id else Q(pk__in=[])
    if scope.role == Role.DEPARTMENT_HANDLER:
        if scope.department_id is None:
            return Case.objects.none()
        assigned = CaseAssignment.objects.filter(department_id=scope.department_id).values("case_id")
        return Case.objects.filter(Q(pk__in=assigned) | mine)
    return Case.objects.filter(Q(region_path__startswith=scope.path) | mine)


def reference_queue(scope: Scope, queue: str) -> QuerySet[Case]:
    """The queues as they were written before (one filter chain per queue)."""
    qs = reference_queryset(scope)
    center = Q(center_id=scope.region_id)
    dept = Q(department_id=scope.department_id) if scope.department_id else Q(pk__in=[])
    final = selectors.OPEN_EXCLUDE
    if queue == "to_accept":
        qs = qs.filter(center, state=State.REPORTED)
    elif queue == "to_dispatch":
        qs = qs.filter(center, state__in=[State.ACCEPTED, State.SUPERVISING])
    elif queue == "to_sign":
        qs = qs.filter(dept, state=State.DISPATCHED)
    elif queue == "to_handle":
        qs = qs.filter(dept, state=State.HANDLING)
    elif queue == "to_verify":
        qs = qs.filter(center, state=State.HANDLED)
    elif queue == "to_close":
        qs = qs.filter(center, state=State.VERIFIED)
    elif queue == "extensions":
        qs = qs.filter(center, state=State.HANDLING, extension_pending=True)
    elif queue == "to_review":
        qs = qs.filter(state=State.SETTLE_PENDING)
    elif queue == "supervision":
        qs = qs.filter(Q(supervised=True) | Q(state=State.SUPERVISING)).exclude(state__in=final)
    elif queue == "overdue":
        qs = qs.exclude(state__in=final).filter(deadline__lt=NOW)
        if scope.role == Role.DEPARTMENT_HANDLER:
            qs = qs.filter(dept)
    elif queue == "mine":
        qs = qs.filter(reporter_id=scope.user_id) if scope.user_id else qs.none()
    ordering = ["-reported_at", "-id"] if queue in ("all", "mine") else ["deadline", "id"]
    return qs.order_by(*ordering)


def ids(qs: QuerySet[Case]) -> list[int]:
    return list(qs.values_list("id", flat=True))


def every_kind_of_case(world: World, n: int = 90, seed: int = 8) -> None:
    """Rows written directly: every state, centre, lead department, reporter, deadline (with ties,
    past, future and none) and assignment history (active, earlier rounds, co-handling)."""
    p = world.p
    rng = random.Random(seed)
    regions = [*p.tree.microgrids, p.outsider.jurisdiction]
    centres = [p.tree.communities[0], p.tree.towns[0], p.tree.towns[1], p.tree.district]
    departments = [p.department, world.other_department, world.assist_department]
    reporters = [None, p.grid_worker, p.handler, world.other_handler, p.district_operator, p.village_operator, p.leader]
    stamps = [NOW - dt.timedelta(hours=h) for h in (1, 5, 5, 30, 200, 900)]  # repeated: ties
    deadlines = [None, NOW - dt.timedelta(days=2), NOW - dt.timedelta(hours=1), NOW + dt.timedelta(days=1)]
    made: list[Case] = []
    for _ in range(n):
        state = rng.choice(State.values)
        if state == State.MERGED and not made:
            state = State.CLOSED
        case = make_case(
            p,
            region=rng.choice(regions),
            center=rng.choice(centres),
            state=state,
            merged_into=rng.choice(made) if state == State.MERGED else None,
            department=rng.choice([None, *departments]),
            reporter=rng.choice(reporters),
            reported_at=rng.choice(stamps),
            deadline=rng.choice(deadlines),
            supervised=rng.random() < 0.25,
            extension_pending=rng.random() < 0.3,
        )
        made.append(case)
        for department in rng.sample(departments, rng.randint(0, 2)):
            rounds = rng.choice([[True], [False], [False, True]])
            for active in rounds:
                CaseAssignment.objects.create(
                    case=case,
                    department=department,
                    role=rng.choice(["lead", "assist"]),
                    active=active,
                    assigned_at=NOW,
                )


def viewers(world: World) -> list[User]:
    p = world.p
    return [
        p.grid_worker,
        p.colleague,
        p.grid_leader,
        p.microgrid_worker,
        p.village_operator,
        p.town_operator,
        p.other_town_operator,
        p.district_operator,
        p.handler,  # a handler who reported cases too
        world.other_handler,
        world.assist_handler,  # a handler who never reported one
        p.leader,
        p.mediator,
        p.admin,
        p.outsider,
    ]


def test_every_queue_lists_the_same_rows_in_the_same_order_as_before(world):
    every_kind_of_case(world)
    checked = 0
    for user in viewers(world):
        scope = Scope.for_user(user)
        for queue in selectors.QUEUE_KEYS:
            got = ids(selectors.case_queue(scope=scope, queue=queue, now=NOW))
            assert got == ids(reference_queue(scope, queue)), (user.username, queue)
            checked += len(got)
    assert checked > 500  # the rows above do land in the queues


def test_department_handler_sees_assigned_and_own_reported_cases_and_nothing_else(world):
    p = world.p
    assigned_now = make_case(p, state=State.HANDLING, department=p.department)
    CaseAssignment.objects.create(case=assigned_now, department=p.department, role="lead", assigned_at=NOW)
    earlier_round = make_case(p, state=State.CLOSED)
    CaseAssignment.objects.create(
        case=earlier_round, department=p.department, role="lead", active=False, assigned_at=NOW
    )
    co_handled = make_case(p, state=State.HANDLING, department=world.other_department)
    CaseAssignment.objects.create(case=co_handled, department=p.department, role="assist", assigned_at=NOW)
    other_departments = make_case(p, state=State.HANDLING, department=world.other_department)
    CaseAssignment.objects.create(
        case=other_departments, department=world.other_department, role="lead", assigned_at=NOW
    )
    make_case(p, state=State.REPORTED)  # nobody's department
    lead_without_assignment = make_case(p, state=State.DISPATCHED, department=p.department)
    assigned = {assigned_now.pk, earlier_round.pk, co_handled.pk}

    def visible(user: User) -> set[int]:
        return set(ids(selectors.case_queryset(scope=Scope.for_user(user))))

    assert visible(p.handler) == assigned
    assert lead_without_assignment.pk not in visible(p.handler)
    own = make_case(p, state=State.REPORTED, reporter=p.handler, region=p.tree.microgrids[3])
    assert visible(p.handler) == assigned | {own.pk}
    assert visible(world.other_handler) == {other_departments.pk}  # a lead without an assignment row: no
    assert visible(world.assist_handler) == set()
    # Reading a case by number goes through the same scope.
    assert selectors.case_get(scope=Scope.for_user(p.handler), number=own.number) == own
    with pytest.raises(NotFound):
        selectors.case_get(scope=Scope.for_user(p.handler), number=other_departments.number)


def test_tab_counts_are_the_counts_of_the_lists(world):
    every_kind_of_case(world)
    for user in viewers(world):
        scope = Scope.for_user(user)
        expected = {
            q.key: selectors.TabCount(reference_queue(scope, q.key).count())
            for q in selectors.queues_for(scope)
            if q.key != "all"
        }
        assert selectors.queue_counts(scope=scope, now=NOW) == expected, user.username


def test_tab_counts_take_two_queries_whatever_the_role(world, django_assert_num_queries):
    every_kind_of_case(world, n=20)
    for user in (world.p.district_operator, world.p.leader, world.p.grid_worker):
        with django_assert_num_queries(2):
            selectors.queue_counts(scope=Scope.for_user(user), now=NOW)
    # A handler's scope first asks whether they reported any case (see case_queryset).
    with django_assert_num_queries(3):
        selectors.queue_counts(scope=Scope.for_user(world.p.handler), now=NOW)


def test_mine_tab_stops_counting_at_the_list_limit(world, client_for, monkeypatch):
    p = world.p
    for _ in range(3):
        make_case(p, reporter=p.grid_worker, state=State.CLOSED)
    monkeypatch.setattr(selectors, "LIST_COUNT_LIMIT", 2)
    counts = selectors.queue_counts(scope=Scope.for_user(p.grid_worker), now=NOW)
    assert counts["mine"] == selectors.TabCount(2, capped=True)
    body = client_for(p.grid_worker).get("/cases/?queue=mine").content.decode()
    assert '<span class="count">2+</span>' in body


def test_queue_page_shows_a_count_on_every_tab_but_all(world, client_for):
    p = world.p
    make_case(p, state=State.REPORTED, center=p.tree.communities[0])
    make_case(p, state=State.HANDLED, center=p.tree.communities[0], deadline=NOW - dt.timedelta(hours=2))
    body = client_for(p.village_operator).get("/cases/").content.decode()
    tabs = body.split('<nav class="queue-tabs"')[1].split("</nav>")[0]
    assert tabs.count('<span class="count">') == len(selectors.queues_for(Scope.for_user(p.village_operator))) - 1
    assert '待受理 <span class="count">1</span>' in tabs
    assert 'class=" has-red"' in tabs  # the overdue tab, one overdue case
