"""Writes of the assessment app: install the default scheme, compute and publish a month, and the
process-indicator self-assessment → review loop. Each is one transaction; checks come first.

Computing never reads the wall clock beyond the explicit `as_of` (default: the end of the month,
or `clock.now()` while the month is still running), so computing a draft twice over the same data
gives identical rows and the same digest. A published month is frozen: every service here refuses
to touch it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.common import bulk, clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from gridgov.regions.models import Level, Region

from . import defaults, indicators
from .models import (
    Assessment,
    Direction,
    EntryState,
    Group,
    Indicator,
    IndicatorScore,
    ListColour,
    Normalise,
    ProcessEntry,
    ProcessEvidence,
    RegionScore,
    Scheme,
    Status,
    WorkerScore,
)

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_MAX_FILES = 5
EVIDENCE_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".txt"}
# What each kind of file starts with: an upload is judged by its content, not only its name.
EVIDENCE_MAGIC = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}
EVIDENCE_MIN_CHARS = 5

# Grid-worker score: workload and the three quality parts, out of 100.
WORKER_WEIGHTS = {"workload": 40.0, "on_time": 30.0, "satisfaction": 20.0, "rework": 10.0}


def _tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def month_window(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if month.day != 1:
        raise ValidationFailed("考核月份应为某月 1 日", field="month")
    start = dt.datetime.combine(month, dt.time.min, _tz())
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, dt.datetime.combine(nxt, dt.time.min, _tz())


def parse_month(raw: str, *, field: str = "month") -> dt.date:
    try:
        year, mon = (int(p) for p in (raw or "").strip().split("-")[:2])
        return dt.date(year, mon, 1)
    except (ValueError, TypeError):
        raise ValidationFailed("月份格式应为 YYYY-MM", field=field) from None


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


# --- who may -------------------------------------------------------------------------------------------


def is_assessor(actor: User | None, region: Region) -> bool:
    """The district centre assesses (县级：组织、调度、督查、考核): its operators and the admin."""
    if actor is None or not actor.is_active or actor.role not in (Role.ADMIN, Role.CENTER_OPERATOR):
        return False
    return Scope.for_user(actor).path == region.path


def _check_assessor(actor: User | None, region: Region) -> None:
    if actor is None:
        return  # the system (demo loader, scheduled job)
    if not is_assessor(actor, region):
        raise PermissionRefused("只有区级综治中心或系统管理员可以计算、发布考核", rule="assessment.assessor")


def may_self_assess(actor: User | None, village: Region) -> bool:
    """Towns score their own villages' process indicators (镇街自评); the district may too."""
    if actor is None or not actor.is_active or actor.role not in (Role.CENTER_OPERATOR, Role.ADMIN):
        return False
    scope = Scope.for_user(actor)
    return scope.covers(village.path) and scope.depth <= 1


# --- the default scheme --------------------------------------------------------------------------------


@transaction.atomic
def scheme_install_default(*, region: Region, actor: User | None = None) -> Scheme:
    """Create the 双十条 default scheme for a district, or add its missing indicators."""
    if region.level != Level.DISTRICT:
        raise ValidationFailed("考核方案建在区县一级", field="region")
    _check_assessor(actor, region)
    scheme = Scheme.objects.filter(region=region, is_active=True).first()
    if scheme is None:
        scheme = Scheme.objects.create(region=region, name=f"{region.name}平安村社“双十条”考核")
    have = set(scheme.indicators.values_list("code", flat=True))
    rows = []
    for sort, (code, name, key, params, direction, normalise, weight, full_at, zero_at, min_sample, desc) in enumerate(
        defaults.OUTCOME
    ):
        if code not in have:
            rows.append(
                Indicator(
                    scheme=scheme,
                    code=code,
                    name=name,
                    group=Group.OUTCOME,
                    compute_key=key,
                    params=params,
                    direction=direction,
                    normalise=normalise,
                    weight=weight,
                    full_at=full_at,
                    zero_at=zero_at,
                    min_sample=min_sample,
                    description=desc,
                    sort=sort,
                )
            )
    for sort, (code, name, desc) in enumerate(defaults.PROCESS):
        if code not in have:
            rows.append(
                Indicator(
                    scheme=scheme,
                    code=code,
                    name=name,
                    group=Group.PROCESS,
                    direction=Direction.HIGHER,
                    weight=defaults.PROCESS_WEIGHT,
                    full_at=100,
                    zero_at=0,
                    description=desc,
                    sort=sort,
                )
            )
    Indicator.objects.bulk_create(rows)
    if actor is not None and rows:
        audit_record(
            actor=actor,
            action="assessment.scheme_install",
            target=scheme,
            detail={"added": len(rows)},
            region_path=region.path,
        )
    return scheme


def validate_indicator(
    *, group: str, compute_key: str, direction: str, weight: float, full_at: float, zero_at: float
) -> dict[str, list[str]]:
    """Field errors of an indicator definition (used by the admin form and the services)."""
    errors: dict[str, list[str]] = {}
    if group == Group.OUTCOME and indicators.get(compute_key) is None:
        errors["compute_key"] = [f"未知的计算口径 {compute_key!r}"]
    if weight is None or weight <= 0:
        errors["weight"] = ["权重应大于 0"]
    if full_at == zero_at:
        errors["full_at"] = ["满分值与零分值不能相同"]
    elif direction == Direction.HIGHER and full_at < zero_at:
        errors["full_at"] = ["“越高越好”的指标，满分值应大于零分值"]
    elif direction == Direction.LOWER and full_at > zero_at:
        errors["full_at"] = ["“越低越好”的指标，满分值应小于零分值"]
    return errors


# --- scoring -------------------------------------------------------------------------------------------


def score_value(value: float, *, weight: float, full_at: float, zero_at: float) -> float:
    """Linear between zero_at (0) and full_at (weight), clamped — works for either direction."""
    ratio = (value - zero_at) / (full_at - zero_at)
    return round(weight * min(1.0, max(0.0, ratio)), 4)


@dataclass
class _Line:
    indicator: Indicator
    unit: str
    value: float | None
    numerator: float
    denominator: float
    sample: int
    score: float
    neutral: bool
    note: str
    records: dict[str, Any]


def _outcome_line(ind: Indicator, m: indicators.Measure | None, households: int) -> _Line:
    kind = indicators.get(ind.compute_key)
    if kind is None:
        return _Line(ind, "", None, 0, 0, 0, 0.0, True, f"计算口径 {ind.compute_key} 未注册", {})
    m = m or indicators.Measure()
    value = indicators.value_of(kind, m)
    note = ""
    unit = kind.unit
    if value is not None and ind.normalise == Normalise.PER_1000_HOUSEHOLDS:
        if households > 0:
            value = round(value * 1000.0 / households, 3)
            unit = f"{kind.unit}/千户"
        else:
            value, note = None, "户数未登记，无法折算"
    records: dict[str, Any] = {"model": kind.model, "ids": sorted(m.ids), "numerator_ids": sorted(m.numerator_ids)}
    if m.detail:
        records["detail"] = m.detail
    if value is None:
        return _Line(ind, unit, None, m.numerator, m.denominator, m.sample, 0.0, True, note or "无样本", records)
    if m.sample < ind.min_sample:
        note = f"样本 {m.sample} 不足 {ind.min_sample}"
        return _Line(ind, unit, value, m.numerator, m.denominator, m.sample, 0.0, True, note, records)
    score = score_value(value, weight=ind.weight, full_at=ind.full_at, zero_at=ind.zero_at)
    return _Line(ind, unit, value, m.numerator, m.denominator, m.sample, score, False, "", records)


def _process_line(ind: Indicator, entries: Sequence[Any]) -> _Line:
    """Villages: the reviewed completion of their entry. Towns: the mean over their villages
    (a village without an approved entry counts 0). An entry is a `ProcessEntry` row (pk, state,
    reviewed_value, self_value) or None when missing."""
    values: list[float] = []
    pending = returned = missing = 0
    ids = []
    for e in entries:
        if e is None:
            missing += 1
            values.append(0.0)
            continue
        ids.append(e.pk)
        if e.state == EntryState.APPROVED:
            values.append(e.reviewed_value if e.reviewed_value is not None else e.self_value)
        else:
            values.append(0.0)
            pending += e.state == EntryState.SUBMITTED
            returned += e.state == EntryState.RETURNED
    value = round(sum(values) / len(values), 2) if values else 0.0
    notes = []
    if missing:
        notes.append(f"{missing} 项未自评")
    if pending:
        notes.append(f"{pending} 项待审核")
    if returned:
        notes.append(f"{returned} 项被退回")
    score = score_value(value, weight=ind.weight, full_at=ind.full_at, zero_at=ind.zero_at)
    records = {"model": "assessment.processentry", "ids": sorted(ids), "numerator_ids": []}
    return _Line(ind, "%", value, sum(values), len(values), len(values), score, False, "；".join(notes), records)


def _neutral_at_peer_average(lines_by_region: dict[str, list[_Line]]) -> None:
    """中性计分: an indicator without enough sample scores the average of the peers (same level)
    that could be scored on it, so a thin sample neither lifts nor sinks a region — it is ranked on
    what was measured, and a region measured on too little is not ranked at all."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for lines in lines_by_region.values():
        for ln in lines:
            if not ln.neutral:
                sums[ln.indicator.code][0] += ln.score
                sums[ln.indicator.code][1] += 1
    for lines in lines_by_region.values():
        for ln in lines:
            if ln.neutral and ln.indicator.code in sums:
                total, n = sums[ln.indicator.code]
                ln.score = round(total / n, 4)
                ln.note = f"{ln.note}，按同级平均计 {ln.score:.2f} 分" if ln.note else f"按同级平均计 {ln.score:.2f} 分"


def _rank(scores: Sequence[Any], key: Any, *, count: bool = False) -> None:
    """Standard competition ranking ("1224") of the ranked scores; `count` also records how many
    were ranked (`rank_of`)."""
    ranked = sorted((s for s in scores if s.ranked and s.total is not None), key=key)
    previous: float | None = None
    rank = 0
    for i, s in enumerate(ranked, start=1):
        if s.total != previous:
            rank, previous = i, s.total
        s.rank = rank
    if count:
        for s in scores:
            s.rank_of = len(ranked)


def _lists(scores: Sequence[Any], rules: dict[str, Any]) -> None:
    for s in scores:
        s.list_colour = ""
        if not s.ranked or s.total is None or s.rank is None:
            continue
        top_n = int(rules["red_top_n"])
        if s.total >= float(rules["red_min_score"]) and (top_n == 0 or s.rank <= top_n):
            s.list_colour = ListColour.RED
        elif s.total < float(rules["black_below"]):
            s.list_colour = ListColour.BLACK
        elif s.total < float(rules["yellow_below"]):
            s.list_colour = ListColour.YELLOW


@dataclass
class _RegionRow:
    """A `RegionScore` row before it is written (no model instance per row)."""

    region_id: int
    region_path: str
    region_name: str
    level: str
    parent_name: str
    total: float | None
    outcome_score: float
    process_score: float
    scored_weight: float
    full_weight: float
    ranked: bool
    note: str
    rank: int | None = None
    rank_of: int = 0
    list_colour: str = ""


REGION_COLUMNS = (
    "id", "assessment_id", "region_id", "region_path", "region_name", "level", "parent_name", "total",
    "outcome_score", "process_score", "scored_weight", "full_weight", "ranked", "rank", "rank_of", "list_colour",
    "note",
)  # fmt: skip
LINE_COLUMNS = (
    "region_score_id", "indicator_code", "indicator_name", "group", "compute_key", "unit", "direction", "weight",
    "full_at", "zero_at", "min_sample", "value", "numerator", "denominator", "sample", "score", "neutral", "note",
    "records", "sort",
)  # fmt: skip
WORKER_COLUMNS = (
    "assessment_id", "user_id", "user_label", "region_id", "region_path", "region_name", "reports", "visits",
    "cases", "on_time_rate", "satisfaction_rate", "rework_rate", "workload_score", "quality_score", "total",
    "ranked", "rank", "records",
)  # fmt: skip


@dataclass
class ComputeResult:
    assessment: Assessment
    villages: int
    towns: int
    workers: int


def _delete_snapshot(assessment: Assessment) -> None:
    """A draft's rows, removed set-wise before it is written again (same transaction)."""
    regions = RegionScore._meta.db_table
    bulk.delete_rows(
        IndicatorScore, f"region_score_id IN (SELECT id FROM {regions} WHERE assessment_id = %s)", [assessment.pk]
    )
    bulk.delete_rows(RegionScore, "assessment_id = %s", [assessment.pk])
    bulk.delete_rows(WorkerScore, "assessment_id = %s", [assessment.pk])


@transaction.atomic
def assessment_compute(
    *, actor: User | None, scheme: Scheme, month: dt.date, as_of: dt.datetime | None = None
) -> ComputeResult:
    """试算: (re)compute a month's draft. Refused for a published month (it is frozen).

    Set-based: the case indicators of the scheme are one grouped query (`indicators.case_measures`),
    the worker figures three more; the snapshot rows are built as tuples and written by COPY on
    PostgreSQL (`bulk`), so the cost grows with the number of villages, not of cases."""
    _check_assessor(actor, scheme.region)
    start, end = month_window(month)
    now = clock.now()
    if as_of is None:
        as_of = min(end, now)
    if as_of <= start:
        raise ValidationFailed("该月尚未开始，无法考核", field="month")
    if as_of > end:
        as_of = end
    region = scheme.region
    existing = Assessment.objects.select_for_update().filter(scheme=scheme, month=month).first()
    if existing is not None and existing.is_published:
        raise Conflict(f"{month:%Y年%m月}考核已发布，结果已冻结，不能重新计算", rule="assessment.frozen")
    if existing is not None:
        _delete_snapshot(existing)
        assessment = existing
    else:
        assessment = Assessment(scheme=scheme, region=region, month=month)
    assessment.as_of = as_of
    assessment.rules = scheme.rules()
    assessment.computed_at = now
    assessment.computed_by = actor
    assessment.status = Status.DRAFT
    assessment.save()

    ctx = indicators.Context(root_path=region.path, start=start, end=end, as_of=as_of)
    inds = list(scheme.indicators.filter(is_active=True).order_by("group", "sort", "code"))
    # Regions without their polygons (only what the scores copy).
    all_towns = {
        t.path: t
        for t in Region.objects.filter(parent=region, level=Level.STREET).only(
            "path", "name", "households", "is_town_like"
        )
    }
    rankable_towns = {p for p, t in all_towns.items() if not t.is_town_like}
    villages = list(
        Region.objects.filter(path__startswith=region.path, level=Level.COMMUNITY)
        .select_related("parent")
        .only("path", "name", "households", "parent__name")
        .order_by("path")
    )

    measures: dict[str, dict[str, indicators.Measure]] = {}
    batched: list[tuple[str, indicators.CaseFilter]] = []
    for ind in inds:
        if ind.group == Group.OUTCOME:
            kind = indicators.get(ind.compute_key)
            if kind is None:
                measures[ind.code] = {}
            elif kind.case_filter is not None:
                batched.append((ind.code, kind.case_filter(ctx, dict(ind.params or {}))))
            else:
                measures[ind.code] = kind.compute(ctx, dict(ind.params or {}))
    for (code, _), found in zip(batched, indicators.case_measures(ctx, [f for _, f in batched]), strict=True):
        measures[code] = found
    entries: dict[tuple[int, int], Any] = {
        (e.indicator_id, e.region_id): e
        for e in ProcessEntry.objects.filter(
            indicator__scheme=scheme, month=month, region_path__startswith=region.path
        ).values_list("indicator_id", "region_id", "pk", "state", "reviewed_value", "self_value", named=True)
    }

    rules = assessment.rules
    full_weight = sum(i.weight for i in inds)
    village_lines: dict[str, list[_Line]] = {}
    town_lines: dict[str, list[_Line]] = {}
    for v in villages:
        lines = []
        for ind in inds:
            if ind.group == Group.OUTCOME:
                lines.append(_outcome_line(ind, measures[ind.code].get(v.path), v.households))
            else:
                lines.append(_process_line(ind, [entries.get((ind.pk, v.pk))]))
        village_lines[v.path] = lines
    by_town: dict[str, list[Region]] = defaultdict(list)
    for v in villages:
        town_path = indicators.path_at(v.path, 1)
        if town_path:
            by_town[town_path].append(v)
    for t in all_towns.values():
        lines = []
        for ind in inds:
            if ind.group == Group.OUTCOME:
                total = indicators.Measure()
                for v in by_town.get(t.path, []):
                    part = measures[ind.code].get(v.path)
                    if part is not None:
                        total.add(part)
                lines.append(_outcome_line(ind, total, t.households))
            else:
                lines.append(_process_line(ind, [entries.get((ind.pk, v.pk)) for v in by_town.get(t.path, [])]))
        town_lines[t.path] = lines

    _neutral_at_peer_average(village_lines)
    _neutral_at_peer_average(town_lines)

    def region_score(r: Region, lines: list[_Line], level: str, parent_name: str, rankable: bool) -> _RegionRow:
        scored = [ln for ln in lines if not ln.neutral]
        scored_weight = sum(ln.indicator.weight for ln in scored)
        total = round(100.0 * sum(ln.score for ln in lines) / full_weight, 2) if scored_weight else None
        ranked = rankable and full_weight > 0 and scored_weight / full_weight >= float(rules["min_scored_share"])
        note = "" if ranked or not rankable else "可计分指标权重不足，不参与排名"
        return _RegionRow(
            region_id=r.pk,
            region_path=r.path,
            region_name=r.name,
            level=level,
            parent_name=parent_name,
            total=total,
            outcome_score=round(sum(ln.score for ln in lines if ln.indicator.group == Group.OUTCOME), 4),
            process_score=round(sum(ln.score for ln in lines if ln.indicator.group == Group.PROCESS), 4),
            scored_weight=scored_weight,
            full_weight=full_weight,
            ranked=bool(ranked and total is not None),
            note=note if rankable else "类似乡级单位，不参与镇街排名",
        )

    village_scores = [
        region_score(v, village_lines[v.path], Level.COMMUNITY, v.parent.name if v.parent else "", True)
        for v in villages
    ]
    town_scores = [
        region_score(t, town_lines[t.path], Level.STREET, region.name, t.path in rankable_towns)
        for t in sorted(all_towns.values(), key=lambda r: r.path)
    ]
    for group in (village_scores, town_scores):
        _rank(group, key=lambda s: (-s.total, s.region_path), count=True)
        _lists(group, rules)

    region_rows = [*village_scores, *town_scores]
    ids = bulk.allocate_ids(RegionScore, len(region_rows))
    bulk.insert_rows(
        RegionScore,
        REGION_COLUMNS,
        (
            (pk, assessment.pk, s.region_id, s.region_path, s.region_name, s.level, s.parent_name, s.total,
             s.outcome_score, s.process_score, s.scored_weight, s.full_weight, s.ranked, s.rank, s.rank_of,
             s.list_colour, s.note)
            for pk, s in zip(ids, region_rows, strict=True)
        ),
    )  # fmt: skip
    lines_by_path = {**village_lines, **town_lines}
    bulk.insert_rows(
        IndicatorScore,
        LINE_COLUMNS,
        (
            (pk, ln.indicator.code, ln.indicator.name, ln.indicator.group, ln.indicator.compute_key, ln.unit,
             ln.indicator.direction, ln.indicator.weight, ln.indicator.full_at, ln.indicator.zero_at,
             ln.indicator.min_sample, ln.value, ln.numerator, ln.denominator, ln.sample, ln.score, ln.neutral,
             ln.note[:200], json.dumps(ln.records), sort)
            for pk, s in zip(ids, region_rows, strict=True)
            for sort, ln in enumerate(lines_by_path[s.region_path])
        ),
    )  # fmt: skip

    workers = _worker_scores(assessment, ctx, rules)
    assessment.digest = _digest(assessment, region_rows, lines_by_path, workers)
    assessment.save(update_fields=["digest"])
    if actor is not None:
        audit_record(
            actor=actor,
            action="assessment.compute",
            target=assessment,
            detail={"month": f"{month:%Y-%m}"},
            region_path=region.path,
        )
    return ComputeResult(assessment, len(village_scores), len(town_scores), len(workers))


@dataclass
class _WorkerRow:
    user_id: int
    user_label: str
    region_id: int
    region_path: str
    region_name: str
    reports: list[int]
    visits: list[int]
    cases: list[int]
    on_time_rate: float | None
    satisfaction_rate: float | None
    rework_rate: float | None
    workload_score: float
    quality_score: float
    total: float
    ranked: bool = True
    rank: int | None = None


def _worker_scores(assessment: Assessment, ctx: indicators.Context, rules: dict[str, Any]) -> list[_WorkerRow]:
    from gridgov.registers.models import Visit

    users_qs = User.objects.filter(
        role__in=[Role.GRID_WORKER, Role.GRID_LEADER],
        is_active=True,
        jurisdiction__level=Level.GRID,
        jurisdiction__path__startswith=ctx.root_path,
    )
    users = list(
        users_qs.order_by("id").values_list(
            "id", "username", "display_name", "jurisdiction_id", "jurisdiction__path", "jurisdiction__name"
        )
    )
    if not users:
        return []
    reports = indicators.reports_by_reporter(ctx)
    grids = indicators.grid_cases(ctx, {u[4] for u in users})
    visits: dict[int, list[int]] = {
        visitor: indicators.ids_of(ids)
        for visitor, ids in Visit.objects.filter(
            visitor_id__in=users_qs.values("id"),
            visited_at__gte=ctx.start,
            visited_at__lt=min(ctx.end, ctx.as_of),
        )
        .values("visitor_id")
        .annotate(ids=indicators.IdList("id"))
        .order_by()
        .values_list("visitor_id", "ids")
    }
    target = max(1, int(rules["worker_workload_target"]))
    min_cases = int(rules["worker_min_cases"])
    no_cases = indicators.GridCases(ids=[], due=0, on_time=0, rated=0, satisfied=0, closed=0, reworked=0)
    out = []
    for user_id, username, display_name, grid_id, grid_path, grid_name in users:
        g = grids.get(grid_path, no_cases)
        mine, visited = reports.get(user_id, []), visits.get(user_id, [])
        work = len(mine) + len(visited)
        parts: dict[str, float] = {"workload": WORKER_WEIGHTS["workload"] * min(1.0, work / target)}
        on_time_rate = round(100.0 * g.on_time / g.due, 2) if g.due else None
        satisfaction_rate = round(100.0 * g.satisfied / g.rated, 2) if g.rated else None
        rework_rate = round(100.0 * g.reworked / g.closed, 2) if g.closed else None
        if on_time_rate is not None and g.due >= min_cases:
            parts["on_time"] = WORKER_WEIGHTS["on_time"] * on_time_rate / 100
        if satisfaction_rate is not None and g.rated >= min_cases:
            parts["satisfaction"] = WORKER_WEIGHTS["satisfaction"] * satisfaction_rate / 100
        if rework_rate is not None and g.closed >= min_cases:
            parts["rework"] = WORKER_WEIGHTS["rework"] * (1 - rework_rate / 100)
        weight = sum(WORKER_WEIGHTS[k] for k in parts)
        quality = sum(v for k, v in parts.items() if k != "workload")
        out.append(
            _WorkerRow(
                user_id=user_id,
                user_label=(display_name or username)[:150],  # User.label
                region_id=grid_id,
                region_path=grid_path,
                region_name=grid_name,
                reports=mine,
                visits=visited,
                cases=g.ids,
                on_time_rate=on_time_rate,
                satisfaction_rate=satisfaction_rate,
                rework_rate=rework_rate,
                workload_score=round(parts["workload"], 4),
                quality_score=round(quality, 4),
                total=round(100.0 * sum(parts.values()) / weight, 2),
            )
        )
    _rank(out, key=lambda s: (-s.total, s.region_path, s.user_label))
    bulk.insert_rows(
        WorkerScore,
        WORKER_COLUMNS,
        (
            (assessment.pk, w.user_id, w.user_label, w.region_id, w.region_path, w.region_name, len(w.reports),
             len(w.visits), len(w.cases), w.on_time_rate, w.satisfaction_rate, w.rework_rate, w.workload_score,
             w.quality_score, w.total, w.ranked, w.rank,
             json.dumps({"reports": w.reports, "visits": w.visits, "cases": w.cases}))
            for w in out
        ),
    )  # fmt: skip
    return out


def _stored(x: float | None) -> float | None:
    """A number as a float column gives it back (an int sum is stored as a float)."""
    return None if x is None else float(x)


def _digest(
    assessment: Assessment,
    regions: list[_RegionRow],
    lines_by_path: dict[str, list[_Line]],
    workers: list[_WorkerRow],
) -> str:
    """The fingerprint of every number written: a hash over the rows in the database's order of
    region path and indicator code (asked of the database, so the collation decides as it always
    has), with each value as its column returns it. Equal to hashing the stored rows read back."""
    h = hashlib.sha256()
    h.update(json.dumps([assessment.month.isoformat(), assessment.as_of.isoformat(), assessment.rules]).encode())
    paths = list(
        RegionScore.objects.filter(assessment=assessment).order_by("region_path").values_list("region_path", flat=True)
    )
    codes = sorted({ln.indicator.code for lines in lines_by_path.values() for ln in lines})
    rank_of_code = {
        code: i
        for i, code in enumerate(
            Indicator.objects.filter(scheme_id=assessment.scheme_id, code__in=codes)
            .order_by("code")
            .values_list("code", flat=True)
        )
    }
    for path in paths:
        for ln in sorted(lines_by_path[path], key=lambda ln: rank_of_code[ln.indicator.code]):
            row = (path, ln.indicator.code, _stored(ln.value), _stored(ln.numerator), _stored(ln.denominator),
                   _stored(ln.score), bool(ln.neutral))  # fmt: skip
            h.update(json.dumps(row).encode())
    by_path = {s.region_path: s for s in regions}
    for path in paths:
        s = by_path[path]
        h.update(json.dumps((path, _stored(s.total), s.rank, s.list_colour)).encode())
    for w in sorted(workers, key=lambda w: w.user_id):
        h.update(json.dumps((w.user_id, _stored(w.total), w.rank)).encode())
    return h.hexdigest()


@transaction.atomic
def assessment_publish(*, actor: User | None, assessment: Assessment) -> Assessment:
    """发布: freeze the month. Refused while self-assessments of the month still wait for review
    (they would publish as zero) or when it is already published."""
    locked = Assessment.objects.select_for_update().select_related("scheme", "region").get(pk=assessment.pk)
    _check_assessor(actor, locked.region)
    if locked.is_published:
        raise Conflict("该月考核已发布", rule="assessment.frozen")
    pending = ProcessEntry.objects.filter(
        indicator__scheme=locked.scheme, month=locked.month, state=EntryState.SUBMITTED
    ).count()
    if pending:
        raise Conflict(f"还有 {pending} 条过程指标自评待审核，审核后重新试算再发布", rule="assessment.pending_review")
    stale = ProcessEntry.objects.filter(
        indicator__scheme=locked.scheme, month=locked.month, reviewed_at__gt=locked.computed_at
    ).exists()
    if stale:
        raise Conflict("试算后又有自评被审核，请重新试算后再发布", rule="assessment.stale")
    locked.status = Status.PUBLISHED
    locked.published_at = clock.now()
    locked.published_by = actor
    locked.save(update_fields=["status", "published_at", "published_by"])
    if actor is not None:
        audit_record(
            actor=actor,
            action="assessment.publish",
            target=locked,
            detail={"digest": locked.digest},
            region_path=locked.region.path,
        )
    return locked


# --- process indicators: self-assessment and review ---------------------------------------------------


def _clean_evidence(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str, str]]:
    if len(files) > EVIDENCE_MAX_FILES:
        raise ValidationFailed(f"佐证材料最多 {EVIDENCE_MAX_FILES} 个文件", field="attachments")
    out = []
    for f in files:
        name = PurePath(f.name or "file").name[:120]
        if PurePath(name).suffix.lower() not in EVIDENCE_SUFFIXES:
            raise ValidationFailed(f"不支持的文件类型：{name}", field="attachments")
        if (f.size or 0) > EVIDENCE_MAX_BYTES:
            raise ValidationFailed(f"文件过大（不超过 10 MB）：{name}", field="attachments")
        if not f.size:
            raise ValidationFailed(f"文件为空：{name}", field="attachments")
        digest = hashlib.sha256()
        head = b""
        for chunk in f.chunks():
            head = head or chunk[:4096]
            digest.update(chunk)
        f.seek(0)
        if not _evidence_content_ok(PurePath(name).suffix.lower(), head):
            raise ValidationFailed(f"文件内容与类型不符：{name}", field="attachments")
        out.append((f, name, digest.hexdigest()))
    return out


def _evidence_content_ok(suffix: str, head: bytes) -> bool:
    if suffix == ".txt":  # plain text: decodable, no binary zeros
        if b"\x00" in head:
            return False
        for encoding in ("utf-8", "gb18030"):
            try:
                head.decode(encoding)
            except UnicodeDecodeError as exc:
                if exc.start >= len(head) - 3:  # a character cut at the end of the sample
                    return True
                continue
            return True
        return False
    return head.startswith(EVIDENCE_MAGIC.get(suffix, (b"\x00\x00impossible",)))


def _month_open(scheme: Scheme, month: dt.date) -> None:
    if Assessment.objects.filter(scheme=scheme, month=month, status=Status.PUBLISHED).exists():
        raise Conflict(f"{month:%Y年%m月}考核已发布，不能再修改自评", rule="assessment.frozen")


@transaction.atomic
def process_entry_submit(
    *,
    actor: User,
    indicator: Indicator,
    village: Region,
    month: dt.date,
    value: Any,
    evidence: str,
    attachments: Sequence[UploadedFile] = (),
) -> ProcessEntry:
    """自评: a town scores one process indicator of one of its villages for a month, with evidence.
    Resubmitting replaces a pending or returned entry; an approved one is final."""
    if indicator.group != Group.PROCESS or not indicator.is_active:
        raise ValidationFailed("只有启用的过程指标可以自评", field="indicator")
    if village.level != Level.COMMUNITY or not village.path.startswith(indicator.scheme.region.path):
        raise ValidationFailed("请选择本区的村（社区）", field="region")
    if not may_self_assess(actor, village):
        raise PermissionRefused("只有所属镇街综治中心可以自评该村（社区）", rule="assessment.self_assess")
    month_window(month)
    if month > clock.today().replace(day=1):
        raise ValidationFailed("不能为未来月份自评", field="month")
    errors: dict[str, list[str]] = {}
    try:
        number = float(value)
        if not 0 <= number <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["value"] = ["完成度应为 0–100 之间的数字"]
        number = 0.0
    evidence = (evidence or "").strip()
    if len(evidence) < EVIDENCE_MIN_CHARS:
        errors["evidence"] = [f"请填写佐证说明（至少 {EVIDENCE_MIN_CHARS} 个字）"]
    elif len(evidence) > 2000:
        errors["evidence"] = ["佐证说明不能超过 2000 字"]
    try:
        files = _clean_evidence(attachments)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        files = []
    if errors:
        raise ValidationFailed("自评信息有误", errors=errors)
    _month_open(indicator.scheme, month)
    now = clock.now()
    entry = ProcessEntry.objects.select_for_update().filter(indicator=indicator, region=village, month=month).first()
    if entry is not None and entry.state == EntryState.APPROVED:
        raise Conflict("该项自评已审核通过，不能再修改", rule="assessment.entry_final")
    if entry is None:
        entry = ProcessEntry(indicator=indicator, region=village, region_path=village.path, month=month)
    entry.self_value = round(number, 2)
    entry.evidence = evidence
    entry.state = EntryState.SUBMITTED
    entry.reviewed_value = None
    entry.review_note = ""
    entry.reviewed_by = None
    entry.reviewed_at = None
    entry.submitted_by = actor
    entry.submitted_at = now
    entry.save()
    for f, name, digest in files:
        att = ProcessEvidence(entry=entry, name=name, size=f.size or 0, sha256=digest, uploaded_at=now)
        att.file.save(name, f, save=False)
        att.save()
    return entry


@transaction.atomic
def process_entry_review(
    *, actor: User, entry: ProcessEntry, approve: bool, value: Any = None, note: str = ""
) -> ProcessEntry:
    """审核: the district approves (optionally adjusting the completion) or returns with a reason."""
    locked = ProcessEntry.objects.select_for_update().select_related("indicator__scheme__region").get(pk=entry.pk)
    scheme = locked.indicator.scheme
    if not is_assessor(actor, scheme.region):
        raise PermissionRefused("只有区级综治中心可以审核自评", rule="assessment.review")
    if locked.state != EntryState.SUBMITTED:
        raise Conflict("该项自评不在待审核状态", rule="assessment.entry_state")
    _month_open(scheme, locked.month)
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationFailed("审核意见不能超过 300 字", field="note")
    if approve:
        if value in (None, ""):
            number = locked.self_value
        else:
            try:
                number = float(value)
                if not 0 <= number <= 100:
                    raise ValueError
            except (TypeError, ValueError):
                raise ValidationFailed("审核完成度应为 0–100 之间的数字", field="value") from None
        locked.state = EntryState.APPROVED
        locked.reviewed_value = round(number, 2)
    else:
        if len(note) < 2:
            raise ValidationFailed("退回须填写理由", field="note")
        locked.state = EntryState.RETURNED
    locked.review_note = note
    locked.reviewed_by = actor
    locked.reviewed_at = clock.now()
    locked.save()
    return locked
