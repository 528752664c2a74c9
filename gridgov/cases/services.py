"""Every write to a case: one function per action of the transition table (states.py).

Each action is one transaction: lock the case row (`select_for_update`), check the optional
`expected_version`, check who may act and from which state, then change the case with a
conditional UPDATE on its version (a second guard where the database cannot lock rows, such as
SQLite), and append a timeline row. Two people acting at once: the first commits, the second is
refused with `Conflict` (409). Notifications go out after commit (notify.py).

Service names are stable; other apps (Open311, 12345, dashboards, mediation) call them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction

from gridgov.accounts.models import Department, Role, User
from gridgov.common import clock
from gridgov.common.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from gridgov.regions.models import Level, Region
from gridgov.regions.spatial import get_locator

from . import config, fastsave, notify, numbering, sla
from .conf import conf
from .models import (
    FINAL_STATES,
    Assist,
    Case,
    CaseAssignment,
    CaseCategory,
    CaseEvent,
    CasePhoto,
    LimitUnit,
    NotificationKind,
    PhotoKind,
    Source,
    State,
    Urgency,
)
from .photos import Upload, clean_photos
from .routing import route_for
from .states import PARTY_LABELS, PARTY_ROLES, REPORTING_ROLES, Party, transition

DESCRIPTION_MIN, DESCRIPTION_MAX = 5, 4000
REASON_MIN = 2
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone

# Which channels a staff role may record a report under.
ROLE_SOURCES: dict[str, set[str]] = {
    Role.GRID_WORKER: {Source.GRID_WORKER, Source.INSPECTION},
    Role.GRID_LEADER: {Source.GRID_WORKER, Source.INSPECTION},
    Role.MICROGRID_WORKER: {Source.MICROGRID_WORKER},
    Role.DEPARTMENT_LIAISON: {Source.DEPARTMENT, Source.INSPECTION, Source.GRID_WORKER},
    Role.DEPARTMENT_HANDLER: {Source.DEPARTMENT, Source.INSPECTION},
    Role.CENTER_OPERATOR: set(Source.values),
}
# Channels that arrive without a staff account (the public page, integration adapters).
ANONYMOUS_SOURCES = {
    Source.CITIZEN,
    Source.HOTLINE_12345,
    Source.POLICE_110,
    Source.ONLINE_OPINION,
    Source.SENSOR,
}
DEFAULT_SOURCE: dict[str, str] = {
    Role.GRID_WORKER: Source.GRID_WORKER,
    Role.GRID_LEADER: Source.GRID_WORKER,
    Role.MICROGRID_WORKER: Source.MICROGRID_WORKER,
    Role.DEPARTMENT_LIAISON: Source.DEPARTMENT,
    Role.DEPARTMENT_HANDLER: Source.DEPARTMENT,
    Role.CENTER_OPERATOR: Source.HOTLINE_12345,
}


class InvalidTransition(Conflict):
    """The action is not allowed from the case's current state (often: someone acted first)."""


# --- who may ---------------------------------------------------------------------------------


def _codes(path: str) -> list[str]:
    return [c for c in path.strip("/").split("/") if c]


def _jurisdiction_path(user: User) -> str:
    return user.jurisdiction.path if user.jurisdiction_id and user.jurisdiction else ""


def parties_of(user: User | None, case: Case, *, tracking_code: str | None = None) -> set[Party]:
    """The relations the user has to the case, from role + jurisdiction + assignment."""
    out: set[Party] = set()
    if user is None:
        if tracking_code and secrets.compare_digest(tracking_code.strip().upper(), case.tracking_code):
            out.add(Party.REPORTER)
        return out
    if not user.is_active:
        return out
    role = user.role
    if role == Role.CENTER_OPERATOR and user.jurisdiction_id:
        if user.jurisdiction_id == case.center_id:
            out.add(Party.CENTER)
        if case.center.path.startswith(_jurisdiction_path(user)):
            out.add(Party.SUPERIOR_CENTER)
    if role == Role.DEPARTMENT_HANDLER and user.department_id and user.department and user.department.is_active:
        if user.department_id == case.department_id:
            out.add(Party.LEAD_HANDLER)
        if case.assignments.filter(department_id=user.department_id, active=True).exists():
            out.add(Party.UNIT_MEMBER)
    if role in (Role.GRID_LEADER, Role.GRID_WORKER) and user.jurisdiction_id:
        path = _jurisdiction_path(user)
        if path and case.region_path.startswith(path) and user.jurisdiction.level == Level.GRID:  # type: ignore[union-attr]
            out.add(Party.GRID_TEAM)
            if role == Role.GRID_LEADER:
                out.add(Party.GRID_LEADER)
    if case.reporter_id and case.reporter_id == user.pk:
        out.add(Party.REPORTER)
    if role == Role.MEDIATOR and user.jurisdiction_id:
        path = _jurisdiction_path(user)
        if path and case.region_path.startswith(path):
            out.add(Party.MEDIATOR)
    return out


def _refusal(action: str, action_label: str, party: Party, case: Case) -> PermissionRefused:
    if party in (Party.CENTER, Party.SUPERIOR_CENTER):
        return PermissionRefused(
            f"该案件由「{case.center.name}」承办，只有{PARTY_LABELS[party]}可以{action_label}",
            rule=f"cases.{action}.jurisdiction",
        )
    if party in (Party.LEAD_HANDLER, Party.UNIT_MEMBER):
        unit = case.department.name if case.department_id and case.department else "（尚未派遣）"
        return PermissionRefused(
            f"该案件的主办单位是「{unit}」，只有{PARTY_LABELS[party]}可以{action_label}",
            rule=f"cases.{action}.unit",
        )
    if party in (Party.GRID_LEADER, Party.GRID_TEAM):
        return PermissionRefused(
            f"只有{PARTY_LABELS[party]}可以{action_label}，该案件不在您的网格内", rule=f"cases.{action}.jurisdiction"
        )
    return PermissionRefused(f"只有{PARTY_LABELS[party]}可以{action_label}", rule=f"cases.{action}.reporter")


def check_may(actor: User | None, case: Case, action: str, *, tracking_code: str | None = None) -> set[Party]:
    """Refuse (403 / 409) unless `actor` may perform `action` on `case` now; return the parties
    through which they may. Order: role, then state, then jurisdiction / unit."""
    t = transition(action)
    label = str(t.label)
    if actor is not None:
        if not actor.is_active:
            raise PermissionRefused("账号已停用", rule="accounts.inactive")
        roles = set().union(*(PARTY_ROLES[p] for p in t.parties))
        if actor.role not in roles and not (Party.REPORTER in t.parties and case.reporter_id == actor.pk):
            allowed = "、".join(dict.fromkeys(str(PARTY_LABELS[p]) for p in t.parties))
            raise PermissionRefused(
                f"「{label}」须由{allowed}办理，您的角色（{actor.get_role_display()}）不能办理",
                rule=f"cases.{action}.role",
            )
    if not t.allows_state(case.state):
        raise InvalidTransition(
            f"案件 {case.number} 当前状态为「{State(case.state).label}」，不能{label}（可能已被他人处理，请刷新）",
            rule=f"cases.{action}.state",
        )
    parties = parties_of(actor, case, tracking_code=tracking_code) & set(t.parties)
    if not parties:
        # Name the relation the actor's role could have had.
        candidates = [p for p in t.parties if actor is None or actor.role in PARTY_ROLES[p]] or list(t.parties)
        raise _refusal(action, label, candidates[0], case)
    return parties


def allowed_actions(actor: User | None, case: Case) -> list[str]:
    """The actions the actor may take on the case now (for buttons and the API)."""
    from .states import MEDIATION_ACTIONS, actions_from

    out = []
    for t in actions_from(case.state):
        if t.action in MEDIATION_ACTIONS:
            continue
        try:
            check_may(actor, case, t.action)
        except (PermissionRefused, Conflict):
            continue
        if t.action == "request_extension" and case.extension_pending:
            continue
        if t.action in ("approve_extension", "refuse_extension") and not case.extension_pending:
            continue
        if t.action == "rate" and case.satisfaction is not None:
            continue
        out.append(t.action)
    return out


# --- helpers -----------------------------------------------------------------------------------


def _lock(case: Case, expected_version: int | None) -> Case:
    try:
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("center", "department", "category", "region")
            .get(pk=case.pk)
        )
    except Case.DoesNotExist as exc:
        raise NotFound("案件不存在") from exc
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"案件 {locked.number} 已被他人更新（当前状态：{State(locked.state).label}），请刷新后重试",
            rule="cases.version",
        )
    return locked


def _save(case: Case, fields: Sequence[str]) -> None:
    """Write `fields` only if nobody bumped the version since we read it."""
    old = case.version
    values: dict[str, Any] = {f: getattr(case, f) for f in dict.fromkeys(fields)}
    values["version"] = old + 1
    values["updated_at"] = clock.now()
    if Case.objects.filter(pk=case.pk, version=old).update(**values) != 1:
        raise Conflict(f"案件 {case.number} 已被他人更新，请刷新后重试", rule="cases.version")
    case.version = old + 1


def _unit_label(actor: User | None) -> str:
    if actor is None:
        return ""
    if actor.role == Role.DEPARTMENT_HANDLER and actor.department:
        return actor.department.name
    if actor.jurisdiction:
        if actor.role == Role.CENTER_OPERATOR:
            return f"{actor.jurisdiction.name}综治中心"
        return actor.jurisdiction.name
    return ""


def _event(
    case: Case,
    *,
    action: str,
    from_state: str,
    actor: User | None,
    at: dt.datetime,
    note: str = "",
    public_note: str = "",
    is_public: bool = True,
    detail: dict[str, Any] | None = None,
    unit_label: str | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        at=at,
        action=action,
        from_state=from_state,
        to_state=case.state,
        actor=actor,
        actor_label=(actor.label if actor else "")[:150],
        unit_label=(unit_label if unit_label is not None else _unit_label(actor))[:150],
        note=note,
        public_note=public_note[:500],
        is_public=is_public,
        detail=detail or {},
    )
    fastsave.insert(event)  # the INSERT and post_save (rollups, outbox) as CaseEvent.save() would
    return event


def _text(value: str, field: str, label: str, *, minimum: int = REASON_MIN, maximum: int = 500) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationFailed(f"请填写{label}", field=field, rule=f"cases.{field}.required")
    if len(value) > maximum:
        raise ValidationFailed(f"{label}不能超过 {maximum} 字", field=field)
    return value


def _center_step_deadline(case: Case, now: dt.datetime) -> None:
    """Centre steps (accept, dispatch, verify, close, review) run on the centre's step limit."""
    hours = sla.dispatch_limit_hours()
    deadline = sla.add_limit(now, hours, LimitUnit.WORK_HOURS)
    _set_step(case, now, deadline, LimitUnit.WORK_HOURS)


def _set_step(case: Case, start: dt.datetime, deadline: dt.datetime | None, unit: str) -> None:
    case.deadline = deadline
    case.warn_at = sla.warn_instant(start, deadline, unit) if deadline else None
    case.warned_at = None
    case.overdue_notified_at = None


STEP_FIELDS = ["deadline", "warn_at", "warned_at", "overdue_notified_at"]


def _limits(case: Case) -> sla.Limits:
    return sla.limits_for(case.category_id, case.category.parent_id, case.urgency)


def _store_photos(case: Case, uploads: Sequence[Upload], kind: str, actor: User | None, now: dt.datetime) -> int:
    cleaned = clean_photos(list(uploads))
    for photo in cleaned:
        CasePhoto.objects.create(
            case=case,
            kind=kind,
            image=photo.content,
            width=photo.width,
            height=photo.height,
            size=photo.size,
            sha256=photo.sha256,
            uploaded_by=actor,
            uploaded_at=now,
        )
    return len(cleaned)


def next_case_number(*, district_code: str, day: dt.date) -> str:
    """330109-20261122-000123: district, local date of the report, daily sequence (numbering.py:
    unique and increasing, one statement, no lock held to commit on PostgreSQL)."""
    return numbering.next_case_number(district_code=district_code, day=day)


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def center_for(region_path: str) -> Region:
    """The centre that receives a new case: the nearest of community → street → district that
    has an active operator (村 centres where they are staffed, otherwise the town, then the district).
    Staffing and region rows come from the process's configuration cache (config.py)."""
    snap = config.snapshot()
    codes = _codes(region_path)[:3]
    staffed = snap.catalogue.staffed
    chosen = next((c for c in reversed(codes) if c in staffed), codes[0])
    region = snap.regions([chosen]).get(chosen)
    if region is None:
        raise Region.DoesNotExist(f"region {chosen} does not exist")
    return region


def _leaf_category(category: CaseCategory | int | None) -> CaseCategory:
    if category is None:
        raise ValidationFailed("请选择事件类别", field="category")
    snap = config.snapshot()
    cat_id = category if isinstance(category, int) else category.pk
    cat = snap.category(cat_id)
    if cat is None or not cat.is_active:
        raise ValidationFailed("事件类别不存在或已停用", field="category")
    if not snap.is_leaf(cat.pk):
        raise ValidationFailed("请选择具体的小类", field="category", rule="cases.category.leaf")
    return cat  # type: ignore[no-any-return]


LOCATION_OUTSIDE = "该位置不在本平台辖区的任何网格内"


def locate_point(lat: float, lng: float) -> Region | None:
    """Point → micro-grid (or childless grid) as `regions.selectors.region_locate` answers it, with
    the index's version and the region row from the configuration snapshot (no query of its own)."""
    snap = config.snapshot()
    leaf = get_locator(version=snap.token("locator") or "").locate(lat, lng)
    if leaf is None:
        return None
    return snap.regions([leaf.code]).get(leaf.code)  # type: ignore[no-any-return]


class _TrackingCodeTaken(Exception):
    pass


# --- report ------------------------------------------------------------------------------------


def case_report(
    *,
    actor: User | None,
    category: CaseCategory | int | None,
    description: str,
    source: str | None = None,
    urgency: str = Urgency.NORMAL,
    lat: float | None = None,
    lng: float | None = None,
    region: Region | None = None,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    photos: Sequence[Upload] = (),
    settle: bool = False,
    settle_result: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """上报: a new case from any channel. With `settle=True` a grid worker reports a case already
    settled on the spot in their own grid (result + proof photos), for the grid leader to approve.

    One transaction. Configuration (categories, staffed centres, region rows) comes from one
    snapshot of the process caches (config.py); the case number is drawn just before the INSERT.
    A tracking-code collision (1 in 32^10) is retried: under a savepoint when called inside an
    outer transaction, otherwise by running the whole transaction again (no savepoint round trips
    on the common path)."""
    args: dict[str, Any] = {
        "actor": actor,
        "category": category,
        "description": description,
        "source": source,
        "urgency": urgency,
        "lat": lat,
        "lng": lng,
        "region": region,
        "address": address,
        "reporter_name": reporter_name,
        "reporter_phone": reporter_phone,
        "photos": photos,
        "settle": settle,
        "settle_result": settle_result,
        "now": now,
    }
    with config.use(config.snapshot()):
        if connection.in_atomic_block:
            return _case_report(guard_insert=True, **args)
        one_statement = (
            connection.vendor == "postgresql" and not photos and not settle and conf("CASE_INTAKE_ONE_STATEMENT")
        )
        for _ in range(3):
            try:
                if one_statement:
                    try:
                        return _case_report_in_one_statement(args)
                    except fastsave.BatchUnsupported:
                        one_statement = False
                return _case_report(guard_insert=False, **args)
            except _TrackingCodeTaken:
                continue
    raise Conflict("生成查询码失败，请重试")


def _case_report_in_one_statement(args: dict[str, Any]) -> Case:
    """The report as one statement on PostgreSQL (fastsave.one_statement): case, timeline row,
    live row and day rows in one round trip and one transaction, the number drawn inside it.
    `BatchUnsupported` (nothing sent) sends the caller the ordinary way."""
    try:
        with fastsave.one_statement():
            return _case_report_body(guard_insert=False, **args)
    except IntegrityError as exc:
        if "tracking_code" in str(exc):
            raise _TrackingCodeTaken from exc
        if '"number"' in str(exc):  # no base row for the day any more (a flushed database)
            numbering.forget_started()
            raise fastsave.BatchUnsupported("case number") from exc
        raise


def _case_report_body(
    *,
    guard_insert: bool,
    actor: User | None,
    category: CaseCategory | int | None,
    description: str,
    source: str | None,
    urgency: str,
    lat: float | None,
    lng: float | None,
    region: Region | None,
    address: str,
    reporter_name: str,
    reporter_phone: str,
    photos: Sequence[Upload],
    settle: bool,
    settle_result: str,
    now: dt.datetime | None,
) -> Case:
    now = now or clock.now()
    errors: dict[str, list[str]] = {}
    if actor is not None:
        if not actor.is_active:
            raise PermissionRefused("账号已停用", rule="accounts.inactive")
        if actor.role not in REPORTING_ROLES:
            raise PermissionRefused(
                f"{actor.get_role_display()}不能上报事件（领导只读，管理员只做配置）", rule="cases.report.role"
            )
        source = source or DEFAULT_SOURCE.get(actor.role, Source.GRID_WORKER)
        if source not in ROLE_SOURCES.get(actor.role, set()):
            errors["source"] = [f"{actor.get_role_display()}不能以「{Source(source).label}」渠道上报"]
    else:
        source = source or Source.CITIZEN
        if source not in ANONYMOUS_SOURCES:
            errors["source"] = ["该渠道需要登录后上报"]
    if source not in Source.values:
        errors["source"] = [f"未知来源 {source!r}"]
    if urgency not in Urgency.values:
        errors["urgency"] = [f"未知紧急程度 {urgency!r}"]
    description = (description or "").strip()
    if len(description) < DESCRIPTION_MIN:
        errors["description"] = [f"请描述问题（至少 {DESCRIPTION_MIN} 个字）"]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"描述不能超过 {DESCRIPTION_MAX} 字"]
    address = (address or "").strip()
    if len(address) > 200:
        errors["address"] = ["地址不能超过 200 字"]
    reporter_phone = (reporter_phone or "").strip()
    if reporter_phone and not (reporter_phone.replace("-", "").isdigit() and 7 <= len(reporter_phone) <= 20):
        errors["reporter_phone"] = ["电话号码格式不正确"]
    try:
        cat = _leaf_category(category)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        cat = None

    place: Region | None = None
    if lat is not None or lng is not None:
        if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
            errors["location"] = ["经纬度不完整或超出范围"]
        else:
            place = locate_point(lat, lng)
            if place is None:
                errors["location"] = [LOCATION_OUTSIDE]
    elif region is not None:
        if region.level not in (Level.GRID, Level.MICROGRID):
            errors["region"] = ["请选择网格或微网格"]
        else:
            place = region
        if not address:
            errors.setdefault("address", []).append("未定位时请填写地址")
    else:
        errors["location"] = ["请在地图上定位，或选择所在网格并填写地址"]

    if settle:
        if actor is None or actor.role not in (Role.GRID_WORKER, Role.GRID_LEADER):
            raise PermissionRefused("只有网格员可以就地化解", rule="cases.settle.role")
        if place is not None and not place.path.startswith(_jurisdiction_path(actor)):
            raise PermissionRefused("只能就地化解本人网格内的事件", rule="cases.settle.jurisdiction")
        if len((settle_result or "").strip()) < REASON_MIN:
            errors["settle_result"] = ["请填写化解情况"]
        if not photos:
            errors.setdefault("photos", []).append("就地化解须上传佐证照片")
    if errors:
        raise ValidationFailed("上报信息有误", errors=errors)
    assert place is not None and cat is not None

    state = State.SETTLE_PENDING if settle else State.REPORTED
    district_code = _codes(place.path)[0]
    case = Case(
        tracking_code=new_tracking_code(),
        source=source,
        category=cat,
        urgency=urgency,
        description=description,
        address=address,
        lat=lat,
        lng=lng,
        region=place,
        region_path=place.path,
        center=center_for(place.path),
        state=state,
        reporter=actor,
        reporter_name=(reporter_name or (actor.label if actor else "")).strip()[:50],
        reporter_phone=reporter_phone or (actor.phone if actor else ""),
        reported_at=now,
    )
    if settle:
        case.settled_on_spot = True
        case.result = settle_result.strip()
        case.handled_at = now
    _center_step_deadline(case, now)
    # Drawn last, right before the INSERT (numbering.py); in one statement, by the INSERT itself.
    if fastsave.batching():
        case.__dict__["number"] = numbering.number_expr(district_code=district_code, day=sla_local_date(now))
    else:
        case.number = next_case_number(district_code=district_code, day=sla_local_date(now))
    if guard_insert:
        for _ in range(3):
            try:
                with transaction.atomic():
                    fastsave.insert(case)
                break
            except IntegrityError:  # a tracking-code collision (1 in 32^10); draw again
                case.pk = None
                case.tracking_code = new_tracking_code()
        else:
            raise Conflict("生成查询码失败，请重试")
    else:
        try:
            fastsave.insert(case)
        except IntegrityError as exc:
            if "tracking_code" in str(exc):
                raise _TrackingCodeTaken from exc
            raise
    n_photos = _store_photos(case, photos, PhotoKind.PROOF if settle else PhotoKind.REPORT, actor, now)
    _event(
        case,
        action="settle" if settle else "report",
        from_state="",
        actor=actor,
        at=now,
        note=case.result if settle else "",
        public_note="您反映的问题已登记，请凭查询码跟踪办理进度" if source == Source.CITIZEN else "问题已登记",
        detail={"source": source, "photos": n_photos, "category": cat.code},
        unit_label=_unit_label(actor) if actor else str(Source(source).label),
    )
    if settle:
        notify.notify(
            kind=NotificationKind.TO_REVIEW,
            case=case,
            users=notify.grid_leaders_of(case.region_path),
            title=f"就地化解待审核：{case.number}",
            body=description[:120],
        )
    return case


_case_report = transaction.atomic(_case_report_body)


def sla_local_date(at: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(at).date()


# --- centre actions ------------------------------------------------------------------------------


@transaction.atomic
def case_accept(*, actor: User, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    """受理. When a routing rule for the category and place says so, dispatch follows at once."""
    case = _lock(case, expected_version)
    check_may(actor, case, "accept")
    now = clock.now()
    before = case.state
    case.state = State.ACCEPTED
    case.accepted_at = now
    _center_step_deadline(case, now)
    _save(case, ["state", "accepted_at", *STEP_FIELDS])
    _event(case, action="accept", from_state=before, actor=actor, at=now, note=note.strip(), public_note="已受理")
    route = route_for(category=case.category, region_path=case.region_path)
    if route and route.auto_dispatch:
        _dispatch_to_department(
            case,
            actor=actor,
            department=route.department,
            assists=list(route.assist_departments),
            note=f"按派遣规则 #{route.rule_id} 自动派遣",
            now=now,
            action="auto_dispatch",
        )
    return case


@transaction.atomic
def case_reject(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """不予受理 (reason required; the reporter sees it)."""
    case = _lock(case, expected_version)
    check_may(actor, case, "reject")
    reason = _text(reason, "reason", "不予受理的理由")
    now = clock.now()
    before = case.state
    case.state = State.REJECTED
    case.closed_at = now
    _set_step(case, now, None, LimitUnit.WORK_HOURS)
    _save(case, ["state", "closed_at", *STEP_FIELDS])
    _event(
        case, action="reject", from_state=before, actor=actor, at=now, note=reason, public_note=f"不予受理：{reason}"
    )
    return case


@transaction.atomic
def case_merge(*, actor: User, case: Case, into: Case, note: str = "", expected_version: int | None = None) -> Case:
    """合并: a duplicate joins an earlier open case; both reporters are told."""
    if into.pk == case.pk:
        raise ValidationFailed("不能与自身合并", field="into")
    # Lock both rows in id order so two merges of the same pair cannot deadlock.
    first, second = sorted([case, into], key=lambda c: c.pk)
    locked = {c.pk: c for c in (_lock(first, None), _lock(second, None))}
    case, target = locked[case.pk], locked[into.pk]
    if expected_version is not None and case.version != expected_version:
        raise Conflict(f"案件 {case.number} 已被他人更新，请刷新后重试", rule="cases.version")
    check_may(actor, case, "merge")
    if target.state in FINAL_STATES or target.state == State.SETTLE_PENDING:
        raise ValidationFailed(
            f"目标案件 {target.number} 已「{State(target.state).label}」，只能合并到办理中的案件",
            field="into",
            rule="cases.merge.target_open",
        )
    if (target.reported_at, target.pk) > (case.reported_at, case.pk):
        raise ValidationFailed("只能合并到更早上报的案件", field="into", rule="cases.merge.earlier")
    if not target.region_path.startswith(_jurisdiction_path(actor)):
        raise PermissionRefused("目标案件不在您的辖区", rule="cases.merge.jurisdiction")
    now = clock.now()
    before = case.state
    case.state = State.MERGED
    case.merged_into = target
    case.closed_at = now
    _set_step(case, now, None, LimitUnit.WORK_HOURS)
    _save(case, ["state", "merged_into_id", "closed_at", *STEP_FIELDS])
    _event(
        case,
        action="merge",
        from_state=before,
        actor=actor,
        at=now,
        note=note.strip(),
        public_note=f"与案件 {target.number} 反映的是同一问题，已合并办理，可凭原查询码继续跟踪",
        detail={"into": target.number},
    )
    _event(
        target,
        action="note",
        from_state=target.state,
        actor=actor,
        at=now,
        note=f"合并重复件 {case.number}",
        public_note="其他群众反映了同一问题，已合并办理",
        detail={"merged": case.number},
    )
    for c in (case, target):
        notify.notify(
            kind=NotificationKind.MERGED,
            case=c,
            users=[c.reporter_id] if c.reporter_id else [],
            phones=[c.reporter_phone] if c.source == Source.CITIZEN else [],
            title=f"案件 {case.number} 已合并至 {target.number}",
            body="同一问题的多次反映将合并办理",
        )
    return case


@transaction.atomic
def case_escalate(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """上报上级: the parent centre takes the case over (村 → 镇 → 区)."""
    case = _lock(case, expected_version)
    check_may(actor, case, "escalate")
    reason = _text(reason, "reason", "上报理由")
    parent = case.center.parent
    if parent is None:
        raise ValidationFailed("已是最高一级中心，不能再上报", rule="cases.escalate.top")
    now = clock.now()
    before = case.state
    old_center = case.center
    case.state = State.REPORTED
    case.center = parent
    _center_step_deadline(case, now)
    _save(case, ["state", "center_id", *STEP_FIELDS])
    _event(
        case,
        action="escalate",
        from_state=before,
        actor=actor,
        at=now,
        note=reason,
        public_note="已转上级中心办理",
        detail={"from": old_center.code, "to": parent.code},
    )
    notify.notify(
        kind=NotificationKind.ASSIGNED,
        case=case,
        users=notify.operators_of(parent.pk),
        title=f"下级上报案件：{case.number}",
        body=reason[:200],
    )
    return case


def _check_department(department: Department, case: Case, field: str) -> None:
    if not department.is_active:
        raise ValidationFailed(f"「{department.name}」已停用", field=field)
    if not case.region_path.startswith(department.region.path):
        raise ValidationFailed(
            f"「{department.name}」的服务辖区不包含案件所在地", field=field, rule="cases.dispatch.mandate"
        )


def _dispatch_to_department(
    case: Case,
    *,
    actor: User,
    department: Department,
    assists: Sequence[Department],
    note: str,
    now: dt.datetime,
    action: str = "dispatch",
) -> None:
    _check_department(department, case, "department")
    assist_list = list({d.pk: d for d in assists if d.pk != department.pk}.values())
    for d in assist_list:
        _check_department(d, case, "assist_departments")
    limits = _limits(case)
    before = case.state
    CaseAssignment.objects.filter(case=case, active=True).update(active=False)
    CaseAssignment.objects.bulk_create(
        [CaseAssignment(case=case, department=department, role=Assist.LEAD, assigned_at=now)]
        + [CaseAssignment(case=case, department=d, role=Assist.ASSIST, assigned_at=now) for d in assist_list]
    )
    case.state = State.DISPATCHED
    case.department = department
    case.handler = None
    case.dispatched_at = now
    case.signed_at = None
    case.signed_late = False
    case.sign_deadline = sla.add_limit(now, limits.sign_value, limits.sign_unit)
    case.handle_deadline = sla.add_limit(now, limits.handle_value, limits.handle_unit)
    case.extension_pending = False
    _set_step(case, now, case.sign_deadline, limits.sign_unit)
    _save(
        case,
        [
            "state",
            "department_id",
            "handler_id",
            "dispatched_at",
            "signed_at",
            "signed_late",
            "sign_deadline",
            "handle_deadline",
            "extension_pending",
            *STEP_FIELDS,
        ],
    )
    names = "、".join(d.name for d in assist_list)
    _event(
        case,
        action=action,
        from_state=before,
        actor=actor,
        at=now,
        note=note,
        public_note=f"已派遣至{department.name}办理" + (f"，{names}协办" if names else ""),
        detail={
            "department": department.code,
            "assist": [d.code for d in assist_list],
            "sign_deadline": case.sign_deadline.isoformat(),
            "handle_deadline": case.handle_deadline.isoformat(),
            "limits": [limits.sign_label(), limits.handle_label()],
        },
    )
    notify.notify(
        kind=NotificationKind.ASSIGNED,
        case=case,
        users=notify.handlers_of([department.pk, *(d.pk for d in assist_list)]),
        title=f"新派遣案件：{case.number}（{case.category.name}）",
        body=f"请于 {sla_local(case.sign_deadline)} 前签收。{case.description[:80]}",
    )


def sla_local(at: dt.datetime | None) -> str:
    from django.utils import timezone

    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


@transaction.atomic
def case_dispatch(
    *,
    actor: User,
    case: Case,
    department: Department | None = None,
    assist_departments: Sequence[Department] = (),
    center: Region | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """派遣: to a lead department (with co-handling units), or down to a lower centre."""
    case = _lock(case, expected_version)
    check_may(actor, case, "dispatch")
    if (department is None) == (center is None):
        raise ValidationFailed(
            "请选择一个主办单位，或一个下级中心",
            errors={"department": ["请选择主办单位或下级中心（二选一）"]},
            rule="cases.dispatch.target",
        )
    now = clock.now()
    if department is not None:
        _dispatch_to_department(
            case, actor=actor, department=department, assists=assist_departments, note=note.strip(), now=now
        )
        return case
    assert center is not None
    if not (center.path.startswith(case.center.path) and center.pk != case.center_id):
        raise ValidationFailed("只能派遣到本中心的下级中心", field="center", rule="cases.dispatch.lower_center")
    if center.level not in (Level.STREET, Level.COMMUNITY) or not case.region_path.startswith(center.path):
        raise ValidationFailed("案件所在地不在该中心辖区内", field="center", rule="cases.dispatch.lower_center")
    if not notify.operators_of(center.pk).exists():
        raise ValidationFailed(f"「{center.name}」没有在岗的中心坐席", field="center")
    before = case.state
    case.state = State.ACCEPTED
    case.center = center
    _center_step_deadline(case, now)
    _save(case, ["state", "center_id", *STEP_FIELDS])
    _event(
        case,
        action="dispatch",
        from_state=before,
        actor=actor,
        at=now,
        note=note.strip(),
        public_note=f"已交{center.name}办理",
        detail={"center": center.code},
    )
    notify.notify(
        kind=NotificationKind.ASSIGNED,
        case=case,
        users=notify.operators_of(center.pk),
        title=f"上级交办案件：{case.number}",
        body=case.description[:120],
    )
    return case


# --- department actions ----------------------------------------------------------------------------


@transaction.atomic
def case_sign(*, actor: User, case: Case, expected_version: int | None = None) -> Case:
    """签收 by a handler of the lead department; the completion clock is already running."""
    case = _lock(case, expected_version)
    check_may(actor, case, "sign")
    now = clock.now()
    before = case.state
    limits = _limits(case)
    case.state = State.HANDLING
    case.signed_at = now
    case.handler = actor
    case.signed_late = bool(case.sign_deadline and now > case.sign_deadline)
    assert case.dispatched_at is not None
    _set_step(case, case.dispatched_at, case.handle_deadline, limits.handle_unit)
    _save(case, ["state", "signed_at", "handler_id", "signed_late", *STEP_FIELDS])
    _event(
        case,
        action="sign",
        from_state=before,
        actor=actor,
        at=now,
        public_note=f"{case.department.name if case.department else ''}已签收",
        detail={"late": case.signed_late},
    )
    return case


@transaction.atomic
def case_return(*, actor: User, case: Case, grounds: str, expected_version: int | None = None) -> Case:
    """回退 to the dispatching centre, with grounds (驳单依据)."""
    case = _lock(case, expected_version)
    check_may(actor, case, "return")
    grounds = _text(grounds, "grounds", "回退依据")
    now = clock.now()
    before = case.state
    department = case.department
    CaseAssignment.objects.filter(case=case, active=True).update(active=False)
    case.state = State.ACCEPTED
    case.department = None
    case.handler = None
    case.sign_deadline = None
    case.handle_deadline = None
    case.signed_at = None
    case.extension_pending = False
    _center_step_deadline(case, now)
    _save(
        case,
        [
            "state",
            "department_id",
            "handler_id",
            "sign_deadline",
            "handle_deadline",
            "signed_at",
            "extension_pending",
            *STEP_FIELDS,
        ],
    )
    _event(
        case,
        action="return",
        from_state=before,
        actor=actor,
        at=now,
        note=grounds,
        is_public=False,
        detail={"department": department.code if department else ""},
    )
    notify.notify(
        kind=NotificationKind.RETURNED,
        case=case,
        users=notify.operators_of(case.center_id),
        title=f"案件被退回：{case.number}",
        body=f"{department.name if department else ''}：{grounds[:150]}",
    )
    return case


MAX_EXTENSION_DAYS = 30


@transaction.atomic
def case_request_extension(
    *, actor: User, case: Case, days: int, reason: str, expected_version: int | None = None
) -> Case:
    """延期申请: before the deadline, with the working days wanted and the grounds."""
    case = _lock(case, expected_version)
    check_may(actor, case, "request_extension")
    if case.extension_pending:
        raise Conflict("已有待审批的延期申请", rule="cases.request_extension.pending")
    errors: dict[str, list[str]] = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = [f"延期天数应为 1–{MAX_EXTENSION_DAYS} 个工作日"]
    try:
        reason = _text(reason, "reason", "延期理由")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed("延期申请有误", errors=errors)
    now = clock.now()
    case.extension_pending = True
    case.extension_days = days
    case.extension_reason = reason
    _save(case, ["extension_pending", "extension_days", "extension_reason"])
    _event(
        case,
        action="request_extension",
        from_state=case.state,
        actor=actor,
        at=now,
        note=reason,
        is_public=False,
        detail={"days": days},
    )
    notify.notify(
        kind=NotificationKind.TO_REVIEW,
        case=case,
        users=notify.operators_of(case.center_id),
        title=f"延期申请待审批：{case.number}（{days} 个工作日）",
        body=reason[:200],
    )
    return case


@transaction.atomic
def case_approve_extension(*, actor: User, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    """批准延期: the completion deadline moves by the requested working days."""
    case = _lock(case, expected_version)
    check_may(actor, case, "approve_extension")
    if not case.extension_pending:
        raise Conflict("没有待审批的延期申请", rule="cases.approve_extension.none")
    now = clock.now()
    old = case.handle_deadline or now
    case.handle_deadline = sla.add_working_days(max(old, now), case.extension_days)
    case.extension_pending = False
    assert case.dispatched_at is not None
    _set_step(case, case.dispatched_at, case.handle_deadline, LimitUnit.WORK_DAYS)
    _save(case, ["handle_deadline", "extension_pending", *STEP_FIELDS])
    _event(
        case,
        action="approve_extension",
        from_state=case.state,
        actor=actor,
        at=now,
        note=note.strip(),
        public_note=f"办理期限延长至 {sla_local(case.handle_deadline)}",
        detail={"from": old.isoformat(), "to": case.handle_deadline.isoformat(), "days": case.extension_days},
    )
    notify.notify(
        kind=NotificationKind.ASSIGNED,
        case=case,
        users=notify.handlers_of([case.department_id] if case.department_id else []),
        title=f"延期已批准：{case.number}",
        body=f"新的办结时限 {sla_local(case.handle_deadline)}",
    )
    return case


@transaction.atomic
def case_refuse_extension(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    check_may(actor, case, "refuse_extension")
    if not case.extension_pending:
        raise Conflict("没有待审批的延期申请", rule="cases.refuse_extension.none")
    reason = _text(reason, "reason", "驳回理由")
    now = clock.now()
    case.extension_pending = False
    _save(case, ["extension_pending"])
    _event(case, action="refuse_extension", from_state=case.state, actor=actor, at=now, note=reason, is_public=False)
    notify.notify(
        kind=NotificationKind.RETURNED,
        case=case,
        users=notify.handlers_of([case.department_id] if case.department_id else []),
        title=f"延期申请被驳回：{case.number}",
        body=reason[:200],
    )
    return case


@transaction.atomic
def case_handle(
    *,
    actor: User,
    case: Case,
    result: str,
    public_reply: str = "",
    photos: Sequence[Upload] = (),
    expected_version: int | None = None,
) -> Case:
    """处置反馈: the result (internal) and an optional reply the reporter reads."""
    case = _lock(case, expected_version)
    check_may(actor, case, "handle")
    errors: dict[str, list[str]] = {}
    try:
        result = _text(result, "result", "处置结果", maximum=DESCRIPTION_MAX)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    public_reply = (public_reply or "").strip()
    if len(public_reply) > 500:
        errors["public_reply"] = ["答复不能超过 500 字"]
    if errors:
        raise ValidationFailed("处置反馈有误", errors=errors)
    now = clock.now()
    before = case.state
    n_photos = _store_photos(case, photos, PhotoKind.RESULT, actor, now)
    case.state = State.HANDLED
    case.result = result
    case.public_reply = public_reply
    case.handled_at = now
    case.extension_pending = False
    _center_step_deadline(case, now)
    _save(case, ["state", "result", "public_reply", "handled_at", "extension_pending", *STEP_FIELDS])
    unit = case.department.name if case.department else ""
    _event(
        case,
        action="handle",
        from_state=before,
        actor=actor,
        at=now,
        note=result,
        public_note=f"{unit}已处理完毕" + (f"：{public_reply}" if public_reply else ""),
        detail={"photos": n_photos, "late": bool(case.handle_deadline and now > case.handle_deadline)},
    )
    return case


# --- verification and closing ------------------------------------------------------------------------


@transaction.atomic
def case_verify(*, actor: User, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    """核查通过."""
    case = _lock(case, expected_version)
    check_may(actor, case, "verify")
    now = clock.now()
    before = case.state
    case.state = State.VERIFIED
    _center_step_deadline(case, now)
    _save(case, ["state", *STEP_FIELDS])
    _event(
        case, action="verify", from_state=before, actor=actor, at=now, note=note.strip(), public_note="处置结果已核查"
    )
    return case


@transaction.atomic
def case_rework(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """核查不通过，返工: back to the handler; the original completion deadline still stands."""
    case = _lock(case, expected_version)
    check_may(actor, case, "rework")
    reason = _text(reason, "reason", "返工原因")
    now = clock.now()
    before = case.state
    case.state = State.HANDLING
    case.rework_count += 1
    assert case.dispatched_at is not None
    _set_step(case, case.dispatched_at, case.handle_deadline, _limits(case).handle_unit)
    _save(case, ["state", "rework_count", *STEP_FIELDS])
    _event(
        case,
        action="rework",
        from_state=before,
        actor=actor,
        at=now,
        note=reason,
        public_note="处置结果未通过核查，正在返工",
    )
    notify.notify(
        kind=NotificationKind.REOPENED,
        case=case,
        users=notify.handlers_of([case.department_id] if case.department_id else []),
        title=f"核查未通过，请返工：{case.number}",
        body=reason[:200],
    )
    return case


@transaction.atomic
def case_close(*, actor: User, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    """结案 (from verified, or a supervising centre's conclusion)."""
    case = _lock(case, expected_version)
    check_may(actor, case, "close")
    if case.state == State.SUPERVISING:
        note = _text(note, "note", "督办结论")
    now = clock.now()
    before = case.state
    case.state = State.CLOSED
    case.closed_at = now
    _set_step(case, now, None, LimitUnit.WORK_HOURS)
    _save(case, ["state", "closed_at", *STEP_FIELDS])
    _event(
        case, action="close", from_state=before, actor=actor, at=now, note=note.strip(), public_note="已办结，欢迎评价"
    )
    return case


@transaction.atomic
def case_rate(
    *,
    actor: User | None,
    case: Case,
    score: int,
    comment: str = "",
    tracking_code: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """回访评价, 1–5. By the reporter (citizens by tracking code) or the centre after a follow-up
    call. Dissatisfied (below CASE_SATISFIED_MIN) reopens the case for rework once; the second
    time it goes to supervision instead."""
    case = _lock(case, expected_version)
    check_may(actor, case, "rate", tracking_code=tracking_code)
    if case.satisfaction is not None:
        raise Conflict("该案件已评价", rule="cases.rate.once")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ValidationFailed("满意度应为 1–5 分", field="score")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationFailed("评价意见不能超过 500 字", field="comment")
    now = clock.now()
    before = case.state
    dissatisfied = score < int(conf("CASE_SATISFIED_MIN"))
    fields = ["satisfaction", "rating_comment", "rated_at"]
    case.satisfaction, case.rating_comment, case.rated_at = score, comment, now
    public = "感谢您的评价" if actor is None else "回访评价已记录"
    detail: dict[str, Any] = {
        "score": score,
        "by": "reporter" if actor is None or case.reporter_id == actor.pk else "follow_up",
    }
    if dissatisfied and case.closed_at is not None:
        # The close this rating takes back, as it was counted (the command-centre rollups
        # subtract it from that day; gridgov.dashboard.rollups).
        detail["reopened"] = {
            "closed_at": case.closed_at.isoformat(),
            "on_time": sla.handled_on_time(case),
            "settled": case.settled_on_spot,
        }
    if dissatisfied and case.reopen_count == 0:
        # 不满意 → 重新办理: the unit gets a fresh completion limit for the second round.
        limits = _limits(case)
        case.state = State.HANDLING
        case.reopen_count = 1
        case.closed_at = None
        case.satisfaction = None  # the round is rated again when it closes
        case.handle_deadline = sla.add_limit(now, limits.handle_value, limits.handle_unit)
        _set_step(case, now, case.handle_deadline, limits.handle_unit)
        fields += ["state", "reopen_count", "closed_at", "handle_deadline", *STEP_FIELDS]
        public = "您对办理结果不满意，已重新交办"
        notify.notify(
            kind=NotificationKind.REOPENED,
            case=case,
            users=notify.handlers_of([case.department_id] if case.department_id else []),
            title=f"群众不满意，案件重新办理：{case.number}",
            body=comment[:200],
        )
    elif dissatisfied:
        case.state = State.SUPERVISING
        case.closed_at = None
        case.supervised = True
        case.supervision_listed = True
        case.supervision_note = "群众两次不满意，转督办"
        _center_step_deadline(case, now)
        fields += ["state", "closed_at", "supervised", "supervision_listed", "supervision_note", *STEP_FIELDS]
        public = "您对办理结果仍不满意，已转督办"
        notify.notify(
            kind=NotificationKind.SUPERVISED,
            case=case,
            users=notify.operators_of(case.center_id),
            title=f"群众再次不满意，转督办：{case.number}",
            body=comment[:200],
        )
    _save(case, fields)
    _event(
        case,
        action="rate",
        from_state=before,
        actor=actor,
        at=now,
        note=comment,
        public_note=public,
        detail=detail,
        unit_label=_unit_label(actor) if actor else "群众",
    )
    return case


@transaction.atomic
def case_supervise(
    *,
    actor: User,
    case: Case,
    owner: str,
    deadline: dt.datetime,
    requirement: str,
    listed: bool = True,
    expected_version: int | None = None,
) -> Case:
    """督办 / 挂牌督办: a named owner, a deadline and a requirement; listed cases are public."""
    case = _lock(case, expected_version)
    check_may(actor, case, "supervise")
    errors: dict[str, list[str]] = {}
    owner = (owner or "").strip()
    if not owner:
        errors["owner"] = ["请填写督办责任人"]
    elif len(owner) > 100:
        errors["owner"] = ["责任人不能超过 100 字"]
    now = clock.now()
    if deadline is None or deadline <= now:
        errors["deadline"] = ["督办期限应晚于现在"]
    try:
        requirement = _text(requirement, "requirement", "督办要求")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed("督办信息有误", errors=errors)
    case.supervised = True
    case.supervision_listed = bool(listed)
    case.supervision_owner = owner
    case.supervision_deadline = deadline
    case.supervision_note = requirement
    _save(
        case,
        ["supervised", "supervision_listed", "supervision_owner", "supervision_deadline", "supervision_note"],
    )
    _event(
        case,
        action="supervise",
        from_state=case.state,
        actor=actor,
        at=now,
        note=requirement,
        public_note="已列入挂牌督办" if listed else "",
        is_public=bool(listed),
        detail={"owner": owner, "deadline": deadline.isoformat(), "listed": bool(listed)},
    )
    users = list(notify.operators_of(case.center_id))
    if case.department_id:
        users += list(notify.handlers_of([case.department_id]))
    notify.notify(
        kind=NotificationKind.SUPERVISED,
        case=case,
        users=users,
        title=f"案件被督办：{case.number}",
        body=f"责任人 {owner}，期限 {sla_local(deadline)}：{requirement[:120]}",
    )
    return case


@transaction.atomic
def case_approve_settle(*, actor: User, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    """网格长同意就地化解 → closed."""
    case = _lock(case, expected_version)
    check_may(actor, case, "approve_settle")
    now = clock.now()
    before = case.state
    case.state = State.CLOSED
    case.closed_at = now
    _set_step(case, now, None, LimitUnit.WORK_HOURS)
    _save(case, ["state", "closed_at", *STEP_FIELDS])
    _event(
        case,
        action="approve_settle",
        from_state=before,
        actor=actor,
        at=now,
        note=note.strip(),
        public_note="已就地化解",
    )
    return case


@transaction.atomic
def case_refuse_settle(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """网格长不同意就地化解 → the case goes to the centre like any other report."""
    case = _lock(case, expected_version)
    check_may(actor, case, "refuse_settle")
    reason = _text(reason, "reason", "不同意的理由")
    now = clock.now()
    before = case.state
    case.state = State.REPORTED
    case.settled_on_spot = False
    case.handled_at = None
    _center_step_deadline(case, now)
    _save(case, ["state", "settled_on_spot", "handled_at", *STEP_FIELDS])
    _event(case, action="refuse_settle", from_state=before, actor=actor, at=now, note=reason, is_public=False)
    notify.notify(
        kind=NotificationKind.ASSIGNED,
        case=case,
        users=notify.operators_of(case.center_id),
        title=f"新上报案件：{case.number}",
        body=case.description[:120],
    )
    return case


@transaction.atomic
def case_add_note(*, actor: User, case: Case, text: str) -> CaseEvent:
    """备注 / 协办反馈: an internal note by anyone working the case; no state change."""
    case = _lock(case, None)
    check_may(actor, case, "note")
    text = _text(text, "text", "备注内容", maximum=2000)
    now = clock.now()
    event = _event(case, action="note", from_state=case.state, actor=actor, at=now, note=text, is_public=False)
    _save(case, [])
    return event


@transaction.atomic
def case_record_link(
    *, actor: User, case: Case, linked: bool, text: str, detail: dict[str, Any] | None = None
) -> CaseEvent:
    """关联/解除关联 a register subject (called by gridgov.registers, which has checked that the actor
    sees both the case and the subject): an internal timeline row, so the trace shows who linked
    what; no state change."""
    case = _lock(case, None)
    event = _event(
        case,
        action="link_subject" if linked else "unlink_subject",
        from_state=case.state,
        actor=actor,
        at=clock.now(),
        note=text[:2000],
        is_public=False,
        detail=detail,
    )
    _save(case, [])
    return event


@transaction.atomic
def case_add_system_note(
    *, case: Case, unit: str, text: str, detail: dict[str, Any] | None = None, now: dt.datetime | None = None
) -> CaseEvent:
    """An internal timeline note from an adapter (a repeat sensor alert, an updated 12345 order):
    no staff actor, the adapter's unit label instead; bumps the version like every action."""
    case = _lock(case, None)
    event = _event(
        case,
        action="note",
        from_state=case.state,
        actor=None,
        at=now or clock.now(),
        note=text[:2000],
        is_public=False,
        detail=detail,
        unit_label=unit,
    )
    _save(case, [])
    return event


# --- mediation (called by gridgov.mediation; the dispute carries the detail) ------------------------------


@transaction.atomic
def case_refer_mediation(
    *, actor: User, case: Case, reference: str, note: str = "", expected_version: int | None = None
) -> Case:
    """转人民调解: the centre hands a dispute case to a mediation centre. The mediation is the
    handling step, so the case runs on its category's handle limit, held by no department."""
    case = _lock(case, expected_version)
    check_may(actor, case, "refer_mediation")
    now = clock.now()
    before = case.state
    limits = _limits(case)
    for row in case.assignments.filter(active=True):
        row.active = False
        row.save(update_fields=["active"])
    case.state = State.HANDLING
    case.accepted_at = case.accepted_at or now
    case.dispatched_at = now
    case.signed_at = now
    case.department = None
    case.handler = None
    case.handle_deadline = sla.add_limit(now, limits.handle_value, limits.handle_unit)
    _set_step(case, now, case.handle_deadline, limits.handle_unit)
    _save(
        case,
        [
            "state",
            "accepted_at",
            "dispatched_at",
            "signed_at",
            "department_id",
            "handler_id",
            "handle_deadline",
            *STEP_FIELDS,
        ],
    )
    _event(
        case,
        action="refer_mediation",
        from_state=before,
        actor=actor,
        at=now,
        note=note.strip(),
        public_note="已转人民调解",
        detail={"dispute": reference},
    )
    return case


def _check_in_mediation(case: Case) -> None:
    last = case.events.exclude(action="note").order_by("-at", "-id").values_list("action", flat=True).first()
    if case.department_id is not None or last != "refer_mediation":
        raise InvalidTransition(f"案件 {case.number} 不在人民调解中", rule="cases.mediation.state")


@transaction.atomic
def case_mediation_close(*, actor: User, case: Case, result: str, reference: str) -> Case:
    """调解结案: the dispute opened from this case was settled; the agreement is the result."""
    case = _lock(case, None)
    check_may(actor, case, "mediation_close")
    _check_in_mediation(case)
    result = _text(result, "result", "调解结果", maximum=DESCRIPTION_MAX)
    now = clock.now()
    before = case.state
    case.state = State.CLOSED
    case.result = result
    case.handled_at = now
    case.closed_at = now
    _set_step(case, now, None, LimitUnit.WORK_HOURS)
    _save(case, ["state", "result", "handled_at", "closed_at", *STEP_FIELDS])
    _event(
        case,
        action="mediation_close",
        from_state=before,
        actor=actor,
        at=now,
        note=result,
        public_note="经人民调解达成协议，已办结",
        detail={"dispute": reference, "late": bool(case.handle_deadline and now > case.handle_deadline)},
    )
    return case


@transaction.atomic
def case_mediation_return(*, actor: User, case: Case, reason: str, reference: str) -> Case:
    """调解终结退回: mediation ended without settlement (failed, transferred, withdrawn); the centre
    takes the case back to dispatch or close it."""
    case = _lock(case, None)
    check_may(actor, case, "mediation_return")
    _check_in_mediation(case)
    reason = _text(reason, "reason", "退回理由")
    now = clock.now()
    before = case.state
    case.state = State.ACCEPTED
    _center_step_deadline(case, now)
    _save(case, ["state", *STEP_FIELDS])
    _event(
        case,
        action="mediation_return",
        from_state=before,
        actor=actor,
        at=now,
        note=reason,
        is_public=False,
        detail={"dispute": reference},
    )
    notify.notify(
        kind=NotificationKind.RETURNED,
        case=case,
        users=notify.operators_of(case.center_id),
        title=f"调解未成退回：{case.number}",
        body=reason[:120],
    )
    return case


# --- SLA sweep -------------------------------------------------------------------------------------------


def _step_recipients(case: Case) -> list[int]:
    if case.state in (State.DISPATCHED, State.HANDLING) and case.department_id:
        return list(notify.handlers_of([case.department_id]).values_list("id", flat=True))
    if case.state == State.SETTLE_PENDING:
        return list(notify.grid_leaders_of(case.region_path).values_list("id", flat=True))
    return list(notify.operators_of(case.center_id).values_list("id", flat=True))


def sla_sweep(*, now: dt.datetime | None = None, limit: int = 5000) -> tuple[int, int]:
    """Tell whoever holds a case that its step is nearing its deadline or is overdue, once per
    step (the flags are reset whenever the step deadline changes). Each case is claimed with a
    conditional UPDATE, so two sweeps running at once never send the same warning twice."""
    now = now or clock.now()
    final = [str(s) for s in FINAL_STATES]
    nearing = overdue = 0
    base = Case.objects.exclude(state__in=final).select_related("category")
    for case in base.filter(deadline__lt=now, overdue_notified_at__isnull=True).order_by("deadline")[:limit]:
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, overdue_notified_at__isnull=True, deadline=case.deadline).update(
                overdue_notified_at=now, warned_at=now
            ):
                continue
            notify.notify(
                kind=NotificationKind.OVERDUE,
                case=case,
                users=_step_recipients(case),
                title=f"案件已超时：{case.number}（{State(case.state).label}）",
                body=f"时限 {sla_local(case.deadline)}，{case.category.name}",
            )
            overdue += 1
    for case in base.filter(
        warn_at__lte=now, deadline__gte=now, warned_at__isnull=True, overdue_notified_at__isnull=True
    ).order_by("deadline")[:limit]:
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, warned_at__isnull=True, deadline=case.deadline).update(
                warned_at=now
            ):
                continue
            notify.notify(
                kind=NotificationKind.NEARING,
                case=case,
                users=_step_recipients(case),
                title=f"案件临近时限：{case.number}（{State(case.state).label}）",
                body=f"请于 {sla_local(case.deadline)} 前办理，{case.category.name}",
            )
            nearing += 1
    return nearing, overdue


# --- one entry point per action for the API and the screens --------------------------------------------

ACTION_SERVICES: dict[str, Callable[..., Any]] = {
    "accept": case_accept,
    "reject": case_reject,
    "merge": case_merge,
    "escalate": case_escalate,
    "dispatch": case_dispatch,
    "sign": case_sign,
    "return": case_return,
    "request_extension": case_request_extension,
    "approve_extension": case_approve_extension,
    "refuse_extension": case_refuse_extension,
    "handle": case_handle,
    "verify": case_verify,
    "rework": case_rework,
    "close": case_close,
    "rate": case_rate,
    "supervise": case_supervise,
    "approve_settle": case_approve_settle,
    "refuse_settle": case_refuse_settle,
    "note": case_add_note,
}
