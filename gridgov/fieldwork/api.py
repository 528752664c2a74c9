"""/api/v1/fieldwork — the worker's day, visits with the location check, patrols and check-ins,
reports from findings, counts per worker, and the hazard campaign (campaigns, inspections,
hazards and every action of their transition table, assignment sheets, xlsx). Everything is
scoped by the caller's jurisdiction: a row outside it answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from gridgov.accounts.models import Department, User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.dates import check_day
from gridgov.common.errors import ValidationFailed
from gridgov.common.pagination import paginate
from gridgov.regions.models import Region
from gridgov.registers.models import Household, Person, Place

from . import export, pdf, selectors, services
from .models import Campaign, Hazard, Inspection
from .services import ItemResult

router = Router(tags=["fieldwork"])


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- schemas -----------------------------------------------------------------------------------


class DueVisitOut(Schema):
    person_id: int
    group: str
    attention_level: str
    due_on: dt.date | None
    overdue_days: int
    region_name: str


class DuePlaceOut(Schema):
    place_id: int
    name: str
    kind: str
    due_on: dt.date | None


class InspectionOut(Schema):
    id: int
    campaign_id: int
    campaign_name: str
    unit_name: str
    address: str
    region_code: str
    region_name: str
    assignee: str
    due_on: dt.date
    state: str
    inspected_at: dt.datetime | None


class TodayOut(Schema):
    visits_today: int
    checkins_today: int
    active_patrol_id: int | None
    visits_due: list[DueVisitOut]
    places_due: list[DuePlaceOut]
    inspections: list[InspectionOut]


class VisitOut(Schema):
    id: int
    visited_at: dt.datetime
    kind: str
    outcome: str
    findings: str
    region_code: str
    lat: float | None
    lng: float | None
    location_check: str


class CaseRefOut(Schema):
    number: str
    state: str
    tracking_code: str


class FindingIn(Schema):
    category: int
    description: str
    urgency: str = "normal"


class PatrolOut(Schema):
    id: int
    state: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    distance_m: int
    summary: str


class CheckinIn(Schema):
    lat: float | None = None
    lng: float | None = None
    note: str = ""
    has_issue: bool = False
    place_id: int | None = None


class CheckinOut(Schema):
    id: int
    at: dt.datetime
    inside_grid: bool
    located_region: str | None


class EndIn(Schema):
    summary: str = ""


class CountOut(Schema):
    user_id: int
    label: str
    period: dt.date
    visits: int
    patrols: int
    checkins: int
    finding_cases: int


class CampaignIn(Schema):
    name: str
    starts_on: dt.date
    ends_on: dt.date
    scope_regions: list[str]
    checklist: list[str]
    target_place_kinds: list[str] = []
    theme: str = ""
    description: str = ""


class CampaignOut(Schema):
    id: int
    name: str
    theme: str
    state: str
    starts_on: dt.date
    ends_on: dt.date
    region_code: str
    scope_regions: list[str]
    target_place_kinds: list[str]
    checklist: list[dict[str, Any]]


class ProgressRowOut(Schema):
    key: str
    label: str
    units: int
    checked: int
    hazards: int
    rectified: int
    awaiting: int
    rectifying: int
    overdue: int
    voided: int
    listed: int
    rectify_rate: float | None


class ProgressOut(Schema):
    whole: ProgressRowOut
    rows: list[ProgressRowOut]


class AssignIn(Schema):
    due_on: dt.date
    place_id: int | None = None
    unit_name: str = ""
    address: str = ""
    region_code: str = ""
    assignee_id: int | None = None
    department_id: int | None = None


class GenerateIn(Schema):
    due_on: dt.date


class ResultIn(Schema):
    item_id: int
    passed: bool
    note: str = ""
    raise_hazard: bool = True
    level: str = "general"


class RecordIn(Schema):
    results: list[ResultIn]
    note: str = ""
    lat: float | None = None
    lng: float | None = None


class HazardOut(Schema):
    id: int
    number: str
    campaign_id: int
    unit_name: str
    description: str
    level: str
    state: str
    region_code: str
    target: str
    measures: str
    responsible: str
    responsible_department: str | None
    deadline: dt.date | None
    overdue: bool
    listed: bool
    found_at: dt.datetime
    signed_off_at: dt.datetime | None
    version: int
    allowed_actions: list[str] = []


class HazardPageOut(Schema):
    items: list[HazardOut]
    page: int
    pages: int
    total: int


class HazardActionIn(Schema):
    expected_version: int | None = None
    target: str = ""
    measures: str = ""
    responsible: str = ""
    responsible_department_id: int | None = None
    deadline: dt.date | None = None
    rectification: str = ""
    note: str = ""
    reason: str = ""
    owner: str = ""
    requirement: str = ""


class HazardEventOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    actor: str
    note: str


# --- helpers -----------------------------------------------------------------------------------


def _inspection_out(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "campaign_id": i.campaign_id,
        "campaign_name": i.campaign.name,
        "unit_name": i.unit_name,
        "address": i.address,
        "region_code": i.region.code,
        "region_name": i.region.name,
        "assignee": i.assignee_label,
        "due_on": i.due_on,
        "state": i.state,
        "inspected_at": i.inspected_at,
    }


def _hazard_out(h: Hazard, user: User | None = None) -> dict[str, Any]:
    return {
        "id": h.pk,
        "number": h.number,
        "campaign_id": h.campaign_id,
        "unit_name": h.inspection.unit_name,
        "description": h.description,
        "level": h.level,
        "state": h.state,
        "region_code": h.region.code,
        "target": h.target,
        "measures": h.measures,
        "responsible": h.responsible,
        "responsible_department": h.responsible_department.name if h.responsible_department else None,
        "deadline": h.deadline,
        "overdue": h.is_overdue(clock.today()),
        "listed": h.listed,
        "found_at": h.found_at,
        "signed_off_at": h.signed_off_at,
        "version": h.version,
        "allowed_actions": services.hazard_allowed_actions(user, h) if user else [],
    }


def _campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "theme": c.theme,
        "state": c.state,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "region_code": c.region.code,
        "scope_regions": [r.code for r in c.scope_regions.all()],
        "target_place_kinds": list(c.target_place_kinds or []),
        "checklist": [{"id": i.pk, "seq": i.seq, "text": i.text} for i in c.items.all()],
    }


def _progress(p: selectors.Progress) -> dict[str, Any]:
    return {
        **{k: getattr(p, k) for k in ProgressRowOut.model_fields if k != "rectify_rate"},
        "rectify_rate": p.rectify_rate,
    }


# --- the worker's day ----------------------------------------------------------------------------


@router.get("/today", response=TodayOut, summary="今日工作：到期走访、到期巡查场所、检查任务")
def today(request: HttpRequest) -> dict[str, Any]:
    t = selectors.worker_today(scope=_scope(request), user=_user(request))
    return {
        "visits_today": t.visits_today,
        "checkins_today": t.checkins_today,
        "active_patrol_id": t.active_patrol.pk if t.active_patrol else None,
        "visits_due": [
            {
                "person_id": r.membership.person_id,
                "group": r.membership.kind,
                "attention_level": r.membership.attention_level,
                "due_on": r.membership.next_visit_due,
                "overdue_days": r.overdue_days,
                "region_name": r.membership.person.region.name,
            }
            for r in t.visits_due
        ],
        "places_due": [
            {"place_id": p.pk, "name": p.name, "kind": p.kind, "due_on": p.next_inspection_due} for p in t.places_due
        ],
        "inspections": [_inspection_out(i) for i in t.inspections],
    }


def _visit_out(v: Any) -> dict[str, Any]:
    loc = getattr(v, "fieldwork_location", None)
    return {
        "id": v.pk,
        "visited_at": v.visited_at,
        "kind": v.kind,
        "outcome": v.outcome,
        "findings": v.findings,
        "region_code": v.region.code,
        "lat": v.lat,
        "lng": v.lng,
        "location_check": loc.status if loc else "none",
    }


@router.post("/visits", response={201: VisitOut}, summary="登记走访（定位核验，照片按内容校验）")
def visit_create(
    request: HttpRequest,
    findings: Form[str],
    person_id: Form[int | None] = None,
    household_id: Form[int | None] = None,
    place_id: Form[int | None] = None,
    kind: Form[str] = "routine",
    outcome: Form[str] = "normal",
    lat: Form[float | None] = None,
    lng: Form[float | None] = None,
    accuracy_m: Form[int | None] = None,
    confirm_outside: Form[bool] = False,
    outside_reason: Form[str] = "",
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    scope = _scope(request)

    def pick(model: Any, pk: int | None, field: str) -> Any:
        if pk is None:
            return None
        obj = scope.filter(model.objects.filter(pk=pk)).first()
        if obj is None:
            raise ValidationFailed("走访对象不存在或不在您的辖区内", field=field)
        return obj

    visit = services.visit_record_checked(
        actor=_user(request),
        findings=findings,
        person=pick(Person, person_id, "person_id"),
        household=pick(Household, household_id, "household_id"),
        place=pick(Place, place_id, "place_id"),
        kind=kind,
        outcome=outcome,
        lat=lat,
        lng=lng,
        accuracy_m=accuracy_m,
        confirm_outside=confirm_outside,
        outside_reason=outside_reason,
        photos=photos or [],
    )
    return Status(201, _visit_out(visit))


@router.get("/visits", response=list[VisitOut], summary="本人走访记录")
def visit_list(request: HttpRequest, limit: int = 50) -> list[dict[str, Any]]:
    qs = selectors.my_visits(scope=_scope(request), user=_user(request))[: max(1, min(limit, 200))]
    return [_visit_out(v) for v in qs]


@router.post("/visits/{visit_id}/report-case", response={201: CaseRefOut}, summary="走访发现一键上报事件")
def visit_report(request: HttpRequest, visit_id: int, payload: FindingIn) -> Any:
    visit = selectors.visit_get(scope=_scope(request), pk=visit_id)
    case = services.finding_report_case(
        actor=_user(request),
        visit=visit,
        category=payload.category,
        description=payload.description,
        urgency=payload.urgency,
    )
    return Status(201, {"number": case.number, "state": case.state, "tracking_code": case.tracking_code})


# --- patrols -------------------------------------------------------------------------------------


def _patrol_out(p: Any) -> dict[str, Any]:
    return {k: getattr(p, k) for k in ("id", "state", "started_at", "ended_at", "distance_m", "summary")}


@router.get("/patrols", response=list[PatrolOut], summary="本人巡查记录")
def patrol_list(request: HttpRequest, limit: int = 30) -> list[dict[str, Any]]:
    return [
        _patrol_out(p)
        for p in selectors.patrol_list(scope=_scope(request), user=_user(request))[: max(1, min(limit, 200))]
    ]


@router.post("/patrols", response={201: PatrolOut}, summary="开始巡查")
def patrol_start(request: HttpRequest) -> Any:
    return Status(201, _patrol_out(services.patrol_start(actor=_user(request))))


@router.post("/patrols/{patrol_id}/checkins", response={201: CheckinOut}, summary="巡查打卡")
def patrol_checkin(request: HttpRequest, patrol_id: int, payload: CheckinIn) -> Any:
    scope = _scope(request)
    patrol = selectors.patrol_get(scope=scope, pk=patrol_id)
    place = scope.filter(Place.objects.filter(pk=payload.place_id)).first() if payload.place_id else None
    if payload.place_id and place is None:
        raise ValidationFailed("巡查点位不存在", field="place_id")
    c = services.patrol_checkin(
        actor=_user(request),
        patrol=patrol,
        lat=payload.lat,
        lng=payload.lng,
        note=payload.note,
        has_issue=payload.has_issue,
        place=place,
    )
    return Status(
        201,
        {
            "id": c.pk,
            "at": c.at,
            "inside_grid": c.inside_grid,
            "located_region": c.located_region.code if c.located_region else None,
        },
    )


@router.post("/patrols/{patrol_id}/end", response=PatrolOut, summary="结束巡查")
def patrol_end(request: HttpRequest, patrol_id: int, payload: EndIn) -> dict[str, Any]:
    patrol = selectors.patrol_get(scope=_scope(request), pk=patrol_id)
    return _patrol_out(services.patrol_end(actor=_user(request), patrol=patrol, summary=payload.summary))


@router.post("/checkins/{checkin_id}/report-case", response={201: CaseRefOut}, summary="巡查发现一键上报事件")
def checkin_report(request: HttpRequest, checkin_id: int, payload: FindingIn) -> Any:
    checkin = selectors.checkin_get(scope=_scope(request), pk=checkin_id)
    case = services.finding_report_case(
        actor=_user(request),
        checkin=checkin,
        category=payload.category,
        description=payload.description,
        urgency=payload.urgency,
    )
    return Status(201, {"number": case.number, "state": case.state, "tracking_code": case.tracking_code})


@router.get("/counts", response=list[CountOut], summary="按人按日/月统计走访、巡查、打卡、发现上报")
def counts(
    request: HttpRequest, start: dt.date, end: dt.date, by: str = "day", user_id: int | None = None
) -> list[Any]:
    if by not in ("day", "month"):
        raise ValidationFailed("by 只能是 day 或 month", field="by")
    check_day(start, field="start", label="开始日期")
    check_day(end, field="end", label="结束日期")
    if end < start or (end - start).days > 400:
        raise ValidationFailed("统计区间应在 400 天以内且结束不早于开始", field="end")
    return selectors.worker_counts(scope=_scope(request), start=start, end=end, by=by, user_id=user_id)  # type: ignore[return-value]


# --- campaigns -----------------------------------------------------------------------------------


@router.get("/campaigns", response=list[CampaignOut], summary="专项整治列表")
def campaign_list(request: HttpRequest, state: str = "") -> list[dict[str, Any]]:
    qs = selectors.campaign_list(scope=_scope(request), state=state).prefetch_related("scope_regions", "items")
    return [_campaign_out(c) for c in qs[:200]]


@router.post("/campaigns", response={201: CampaignOut}, summary="新建专项整治")
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Any:
    regions = list(Region.objects.filter(code__in=payload.scope_regions))
    if len(regions) != len(set(payload.scope_regions)):
        raise ValidationFailed("整治范围中有不存在的区域代码", field="scope_regions")
    c = services.campaign_create(
        actor=_user(request),
        name=payload.name,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        scope_regions=regions,
        checklist=payload.checklist,
        target_place_kinds=payload.target_place_kinds,
        theme=payload.theme,
        description=payload.description,
    )
    return Status(201, _campaign_out(c))


@router.get("/campaigns/{campaign_id}", response=CampaignOut)
def campaign_get(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return _campaign_out(selectors.campaign_get(scope=_scope(request), pk=campaign_id))


@router.post("/campaigns/{campaign_id}/start", response=CampaignOut, summary="启动")
def campaign_start(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    c = selectors.campaign_get(scope=_scope(request), pk=campaign_id)
    return _campaign_out(services.campaign_start(actor=_user(request), campaign=c))


@router.post("/campaigns/{campaign_id}/close", response=CampaignOut, summary="结束")
def campaign_close(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    c = selectors.campaign_get(scope=_scope(request), pk=campaign_id)
    return _campaign_out(services.campaign_close(actor=_user(request), campaign=c))


@router.get(
    "/campaigns/{campaign_id}/progress", response=ProgressOut, summary="进度：检查单位、发现、销号、逾期（分区域）"
)
def campaign_progress(request: HttpRequest, campaign_id: int, region: str = "") -> dict[str, Any]:
    scope = _scope(request)
    c = selectors.campaign_get(scope=scope, pk=campaign_id)
    node = Region.objects.filter(code=region).first() if region else None
    if region and (node is None or not scope.covers(node.path)):
        raise ValidationFailed("区域不存在或不在您的辖区内", field="region")
    whole, rows = selectors.campaign_progress(scope=scope, campaign=c, node=node)
    return {"whole": _progress(whole), "rows": [_progress(r) for r in rows]}


@router.post("/campaigns/{campaign_id}/inspections", response={201: InspectionOut}, summary="派发检查任务")
def inspection_assign(request: HttpRequest, campaign_id: int, payload: AssignIn) -> Any:
    scope = _scope(request)
    c = selectors.campaign_get(scope=scope, pk=campaign_id)
    place = Place.objects.filter(pk=payload.place_id).first() if payload.place_id else None
    if payload.place_id and place is None:
        raise ValidationFailed("场所不存在", field="place_id")
    i = services.inspection_assign(
        actor=_user(request),
        campaign=c,
        due_on=payload.due_on,
        place=place,
        unit_name=payload.unit_name,
        address=payload.address,
        region=Region.objects.filter(code=payload.region_code).first() if payload.region_code else None,
        assignee=User.objects.filter(pk=payload.assignee_id).first() if payload.assignee_id else None,
        department=Department.objects.filter(pk=payload.department_id).first() if payload.department_id else None,
    )
    return Status(201, _inspection_out(i))


@router.post("/campaigns/{campaign_id}/inspections/generate", summary="按对象场所类别批量派发")
def inspection_generate(request: HttpRequest, campaign_id: int, payload: GenerateIn) -> dict[str, int]:
    c = selectors.campaign_get(scope=_scope(request), pk=campaign_id)
    return {"created": services.inspection_generate(actor=_user(request), campaign=c, due_on=payload.due_on)}


@router.get("/inspections", response=list[InspectionOut], summary="检查任务（mine=1 仅本人/本单位）")
def inspection_list(
    request: HttpRequest, campaign: int | None = None, state: str = "", mine: bool = False
) -> list[dict[str, Any]]:
    scope = _scope(request)
    c = selectors.campaign_get(scope=scope, pk=campaign) if campaign else None
    qs = selectors.inspection_list(scope=scope, campaign=c, state=state, mine=_user(request) if mine else None)
    return [_inspection_out(i) for i in qs[:500]]


@router.post(
    "/inspections/{inspection_id}/record", response={201: list[HazardOut]}, summary="登记检查结果（不合格项生成隐患）"
)
def inspection_record(request: HttpRequest, inspection_id: int, payload: RecordIn) -> Any:
    user = _user(request)
    i = selectors.inspection_get(scope=_scope(request), user=user, pk=inspection_id)
    results = {
        r.item_id: ItemResult(passed=r.passed, note=r.note, raise_hazard=r.raise_hazard, hazard_level=r.level)
        for r in payload.results
    }
    if len(results) != len(payload.results):
        raise ValidationFailed("同一检查项只能填写一次", field="results")
    hazards = services.inspection_record(
        actor=user, inspection=i, results=results, note=payload.note, lat=payload.lat, lng=payload.lng
    )
    return Status(201, [_hazard_out(h, user) for h in hazards])


# --- hazards -------------------------------------------------------------------------------------


class HazardQuery(Schema):
    campaign: int | None = Field(None, ge=1, le=2**63 - 1)  # a database id: beyond it is a 422, not a 500
    state: str = ""
    overdue: bool = False
    listed: bool = False
    region: str = ""
    q: str = ""
    page: int = 1
    page_size: int = 50


@router.get("/hazards", response=HazardPageOut, summary="隐患清单（overdue=1 逾期）")
def hazard_list(request: HttpRequest, filters: Query[HazardQuery]) -> dict[str, Any]:
    f = selectors.HazardFilters(
        campaign=filters.campaign,
        state=filters.state,
        overdue=filters.overdue,
        listed=filters.listed,
        region=filters.region,
        q=filters.q[:50],
    )
    page = paginate(
        selectors.hazard_list(scope=_scope(request), user=_user(request), f=f),
        page=filters.page,
        page_size=filters.page_size,
    )
    return {"items": [_hazard_out(h) for h in page.items], "page": page.page, "pages": page.pages, "total": page.total}


@router.get("/hazards/export.xlsx", summary="导出隐患清单")
def hazard_export(request: HttpRequest, campaign: int | None = None, overdue: bool = False) -> HttpResponse:
    f = selectors.HazardFilters(campaign=campaign, overdue=overdue)
    rows, red = export.hazard_rows(selectors.hazard_list(scope=_scope(request), user=_user(request), f=f))
    return export.xlsx_response(
        filename="hazards",
        title="隐患清单",
        columns=export.HAZARD_COLUMNS,
        rows=rows,
        red_rows=red,
        request=request,
        action="fieldwork.hazards_exported",
        filters=vars(f),
    )


@router.get("/hazards/{hazard_id}", response=HazardOut)
def hazard_get(request: HttpRequest, hazard_id: int) -> dict[str, Any]:
    user = _user(request)
    return _hazard_out(selectors.hazard_get(scope=_scope(request), user=user, pk=hazard_id), user)


@router.get("/hazards/{hazard_id}/timeline", response=list[HazardEventOut])
def hazard_timeline(request: HttpRequest, hazard_id: int) -> list[dict[str, Any]]:
    h = selectors.hazard_get(scope=_scope(request), user=_user(request), pk=hazard_id)
    return [
        {
            "at": e.at,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor": e.actor_label,
            "note": e.note,
        }
        for e in selectors.hazard_timeline(h)
    ]


@router.get("/hazards/{hazard_id}/sheet.pdf", summary="隐患整改交办单（PDF）")
def hazard_sheet(request: HttpRequest, hazard_id: int) -> HttpResponse:
    user = _user(request)
    h = selectors.hazard_get(scope=_scope(request), user=user, pk=hazard_id)
    from .views import _issuer

    return HttpResponse(pdf.hazard_sheet(h, issued_by=_issuer(user), now=clock.now()), content_type="application/pdf")


@router.post(
    "/hazards/{hazard_id}/{action}", response=HazardOut, summary="隐患流转：assign/report/sign_off/send_back/void/list"
)
def hazard_act(request: HttpRequest, hazard_id: int, action: str, payload: HazardActionIn) -> dict[str, Any]:
    user = _user(request)
    h = selectors.hazard_get(scope=_scope(request), user=user, pk=hazard_id)
    v = payload.expected_version
    if action == "assign":
        dept = (
            Department.objects.filter(pk=payload.responsible_department_id).first()
            if payload.responsible_department_id
            else None
        )
        h = services.hazard_assign(
            actor=user,
            hazard=h,
            target=payload.target,
            measures=payload.measures,
            responsible=payload.responsible,
            responsible_department=dept,
            deadline=payload.deadline,
            expected_version=v,
        )
    elif action == "report":
        h = services.hazard_report(actor=user, hazard=h, rectification=payload.rectification, expected_version=v)
    elif action == "sign_off":
        h = services.hazard_sign_off(actor=user, hazard=h, note=payload.note, expected_version=v)
    elif action == "send_back":
        h = services.hazard_send_back(
            actor=user, hazard=h, reason=payload.reason, deadline=payload.deadline, expected_version=v
        )
    elif action == "void":
        h = services.hazard_void(actor=user, hazard=h, reason=payload.reason, expected_version=v)
    elif action == "list":
        h = services.hazard_list(
            actor=user, hazard=h, owner=payload.owner, requirement=payload.requirement, expected_version=v
        )
    else:
        raise ValidationFailed(f"未知操作 {action!r}", field="action")
    return _hazard_out(selectors.hazard_get(scope=_scope(request), user=user, pk=h.pk), user)
