"""Every write of field work: visits with a location check, patrols, reports from findings, and the
hazard campaign — campaigns, inspections, and the hazard transitions of `states.py`.

Each function is one transaction: permission and validation first, then the change. Hazard
transitions lock the row (`select_for_update`) and write with a conditional UPDATE on `version`,
so two re-inspectors acting at once never both win; every transition appends a `HazardEvent`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from gridgov.accounts.models import Department, Duty, Role, TeamMembership, User
from gridgov.accounts.scope import Scope
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseCategory, Source
from gridgov.cases.photos import Upload, clean_photos
from gridgov.common import clock
from gridgov.common.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from gridgov.common.versioning import check_version, save_versioned
from gridgov.regions.models import Level, Region
from gridgov.regions.selectors import region_locate
from gridgov.registers import codes as register_codes
from gridgov.registers import services as register_services
from gridgov.registers.models import Household, Person, Place, Visit

from .models import (
    Campaign,
    CampaignState,
    ChecklistItem,
    FindingCase,
    Hazard,
    HazardCounter,
    HazardEvent,
    HazardLevel,
    HazardPhoto,
    HazardState,
    Inspection,
    InspectionResult,
    InspectionState,
    LocationCheck,
    Patrol,
    PatrolCheckin,
    PatrolState,
    VisitLocation,
)
from .permissions import (
    INSPECTOR_ROLES,
    ORGANISER_ROLES,
    is_field_worker,
    require_covers,
    require_role,
    scope_of,
)
from .states import PARTY_LABELS, HazardParty, hazard_transition

MAX_CHECKLIST = 40
MAX_CAMPAIGN_DAYS = 366


class Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self, message: str) -> None:
        if self.by_field:
            raise ValidationFailed(message, errors=self.by_field)


def _text(errors: Errors, field: str, value: Any, label: str, *, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.add(field, f"请填写{label}")
    elif len(text) > max_length:
        errors.add(field, f"{label}不能超过 {max_length} 字")
    return text[:max_length]


def _point(errors: Errors, lat: float | None, lng: float | None, *, required: bool) -> tuple[float, float] | None:
    if lat is None and lng is None:
        if required:
            errors.add("location", "请允许定位后再提交（需要手机定位）")
        return None
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        errors.add("location", "经纬度不完整或超出范围")
        return None
    return lat, lng


@dataclass(frozen=True)
class Located:
    region: Region | None
    inside: bool


def locate_for(actor: User, lat: float, lng: float) -> Located:
    """Where a point lies, and whether it is inside the actor's own grid. Outside the district:
    refused (the phone is not where the work is)."""
    try:
        leaf = region_locate(lat=lat, lng=lng).microgrid
    except NotFound:
        raise ValidationFailed(
            "定位不在本平台辖区内，不能提交（请在网格内重新定位）",
            field="location",
            rule="fieldwork.location.outside_district",
        ) from None
    home = actor.jurisdiction.path if actor.jurisdiction else ""
    return Located(region=leaf, inside=bool(home and leaf.path.startswith(home)))


# --- visits ------------------------------------------------------------------------------------------


@transaction.atomic
def visit_record_checked(
    *,
    actor: User,
    findings: str,
    person: Person | None = None,
    household: Household | None = None,
    place: Place | None = None,
    kind: str = register_codes.VisitKind.ROUTINE,
    outcome: str = register_codes.VisitOutcome.NORMAL,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: int | None = None,
    confirm_outside: bool = False,
    outside_reason: str = "",
    photos: Sequence[Upload] = (),
) -> Visit:
    """走访 from the phone: the location is checked against the worker's grid (outside the grid: a
    warning the worker must confirm with a reason; outside the district: refused), photos are
    judged by content and stripped of metadata, then the registers record the visit and move the
    visit obligations it fulfils."""
    scope = require_role(
        actor, {Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON}, "登记走访", "fieldwork.visit"
    )
    errors = Errors()
    point = _point(errors, lat, lng, required=is_field_worker(actor))
    outside_reason = _text(errors, "outside_reason", outside_reason, "网格外走访说明", max_length=200)
    cleaned: list[Any] = []
    try:
        cleaned = [p.content for p in clean_photos(list(photos))]
    except ValidationFailed as exc:
        for f, msgs in exc.errors.items():
            for m in msgs:
                errors.add(f, m)
    located: Located | None = None
    if point is not None and not errors.by_field:
        located = locate_for(actor, *point)
        if not located.inside:
            if not confirm_outside:
                raise ValidationFailed(
                    f"定位在「{located.region.name if located.region else ''}」，不在您的网格内。"
                    "如确在网格外走访，请勾选确认并说明原因",
                    field="location",
                    rule="fieldwork.location.outside_grid",
                )
            if not outside_reason:
                errors.add("outside_reason", "在网格外走访请说明原因")
    errors.raise_if_any("走访信息有误")
    del scope
    visit = register_services.visit_record(
        actor=actor,
        findings=findings,
        person=person,
        household=household,
        place=place,
        kind=kind,
        outcome=outcome,
        lat=point[0] if point else None,
        lng=point[1] if point else None,
        photos=cleaned,
    )
    VisitLocation.objects.create(
        visit=visit,
        located_region=located.region if located else None,
        status=(LocationCheck.INSIDE if located.inside else LocationCheck.OUTSIDE) if located else LocationCheck.NONE,
        accuracy_m=accuracy_m if accuracy_m is not None and 0 <= accuracy_m < 100_000 else None,
        outside_reason=outside_reason if located and not located.inside else "",
    )
    return visit


@transaction.atomic
def finding_report_case(
    *,
    actor: User,
    category: CaseCategory | int | None,
    description: str,
    visit: Visit | None = None,
    checkin: PatrolCheckin | None = None,
    urgency: str = "normal",
    photos: Sequence[Upload] = (),
) -> Case:
    """一键上报: a case from a visit's or a patrol check-in's finding, at the finding's place."""
    if (visit is None) == (checkin is None):
        raise ValidationFailed("请指定走访记录或巡查打卡", field="source")
    scope = scope_of(actor)
    origin_path = visit.region_path if visit is not None else checkin.region_path  # type: ignore[union-attr]
    owner = visit.visitor_id if visit is not None else checkin.patrol.worker_id  # type: ignore[union-attr]
    if owner != actor.pk:
        raise PermissionRefused("只能从本人的走访或巡查记录上报", rule="fieldwork.finding.owner")
    require_covers(scope, origin_path, "该记录", "fieldwork.finding.jurisdiction")
    lat = visit.lat if visit is not None else checkin.lat  # type: ignore[union-attr]
    lng = visit.lng if visit is not None else checkin.lng  # type: ignore[union-attr]
    region = None
    address = ""
    if lat is None or lng is None:
        lat = lng = None
        region = visit.region if visit is not None else None
        target = (visit.person or visit.household or visit.place) if visit is not None else None
        address = str(getattr(target, "address", "") or target or "")[:200]
    case = case_services.case_report(
        actor=actor,
        category=category,
        description=description,
        source=Source.GRID_WORKER if actor.role != Role.DEPARTMENT_LIAISON else Source.INSPECTION,
        urgency=urgency,
        lat=lat,
        lng=lng,
        region=region,
        address=address,
        photos=photos,
    )
    FindingCase.objects.create(case=case, visit=visit, checkin=checkin, created_at=clock.now())
    return case


# --- patrols -----------------------------------------------------------------------------------------


@transaction.atomic
def patrol_start(*, actor: User) -> Patrol:
    require_role(actor, {Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON}, "巡查", "fieldwork.patrol")
    if not is_field_worker(actor):
        raise PermissionRefused("只有网格内的工作人员可以开始巡查", rule="fieldwork.patrol.grid")
    assert actor.jurisdiction is not None
    if Patrol.objects.filter(worker=actor, state=PatrolState.ACTIVE).exists():
        raise Conflict("您已有一次进行中的巡查，请先结束", rule="fieldwork.patrol.one_active")
    try:
        with transaction.atomic():
            return Patrol.objects.create(
                worker=actor,
                region=actor.jurisdiction,
                region_path=actor.jurisdiction.path,
                started_at=clock.now(),
            )
    except IntegrityError:
        raise Conflict("您已有一次进行中的巡查，请先结束", rule="fieldwork.patrol.one_active") from None


def _lock_patrol(actor: User, patrol: Patrol) -> Patrol:
    locked = Patrol.objects.select_for_update().filter(pk=patrol.pk).first()
    if locked is None:
        raise NotFound("巡查记录不存在")
    if locked.worker_id != actor.pk:
        raise PermissionRefused("只能操作本人的巡查", rule="fieldwork.patrol.owner")
    if locked.state != PatrolState.ACTIVE:
        raise Conflict("该巡查已结束", rule="fieldwork.patrol.ended")
    return locked


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    import math

    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@transaction.atomic
def patrol_checkin(
    *,
    actor: User,
    patrol: Patrol,
    lat: float | None,
    lng: float | None,
    note: str = "",
    has_issue: bool = False,
    place: Place | None = None,
) -> PatrolCheckin:
    """A check-in along the patrol: the point is located; outside the worker's grid it is kept but
    flagged (a patrol may cross a boundary street), outside the district it is refused."""
    scope = scope_of(actor)
    locked = _lock_patrol(actor, patrol)
    errors = Errors()
    point = _point(errors, lat, lng, required=True)
    note = _text(errors, "note", note, "发现情况", max_length=500, required=has_issue)
    if place is not None and not scope.covers(place.region_path):
        errors.add("place", "该点位不在您的辖区内")
    errors.raise_if_any("打卡信息有误")
    assert point is not None
    located = locate_for(actor, *point)
    previous = locked.checkins.order_by("-at", "-id").first()
    now = clock.now()
    checkin = PatrolCheckin.objects.create(
        patrol=locked,
        at=now,
        lat=point[0],
        lng=point[1],
        located_region=located.region,
        inside_grid=located.inside,
        place=place,
        note=note,
        has_issue=has_issue,
        region_path=located.region.path if located.region else locked.region_path,
    )
    if previous is not None:
        step = int(_metres((previous.lat, previous.lng), point))
        Patrol.objects.filter(pk=locked.pk).update(distance_m=F("distance_m") + step)
    return checkin


@transaction.atomic
def patrol_end(*, actor: User, patrol: Patrol, summary: str = "") -> Patrol:
    locked = _lock_patrol(actor, patrol)
    errors = Errors()
    summary = _text(errors, "summary", summary, "巡查小结", max_length=500)
    errors.raise_if_any("巡查小结有误")
    locked.state = PatrolState.ENDED
    locked.ended_at = clock.now()
    locked.summary = summary
    locked.save(update_fields=["state", "ended_at", "summary"])
    return locked


# --- campaigns -------------------------------------------------------------------------------------


def _clean_checklist(errors: Errors, checklist: Iterable[str]) -> list[str]:
    items = [str(x).strip() for x in checklist if str(x).strip()]
    if not items:
        errors.add("checklist", "请至少填写一个检查项")
    if len(items) > MAX_CHECKLIST:
        errors.add("checklist", f"检查项不能超过 {MAX_CHECKLIST} 个")
    for i, text in enumerate(items):
        if len(text) > 200:
            errors.add("checklist", f"第 {i + 1} 项超过 200 字")
    if len(set(items)) != len(items):
        errors.add("checklist", "检查项有重复")
    return items


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    scope_regions: Sequence[Region],
    checklist: Sequence[str],
    target_place_kinds: Sequence[str] = (),
    theme: str = "",
    description: str = "",
) -> Campaign:
    """专项整治: organised by a centre at its level, over regions inside its jurisdiction."""
    scope = require_role(actor, ORGANISER_ROLES, "组织专项整治", "fieldwork.campaign.role")
    errors = Errors()
    name = _text(errors, "name", name, "名称", max_length=100, required=True)
    theme = _text(errors, "theme", theme, "整治领域", max_length=40)
    description = _text(errors, "description", description, "工作要求", max_length=4000)
    if starts_on is None:
        errors.add("starts_on", "请填写开始日期")
    if ends_on is None:
        errors.add("ends_on", "请填写结束日期")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors.add("ends_on", "结束日期不能早于开始日期")
        elif (ends_on - starts_on).days > MAX_CAMPAIGN_DAYS:
            errors.add("ends_on", "专项整治周期不能超过一年")
    regions = list(dict.fromkeys(scope_regions))
    if not regions:
        errors.add("scope_regions", "请选择整治范围")
    for r in regions:
        if not scope.covers(r.path):
            errors.add("scope_regions", f"「{r.name}」不在您的辖区内")
    kinds = list(dict.fromkeys(str(k) for k in target_place_kinds))
    for k in kinds:
        if k not in register_codes.PlaceKind.values:
            errors.add("target_place_kinds", f"未知场所类别 {k!r}")
    items = _clean_checklist(errors, checklist)
    errors.raise_if_any("专项整治信息有误")
    assert actor.jurisdiction is not None and starts_on and ends_on
    campaign = Campaign.objects.create(
        name=name,
        theme=theme,
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        region=actor.jurisdiction,
        region_path=actor.jurisdiction.path,
        target_place_kinds=kinds,
        created_by=actor,
        created_at=clock.now(),
    )
    campaign.scope_regions.set(regions)
    ChecklistItem.objects.bulk_create(
        [ChecklistItem(campaign=campaign, seq=i + 1, text=t) for i, t in enumerate(items)]
    )
    return campaign


def _lock_campaign(actor: User, campaign: Campaign, what: str) -> tuple[Scope, Campaign]:
    scope = require_role(actor, ORGANISER_ROLES, what, "fieldwork.campaign.role")
    locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    if locked is None:
        raise NotFound("专项整治不存在")
    require_covers(scope, locked.region_path, "该专项整治", "fieldwork.campaign.jurisdiction")
    return scope, locked


@transaction.atomic
def campaign_start(*, actor: User, campaign: Campaign) -> Campaign:
    _scope, locked = _lock_campaign(actor, campaign, "启动专项整治")
    if locked.state != CampaignState.DRAFT:
        raise Conflict(f"专项整治当前为「{locked.get_state_display()}」，不能启动", rule="fieldwork.campaign.state")
    locked.state = CampaignState.RUNNING
    locked.save(update_fields=["state", "updated_at"])
    return locked


@transaction.atomic
def campaign_close(*, actor: User, campaign: Campaign) -> Campaign:
    _scope, locked = _lock_campaign(actor, campaign, "结束专项整治")
    if locked.state != CampaignState.RUNNING:
        raise Conflict(f"专项整治当前为「{locked.get_state_display()}」，不能结束", rule="fieldwork.campaign.state")
    locked.state = CampaignState.CLOSED
    locked.save(update_fields=["state", "updated_at"])
    return locked


def _campaign_covers(campaign: Campaign, path: str) -> bool:
    return any(path.startswith(r.path) for r in campaign.scope_regions.all())


def _check_assignee(errors: Errors, assignee: User | None, department: Department | None, path: str) -> None:
    if assignee is None and department is None:
        errors.add("assignee", "请指定检查人或检查单位")
    if assignee is not None:
        if not assignee.is_active or assignee.role not in INSPECTOR_ROLES:
            errors.add("assignee", "检查人须为在岗的网格员、网格长或部门联管员")
        elif not Scope.for_user(assignee).covers(path):
            errors.add("assignee", f"{assignee.label}的辖区不包含该检查对象")
    if department is not None:
        if not department.is_active:
            errors.add("department", "该部门已停用")
        elif not path.startswith(department.region.path):
            errors.add("department", f"{department.name}的服务辖区不包含该检查对象")


def _default_inspector(region_path: str) -> User | None:
    """The grid's full-time worker (else any worker or its leader) of the grid a place lies in."""
    codes = [c for c in region_path.strip("/").split("/") if c]
    if len(codes) < 4:
        return None
    grid_code = codes[3]
    rows = (
        TeamMembership.objects.filter(region__code=grid_code, user__is_active=True)
        .select_related("user")
        .order_by("duty")
    )
    order: dict[str, int] = {Duty.FULL_TIME: 0, Duty.PART_TIME: 1, Duty.GRID_LEADER: 2}
    best = sorted((r for r in rows if r.duty in order), key=lambda r: order[r.duty])
    return best[0].user if best else None


@transaction.atomic
def inspection_assign(
    *,
    actor: User,
    campaign: Campaign,
    due_on: dt.date | None,
    place: Place | None = None,
    unit_name: str = "",
    address: str = "",
    region: Region | None = None,
    assignee: User | None = None,
    department: Department | None = None,
) -> Inspection:
    """A check of one unit, assigned to a worker or a unit (department)."""
    scope, locked = _lock_campaign(actor, campaign, "派发检查任务")
    if locked.state == CampaignState.CLOSED:
        raise Conflict("专项整治已结束，不能再派发检查任务", rule="fieldwork.campaign.state")
    errors = Errors()
    where: Region | None
    if place is not None:
        where, unit_name, address = place.region, place.name, place.address
    else:
        unit_name = _text(errors, "unit_name", unit_name, "单位名称", max_length=120, required=True)
        address = _text(errors, "address", address, "地址", max_length=160)
        where = region
        if where is None:
            errors.add("region", "请选择检查对象所在网格")
        elif where.level not in (Level.GRID, Level.MICROGRID):
            errors.add("region", "请选择网格或微网格")
    if where is not None:
        if not scope.covers(where.path):
            errors.add("place" if place else "region", "检查对象不在您的辖区内")
        elif not _campaign_covers(locked, where.path):
            errors.add("place" if place else "region", "检查对象不在本次专项整治范围内")
        _check_assignee(errors, assignee, department, where.path)
    if due_on is None:
        errors.add("due_on", "请填写检查期限")
    elif due_on < locked.starts_on or due_on > locked.ends_on:
        errors.add("due_on", "检查期限应在专项整治期间内")
    if place is not None and Inspection.objects.filter(campaign=locked, place=place).exists():
        errors.add("place", "该场所已有本次专项整治的检查任务")
    errors.raise_if_any("检查任务有误")
    assert where is not None and due_on is not None
    return Inspection.objects.create(
        campaign=locked,
        place=place,
        unit_name=unit_name,
        address=address,
        region=where,
        region_path=where.path,
        assignee=assignee,
        department=department,
        due_on=due_on,
        created_at=clock.now(),
    )


@transaction.atomic
def inspection_generate(*, actor: User, campaign: Campaign, due_on: dt.date | None) -> int:
    """Assign a check of every registered place of the target kinds inside the campaign's scope
    (and the actor's jurisdiction) that has none yet, to its grid's worker. Returns how many."""
    scope, locked = _lock_campaign(actor, campaign, "派发检查任务")
    if locked.state == CampaignState.CLOSED:
        raise Conflict("专项整治已结束，不能再派发检查任务", rule="fieldwork.campaign.state")
    if not locked.target_place_kinds:
        raise ValidationFailed("本次专项整治未设定对象场所类别，请逐个派发", field="target_place_kinds")
    if due_on is None or due_on < locked.starts_on or due_on > locked.ends_on:
        raise ValidationFailed("检查期限应在专项整治期间内", field="due_on")
    taken = set(Inspection.objects.filter(campaign=locked, place__isnull=False).values_list("place_id", flat=True))
    places = scope.filter(Place.objects.filter(kind__in=locked.target_place_kinds, is_active=True)).select_related(
        "region"
    )
    paths = [r.path for r in locked.scope_regions.all()]
    now = clock.now()
    rows = []
    for p in places:
        if p.pk in taken or not any(p.region_path.startswith(x) for x in paths):
            continue
        worker = _default_inspector(p.region_path)
        if worker is None:
            continue
        rows.append(
            Inspection(
                campaign=locked,
                place=p,
                unit_name=p.name,
                address=p.address,
                region=p.region,
                region_path=p.region_path,
                assignee=worker,
                due_on=due_on,
                created_at=now,
            )
        )
    Inspection.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def may_inspect(actor: User, inspection: Inspection) -> bool:
    scope = Scope.for_user(actor)
    if not actor.is_active or not scope.covers(inspection.region_path):
        return (
            actor.role == Role.DEPARTMENT_HANDLER
            and inspection.department_id is not None
            and actor.department_id == inspection.department_id
        )
    if actor.role == Role.CENTER_OPERATOR:
        return True
    if inspection.assignee_id == actor.pk:
        return True
    return actor.role == Role.DEPARTMENT_HANDLER and actor.department_id == inspection.department_id


@dataclass(frozen=True)
class ItemResult:
    passed: bool
    note: str = ""
    raise_hazard: bool = True
    hazard_level: str = HazardLevel.GENERAL


def _next_hazard_number(campaign: Campaign) -> str:
    if not HazardCounter.objects.filter(campaign=campaign).update(value=F("value") + 1):
        try:
            with transaction.atomic():
                HazardCounter.objects.create(campaign=campaign, value=1)
        except IntegrityError:
            HazardCounter.objects.filter(campaign=campaign).update(value=F("value") + 1)
    value = HazardCounter.objects.values_list("value", flat=True).get(campaign=campaign)
    return f"YH{campaign.pk:04d}-{value:05d}"


def _store_hazard_photos(hazard: Hazard, photos: Sequence[Any], kind: str, now: dt.datetime) -> None:
    for p in photos:
        HazardPhoto.objects.create(
            hazard=hazard, kind=kind, image=p.content, width=p.width, height=p.height, sha256=p.sha256, uploaded_at=now
        )


def _hazard_event(
    hazard: Hazard, *, action: str, from_state: str, actor: User | None, at: dt.datetime, note: str = "", **detail: Any
) -> None:
    HazardEvent.objects.create(
        hazard=hazard,
        at=at,
        action=action,
        from_state=from_state,
        to_state=hazard.state,
        actor=actor,
        actor_label=(actor.label if actor else "")[:150],
        note=note,
        detail=detail,
    )


@transaction.atomic
def inspection_record(
    *,
    actor: User,
    inspection: Inspection,
    results: Mapping[int, ItemResult],
    note: str = "",
    lat: float | None = None,
    lng: float | None = None,
    photos: Sequence[Upload] = (),
) -> list[Hazard]:
    """检查: one result per checklist item; each failed item with `raise_hazard` becomes a hazard
    (found), carrying the inspection's photos. Returns the hazards raised."""
    scope_of(actor)
    locked = (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("campaign", "region")
        .filter(pk=inspection.pk)
        .first()
    )
    if locked is None:
        raise NotFound("检查任务不存在")
    if not may_inspect(actor, locked):
        raise PermissionRefused("该检查任务未派给您，且不在您的辖区内", rule="fieldwork.inspection.assignee")
    if locked.campaign.state != CampaignState.RUNNING:
        raise Conflict("专项整治不在进行中，不能登记检查", rule="fieldwork.campaign.state")
    if locked.state != InspectionState.ASSIGNED:
        raise Conflict("该单位已检查（可能已被他人登记，请刷新）", rule="fieldwork.inspection.state")
    errors = Errors()
    items = {i.pk: i for i in locked.campaign.items.all()}
    for item_id in results:
        if item_id not in items:
            errors.add("results", f"检查项 {item_id} 不属于本次专项整治")
    for item_id, item in items.items():
        r = results.get(item_id)
        if r is None:
            errors.add(f"results.{item_id}", f"请填写第 {item.seq} 项「{item.text}」的检查结果")
        elif not r.passed and r.raise_hazard and len(r.note.strip()) < 2:
            errors.add(f"results.{item_id}", f"第 {item.seq} 项不合格，请描述隐患情况")
        elif r is not None and r.hazard_level not in HazardLevel.values:
            errors.add(f"results.{item_id}", "未知隐患等级")
        elif r is not None and len(r.note) > 300:
            errors.add(f"results.{item_id}", "说明不能超过 300 字")
    note = _text(errors, "note", note, "检查情况", max_length=1000)
    point = _point(errors, lat, lng, required=False)
    cleaned: list[Any] = []
    try:
        cleaned = clean_photos(list(photos))
    except ValidationFailed as exc:
        for f, msgs in exc.errors.items():
            for m in msgs:
                errors.add(f, m)
    errors.raise_if_any("检查结果有误")
    now = clock.now()
    InspectionResult.objects.bulk_create(
        [
            InspectionResult(inspection=locked, item=items[i], passed=r.passed, note=r.note.strip())
            for i, r in results.items()
        ]
    )
    updated = Inspection.objects.filter(pk=locked.pk, version=locked.version).update(
        state=InspectionState.DONE,
        inspected_at=now,
        inspector=actor,
        note=note,
        lat=point[0] if point else None,
        lng=point[1] if point else None,
        version=locked.version + 1,
    )
    if updated != 1:
        raise Conflict("该单位已被他人登记检查，请刷新", rule="fieldwork.inspection.version")
    hazards = []
    for item_id, r in sorted(results.items(), key=lambda kv: items[kv[0]].seq):
        if r.passed or not r.raise_hazard:
            continue
        hazard = Hazard.objects.create(
            number=_next_hazard_number(locked.campaign),
            campaign=locked.campaign,
            inspection=locked,
            item=items[item_id],
            description=r.note.strip(),
            level=r.hazard_level,
            region=locked.region,
            region_path=locked.region_path,
            found_at=now,
            found_by=actor,
        )
        _store_hazard_photos(hazard, cleaned, "found", now)
        _hazard_event(hazard, action="raise", from_state="", actor=actor, at=now, note=hazard.description)
        hazards.append(hazard)
    return hazards


# --- hazard transitions ------------------------------------------------------------------------------


def hazard_parties(user: User | None, hazard: Hazard) -> set[HazardParty]:
    out: set[HazardParty] = set()
    if user is None or not user.is_active:
        return out
    scope = Scope.for_user(user)
    if user.role == Role.CENTER_OPERATOR and scope.covers(hazard.region_path):
        out.add(HazardParty.CENTRE)
        if scope.depth <= 1:
            out.add(HazardParty.SUPERVISOR)
    if (
        user.role in (Role.GRID_WORKER, Role.GRID_LEADER)
        and user.jurisdiction is not None
        and user.jurisdiction.level == Level.GRID
        and scope.covers(hazard.region_path)
    ):
        out.add(HazardParty.GRID)
    if (
        user.role == Role.DEPARTMENT_HANDLER
        and hazard.responsible_department_id is not None
        and user.department_id == hazard.responsible_department_id
    ):
        out.add(HazardParty.UNIT)
    return out


class InvalidHazardTransition(Conflict):
    pass


def check_hazard_may(actor: User, hazard: Hazard, action: str) -> None:
    """Refuse unless the actor may take `action` now. Order: role, state, relation."""
    t = hazard_transition(action)
    if not actor.is_active:
        raise PermissionRefused("账号已停用", rule="accounts.inactive")
    roles = {
        HazardParty.CENTRE: {Role.CENTER_OPERATOR},
        HazardParty.SUPERVISOR: {Role.CENTER_OPERATOR},
        HazardParty.GRID: {Role.GRID_WORKER, Role.GRID_LEADER},
        HazardParty.UNIT: {Role.DEPARTMENT_HANDLER},
    }
    allowed_roles = {str(r) for p in t.parties for r in roles[p]}
    who = "、".join(str(PARTY_LABELS[p]) for p in t.parties)
    if actor.role not in allowed_roles:
        raise PermissionRefused(
            f"「{t.label}」须由{who}办理，您的角色（{actor.get_role_display()}）不能办理",
            rule=f"fieldwork.hazard.{action}.role",
        )
    if hazard.state not in t.sources:
        raise InvalidHazardTransition(
            f"隐患 {hazard.number} 当前状态为「{hazard.get_state_display()}」，不能{t.label}（可能已被他人处理，请刷新）",
            rule=f"fieldwork.hazard.{action}.state",
        )
    if not hazard_parties(actor, hazard) & set(t.parties):
        raise PermissionRefused(
            f"只有{who}可以{t.label}，该隐患不在您的辖区或职责内", rule=f"fieldwork.hazard.{action}.jurisdiction"
        )


def hazard_allowed_actions(actor: User, hazard: Hazard) -> list[str]:
    from .states import HAZARD_TRANSITIONS

    out = []
    for action in HAZARD_TRANSITIONS:
        try:
            check_hazard_may(actor, hazard, action)
        except (PermissionRefused, Conflict):
            continue
        if action == "list" and hazard.listed:
            continue
        out.append(action)
    return out


def _lock_hazard(hazard: Hazard, expected_version: int | None) -> Hazard:
    locked = Hazard.objects.select_for_update(of=("self",)).select_related("campaign").filter(pk=hazard.pk).first()
    if locked is None:
        raise NotFound("隐患不存在")
    check_version(locked, expected_version, message=_stale(locked), rule="fieldwork.hazard.version")
    return locked


def _stale(hazard: Hazard) -> str:
    return f"隐患 {hazard.number} 已被他人更新，请刷新后重试"


def _save_hazard(hazard: Hazard, fields: Sequence[str]) -> None:
    save_versioned(hazard, fields, message=_stale(hazard), rule="fieldwork.hazard.version")


def _four(
    errors: Errors,
    *,
    target: str,
    measures: str,
    responsible: str,
    responsible_department: Department | None,
    deadline: dt.date | None,
    hazard: Hazard,
) -> tuple[str, str, str]:
    target = _text(errors, "target", target, "整改目标", max_length=300, required=True)
    measures = _text(errors, "measures", measures, "整改措施", max_length=2000, required=True)
    responsible = _text(errors, "responsible", responsible, "整改责任人", max_length=100, required=True)
    if deadline is None:
        errors.add("deadline", "请填写整改期限")
    elif deadline < clock.today():
        errors.add("deadline", "整改期限不能早于今天")
    if responsible_department is not None and (
        not responsible_department.is_active or not hazard.region_path.startswith(responsible_department.region.path)
    ):
        errors.add("responsible_department", "该部门已停用或服务辖区不包含该隐患")
    return target, measures, responsible


@transaction.atomic
def hazard_assign(
    *,
    actor: User,
    hazard: Hazard,
    target: str,
    measures: str,
    responsible: str,
    deadline: dt.date | None,
    responsible_department: Department | None = None,
    expected_version: int | None = None,
) -> Hazard:
    """落实整改 (四落实): target, measures, responsible party and deadline, all required."""
    hazard = _lock_hazard(hazard, expected_version)
    check_hazard_may(actor, hazard, "assign")
    errors = Errors()
    target, measures, responsible = _four(
        errors,
        target=target,
        measures=measures,
        responsible=responsible,
        responsible_department=responsible_department,
        deadline=deadline,
        hazard=hazard,
    )
    errors.raise_if_any("四落实信息不完整")
    now = clock.now()
    before = hazard.state
    hazard.state = HazardState.RECTIFYING
    hazard.target, hazard.measures, hazard.responsible = target, measures, responsible
    hazard.responsible_department = responsible_department
    hazard.deadline = deadline
    _save_hazard(hazard, ["state", "target", "measures", "responsible", "responsible_department_id", "deadline"])
    _hazard_event(
        hazard,
        action="assign",
        from_state=before,
        actor=actor,
        at=now,
        note=measures,
        target=target,
        responsible=responsible,
        deadline=deadline.isoformat() if deadline else "",
    )
    return hazard


@transaction.atomic
def hazard_report(
    *,
    actor: User,
    hazard: Hazard,
    rectification: str,
    photos: Sequence[Upload] = (),
    expected_version: int | None = None,
) -> Hazard:
    """整改完成: what was done, with photos, for re-inspection."""
    hazard = _lock_hazard(hazard, expected_version)
    check_hazard_may(actor, hazard, "report")
    errors = Errors()
    rectification = _text(errors, "rectification", rectification, "整改情况", max_length=2000, required=True)
    cleaned: list[Any] = []
    try:
        cleaned = clean_photos(list(photos))
    except ValidationFailed as exc:
        for f, msgs in exc.errors.items():
            for m in msgs:
                errors.add(f, m)
    errors.raise_if_any("整改情况有误")
    now = clock.now()
    before = hazard.state
    hazard.state = HazardState.RECTIFIED
    hazard.rectification = rectification
    hazard.rectified_at = now
    _save_hazard(hazard, ["state", "rectification", "rectified_at"])
    _store_hazard_photos(hazard, cleaned, "rectified", now)
    late = bool(hazard.deadline and timezone.localdate(now) > hazard.deadline)
    _hazard_event(hazard, action="report", from_state=before, actor=actor, at=now, note=rectification, late=late)
    return hazard


@transaction.atomic
def hazard_sign_off(*, actor: User, hazard: Hazard, note: str = "", expected_version: int | None = None) -> Hazard:
    """复查合格，销号."""
    hazard = _lock_hazard(hazard, expected_version)
    check_hazard_may(actor, hazard, "sign_off")
    errors = Errors()
    note = _text(errors, "note", note, "复查意见", max_length=500)
    errors.raise_if_any("复查意见有误")
    now = clock.now()
    before = hazard.state
    hazard.state = HazardState.SIGNED_OFF
    hazard.signed_off_at = now
    _save_hazard(hazard, ["state", "signed_off_at"])
    _hazard_event(hazard, action="sign_off", from_state=before, actor=actor, at=now, note=note)
    return hazard


@transaction.atomic
def hazard_send_back(
    *,
    actor: User,
    hazard: Hazard,
    reason: str,
    deadline: dt.date | None = None,
    expected_version: int | None = None,
) -> Hazard:
    """复查不合格，退回整改 (optionally with a new deadline)."""
    hazard = _lock_hazard(hazard, expected_version)
    check_hazard_may(actor, hazard, "send_back")
    errors = Errors()
    reason = _text(errors, "reason", reason, "退回理由", max_length=500, required=True)
    if deadline is not None and deadline < clock.today():
        errors.add("deadline", "新的整改期限不能早于今天")
    errors.raise_if_any("退回信息有误")
    now = clock.now()
    before = hazard.state
    hazard.state = HazardState.RECTIFYING
    hazard.send_back_count += 1
    hazard.rectified_at = None
    if deadline is not None:
        hazard.deadline = deadline
    _save_hazard(hazard, ["state", "send_back_count", "rectified_at", "deadline"])
    _hazard_event(
        hazard,
        action="send_back",
        from_state=before,
        actor=actor,
        at=now,
        note=reason,
        deadline=hazard.deadline.isoformat() if hazard.deadline else "",
    )
    return hazard


@transaction.atomic
def hazard_void(*, actor: User, hazard: Hazard, reason: str, expected_version: int | None = None) -> Hazard:
    """核销: on review the finding is not a hazard."""
    hazard = _lock_hazard(hazard, expected_version)
    check_hazard_may(actor, hazard, "void")
    errors = Errors()
    reason = _text(errors, "reason", reason, "核销理由", max_length=500, required=True)
    errors.raise_if_any("核销信息有误")
    now = clock.now()
    before = hazard.state
    hazard.state = HazardState.VOIDED
    _save_hazard(hazard, ["state"])
    _hazard_event(hazard, action="void", from_state=before, actor=actor, at=now, note=reason)
    return hazard


@transaction.atomic
def hazard_list(
    *, actor: User, hazard: Hazard, owner: str, requirement: str, expected_version: int | None = None
) -> Hazard:
    """挂牌整治: listed supervision with a named owner, shown on the public list until signed off."""
    hazard = _lock_hazard(hazard, expected_version)
    check_hazard_may(actor, hazard, "list")
    if hazard.listed:
        raise Conflict(f"隐患 {hazard.number} 已挂牌", rule="fieldwork.hazard.list.already")
    errors = Errors()
    owner = _text(errors, "owner", owner, "督办责任人", max_length=100, required=True)
    requirement = _text(errors, "requirement", requirement, "督办要求", max_length=500, required=True)
    errors.raise_if_any("挂牌信息有误")
    now = clock.now()
    hazard.listed, hazard.listed_at, hazard.listed_owner, hazard.listed_note = True, now, owner, requirement
    _save_hazard(hazard, ["listed", "listed_at", "listed_owner", "listed_note"])
    _hazard_event(hazard, action="list", from_state=hazard.state, actor=actor, at=now, note=requirement, owner=owner)
    return hazard
