"""Command-centre reads. Every figure comes from the rollups (RegionDayStat, LiveCase) of the
viewer's region; `figures_from_cases` computes the same figures from raw cases, for checks and for
bench/dashboard.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from gridgov.accounts.models import Role
from gridgov.accounts.scope import Scope
from gridgov.cases import sla
from gridgov.cases.models import FINAL_STATES, Case, Urgency
from gridgov.cases.sla import GREEN, RED, YELLOW
from gridgov.common.errors import NotFound, PermissionRefused
from gridgov.regions.models import Region

from .models import COUNTERS, LiveCase, RegionDayStat
from .rollups import MAX_DEPTH

VIEWER_ROLES = frozenset({Role.LEADER, Role.CENTER_OPERATOR, Role.ADMIN, Role.GRID_LEADER})
# A region turns red when this share of its open cases is overdue, yellow when this share is
# overdue or near the deadline (三色预警 of the whole area, not of one case).
RED_SHARE = 0.10
YELLOW_SHARE = 0.20
MAX_MARKERS = 1500


def check_viewer(scope: Scope) -> None:
    if scope.is_empty or scope.role not in VIEWER_ROLES:
        raise PermissionRefused("指挥中心面向领导、综治中心坐席和网格长", rule="dashboard.role")
    if scope.depth > MAX_DEPTH:
        raise PermissionRefused("指挥中心最细到网格一级", rule="dashboard.depth")


def region_for(*, scope: Scope, code: str = "") -> Region:
    """The region on screen: the viewer's own, or a region inside it (drill-down)."""
    check_viewer(scope)
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None or not scope.covers(region.path):
            raise NotFound("区域不存在或不在您的辖区", field="region")
        if region.depth > MAX_DEPTH:
            raise NotFound("指挥中心最细到网格一级", field="region")
        return region
    region = Region.objects.filter(pk=scope.region_id).first() if scope.region_id else None
    if region is None:
        raise NotFound("未设置辖区")
    return region


def trail(*, scope: Scope, region: Region) -> list[Region]:
    """Ancestors the viewer may open (from their own region down), for the breadcrumb."""
    codes = [c for c in region.path.strip("/").split("/") if c][:-1]
    paths = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    return [r for r in Region.objects.filter(path__in=paths).order_by("depth") if scope.covers(r.path)]


@dataclass
class Figures:
    today_reported: int
    today_closed: int
    month_reported: int
    month_closed: int
    month_closed_on_time: int
    month_rated: int
    month_satisfied: int
    month_settled_on_spot: int
    open: int
    red: int
    yellow: int
    supervised: int

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return round(100.0 * n / d, 1) if d else None

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.month_closed_on_time, self.month_closed)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.month_satisfied, self.month_rated)

    @property
    def level(self) -> str:
        return warning_level(self.open, self.red, self.yellow)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.update(on_time_rate=self.on_time_rate, satisfaction_rate=self.satisfaction_rate, level=self.level)
        return out


def warning_level(open_: int, red: int, yellow: int) -> str:
    if not open_:
        return GREEN
    if red / open_ >= RED_SHARE:
        return RED
    if (red + yellow) / open_ >= YELLOW_SHARE:
        return YELLOW
    return GREEN


def _local_day(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def _colour_counts(now: dt.datetime) -> dict[str, Count]:
    return {
        "open": Count("case_id"),
        "red": Count("case_id", filter=Q(deadline__lt=now)),
        "yellow": Count("case_id", filter=Q(deadline__gte=now, warn_at__lte=now)),
        "supervised": Count("case_id", filter=Q(supervised=True)),
    }


def figures(*, region: Region, now: dt.datetime) -> Figures:
    today = _local_day(now)
    month = RegionDayStat.objects.filter(region_path=region.path, day__gte=today.replace(day=1), day__lte=today)
    sums = month.aggregate(**{k: Sum(k) for k in COUNTERS})
    day = month.filter(day=today).aggregate(reported=Sum("reported"), closed=Sum("closed"))
    live = LiveCase.objects.filter(region_path__startswith=region.path).aggregate(**_colour_counts(now))
    return Figures(
        today_reported=day["reported"] or 0,
        today_closed=day["closed"] or 0,
        month_reported=sums["reported"] or 0,
        month_closed=sums["closed"] or 0,
        month_closed_on_time=sums["closed_on_time"] or 0,
        month_rated=sums["rated"] or 0,
        month_satisfied=sums["satisfied"] or 0,
        month_settled_on_spot=sums["settled_on_spot"] or 0,
        open=live["open"],
        red=live["red"],
        yellow=live["yellow"],
        supervised=live["supervised"],
    )


def figures_from_cases(*, region: Region, now: dt.datetime, satisfied_min: int = 3) -> Figures:
    """The same figures straight from the case table (the baseline the rollups replace)."""
    today = _local_day(now)
    tz = timezone.get_current_timezone()
    day0 = dt.datetime.combine(today, dt.time.min, tz)
    month0 = dt.datetime.combine(today.replace(day=1), dt.time.min, tz)
    day1 = day0 + dt.timedelta(days=1)
    qs = Case.objects.filter(region_path__startswith=region.path)
    on_time = sla.handled_on_time_q()
    closed_month = Q(state="closed", closed_at__gte=month0, closed_at__lt=day1)
    rated_month = Q(rated_at__gte=month0, rated_at__lt=day1, satisfaction__isnull=False)
    final = [str(s) for s in FINAL_STATES]
    is_open = ~Q(state__in=final)
    row = qs.aggregate(
        today_reported=Count("id", filter=Q(reported_at__gte=day0, reported_at__lt=day1)),
        today_closed=Count("id", filter=Q(state="closed", closed_at__gte=day0, closed_at__lt=day1)),
        month_reported=Count("id", filter=Q(reported_at__gte=month0, reported_at__lt=day1)),
        month_closed=Count("id", filter=closed_month),
        month_closed_on_time=Count("id", filter=closed_month & on_time),
        month_rated=Count("id", filter=rated_month),
        month_satisfied=Count("id", filter=rated_month & Q(satisfaction__gte=satisfied_min)),
        month_settled_on_spot=Count("id", filter=closed_month & Q(settled_on_spot=True)),
        open=Count("id", filter=is_open),
        red=Count("id", filter=is_open & Q(deadline__lt=now)),
        yellow=Count("id", filter=is_open & Q(deadline__gte=now, warn_at__lte=now)),
        supervised=Count("id", filter=is_open & Q(supervised=True)),
    )
    return Figures(**{k: int(v or 0) for k, v in row.items()})


@dataclass
class ChildStatus:
    region: Region
    open: int
    red: int
    yellow: int
    month_reported: int
    month_closed: int

    @property
    def level(self) -> str:
        return warning_level(self.open, self.red, self.yellow)


def children(*, region: Region, now: dt.datetime) -> list[ChildStatus]:
    """Each child region with its warning level (one grouped query on the open cases, one on
    the month's day rows)."""
    kids = list(Region.objects.filter(parent=region).order_by("code")) if region.depth < MAX_DEPTH else []
    if not kids:
        return []
    lengths = {len(k.path) for k in kids}
    live: dict[str, dict[str, int]] = {}
    if len(lengths) == 1:
        n = lengths.pop()
        for r in (
            LiveCase.objects.filter(region_path__startswith=region.path)
            .annotate(prefix=Substr("region_path", 1, n))
            .values("prefix")
            .annotate(**_colour_counts(now))
            .order_by()
        ):
            live[r.pop("prefix")] = r
    else:
        for k in kids:
            live[k.path] = LiveCase.objects.filter(region_path__startswith=k.path).aggregate(**_colour_counts(now))
    today = _local_day(now)
    month = {
        r["region_path"]: r
        for r in RegionDayStat.objects.filter(
            depth=region.depth + 1,
            region_path__startswith=region.path,
            day__gte=today.replace(day=1),
            day__lte=today,
        )
        .values("region_path")
        .annotate(reported=Sum("reported"), closed=Sum("closed"))
        .order_by()
    }
    out = []
    for k in kids:
        c = live.get(k.path, {})
        m = month.get(k.path, {})
        out.append(
            ChildStatus(
                region=k,
                open=c.get("open", 0),
                red=c.get("red", 0),
                yellow=c.get("yellow", 0),
                month_reported=m.get("reported") or 0,
                month_closed=m.get("closed") or 0,
            )
        )
    return out


def markers(*, region: Region, now: dt.datetime, limit: int = MAX_MARKERS) -> list[dict[str, Any]]:
    """Open cases with a position, red first then by deadline (what a watch officer looks at)."""
    rows = (
        LiveCase.objects.filter(region_path__startswith=region.path, lat__isnull=False, lng__isnull=False)
        .order_by("deadline", "case_id")
        .values("number", "lat", "lng", "deadline", "warn_at", "category", "state", "urgency")[:limit]
    )
    out = []
    for r in rows:
        deadline, warn = r["deadline"], r["warn_at"]
        colour = RED if deadline and now > deadline else YELLOW if warn and now >= warn else GREEN
        out.append(
            {
                "n": r["number"],
                "lat": round(r["lat"] or 0.0, 6),
                "lng": round(r["lng"] or 0.0, 6),
                "c": colour,
                "cat": r["category"],
                "u": r["urgency"] != Urgency.NORMAL,
            }
        )
    return out


def trend(*, region: Region, now: dt.datetime, days: int = 30) -> dict[str, list[Any]]:
    today = _local_day(now)
    first = today - dt.timedelta(days=days - 1)
    rows = {
        r["day"]: r
        for r in RegionDayStat.objects.filter(region_path=region.path, day__gte=first, day__lte=today)
        .values("day")  # a district's or town's day is several rows (shards)
        .annotate(**{k: Sum(k) for k in ("reported", "closed", "closed_on_time", "rated", "satisfied")})
        .order_by()
    }
    out: dict[str, list[Any]] = {"days": [], "reported": [], "closed": [], "on_time": [], "satisfaction": []}
    for i in range(days):
        day = first + dt.timedelta(days=i)
        r: dict[str, Any] = dict(rows.get(day, {}))
        out["days"].append(day.strftime("%m-%d"))
        out["reported"].append(r.get("reported", 0))
        out["closed"].append(r.get("closed", 0))
        closed = r.get("closed", 0)
        out["on_time"].append(round(100.0 * r.get("closed_on_time", 0) / closed, 1) if closed else None)
        rated = r.get("rated", 0)
        out["satisfaction"].append(round(100.0 * r.get("satisfied", 0) / rated, 1) if rated else None)
    return out


def feed(*, region: Region, now: dt.datetime, limit: int = 8) -> dict[str, list[LiveCase]]:
    base = LiveCase.objects.filter(region_path__startswith=region.path)
    return {
        "new": list(base.order_by("-reported_at", "-case_id")[:limit]),
        "red": list(base.filter(deadline__lt=now).order_by("deadline", "case_id")[:limit]),
    }
