"""/api/v1/cases — intake, work queues, every action of the transition table, duplicates,
routing and category suggestions, rates, xlsx export, the notification inbox, and the public
tracking endpoints for citizens. Everything except `/public/*` is scoped by jurisdiction: a case
outside the caller's scope answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from gridgov.accounts.models import Department, User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import NotFound, ValidationFailed
from gridgov.common.pagination import paginate
from gridgov.regions.models import Region

from . import config, presenters, routing, selectors, services, sla, throttle
from .conf import conf
from .export import export_xlsx
from .models import Case, CaseCategory, Notification, State

router = Router(tags=["cases"])


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _case(request: HttpRequest, number: str) -> Case:
    return selectors.case_get(scope=_scope(request), number=number)


# --- schemas ---------------------------------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    parent_code: str | None
    is_leaf: bool


class CaseRowOut(Schema):
    number: str
    state: str
    state_label: str
    category_code: str
    category_name: str
    urgency: str
    source: str
    description: str
    address: str
    region_code: str
    region_name: str
    center_name: str
    department: str | None
    reported_at: dt.datetime
    deadline: dt.datetime | None
    colour: str
    supervised: bool


class CasePageOut(Schema):
    items: list[CaseRowOut]
    page: int
    pages: int
    total: int
    total_capped: bool = Field(False, description="total 已达计数上限（实际更多），请用筛选缩小范围")


class AssignmentOut(Schema):
    department: str
    department_code: str
    role: str
    active: bool


class PhotoOut(Schema):
    id: int
    kind: str
    url: str
    width: int
    height: int


class EventOut(Schema):
    at: dt.datetime
    action: str
    action_label: str
    from_state: str
    to_state: str
    actor: str
    unit: str
    note: str
    public_note: str
    is_public: bool
    detail: dict[str, Any]


class CaseOut(CaseRowOut):
    version: int
    lat: float | None
    lng: float | None
    region_path: str
    center_code: str
    tracking_code: str | None
    reporter: str
    reporter_phone: str
    sign_deadline: dt.datetime | None
    handle_deadline: dt.datetime | None
    accepted_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    signed_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    handler: str | None
    result: str
    public_reply: str
    settled_on_spot: bool
    extension_pending: bool
    extension_days: int
    extension_reason: str
    rework_count: int
    reopen_count: int
    satisfaction: int | None
    rating_comment: str
    supervision_listed: bool
    supervision_owner: str
    supervision_deadline: dt.datetime | None
    supervision_note: str
    merged_into: str | None
    assignments: list[AssignmentOut]
    photos: list[PhotoOut]
    timeline: list[EventOut]
    allowed_actions: list[str]


class CaseCreatedOut(Schema):
    """What `POST /cases` answers: enough to show and track the new case. The full record is
    `GET /cases/{number}`, or this same answer with `Prefer: return=representation`."""

    id: int
    number: str
    tracking_code: str
    state: str
    state_label: str
    reported_at: dt.datetime
    deadline: dt.datetime | None
    region_code: str
    region_name: str
    center_code: str
    lat: float | None
    lng: float | None
    address: str


class ReportIn(Schema):
    category: str = Field(..., description="小类编码，如 0502")
    description: str
    source: str | None = Field(None, description="来源渠道；缺省按角色")
    urgency: str = "normal"
    lat: float | None = None
    lng: float | None = None
    region_code: str | None = Field(None, description="未定位时：网格或微网格代码（需同时填写地址）")
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    settle: bool = Field(False, description="网格员就地化解（须附化解情况和佐证照片）")
    settle_result: str = ""


class CaseListFilter(Schema):
    queue: str = "all"
    q: str = ""
    state: str = ""
    category: str = ""
    source: str = ""
    urgency: str = ""
    colour: str = Field("", description="green / yellow / red")
    region: str = ""
    department: int | None = None
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    supervised: bool | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


class VersionIn(Schema):
    version: int | None = Field(None, description="读取时的版本号；与当前不符则 409")


class NoteIn(VersionIn):
    note: str = ""


class ReasonIn(VersionIn):
    reason: str


class MergeIn(NoteIn):
    into: str = Field(..., description="合并到的（更早的）案卷编号")


class DispatchIn(NoteIn):
    department: str | None = Field(None, description="主办单位编码")
    assist_departments: list[str] = Field(default_factory=list, description="协办单位编码")
    center: str | None = Field(None, description="或：下级中心的区域代码")


class ReturnIn(VersionIn):
    grounds: str


class ExtensionIn(VersionIn):
    days: int = Field(..., ge=1, le=services.MAX_EXTENSION_DAYS)
    reason: str


class HandleIn(VersionIn):
    result: str
    public_reply: str = ""


class RateIn(VersionIn):
    score: int = Field(..., ge=1, le=5)
    comment: str = ""


class SuperviseIn(VersionIn):
    owner: str
    deadline: dt.datetime
    requirement: str
    listed: bool = True


class TextIn(Schema):
    text: str


class DuplicateOut(Schema):
    number: str
    state: str
    metres: int
    reported_at: dt.datetime
    description: str


class DepartmentOut(Schema):
    code: str
    name: str


class RouteOut(Schema):
    department: DepartmentOut | None
    assist_departments: list[DepartmentOut]
    auto_dispatch: bool
    rule_id: int | None


class SuggestIn(Schema):
    text: str = Field(..., min_length=2, max_length=4000)


class SuggestOut(Schema):
    code: str
    name: str
    probability: float


class RatesOut(Schema):
    key: str
    label: str
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
    on_time_sign_rate: float | None
    on_time_completion_rate: float | None
    completion_rate: float | None
    satisfaction_rate: float | None


class RatesReportOut(Schema):
    whole: RatesOut
    rows: list[RatesOut]


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    case: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_case(obj: Notification) -> str | None:
        return obj.case.number if obj.case_id and obj.case else None


class PublicEventOut(Schema):
    at: dt.datetime
    action_label: str
    unit: str
    text: str


class PublicCaseOut(Schema):
    number: str
    state: str
    state_label: str
    category_name: str
    description: str
    address: str
    reported_at: dt.datetime
    department: str | None
    handle_deadline: dt.datetime | None
    colour: str
    public_reply: str
    satisfaction: int | None
    can_rate: bool
    merged_into: str | None
    timeline: list[PublicEventOut]


class PublicRateIn(Schema):
    score: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


# --- configuration and helpers ---------------------------------------------------------------------


@router.get("/categories", response=list[CategoryOut], summary="事件类别（两级编码表）")
def categories(request: HttpRequest) -> Any:
    cats = CaseCategory.objects.filter(is_active=True).select_related("parent").order_by("sort", "code")
    leaves = set(CaseCategory.objects.filter(children__isnull=True).values_list("pk", flat=True))
    return [
        {"code": c.code, "name": c.name, "parent_code": c.parent.code if c.parent else None, "is_leaf": c.pk in leaves}
        for c in cats
    ]


@router.post("/suggest-category", response=list[SuggestOut], summary="根据描述建议事件类别（离线分类器）")
def suggest_category(request: HttpRequest, payload: SuggestIn) -> Any:
    return [
        {"code": s.category.code, "name": s.category.full_name, "probability": s.probability}
        for s in routing.suggest_category(payload.text)
    ]


@router.get("/duplicates", response=list[DuplicateOut], summary="疑似重复件（同类、附近、近期、未办结）")
def duplicates(
    request: HttpRequest,
    category: str,
    lat: float = Query(..., ge=-90, le=90),  # type: ignore[type-arg]
    lng: float = Query(..., ge=-180, le=180),  # type: ignore[type-arg]
) -> Any:
    cat = CaseCategory.objects.filter(code=category).first()
    if cat is None:
        raise ValidationFailed("事件类别不存在", field="category")
    found = selectors.case_duplicates(scope=_scope(request), category=cat, lat=lat, lng=lng)
    return [_dup(d) for d in found]


def _dup(d: selectors.Duplicate) -> dict[str, Any]:
    return {
        "number": d.case.number,
        "state": d.case.state,
        "metres": d.metres,
        "reported_at": d.case.reported_at,
        "description": d.case.description[:120],
    }


@router.get("/rates", response=RatesReportOut, summary="按时签收率、按时办结率、办结率、满意率")
def rates(
    request: HttpRequest,
    by: str = Query("region", pattern="^(region|department)$"),  # type: ignore[type-arg]
    region: str | None = None,
    reported_from: dt.date | None = None,
    reported_to: dt.date | None = None,
) -> Any:
    scope = _scope(request)
    qs = selectors.case_filter(
        selectors.case_queryset(scope=scope),
        selectors.CaseFilters(reported_from=reported_from, reported_to=reported_to),
    )
    if by == "department":
        rows = sla.rates_by_department(qs=qs)
        return {"whole": sla.case_rates(qs=qs, label="合计", key="all").as_dict(), "rows": [r.as_dict() for r in rows]}
    from gridgov.regions import selectors as region_selectors

    node = (
        region_selectors.region_get(scope=scope, code=region)
        if region
        else region_selectors.region_roots(scope=scope).first()
    )
    if node is None:
        raise NotFound("没有可统计的辖区")
    whole, rows_ = sla.rates_by_region(scope=scope, region=node, qs=qs)
    return {"whole": whole.as_dict(), "rows": [r.as_dict() for r in rows_]}


@router.get("/export.xlsx", summary="导出 xlsx（辖区内、按筛选条件）", response={200: None})
def export(request: HttpRequest, filters: Query[CaseListFilter]) -> HttpResponse:
    qs = selectors.case_list(scope=_scope(request), queue=filters.queue, filters=_filters(filters))
    data = export_xlsx(qs=qs, actor=request.user, request=request, filters=filters.dict())
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="cases-{clock.today():%Y%m%d}.xlsx"'
    return response


# --- inbox ---------------------------------------------------------------------------------------------


@router.get("/notifications", response=list[NotificationOut], summary="我的通知")
def notifications(request: HttpRequest, unread: bool = False) -> Any:
    return list(selectors.notifications_for(user_id=_user(request).pk, unread_only=unread)[:200])


@router.post("/notifications/{notification_id}/read", response=NotificationOut, summary="标记通知已读")
def notification_read(request: HttpRequest, notification_id: int) -> Any:
    row = selectors.notifications_for(user_id=_user(request).pk).filter(pk=notification_id).first()
    if row is None:
        raise NotFound("通知不存在")
    if row.read_at is None:
        Notification.objects.filter(pk=row.pk).update(read_at=clock.now())
        row.refresh_from_db()
    return row


# --- public (citizen) ----------------------------------------------------------------------------------


@router.get("/public/track/{code}", auth=None, response=PublicCaseOut, summary="群众凭查询码查看办理进度（免登录）")
def public_track(request: HttpRequest, code: str) -> Any:
    throttle.hit(request, bucket="track", limit=120)
    return presenters.public(selectors.case_by_tracking_code(code=code))


@router.post("/public/track/{code}/rate", auth=None, response=PublicCaseOut, summary="群众评价（免登录）")
def public_rate(request: HttpRequest, code: str, payload: PublicRateIn) -> Any:
    throttle.hit(request, bucket="rate", limit=30)
    case = selectors.case_by_tracking_code(code=code)
    case = services.case_rate(actor=None, case=case, score=payload.score, comment=payload.comment, tracking_code=code)
    return presenters.public(case)


@router.post(
    "/public/report",
    auth=None,
    response={201: dict[str, str]},
    summary="群众随手拍上报（免登录，限频）",
)
def public_report(
    request: HttpRequest,
    payload: Form[ReportIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    throttle.hit(request, bucket="report", limit=int(conf("CITIZEN_REPORTS_PER_HOUR")))
    case = _report(request, payload, photos or [], actor=None)
    return Status(201, {"number": case.number, "tracking_code": case.tracking_code})


# --- cases ---------------------------------------------------------------------------------------------


def _filters(f: CaseListFilter) -> selectors.CaseFilters:
    return selectors.CaseFilters(
        q=f.q,
        state=f.state,
        category=f.category,
        source=f.source,
        urgency=f.urgency,
        colour=f.colour,
        region=f.region,
        department=f.department,
        reported_from=f.reported_from,
        reported_to=f.reported_to,
        supervised=f.supervised,
    )


@router.get("", response=CasePageOut, summary="案卷列表与工作队列（辖区内）")
def list_cases(request: HttpRequest, filters: Query[CaseListFilter]) -> Any:
    if filters.queue not in selectors.QUEUE_KEYS:
        raise ValidationFailed(f"未知的工作队列 {filters.queue!r}", field="queue")
    qs = selectors.case_list(scope=_scope(request), queue=filters.queue, filters=_filters(filters))
    page = paginate(qs, page=filters.page, page_size=filters.page_size, count_limit=selectors.LIST_COUNT_LIMIT)
    now = clock.now()
    return {
        "items": [presenters.row(c, now) for c in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
        "total_capped": page.total_capped,
    }


def _report(request: HttpRequest, payload: ReportIn, photos: list[UploadedFile], actor: User | None) -> Case:
    with config.use(config.for_request(request)) as snap:
        return _report_with(snap, request, payload, photos, actor)


def _report_with(
    snap: config.Snapshot, request: HttpRequest, payload: ReportIn, photos: list[UploadedFile], actor: User | None
) -> Case:
    category = snap.category_by_code(payload.category)
    if category is None:
        raise ValidationFailed("事件类别不存在", field="category")
    region: Region | None = None
    if payload.region_code and payload.lat is None:
        from gridgov.regions import selectors as region_selectors

        region = (
            region_selectors.region_get(scope=_scope(request), code=payload.region_code)
            if actor is not None
            else Region.objects.filter(code=payload.region_code).first()
        )
        if region is None:
            raise ValidationFailed("网格不存在", field="region_code")
    return services.case_report(
        actor=actor,
        category=category,
        description=payload.description,
        source=payload.source if actor is not None else None,
        urgency=payload.urgency,
        lat=payload.lat,
        lng=payload.lng,
        region=region,
        address=payload.address,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        photos=photos,
        settle=payload.settle if actor is not None else False,
        settle_result=payload.settle_result,
    )


def created(case: Case) -> dict[str, Any]:
    """The compact 201 body, from the objects the report just wrote (no query)."""
    return {
        "id": case.pk,
        "number": case.number,
        "tracking_code": case.tracking_code,
        "state": case.state,
        # State(…).label, not get_state_display(): that hashes every choice's lazy label per call.
        "state_label": str(State(case.state).label),
        # In UTC, as every other answer gives times read back from the database.
        "reported_at": case.reported_at.astimezone(dt.UTC),
        "deadline": case.deadline.astimezone(dt.UTC) if case.deadline else None,
        "region_code": case.region.code,
        "region_name": case.region.name,
        "center_code": case.center.code,
        "lat": case.lat,
        "lng": case.lng,
        "address": case.address,
    }


def _wants_representation(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().lower() == "return=representation" for p in prefer.replace(";", ",").split(","))


@router.post(
    "",
    response={201: CaseCreatedOut},
    summary="上报事件（multipart：字段 + photos 照片）",
    description=(
        "答复新案卷的编号、查询码、状态、时限和位置（CaseCreatedOut）。需要完整案卷（同 `GET /cases/{number}`，"
        "CaseOut）时加请求头 `Prefer: return=representation`。"
    ),
)
def report(
    request: HttpRequest,
    payload: Form[ReportIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    case = _report(request, payload, photos or [], actor=_user(request))
    if _wants_representation(request):
        full = CaseOut.model_validate(presenters.detail(_case(request, case.number), _user(request)))
        response = JsonResponse(full.model_dump(mode="json"), status=201, json_dumps_params={"ensure_ascii": False})
        response["Preference-Applied"] = "return=representation"
        return response
    # Rendered as ninja renders CaseCreatedOut (same renderer and encoder), without validating
    # our own dict through pydantic on every report (tests check the body against the schema).
    from config.api import api  # the NinjaAPI this router is mounted on (imported late: it imports us)

    return api.create_response(request, created(case), status=201)


@router.get("/{number}", response=CaseOut, summary="案卷详情（含流转记录与可执行操作）")
def case_detail(request: HttpRequest, number: str) -> Any:
    return presenters.detail(_case(request, number), _user(request))


@router.get("/{number}/duplicates", response=list[DuplicateOut], summary="该案卷的疑似重复件（更早上报的）")
def case_duplicates(request: HttpRequest, number: str) -> Any:
    case = _case(request, number)
    found = selectors.case_duplicates(
        scope=_scope(request),
        category=case.category_id,
        lat=case.lat,
        lng=case.lng,
        exclude_id=case.pk,
        before=case.reported_at,
    )
    return [_dup(d) for d in found]


@router.get("/{number}/route", response=RouteOut, summary="按派遣规则建议的承办单位")
def case_route(request: HttpRequest, number: str) -> Any:
    case = _case(request, number)
    found = routing.route_for(category=case.category, region_path=case.region_path)
    if found is None:
        return {"department": None, "assist_departments": [], "auto_dispatch": False, "rule_id": None}
    return {
        "department": found.department,
        "assist_departments": list(found.assist_departments),
        "auto_dispatch": found.auto_dispatch,
        "rule_id": found.rule_id,
    }


def _done(request: HttpRequest, case: Case) -> Any:
    return presenters.detail(_case(request, case.number), _user(request))


def _department(code: str | None, field: str) -> Department | None:
    if not code:
        return None
    dep = Department.objects.select_related("region").filter(code=code).first()
    if dep is None:
        raise ValidationFailed(f"部门 {code} 不存在", field=field)
    return dep


@router.post("/{number}/accept", response=CaseOut, summary="受理")
def accept(request: HttpRequest, number: str, payload: NoteIn) -> Any:
    c = services.case_accept(
        actor=_user(request), case=_case(request, number), note=payload.note, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/reject", response=CaseOut, summary="不予受理（须说明理由）")
def reject(request: HttpRequest, number: str, payload: ReasonIn) -> Any:
    c = services.case_reject(
        actor=_user(request), case=_case(request, number), reason=payload.reason, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/merge", response=CaseOut, summary="合并到更早的案卷")
def merge(request: HttpRequest, number: str, payload: MergeIn) -> Any:
    into = selectors.case_get(scope=_scope(request), number=payload.into)
    c = services.case_merge(
        actor=_user(request),
        case=_case(request, number),
        into=into,
        note=payload.note,
        expected_version=payload.version,
    )
    return _done(request, c)


@router.post("/{number}/escalate", response=CaseOut, summary="上报上级中心")
def escalate(request: HttpRequest, number: str, payload: ReasonIn) -> Any:
    c = services.case_escalate(
        actor=_user(request), case=_case(request, number), reason=payload.reason, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/dispatch", response=CaseOut, summary="派遣：主办单位（可加协办）或下级中心")
def dispatch(request: HttpRequest, number: str, payload: DispatchIn) -> Any:
    department = _department(payload.department, "department")
    assists = [d for d in (_department(code, "assist_departments") for code in payload.assist_departments) if d]
    center = None
    if payload.center:
        center = Region.objects.filter(code=payload.center).first()
        if center is None:
            raise ValidationFailed("中心不存在", field="center")
    c = services.case_dispatch(
        actor=_user(request),
        case=_case(request, number),
        department=department,
        assist_departments=assists,
        center=center,
        note=payload.note,
        expected_version=payload.version,
    )
    return _done(request, c)


@router.post("/{number}/sign", response=CaseOut, summary="签收")
def sign(request: HttpRequest, number: str, payload: VersionIn) -> Any:
    c = services.case_sign(actor=_user(request), case=_case(request, number), expected_version=payload.version)
    return _done(request, c)


@router.post("/{number}/return", response=CaseOut, summary="回退（须说明依据）")
def return_(request: HttpRequest, number: str, payload: ReturnIn) -> Any:
    c = services.case_return(
        actor=_user(request), case=_case(request, number), grounds=payload.grounds, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/extension", response=CaseOut, summary="申请延期")
def request_extension(request: HttpRequest, number: str, payload: ExtensionIn) -> Any:
    c = services.case_request_extension(
        actor=_user(request),
        case=_case(request, number),
        days=payload.days,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _done(request, c)


@router.post("/{number}/extension/approve", response=CaseOut, summary="批准延期")
def approve_extension(request: HttpRequest, number: str, payload: NoteIn) -> Any:
    c = services.case_approve_extension(
        actor=_user(request), case=_case(request, number), note=payload.note, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/extension/refuse", response=CaseOut, summary="驳回延期")
def refuse_extension(request: HttpRequest, number: str, payload: ReasonIn) -> Any:
    c = services.case_refuse_extension(
        actor=_user(request), case=_case(request, number), reason=payload.reason, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/handle", response=CaseOut, summary="处置反馈（multipart：结果 + photos 照片）")
def handle(
    request: HttpRequest,
    number: str,
    payload: Form[HandleIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    c = services.case_handle(
        actor=_user(request),
        case=_case(request, number),
        result=payload.result,
        public_reply=payload.public_reply,
        photos=photos or [],
        expected_version=payload.version,
    )
    return _done(request, c)


@router.post("/{number}/verify", response=CaseOut, summary="核查通过")
def verify(request: HttpRequest, number: str, payload: NoteIn) -> Any:
    c = services.case_verify(
        actor=_user(request), case=_case(request, number), note=payload.note, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/rework", response=CaseOut, summary="核查不通过，返工")
def rework(request: HttpRequest, number: str, payload: ReasonIn) -> Any:
    c = services.case_rework(
        actor=_user(request), case=_case(request, number), reason=payload.reason, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/close", response=CaseOut, summary="结案")
def close(request: HttpRequest, number: str, payload: NoteIn) -> Any:
    c = services.case_close(
        actor=_user(request), case=_case(request, number), note=payload.note, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/rate", response=CaseOut, summary="回访评价（中心回访或上报人）")
def rate(request: HttpRequest, number: str, payload: RateIn) -> Any:
    c = services.case_rate(
        actor=_user(request),
        case=_case(request, number),
        score=payload.score,
        comment=payload.comment,
        expected_version=payload.version,
    )
    return _done(request, c)


@router.post("/{number}/supervise", response=CaseOut, summary="督办 / 挂牌督办")
def supervise(request: HttpRequest, number: str, payload: SuperviseIn) -> Any:
    c = services.case_supervise(
        actor=_user(request),
        case=_case(request, number),
        owner=payload.owner,
        deadline=payload.deadline,
        requirement=payload.requirement,
        listed=payload.listed,
        expected_version=payload.version,
    )
    return _done(request, c)


@router.post("/{number}/settle/approve", response=CaseOut, summary="网格长同意就地化解")
def approve_settle(request: HttpRequest, number: str, payload: NoteIn) -> Any:
    c = services.case_approve_settle(
        actor=_user(request), case=_case(request, number), note=payload.note, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/settle/refuse", response=CaseOut, summary="网格长不同意就地化解")
def refuse_settle(request: HttpRequest, number: str, payload: ReasonIn) -> Any:
    c = services.case_refuse_settle(
        actor=_user(request), case=_case(request, number), reason=payload.reason, expected_version=payload.version
    )
    return _done(request, c)


@router.post("/{number}/notes", response=CaseOut, summary="备注 / 协办反馈（内部）")
def add_note(request: HttpRequest, number: str, payload: TextIn) -> Any:
    case = _case(request, number)
    services.case_add_note(actor=_user(request), case=case, text=payload.text)
    return _done(request, case)
