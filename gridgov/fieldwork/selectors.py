"""Reads of field work, always through the viewer's scope.

`worker_counts` is the figure the assessment engineer calls: visits, patrols, check-ins and cases
reported from findings per worker per day or month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth
from django.utils import timezone

from gridgov.accounts.models import User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import NotFound
from gridgov.regions.models import Region
from gridgov.registers import permissions as register_permissions
from gridgov.registers import selectors as register_selectors
from gridgov.registers.models import GroupMembership, Place, Visit

from .models import (
    HAZARD_OPEN_STATES,
    Campaign,
    FindingCase,
    Hazard,
    HazardEvent,
    HazardState,
    Inspection,
    InspectionState,
    Patrol,
    PatrolCheckin,
    PatrolState,
)

# --- the worker's day ----------------------------------------------------------------------------


@dataclass
class Today:
    visits_due: list[register_selectors.DueRow]
    places_due: list[Place]
    inspections: list[Inspection]
    active_patrol: Patrol | None
    visits_today: int
    checkins_today: int
    hazards_to_rectify: list[Hazard]


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def worker_today(*, scope: Scope, user: User, limit: int = 30) -> Today:
    """Today's work on the phone: visit obligations due (special groups), places due for
    inspection, campaign inspections assigned, the open patrol and today's tallies."""
    today = clock.today()
    due: list[GroupMembership] = []
    if register_permissions.can_see_groups(scope):
        due = list(register_selectors.visits_due(scope=scope, status="due", as_of=today)[:limit])
    places = list(
        scope.filter(Place.objects.filter(is_active=True, next_inspection_due__lte=today))
        .select_related("region")
        .order_by("next_inspection_due", "id")[:limit]
    )
    inspections = list(
        Inspection.objects.filter(assignee=user, state=InspectionState.ASSIGNED, campaign__state="running")
        .select_related("campaign", "region")
        .order_by("due_on", "id")[:limit]
    )
    start, end = _day_bounds(today)
    hazards = list(
        scope.filter(Hazard.objects.filter(state=HazardState.RECTIFYING))
        .select_related("campaign")
        .order_by("deadline", "id")[:limit]
    )
    return Today(
        visits_due=register_selectors.due_rows(due, as_of=today),
        places_due=places,
        inspections=inspections,
        active_patrol=Patrol.objects.filter(worker=user, state=PatrolState.ACTIVE).first(),
        visits_today=Visit.objects.filter(visitor=user, visited_at__gte=start, visited_at__lt=end).count(),
        checkins_today=PatrolCheckin.objects.filter(patrol__worker=user, at__gte=start, at__lt=end).count(),
        hazards_to_rectify=hazards,
    )


def my_visits(*, scope: Scope, user: User) -> QuerySet[Visit]:
    return (
        scope.filter(Visit.objects.filter(visitor=user))
        .select_related("person", "household", "place", "region", "fieldwork_location")
        .order_by("-visited_at", "-id")
    )


def visit_get(*, scope: Scope, pk: int) -> Visit:
    visit = (
        scope.filter(Visit.objects.filter(pk=pk))
        .select_related("person", "household", "place", "region", "visitor")
        .first()
    )
    if visit is None:
        raise NotFound("走访记录不存在")
    return visit


def patrol_list(*, scope: Scope, user: User | None = None) -> QuerySet[Patrol]:
    qs = scope.filter(Patrol.objects.all()).select_related("worker", "region").annotate(n_checkins=Count("checkins"))
    if user is not None:
        qs = qs.filter(worker=user)
    return qs.order_by("-started_at", "-id")


def patrol_get(*, scope: Scope, pk: int) -> Patrol:
    patrol = scope.filter(Patrol.objects.filter(pk=pk)).select_related("worker", "region").first()
    if patrol is None:
        raise NotFound("巡查记录不存在")
    return patrol


def checkin_get(*, scope: Scope, pk: int) -> PatrolCheckin:
    row = PatrolCheckin.objects.filter(pk=pk).select_related("patrol", "patrol__worker").first()
    if row is None or not scope.covers(row.patrol.region_path):
        raise NotFound("打卡记录不存在")
    return row


# --- counts for assessment ------------------------------------------------------------------------


@dataclass
class WorkerCount:
    user_id: int
    label: str
    period: dt.date
    visits: int = 0
    patrols: int = 0
    checkins: int = 0
    finding_cases: int = 0


def worker_counts(
    *, scope: Scope, start: dt.date, end: dt.date, by: str = "day", user_id: int | None = None
) -> list[WorkerCount]:
    """Visits, patrols, check-ins and cases from findings per worker per day (`by="day"`) or month
    (`by="month"`), for work done in the viewer's jurisdiction between `start` and `end` inclusive
    (local dates). Rows sorted by period, then worker."""
    if by not in ("day", "month"):
        raise ValueError("by must be 'day' or 'month'")
    trunc = TruncDay if by == "day" else TruncMonth
    t0, _ = _day_bounds(start)
    _, t1 = _day_bounds(end)
    tz = timezone.get_current_timezone()
    rows: dict[tuple[int, dt.date], WorkerCount] = {}

    def bump(qs: QuerySet[Any], user_field: str, time_field: str, attr: str) -> None:
        if user_id is not None:
            qs = qs.filter(**{user_field: user_id})
        for r in (
            qs.filter(**{f"{time_field}__gte": t0, f"{time_field}__lt": t1})
            .annotate(p=trunc(time_field, tzinfo=tz))
            .values(user_field, "p")
            .annotate(n=Count("id"))
        ):
            period = r["p"].date() if isinstance(r["p"], dt.datetime) else r["p"]
            key = (r[user_field], period)
            row = rows.setdefault(key, WorkerCount(user_id=r[user_field], label="", period=period))
            setattr(row, attr, getattr(row, attr) + r["n"])

    bump(scope.filter(Visit.objects.all()), "visitor_id", "visited_at", "visits")
    bump(scope.filter(Patrol.objects.all()), "worker_id", "started_at", "patrols")
    bump(
        PatrolCheckin.objects.filter(patrol__region_path__startswith=scope.path or "\0"),
        "patrol__worker_id",
        "at",
        "checkins",
    )
    bump(
        FindingCase.objects.filter(case__region_path__startswith=scope.path or "\0"),
        "case__reporter_id",
        "created_at",
        "finding_cases",
    )
    labels = dict(
        (u.pk, u.label) for u in User.objects.filter(pk__in={k[0] for k in rows}).only("id", "username", "display_name")
    )
    for row in rows.values():
        row.label = labels.get(row.user_id, str(row.user_id))
    return sorted(rows.values(), key=lambda r: (r.period, r.label))


# --- campaigns ----------------------------------------------------------------------------------


def campaign_queryset(*, scope: Scope) -> QuerySet[Campaign]:
    """Campaigns organised inside the viewer's jurisdiction, and those organised above it that
    reach into it (a grid worker sees the town's campaign covering their grid)."""
    if scope.is_empty:
        return Campaign.objects.none()
    assert scope.path is not None
    ancestors = ["/" + "/".join(scope.path.strip("/").split("/")[: i + 1]) + "/" for i in range(scope.depth + 1)]
    reaching = Q(region_path__in=ancestors) & (
        Q(scope_regions__path__startswith=scope.path) | Q(scope_regions__path__in=ancestors)
    )
    return Campaign.objects.filter(Q(region_path__startswith=scope.path) | reaching).distinct()


def campaign_list(*, scope: Scope, state: str = "") -> QuerySet[Campaign]:
    qs = campaign_queryset(scope=scope).select_related("region")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-starts_on", "-id")


def campaign_get(*, scope: Scope, pk: int) -> Campaign:
    campaign = campaign_queryset(scope=scope).filter(pk=pk).select_related("region").first()
    if campaign is None:
        raise NotFound("专项整治不存在")
    return campaign


def inspection_list(
    *, scope: Scope, campaign: Campaign | None = None, state: str = "", mine: User | None = None
) -> QuerySet[Inspection]:
    """Checks inside the viewer's jurisdiction; `mine` narrows to those assigned to the user or
    to the user's department."""
    qs = scope.filter(Inspection.objects.all())
    if mine is not None:
        own = Q(assignee=mine)
        if mine.department_id:
            own |= Q(department_id=mine.department_id)
        qs = qs.filter(own)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("campaign", "region", "assignee", "department", "place").order_by("state", "due_on", "id")


def inspection_get(*, scope: Scope, user: User, pk: int) -> Inspection:
    row = Inspection.objects.filter(pk=pk).select_related("campaign", "region", "assignee", "department").first()
    if row is None:
        raise NotFound("检查任务不存在")
    visible = (
        scope.covers(row.region_path)
        or row.assignee_id == user.pk
        or (user.department_id is not None and row.department_id == user.department_id)
    )
    if not visible:
        raise NotFound("检查任务不存在")
    return row


@dataclass
class HazardFilters:
    campaign: int | None = None
    state: str = ""
    overdue: bool = False
    listed: bool = False
    region: str = ""
    q: str = ""


def hazard_queryset(*, scope: Scope, user: User | None = None) -> QuerySet[Hazard]:
    qs = scope.filter(Hazard.objects.all())
    if user is not None and user.department_id:
        qs = qs | Hazard.objects.filter(responsible_department_id=user.department_id)
    return qs


def hazard_list(*, scope: Scope, user: User | None = None, f: HazardFilters | None = None) -> QuerySet[Hazard]:
    f = f or HazardFilters()
    qs = hazard_queryset(scope=scope, user=user)
    if f.campaign:
        qs = qs.filter(campaign_id=f.campaign)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.overdue:
        qs = qs.filter(state=HazardState.RECTIFYING, deadline__lt=clock.today())
    if f.listed:
        qs = qs.filter(listed=True, state__in=list(HAZARD_OPEN_STATES))
    if f.region:
        node = Region.objects.filter(code=f.region).first()
        qs = qs.filter(region_path__startswith=node.path) if node else qs.none()
    if f.q:
        qs = qs.filter(
            Q(number__icontains=f.q) | Q(description__icontains=f.q) | Q(inspection__unit_name__icontains=f.q)
        )
    return qs.select_related("campaign", "inspection", "region", "item", "responsible_department").order_by(
        "state", "deadline", "-found_at", "-id"
    )


def hazard_get(*, scope: Scope, user: User | None, pk: int) -> Hazard:
    row = (
        hazard_queryset(scope=scope, user=user)
        .filter(pk=pk)
        .select_related("campaign", "inspection", "region", "item", "responsible_department", "found_by")
        .first()
    )
    if row is None:
        raise NotFound("隐患不存在")
    return row


def hazard_timeline(hazard: Hazard) -> QuerySet[HazardEvent]:
    return hazard.events.select_related("actor").order_by("at", "id")


# --- progress ------------------------------------------------------------------------------------


@dataclass
class Progress:
    key: str
    label: str
    units: int = 0
    checked: int = 0
    hazards: int = 0
    rectified: int = 0  # signed off (销号)
    awaiting: int = 0  # rectified, waiting for re-inspection
    rectifying: int = 0
    overdue: int = 0
    voided: int = 0
    listed: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def check_rate(self) -> float | None:
        return self.checked / self.units if self.units else None

    @property
    def real(self) -> int:
        """Hazards that turned out to be hazards (voided ones are not)."""
        return self.hazards - self.voided

    @property
    def rectify_rate(self) -> float | None:
        return self.rectified / self.real if self.real else None


def campaign_progress(
    *, scope: Scope, campaign: Campaign, node: Region | None = None
) -> tuple[Progress, list[Progress]]:
    """Units checked, hazards found, rectified (signed off), overdue — for the whole campaign
    within the viewer's jurisdiction, and per child region of `node` (default: the viewer's
    node, or the campaign's if that is lower)."""
    today = clock.today()
    if node is None:
        node = Region.objects.get(pk=scope.region_id) if scope.region_id else campaign.region
        if campaign.region_path.startswith(node.path):
            node = campaign.region
    children = {r.code: r for r in node.children.all().only("id", "code", "name", "path")}
    depth = node.depth + 1
    whole = Progress(key=node.code, label=node.name)
    rows: dict[str, Progress] = {}

    def row_for(path: str) -> Progress | None:
        codes = [c for c in path.strip("/").split("/") if c]
        if len(codes) <= depth:
            return None
        code = codes[depth]
        if code not in children:
            return None
        return rows.setdefault(code, Progress(key=code, label=children[code].name))

    inspections = scope.filter(Inspection.objects.filter(campaign=campaign, region_path__startswith=node.path))
    for path, state in inspections.values_list("region_path", "state"):
        for p in (whole, row_for(path)):
            if p is None:
                continue
            p.units += 1
            p.checked += state == InspectionState.DONE
    hazards = scope.filter(Hazard.objects.filter(campaign=campaign, region_path__startswith=node.path))
    for path, state, deadline, listed in hazards.values_list("region_path", "state", "deadline", "listed"):
        for p in (whole, row_for(path)):
            if p is None:
                continue
            p.hazards += 1
            p.by_state[state] = p.by_state.get(state, 0) + 1
            p.rectified += state == HazardState.SIGNED_OFF
            p.awaiting += state == HazardState.RECTIFIED
            p.rectifying += state == HazardState.RECTIFYING
            p.voided += state == HazardState.VOIDED
            p.overdue += state == HazardState.RECTIFYING and deadline is not None and deadline < today
            p.listed += bool(listed) and state in HAZARD_OPEN_STATES
    ordered = [rows[c] for c in sorted(rows)]
    return whole, ordered


def progress_by_day(*, scope: Scope, campaign: Campaign) -> list[tuple[dt.date, int, int]]:
    """Hazards found and signed off per day (the campaign's curve)."""
    tz = timezone.get_current_timezone()
    found: dict[dt.date, int] = defaultdict(int)
    closed: dict[dt.date, int] = defaultdict(int)
    qs = scope.filter(Hazard.objects.filter(campaign=campaign))
    for at, off in qs.values_list("found_at", "signed_off_at"):
        found[timezone.localtime(at, tz).date()] += 1
        if off:
            closed[timezone.localtime(off, tz).date()] += 1
    days = sorted(set(found) | set(closed))
    return [(d, found.get(d, 0), closed.get(d, 0)) for d in days]
