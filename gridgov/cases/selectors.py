"""Reads of cases, always through the viewer's scope.

Who sees a case: anyone whose jurisdiction contains its micro-grid (by `region_path`), a
department handler whose department was ever assigned to it, and the person who reported it.
Work queues narrow that down by role: a centre's queues hold what that centre holds, a
department's what is assigned to it now, a grid leader's what waits for their review.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_noop

from gridgov.accounts.models import Role
from gridgov.accounts.scope import Scope
from gridgov.common import clock, pagination
from gridgov.common.errors import NotFound

from .conf import conf
from .models import FINAL_STATES, OPEN_STATES, Case, CaseAssignment, CaseCategory, CaseEvent, Notification, State

OPEN_EXCLUDE = [str(s) for s in FINAL_STATES]
OPEN_INCLUDE = sorted(str(s) for s in OPEN_STATES)
# Lists count at most this many rows (an exact count of a district's year is a full scan).
LIST_COUNT_LIMIT = pagination.LIST_COUNT_LIMIT


def case_queryset(*, scope: Scope) -> QuerySet[Case]:
    """Every case the viewer may see."""
    if scope.is_empty:
        return Case.objects.none()
    mine = Q(reporter_id=scope.user_id) if scope.user_id else Q(pk__in=[])
    if scope.role == Role.DEPARTMENT_HANDLER:
        if scope.department_id is None:
            return Case.objects.none()
        assigned = CaseAssignment.objects.filter(department_id=scope.department_id).values("case_id")
        if scope.user_id and Case.objects.filter(reporter_id=scope.user_id).exists():
            return Case.objects.filter(Q(pk__in=assigned) | mine)
        # A handler who never reported a case (nearly all of them) sees exactly the cases
        # assigned to the department: a plain semi-join, which PostgreSQL runs either way round
        # (newest cases first, each probed in the assignments by case; or the department's
        # assignments, each probed in the cases). "Assigned OR reported by me" cannot be a join:
        # it filters case rows through a hashed subplan, and a UNION of the two id sets has no
        # statistics (PostgreSQL assumed 200 ids and sorted the whole department).
        return Case.objects.filter(pk__in=assigned)
    return Case.objects.filter(Q(region_path__startswith=scope.path) | mine)


def case_get(*, scope: Scope, number: str) -> Case:
    """One case by number; an existing case outside the scope is "not found" too, so numbers
    cannot be probed across jurisdictions."""
    case = (
        case_queryset(scope=scope)
        .select_related("category__parent", "region", "center", "department", "reporter", "handler", "merged_into")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound(f"案件 {number} 不存在或不在您的辖区")
    return case


def case_by_tracking_code(*, code: str) -> Case:
    """The citizen's view: the tracking code is the credential (no scope)."""
    code = (code or "").strip().upper()
    case = Case.objects.select_related("category__parent", "department", "merged_into").filter(tracking_code=code)
    found = case.first() if len(code) == 10 else None
    if found is None:
        raise NotFound("查询码不正确", field="code")
    return found


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    roles: frozenset[str]


QUEUES: list[Queue] = [
    Queue("to_accept", gettext_noop("待受理"), frozenset({Role.CENTER_OPERATOR})),
    Queue("to_dispatch", gettext_noop("待派遣"), frozenset({Role.CENTER_OPERATOR})),
    Queue("to_sign", gettext_noop("待签收"), frozenset({Role.DEPARTMENT_HANDLER})),
    Queue("to_handle", gettext_noop("待处置"), frozenset({Role.DEPARTMENT_HANDLER})),
    Queue("to_verify", gettext_noop("待核查"), frozenset({Role.CENTER_OPERATOR})),
    Queue("to_close", gettext_noop("待结案"), frozenset({Role.CENTER_OPERATOR})),
    Queue("extensions", gettext_noop("延期审批"), frozenset({Role.CENTER_OPERATOR})),
    Queue("to_review", gettext_noop("就地化解审核"), frozenset({Role.GRID_LEADER})),
    Queue("supervision", gettext_noop("督办"), frozenset({Role.CENTER_OPERATOR, Role.LEADER})),
    Queue("overdue", gettext_noop("超期"), frozenset(Role.values)),
    Queue("mine", gettext_noop("我上报的"), frozenset(Role.values)),
    Queue("all", gettext_noop("全部"), frozenset(Role.values)),
]
QUEUE_KEYS = {q.key for q in QUEUES}


def queues_for(scope: Scope) -> list[Queue]:
    return [q for q in QUEUES if scope.role in q.roles]


def default_queue(scope: Scope) -> str:
    defaults: dict[str, str] = {
        Role.CENTER_OPERATOR: "to_accept",
        Role.DEPARTMENT_HANDLER: "to_sign",
        Role.GRID_LEADER: "to_review",
        Role.GRID_WORKER: "mine",
        Role.MICROGRID_WORKER: "mine",
    }
    return defaults.get(str(scope.role), "all")


def _queue_condition(scope: Scope, queue: str, now: dt.datetime) -> Q:
    """What puts a case of the viewer's scope into `queue` (the list and its tab count share it)."""
    center = Q(center_id=scope.region_id)
    dept = Q(department_id=scope.department_id) if scope.department_id else Q(pk__in=[])
    still_open = ~Q(state__in=OPEN_EXCLUDE)
    if queue == "to_accept":
        return center & Q(state=State.REPORTED)
    if queue == "to_dispatch":
        return center & Q(state__in=[State.ACCEPTED, State.SUPERVISING])
    if queue == "to_sign":
        return dept & Q(state=State.DISPATCHED)
    if queue == "to_handle":
        return dept & Q(state=State.HANDLING)
    if queue == "to_verify":
        return center & Q(state=State.HANDLED)
    if queue == "to_close":
        return center & Q(state=State.VERIFIED)
    if queue == "extensions":
        return center & Q(state=State.HANDLING, extension_pending=True)
    if queue == "to_review":
        return Q(state=State.SETTLE_PENDING)
    if queue == "supervision":
        return (Q(supervised=True) | Q(state=State.SUPERVISING)) & still_open
    if queue == "overdue":
        if scope.role == Role.DEPARTMENT_HANDLER:
            # The same rows (every state is one of the listed ones), but as an index range of
            # `case_state_dept` (state, department, deadline) instead of the city's overdue cases.
            return Q(state__in=OPEN_INCLUDE) & dept & Q(deadline__lt=now)
        return still_open & Q(deadline__lt=now)
    if queue == "mine":
        return Q(reporter_id=scope.user_id) if scope.user_id else Q(pk__in=[])
    if queue == "all":
        return Q()
    raise NotFound(f"未知的工作队列 {queue!r}")


def case_queue(*, scope: Scope, queue: str, now: dt.datetime | None = None) -> QuerySet[Case]:
    now = now or clock.now()
    qs = case_queryset(scope=scope).filter(_queue_condition(scope, queue, now))
    ordering = ["-reported_at", "-id"] if queue in ("all", "mine") else ["deadline", "id"]
    return qs.order_by(*ordering)


@dataclass
class CaseFilters:
    q: str = ""
    state: str = ""
    category: str = ""
    source: str = ""
    urgency: str = ""
    colour: str = ""
    region: str = ""
    department: int | None = None
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    supervised: bool | None = None


def case_filter(qs: QuerySet[Case], f: CaseFilters, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    now = now or clock.now()
    if f.q:
        term = f.q.strip()
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(description__icontains=term)
            | Q(address__icontains=term)
            | Q(category__name__icontains=term)
        )
    if f.state:
        qs = qs.filter(state__in=[s for s in f.state.split(",") if s in State.values])
    if f.category:
        qs = qs.filter(category__code__startswith=f.category)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.urgency:
        qs = qs.filter(urgency=f.urgency)
    if f.colour:
        open_qs = ~Q(state__in=OPEN_EXCLUDE) & Q(deadline__isnull=False)
        if f.colour == "red":
            qs = qs.filter(open_qs, deadline__lt=now)
        elif f.colour == "yellow":
            qs = qs.filter(open_qs, deadline__gte=now, warn_at__lte=now)
        elif f.colour == "green":
            qs = qs.filter(open_qs, warn_at__gt=now)
    if f.region:
        qs = qs.filter(region_path__contains=f"/{f.region}/")
    if f.department:
        qs = qs.filter(department_id=f.department)
    if f.reported_from:
        qs = qs.filter(reported_at__date__gte=f.reported_from)
    if f.reported_to:
        qs = qs.filter(reported_at__date__lte=f.reported_to)
    if f.supervised is not None:
        qs = qs.filter(supervised=f.supervised)
    return qs


def case_list(
    *, scope: Scope, queue: str = "all", filters: CaseFilters | None = None, now: dt.datetime | None = None
) -> QuerySet[Case]:
    qs = case_queue(scope=scope, queue=queue, now=now)
    if filters:
        qs = case_filter(qs, filters, now=now)
    return qs.select_related("category__parent", "region", "center", "department")


@dataclass(frozen=True)
class TabCount:
    """A work-queue tab's count; `capped` when counting stopped at LIST_COUNT_LIMIT."""

    value: int
    capped: bool = False


def queue_counts(*, scope: Scope, now: dt.datetime | None = None) -> dict[str, TabCount]:
    """The count on every tab of the viewer's queues but "all", in two queries whatever the role
    (and a handler's scope question, see case_queryset) instead of one COUNT per tab: every work
    queue is part of the open workload (a few per cent of a year's cases, read through the
    partial index `case_open_path_deadline`, or a department's open cases through
    `case_state_dept`), so one pass over it counts them all with conditional aggregates
    (`COUNT(*) FILTER (WHERE …)`); "mine" spans closed cases too and is counted on its own, up
    to LIST_COUNT_LIMIT."""
    now = now or clock.now()
    keys = [q.key for q in queues_for(scope) if q.key != "all"]
    if scope.is_empty or (scope.role == Role.DEPARTMENT_HANDLER and scope.department_id is None):
        return {k: TabCount(0) for k in keys}
    counts: dict[str, TabCount] = {}
    visible = case_queryset(scope=scope)
    workload = [k for k in keys if k != "mine"]
    if workload:
        if scope.role == Role.DEPARTMENT_HANDLER:
            # Every queue of a handler is the department's own open cases: a few index ranges
            # of `case_state_dept`.
            workload_q = Q(state__in=OPEN_INCLUDE, department_id=scope.department_id)
        else:
            workload_q = ~Q(state__in=OPEN_EXCLUDE)
        totals = visible.filter(workload_q).aggregate(
            **{k: Count("pk", filter=_queue_condition(scope, k, now)) for k in workload}
        )
        counts.update({k: TabCount(totals[k] or 0) for k in workload})
    if "mine" in keys:
        mine = visible.filter(_queue_condition(scope, "mine", now)).order_by()[: LIST_COUNT_LIMIT + 1].count()
        counts["mine"] = TabCount(min(mine, LIST_COUNT_LIMIT), capped=mine > LIST_COUNT_LIMIT)
    return {k: counts[k] for k in keys}


def case_timeline(*, case: Case, public: bool = False) -> QuerySet[CaseEvent]:
    """The timeline; `public=True` keeps only public rows (and the caller shows only unit labels
    and public notes)."""
    qs = case.events.select_related("actor").order_by("at", "id")
    return qs.filter(is_public=True) if public else qs


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass
class Duplicate:
    case: Case
    metres: int


def case_duplicates(
    *,
    scope: Scope,
    category: CaseCategory | int,
    lat: float | None,
    lng: float | None,
    exclude_id: int | None = None,
    before: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[Duplicate]:
    """Open cases of the same category within CASE_DUPLICATE_METRES and CASE_DUPLICATE_DAYS,
    nearest first (a bounding box in SQL, the exact distance in Python)."""
    if lat is None or lng is None:
        return []
    now = now or clock.now()
    metres = float(conf("CASE_DUPLICATE_METRES"))
    days = int(conf("CASE_DUPLICATE_DAYS"))
    dlat = metres / 111_320.0
    dlng = metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    cat_id = category if isinstance(category, int) else category.pk
    qs = (
        case_queryset(scope=scope)
        .exclude(state__in=[*OPEN_EXCLUDE])
        .filter(
            category_id=cat_id,
            reported_at__gte=(before or now) - dt.timedelta(days=days),
            lat__range=(lat - dlat, lat + dlat),
            lng__range=(lng - dlng, lng + dlng),
        )
    )
    if before is not None:
        qs = qs.filter(reported_at__lte=before)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    out = []
    for c in qs.select_related("category")[:50]:
        assert c.lat is not None and c.lng is not None
        d = _metres(lat, lng, c.lat, c.lng)
        if d <= metres:
            out.append(Duplicate(c, round(d)))
    return sorted(out, key=lambda d: (d.metres, d.case.reported_at))[:10]


def category_tree() -> list[tuple[CaseCategory, list[CaseCategory]]]:
    """Active categories as (main, [subs]) for pickers."""
    cats = list(CaseCategory.objects.filter(is_active=True).order_by("sort", "code"))
    mains = [c for c in cats if c.parent_id is None]
    return [(m, [c for c in cats if c.parent_id == m.pk]) for m in mains]


def notifications_for(*, user_id: int, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user_id=user_id).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs
