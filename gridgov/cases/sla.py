"""Deadlines on the Chinese statutory calendar, three-colour status and the KPI formulas.

Working time: the configured daily windows (GRIDGOV["CASE_WORKING_HOURS"], default 09:00–12:00 and
13:00–18:00) on working days. Working days come from `chinese_calendar` (statutory holidays and
make-up workdays, 调休); for a year the package does not know yet, Monday–Friday.

Limits are counted as 12345 rules count them:
- N working hours: working time only, starting at the moment of dispatch (or the next window);
- N working days: the end of the N-th working day after the day of dispatch;
- N hours (特急): wall-clock hours.

KPI formulas (closed = 已结案; final states rejected/merged are outside every rate):
- 按时签收率 on-time sign rate = signed on time / (signed + still unsigned past the sign deadline)
- 按时办结率 on-time completion rate = closed with feedback by the deadline
  / (closed + open cases past the completion deadline)
- 办结率 completion rate = closed / (closed + open cases past the completion deadline)   (应结案数)
- 综合满意率 satisfaction rate = ratings ≥ GRIDGOV["CASE_SATISFIED_MIN"] (default 3, 基本满意) / ratings
Open overdue cases therefore count against the on-time rates as soon as their deadline passes.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext_noop

from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.regions.models import Region

from .conf import conf
from .models import FINAL_STATES, Case, LimitUnit, SlaPolicy, State, Urgency

GREEN, YELLOW, RED = "green", "yellow", "red"
COLOUR_LABELS = {GREEN: gettext_noop("正常"), YELLOW: gettext_noop("临期"), RED: gettext_noop("超期")}


def _tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@functools.lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # chinese_calendar only knows the years the State Council has published; beyond that,
        # plain Monday–Friday until the package is upgraded.
        return day.weekday() < 5


@functools.lru_cache(maxsize=8)
def _parse_windows(spec: str) -> tuple[tuple[dt.time, dt.time], ...]:
    windows = []
    for part in spec.split(","):
        start, _, end = part.strip().partition("-")
        a, b = dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())
        if b <= a:
            raise ValueError(f"working window {part!r} ends before it starts")
        windows.append((a, b))
    if not windows:
        raise ValueError("no working windows configured")
    return tuple(sorted(windows))


def working_windows() -> tuple[tuple[dt.time, dt.time], ...]:
    return _parse_windows(str(conf("CASE_WORKING_HOURS")))


def _windows_on(day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    if not is_workday(day):
        return []
    tz = _tz()
    return [(dt.datetime.combine(day, a, tz), dt.datetime.combine(day, b, tz)) for a, b in working_windows()]


MAX_DAYS = 3660  # a guard: no limit runs for ten years


def add_working_seconds(start: dt.datetime, seconds: float) -> dt.datetime:
    t = start.astimezone(_tz())
    remaining = max(0.0, seconds)
    day = t.date()
    for _ in range(MAX_DAYS):
        for ws, we in _windows_on(day):
            if we <= t:
                continue
            s = max(ws, t)
            available = (we - s).total_seconds()
            if remaining <= available:
                return s + dt.timedelta(seconds=remaining)
            remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("working-time limit too long")


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    day = start.astimezone(_tz()).date()
    counted = 0
    for _ in range(MAX_DAYS):
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
            if counted >= days:
                return dt.datetime.combine(day, working_windows()[-1][1], _tz())
    raise ValueError("working-day limit too long")


def add_limit(start: dt.datetime, value: int, unit: str) -> dt.datetime:
    if unit == LimitUnit.WORK_HOURS:
        return add_working_seconds(start, value * 3600)
    if unit == LimitUnit.WORK_DAYS:
        return add_working_days(start, value)
    if unit == LimitUnit.HOURS:
        return start + dt.timedelta(hours=value)
    raise ValueError(f"unknown limit unit {unit!r}")


def working_seconds_between(a: dt.datetime, b: dt.datetime) -> float:
    if b <= a:
        return 0.0
    a, b = a.astimezone(_tz()), b.astimezone(_tz())
    total = 0.0
    day = a.date()
    while day <= b.date():
        for ws, we in _windows_on(day):
            s, e = max(ws, a), min(we, b)
            if e > s:
                total += (e - s).total_seconds()
        day += dt.timedelta(days=1)
    return total


def yellow_ratio() -> float:
    return float(conf("CASE_YELLOW_RATIO"))


def warn_instant(start: dt.datetime, deadline: dt.datetime, unit: str) -> dt.datetime:
    """When a step turns yellow: once the share of its allotted time left falls to the yellow
    ratio. Measured in working time for working-time limits, so a weekend does not eat the
    warning period."""
    ratio = min(max(yellow_ratio(), 0.0), 1.0)
    if unit == LimitUnit.HOURS:
        return start + (deadline - start) * (1 - ratio)
    total = working_seconds_between(start, deadline)
    if total <= 0:
        return start + (deadline - start) * (1 - ratio)
    return add_working_seconds(start, total * (1 - ratio))


def colour(deadline: dt.datetime | None, warn_at: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """Green on time, yellow near the deadline, red overdue; "" when the step has no deadline."""
    if deadline is None:
        return ""
    now = now or clock.now()
    if now > deadline:
        return RED
    if warn_at is not None and now >= warn_at:
        return YELLOW
    return GREEN


@dataclass(frozen=True)
class Limits:
    sign_value: int
    sign_unit: str
    handle_value: int
    handle_unit: str

    def sign_label(self) -> str:
        return f"{self.sign_value}{LimitUnit(self.sign_unit).label}"

    def handle_label(self) -> str:
        return f"{self.handle_value}{LimitUnit(self.handle_unit).label}"


# Used only when the SLA table has no row at all for an urgency (a fresh install before the
# defaults are loaded): the 12345 norms of reference/standards.md §2.7.
BUILTIN_LIMITS: dict[str, Limits] = {
    Urgency.NORMAL: Limits(4, LimitUnit.WORK_HOURS, 5, LimitUnit.WORK_DAYS),
    Urgency.URGENT: Limits(1, LimitUnit.WORK_HOURS, 1, LimitUnit.WORK_DAYS),
    Urgency.CRITICAL: Limits(1, LimitUnit.HOURS, 24, LimitUnit.HOURS),
}


def _policies() -> dict[tuple[int | None, str], Limits]:
    return {
        (p.category_id, p.urgency): Limits(p.sign_limit, p.sign_unit, p.handle_limit, p.handle_unit)
        for p in SlaPolicy.objects.all()
    }


def limits_for(category_id: int, parent_id: int | None, urgency: str) -> Limits:
    """The sub-category's limits, else its main category's, else the default row's, else the
    built-in ones. The policy table is cached per process while its version token stands."""
    from .config import snapshot

    policies: dict[tuple[int | None, str], Limits] = snapshot().cached("cases", _policies, slot="sla")
    candidates = [category_id] + ([parent_id] if parent_id else [])
    for key in [*candidates, None]:
        found = policies.get((key, urgency))
        if found is not None:
            return found
    return BUILTIN_LIMITS.get(urgency, BUILTIN_LIMITS[Urgency.NORMAL])


def dispatch_limit_hours() -> int:
    return int(conf("CASE_DISPATCH_LIMIT_HOURS"))


# --- rates ------------------------------------------------------------------------------------


@dataclass
class Rates:
    label: str
    key: str
    total: int
    open: int
    overdue_open: int
    sign_due: int
    signed_on_time: int
    handle_due: int
    closed: int
    closed_on_time: int
    rated: int
    satisfied: int

    @staticmethod
    def _ratio(n: int, d: int) -> float | None:
        return round(100.0 * n / d, 2) if d else None

    @property
    def on_time_sign_rate(self) -> float | None:
        return self._ratio(self.signed_on_time, self.sign_due)

    @property
    def on_time_completion_rate(self) -> float | None:
        return self._ratio(self.closed_on_time, self.handle_due)

    @property
    def completion_rate(self) -> float | None:
        return self._ratio(self.closed, self.handle_due)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._ratio(self.satisfied, self.rated)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "total": self.total,
            "open": self.open,
            "overdue_open": self.overdue_open,
            "sign_due": self.sign_due,
            "signed_on_time": self.signed_on_time,
            "handle_due": self.handle_due,
            "closed": self.closed,
            "closed_on_time": self.closed_on_time,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "on_time_sign_rate": self.on_time_sign_rate,
            "on_time_completion_rate": self.on_time_completion_rate,
            "completion_rate": self.completion_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


def handled_on_time_q() -> Q:
    """按期办结 as a filter: the feedback came by the completion deadline (or there was none)."""
    return Q(handle_deadline__isnull=True) | Q(handled_at__isnull=False, handled_at__lte=F("handle_deadline"))


def handled_on_time(case: Case) -> bool:
    """`handled_on_time_q()` for one case object."""
    return case.handle_deadline is None or (case.handled_at is not None and case.handled_at <= case.handle_deadline)


def _aggregates(now: dt.datetime) -> dict[str, Count]:
    final = [str(s) for s in FINAL_STATES]
    open_q = ~Q(state__in=final)
    overdue_open = open_q & Q(handle_deadline__lt=now)
    closed = Q(state=State.CLOSED)
    signed = Q(signed_at__isnull=False, sign_deadline__isnull=False)
    unsigned_overdue = Q(state=State.DISPATCHED, sign_deadline__lt=now)
    satisfied_min = int(conf("CASE_SATISFIED_MIN"))
    return {
        "total": Count("id"),
        "open": Count("id", filter=open_q),
        "overdue_open": Count("id", filter=overdue_open),
        "sign_due": Count("id", filter=signed | unsigned_overdue),
        "signed_on_time": Count("id", filter=signed & Q(signed_late=False)),
        "handle_due": Count("id", filter=closed | overdue_open),
        "closed": Count("id", filter=closed),
        "closed_on_time": Count("id", filter=closed & handled_on_time_q()),
        "rated": Count("id", filter=Q(satisfaction__isnull=False)),
        "satisfied": Count("id", filter=Q(satisfaction__gte=satisfied_min)),
    }


def _rated_qs(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.exclude(state__in=[State.REJECTED, State.MERGED])


def case_rates(*, qs: QuerySet[Case], label: str = "", key: str = "", now: dt.datetime | None = None) -> Rates:
    now = now or clock.now()
    row = _rated_qs(qs).aggregate(**_aggregates(now))
    return Rates(label=label, key=key, **{k: int(v or 0) for k, v in row.items()})


def rates_by_region(
    *, scope: Scope, region: Region, qs: QuerySet[Case], now: dt.datetime | None = None
) -> tuple[Rates, list[Rates]]:
    """Rates for `region`'s subtree and for each child subtree (one grouped query)."""
    now = now or clock.now()
    if not scope.covers(region.path):
        return case_rates(qs=qs.none(), label=region.name, key=region.code, now=now), []
    base = _rated_qs(qs).filter(region_path__startswith=region.path)
    whole = case_rates(qs=base, label=region.name, key=region.code, now=now)
    children = list(Region.objects.filter(parent=region).order_by("code"))
    lengths = {len(c.path) for c in children}
    out: list[Rates] = []
    if len(lengths) == 1:
        n = lengths.pop()
        grouped = {
            r.pop("prefix"): r
            for r in base.annotate(prefix=Substr("region_path", 1, n)).values("prefix").annotate(**_aggregates(now))
        }
        empty = dict.fromkeys(_aggregates(now), 0)
        for child in children:
            row = grouped.get(child.path, empty)
            out.append(Rates(label=child.name, key=child.code, **{k: int(v or 0) for k, v in row.items()}))
    else:
        out = [
            case_rates(qs=base.filter(region_path__startswith=c.path), label=c.name, key=c.code, now=now)
            for c in children
        ]
    return whole, out


def rates_by_department(*, qs: QuerySet[Case], now: dt.datetime | None = None) -> list[Rates]:
    """Rates per lead department (主办单位) over the given (already scoped) cases."""
    now = now or clock.now()
    rows = (
        _rated_qs(qs)
        .filter(department__isnull=False)
        .values("department_id", "department__name")
        .annotate(**_aggregates(now))
        .order_by("department__name")
    )
    out = []
    for row in rows:
        dep_id, name = row.pop("department_id"), row.pop("department__name")
        out.append(Rates(label=name, key=str(dep_id), **{k: int(v or 0) for k, v in row.items()}))
    return out
