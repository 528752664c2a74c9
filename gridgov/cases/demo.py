"""Demo cases: routing rules and a few thousand cases over the last five months, in every state.

Each case is simulated along the loop with the real SLA arithmetic (statutory calendar, working
hours) and stops where "now" catches up with it, so old cases are mostly closed and recent ones
wait in every queue; a share signs or finishes late, some are rejected, merged, escalated to
supervision or settled on the spot. Rows are written with bulk_create (cases, assignments,
timeline, inbox) so the loader takes seconds, not minutes. Idempotent: it tops up to the target.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gridgov.accounts.models import Department, Role, User
from gridgov.common import clock
from gridgov.regions.models import Level, Region

from . import sla
from .conf import conf
from .defaults import install
from .models import (
    Assist,
    Case,
    CaseAssignment,
    CaseCategory,
    CaseEvent,
    LimitUnit,
    Notification,
    NotificationKind,
    Source,
    State,
    Urgency,
)
from .numbering import next_case_number
from .services import TRACKING_ALPHABET

TARGET = 3000
DAYS = 150

# main category → department suffix (accounts.demo DISTRICT_DEPARTMENTS) and co-handling units.
RULES: list[tuple[str, str, list[str], bool]] = [
    ("01", "SF", [], False),
    ("0104", "RS", ["SF"], False),
    ("02", "YJ", [], False),
    ("0202", "ZJ", ["YJ"], False),
    ("03", "XF", [], True),
    ("04", "GA", [], True),
    ("05", "CG", [], False),
    ("06", "CG", [], False),
    ("0602", "GA", ["CG"], False),
    ("07", "HB", [], False),
    ("0704", "HB", ["ZJ"], False),
    ("08", "SZ", [], False),
    ("0804", "JT", [], False),
    ("09", "GA", ["MZ"], True),
    ("0901", "WJ", ["GA"], True),
    ("10", "MZ", [], False),
    ("1003", "WJ", [], False),
    ("99", "CG", [], False),
]
CATEGORY_WEIGHTS = {
    "01": 14,
    "02": 6,
    "03": 7,
    "04": 6,
    "05": 22,
    "06": 14,
    "07": 10,
    "08": 11,
    "09": 2,
    "10": 7,
    "99": 1,
}
TAILS = [
    "已持续多日",
    "居民反映强烈",
    "请尽快处理",
    "影响周边居民出行",
    "存在安全隐患",
    "多次反映未解决",
    "夜间尤为严重",
    "",
]
SOURCES = [
    (Source.GRID_WORKER, 46),
    (Source.CITIZEN, 16),
    (Source.HOTLINE_12345, 18),
    (Source.MICROGRID_WORKER, 6),
    (Source.SENSOR, 4),
    (Source.POLICE_110, 3),
    (Source.ONLINE_OPINION, 3),
    (Source.DEPARTMENT, 2),
    (Source.INSPECTION, 2),
]


@dataclass
class Sim:
    case: Case
    events: list[CaseEvent] = field(default_factory=list)
    assignments: list[CaseAssignment] = field(default_factory=list)


def load(log: Callable[[str], None] = print, *, target: int = TARGET, seed: int = 20261122) -> None:
    district = Region.objects.filter(code=settings.GRIDGOV["DISTRICT_CODE"]).first()
    if district is None:
        log("cases: no district loaded; skipped")
        return
    install()
    rules = _rules(district)
    existing = Case.objects.filter(region_path__startswith=district.path).count()
    if existing >= target:
        log(f"cases: {existing} demo cases already there ({rules} routing rules added)")
        return
    with transaction.atomic():
        made = _generate(district, target - existing, random.Random(seed + existing))
    log(f"cases: {rules} routing rules, {made} cases added")


def _rules(district: Region) -> int:
    from .models import RoutingRule

    if RoutingRule.objects.exists():
        return 0
    deps = {d.code: d for d in Department.objects.filter(code__startswith=f"{district.code}-")}
    cats = {c.code: c for c in CaseCategory.objects.all()}
    added = 0
    for cat_code, suffix, assists, auto in RULES:
        dep = deps.get(f"{district.code}-{suffix}")
        if dep is None or cat_code not in cats:
            continue
        rule = RoutingRule.objects.create(category=cats[cat_code], department=dep, auto_dispatch=auto)
        rule.assist_departments.set([deps[f"{district.code}-{a}"] for a in assists if f"{district.code}-{a}" in deps])
        added += 1
    town = Region.objects.filter(code=f"{district.code}001").first()
    squad = Department.objects.filter(code=f"{district.code}001-CG").first()
    if town and squad:  # the town's own squadron takes city-appearance cases in its town
        for cat_code in ("05", "06"):
            RoutingRule.objects.create(category=cats[cat_code], region=town, department=squad, priority=1)
            added += 1
    return added


def _generate(district: Region, n: int, rng: random.Random) -> int:
    now = clock.now()
    leaves = list(
        Region.objects.filter(path__startswith=district.path, level=Level.MICROGRID, centroid_lat__isnull=False)
        .only("id", "code", "name", "path", "centroid_lat", "centroid_lng")
        .order_by("code")
    )
    names = dict(
        Region.objects.filter(path__startswith=district.path, level__in=[Level.STREET, Level.COMMUNITY]).values_list(
            "code", "name"
        )
    )
    operators: dict[int, User] = {}
    for u in User.objects.filter(
        role=Role.CENTER_OPERATOR, is_active=True, jurisdiction__path__startswith=district.path
    ):
        operators.setdefault(u.jurisdiction_id, u)  # type: ignore[arg-type]
    centers = {r.code: r for r in Region.objects.filter(pk__in=list(operators)).only("id", "code", "name", "path")}
    centers.setdefault(district.code, district)
    handlers: dict[int, User] = {}
    for u in User.objects.filter(role=Role.DEPARTMENT_HANDLER, is_active=True):
        handlers.setdefault(u.department_id, u)  # type: ignore[arg-type]
    grid_workers = {
        u.jurisdiction.path: u  # type: ignore[union-attr]
        for u in User.objects.filter(role=Role.GRID_WORKER, jurisdiction__path__startswith=district.path)
        .select_related("jurisdiction")
        .only("id", "username", "display_name", "jurisdiction__path")
    }
    leaders = {
        u.jurisdiction.path: u  # type: ignore[union-attr]
        for u in User.objects.filter(role=Role.GRID_LEADER, jurisdiction__path__startswith=district.path)
        .select_related("jurisdiction")
        .only("id", "username", "display_name", "jurisdiction__path")
    }
    from .routing import route_for

    leaf_cats = list(CaseCategory.objects.filter(is_active=True, children__isnull=True).select_related("parent"))
    by_main: dict[str, list[CaseCategory]] = defaultdict(list)
    for c in leaf_cats:
        by_main[c.parent.code if c.parent else c.code].append(c)
    mains = [m for m in CATEGORY_WEIGHTS if by_main.get(m)]
    weights = [CATEGORY_WEIGHTS[m] for m in mains]
    limits_cache: dict[tuple[int, str], sla.Limits] = {}
    route_cache: dict[tuple[int, str], Any] = {}
    step_hours = int(conf("CASE_DISPATCH_LIMIT_HOURS"))

    # Most cases in the recent weeks, a steady flow before.
    sims: list[Sim] = []
    for _ in range(n):
        age_days = rng.uniform(0, 2.5) if rng.random() < 0.1 else min(DAYS, rng.expovariate(1 / 45))
        reported = _work_time(now - dt.timedelta(days=age_days), rng)
        if reported >= now:
            reported = now - dt.timedelta(minutes=rng.randint(5, 600))
        leaf = rng.choice(leaves)
        cat = rng.choice(by_main[rng.choices(mains, weights)[0]])
        urgency = rng.choices([Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL], [88, 10, 2])[0]
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        codes = [c for c in leaf.path.strip("/").split("/") if c]
        center_code = next((c for c in reversed(codes[:3]) if c in centers), codes[0])
        center = centers[center_code]
        grid_path = "/" + "/".join(codes[:4]) + "/"
        worker = grid_workers.get(grid_path)
        lat = (leaf.centroid_lat or 0) + rng.uniform(-0.0004, 0.0004)
        lng = (leaf.centroid_lng or 0) + rng.uniform(-0.0004, 0.0004)
        community = names.get(codes[2], "") if len(codes) > 2 else ""
        case = Case(
            # The same numbering as a live report (a PostgreSQL sequence per district, the counter
            # on SQLite), so demo cases never take a number a service already gave or will give.
            number=next_case_number(district_code=codes[0], day=timezone.localtime(reported).date()),
            tracking_code="".join(rng.choice(TRACKING_ALPHABET) for _ in range(10)),
            source=source,
            category=cat,
            urgency=urgency,
            description=_describe(cat, community, rng),
            address=f"{community}{rng.randint(1, 40)}幢附近" if community else "",
            lat=lat,
            lng=lng,
            region_id=leaf.pk,
            region_path=leaf.path,
            center_id=center.pk,
            state=State.REPORTED,
            reporter=worker if source == Source.GRID_WORKER else None,
            reporter_name=(
                worker.label if worker and source == Source.GRID_WORKER else rng.choice("王李张刘陈杨") + "先生"
            ),
            reporter_phone="" if source == Source.GRID_WORKER else f"13{rng.randint(100000000, 999999999)}",
            reported_at=reported,
        )
        case.center = center
        sim = Sim(case)
        settle = (
            source == Source.GRID_WORKER
            and cat.parent
            and cat.parent.code in ("01", "05", "06")
            and rng.random() < 0.18
        )
        if settle and worker is not None:
            _settle(sim, worker, leaders.get(grid_path), now, rng, step_hours)
        else:
            lk = (cat.pk, urgency)
            if lk not in limits_cache:
                limits_cache[lk] = sla.limits_for(cat.pk, cat.parent_id, urgency)
            # Demo rules sit at the district and town levels, so the town decides the route.
            town_path = "/" + "/".join(codes[:2]) + "/"
            rk = (cat.pk, town_path)
            if rk not in route_cache:
                route_cache[rk] = route_for(category=cat, region_path=town_path)
            _walk(sim, limits_cache[lk], route_cache[rk], operators.get(center.pk), handlers, now, rng, step_hours)
        sims.append(sim)

    _merge_some(sims, now, rng)
    cases = [s.case for s in sims]
    # Merged duplicates point at cases of the same batch: insert those targets first.
    Case.objects.bulk_create([row for row in cases if row.state != State.MERGED], batch_size=1000)
    for row in cases:
        if row.state == State.MERGED:
            row.merged_into = row.merged_into  # re-read the now saved target's pk
    Case.objects.bulk_create([row for row in cases if row.state == State.MERGED], batch_size=1000)
    for s in sims:
        for e in s.events:
            e.case_id = s.case.pk
        for a in s.assignments:
            a.case_id = s.case.pk
    CaseEvent.objects.bulk_create([e for s in sims for e in s.events], batch_size=2000)
    CaseAssignment.objects.bulk_create([a for s in sims for a in s.assignments], batch_size=2000)
    _inbox(sims, handlers, operators, now)
    return len(cases)


def _work_time(at: dt.datetime, rng: random.Random) -> dt.datetime:
    local = timezone.localtime(at)
    if rng.random() < 0.8:
        local = local.replace(hour=rng.choice([9, 10, 11, 13, 14, 15, 16, 17]), minute=rng.randint(0, 59))
    return local


def _describe(cat: CaseCategory, community: str, rng: random.Random) -> str:
    words = [w for w in cat.keywords.replace("，", ",").split(",") if w] or [cat.name]
    picked = rng.sample(words, k=min(len(words), rng.choice([1, 2])))
    place = community or "辖区内"
    head = rng.choice(
        [f"{place}{rng.randint(1, 30)}幢附近", f"{place}主干道旁", f"{place}小区门口", f"{place}沿街店铺前"]
    )
    tail = rng.choice(TAILS)
    return f"{head}{'、'.join(picked)}问题（{cat.name}）" + (f"，{tail}" if tail else "") + "。"


def _event(
    sim: Sim,
    action: str,
    to: str,
    at: dt.datetime,
    actor: User | None,
    unit: str,
    *,
    note: str = "",
    public: str = "",
    is_public: bool = True,
    detail: dict[str, Any] | None = None,
) -> None:
    before = sim.case.state
    sim.case.state = to
    sim.events.append(
        CaseEvent(
            at=at,
            action=action,
            from_state="" if action in ("report", "settle") else before,
            to_state=to,
            actor=actor,
            actor_label=actor.label if actor else "",
            unit_label=unit,
            note=note,
            public_note=public,
            is_public=is_public,
            detail=detail or {},
        )
    )


def _step(case: Case, start: dt.datetime, deadline: dt.datetime | None, unit: str) -> None:
    case.deadline = deadline
    case.warn_at = sla.warn_instant(start, deadline, unit) if deadline else None


def _settle(sim: Sim, worker: User, leader: User | None, now: dt.datetime, rng: random.Random, step_hours: int) -> None:
    case = sim.case
    case.reporter = worker
    case.settled_on_spot = True
    case.result = rng.choice(["现场劝导，当事人已自行整改", "上门调解，双方达成一致", "已联系物业现场清理完毕"])
    case.handled_at = case.reported_at
    case.state = State.SETTLE_PENDING
    _event(
        sim,
        "settle",
        State.SETTLE_PENDING,
        case.reported_at,
        worker,
        worker.jurisdiction.name if worker.jurisdiction else "",
        note=case.result,
        public="问题已登记",
    )
    review = sla.add_working_seconds(case.reported_at, rng.uniform(0.3, 6) * 3600)
    if review > now or leader is None:
        _step(
            case,
            case.reported_at,
            sla.add_limit(case.reported_at, step_hours, LimitUnit.WORK_HOURS),
            LimitUnit.WORK_HOURS,
        )
        return
    case.closed_at = review
    _event(
        sim,
        "approve_settle",
        State.CLOSED,
        review,
        leader,
        leader.jurisdiction.name if leader.jurisdiction else "",
        public="已就地化解",
    )


def _walk(
    sim: Sim,
    limits: sla.Limits,
    route: Any,
    operator: User | None,
    handlers: dict[int, User],
    now: dt.datetime,
    rng: random.Random,
    step_hours: int,
) -> None:
    case = sim.case
    center_unit = f"{case.center.name}综治中心"
    _event(
        sim,
        "report",
        State.REPORTED,
        case.reported_at,
        case.reporter,
        str(Source(case.source).label),
        public="问题已登记",
    )

    def hold_at_center(start: dt.datetime) -> None:
        _step(case, start, sla.add_limit(start, step_hours, LimitUnit.WORK_HOURS), LimitUnit.WORK_HOURS)

    t = sla.add_working_seconds(case.reported_at, rng.uniform(0.1, 5) * 3600)
    if t > now:
        return hold_at_center(case.reported_at)
    if rng.random() < 0.03:
        case.closed_at = t
        _event(
            sim,
            "reject",
            State.REJECTED,
            t,
            operator,
            center_unit,
            note="不属于受理范围",
            public="不予受理：不属于受理范围",
        )
        return _step(case, t, None, LimitUnit.WORK_HOURS)
    case.accepted_at = t
    _event(sim, "accept", State.ACCEPTED, t, operator, center_unit, public="已受理")
    dispatched = sla.add_working_seconds(t, rng.uniform(0.05, 3) * 3600)
    if dispatched > now or route is None:
        return hold_at_center(t)
    dep: Department = route.department
    handler = handlers.get(dep.pk)
    case.department = dep
    case.dispatched_at = dispatched
    case.sign_deadline = sla.add_limit(dispatched, limits.sign_value, limits.sign_unit)
    case.handle_deadline = sla.add_limit(dispatched, limits.handle_value, limits.handle_unit)
    sim.assignments.append(CaseAssignment(department=dep, role=Assist.LEAD, assigned_at=dispatched))
    sim.assignments += [
        CaseAssignment(department=a, role=Assist.ASSIST, assigned_at=dispatched) for a in route.assist_departments
    ]
    _event(
        sim,
        "auto_dispatch" if route.auto_dispatch else "dispatch",
        State.DISPATCHED,
        dispatched,
        operator,
        center_unit,
        public=f"已派遣至{dep.name}办理",
        detail={"department": dep.code},
    )
    sign_span = (case.sign_deadline - dispatched).total_seconds()
    signed = dispatched + dt.timedelta(
        seconds=sign_span * rng.choice([rng.uniform(0.05, 0.9)] * 9 + [rng.uniform(1.05, 3)])
    )
    if signed > now:
        return _step(case, dispatched, case.sign_deadline, limits.sign_unit)
    case.signed_at, case.handler, case.signed_late = signed, handler, signed > case.sign_deadline
    _event(sim, "sign", State.HANDLING, signed, handler, dep.name, public=f"{dep.name}已签收")
    handle_span = (case.handle_deadline - dispatched).total_seconds()
    stall = rng.random() < 0.04  # a few never finish: overdue open cases
    handled = dispatched + dt.timedelta(
        seconds=handle_span
        * (rng.uniform(3, 6) if stall else rng.choice([rng.uniform(0.15, 0.95)] * 6 + [rng.uniform(1.02, 1.6)]))
    )
    handled = max(handled, signed + dt.timedelta(minutes=20))
    if handled > now:
        return _step(case, dispatched, case.handle_deadline, limits.handle_unit)
    case.handled_at = handled
    case.result = rng.choice(
        ["已安排人员现场处置完毕", "已责令整改并复查到位", "已联系相关单位处理", "已调解，双方达成协议"]
    )
    case.public_reply = "您反映的问题已处理，感谢监督。"
    _event(
        sim,
        "handle",
        State.HANDLED,
        handled,
        handler,
        dep.name,
        note=case.result,
        public=f"{dep.name}已处理完毕：{case.public_reply}",
    )
    verified = sla.add_working_seconds(handled, rng.uniform(0.2, 5) * 3600)
    if verified > now:
        return hold_at_center(handled)
    if rng.random() < 0.05:
        case.rework_count = 1
        _event(
            sim,
            "rework",
            State.HANDLING,
            verified,
            operator,
            center_unit,
            note="现场复核未整改到位",
            public="处置结果未通过核查，正在返工",
        )
        return _step(case, dispatched, case.handle_deadline, limits.handle_unit)
    _event(sim, "verify", State.VERIFIED, verified, operator, center_unit, public="处置结果已核查")
    closed = sla.add_working_seconds(verified, rng.uniform(0.05, 3) * 3600)
    if closed > now:
        return hold_at_center(verified)
    case.closed_at = closed
    _event(sim, "close", State.CLOSED, closed, operator, center_unit, public="已办结，欢迎评价")
    _step(case, closed, None, LimitUnit.WORK_HOURS)
    rated = closed + dt.timedelta(hours=rng.uniform(2, 60))
    if rated > now or rng.random() < 0.3:
        return None
    score = rng.choices([5, 4, 3, 2, 1], [60, 24, 11, 3, 2])[0]
    case.satisfaction, case.rated_at = score, rated
    if score >= 3:
        _event(
            sim,
            "rate",
            State.CLOSED,
            rated,
            operator,
            center_unit,
            public="回访评价已记录",
            detail={"score": score, "by": "follow_up"},
        )
        return None
    case.supervised = case.supervision_listed = True
    case.supervision_note = "群众不满意，转督办"
    case.closed_at = None
    _event(
        sim,
        "rate",
        State.SUPERVISING,
        rated,
        operator,
        center_unit,
        public="您对办理结果仍不满意，已转督办",
        detail={"score": score},
    )
    return hold_at_center(rated)


def _merge_some(sims: list[Sim], now: dt.datetime, rng: random.Random) -> None:
    """A few open reports turn out to repeat an earlier case nearby: merge them."""
    merged = 0
    for i in range(1, len(sims)):
        s = sims[i]
        if s.case.state != State.REPORTED or rng.random() > 0.25 or merged > len(sims) // 60:
            continue
        target = sims[i - 1].case
        if (
            target.state not in (State.DISPATCHED, State.HANDLING, State.ACCEPTED)
            or target.reported_at > s.case.reported_at
        ):
            continue
        s.case.region_id, s.case.region_path, s.case.category = target.region_id, target.region_path, target.category
        s.case.center_id, s.case.lat, s.case.lng = target.center_id, target.lat, target.lng
        s.case.merged_into = target
        s.case.closed_at = min(now, s.case.reported_at + dt.timedelta(hours=1))
        _event(
            s,
            "merge",
            State.MERGED,
            s.case.closed_at,
            None,
            "综治中心",
            public=f"与案件 {target.number} 反映的是同一问题，已合并办理",
        )
        _step(s.case, s.case.closed_at, None, LimitUnit.WORK_HOURS)
        merged += 1


def _inbox(sims: list[Sim], handlers: dict[int, User], operators: dict[int, User], now: dt.datetime) -> None:
    rows = []
    for s in sorted(sims, key=lambda s: s.case.reported_at, reverse=True):
        c = s.case
        if c.state == State.DISPATCHED and c.department_id in handlers:
            rows.append(
                Notification(
                    user=handlers[c.department_id],  # type: ignore[index]
                    case_id=c.pk,
                    kind=NotificationKind.OVERDUE if c.deadline and c.deadline < now else NotificationKind.ASSIGNED,
                    title=f"新派遣案件：{c.number}（{c.category.name}）",
                    body=c.description[:100],
                    created_at=c.dispatched_at or now,
                )
            )
        elif c.state == State.REPORTED and c.center_id in operators and len(rows) < 400:
            rows.append(
                Notification(
                    user=operators[c.center_id],
                    case_id=c.pk,
                    kind=NotificationKind.ASSIGNED,
                    title=f"新上报案件：{c.number}",
                    body=c.description[:100],
                    created_at=c.reported_at,
                )
            )
    Notification.objects.bulk_create(rows[:600], batch_size=1000)
