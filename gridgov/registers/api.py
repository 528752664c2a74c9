"""/api/v1/registers — the 9+X registers, scoped by the caller's jurisdiction.

ID and phone numbers are always masked here; the full values come only from
`POST /people/{id}/reveal` (role-gated, reason required, audited). Special-group data appears
only for roles that may see it (see `permissions`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Body, Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from gridgov.accounts.models import User
from gridgov.accounts.scope import Scope
from gridgov.common.errors import NotFound, ValidationFailed
from gridgov.common.pagination import LIST_COUNT_LIMIT, paginate

from . import codes, groups, permissions, selectors, services, spreadsheets
from .models import GroupMembership, Household, Person, Visit

router = Router(tags=["registers"])


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- schemas -------------------------------------------------------------------------------------
class PersonOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: dt.date | None
    doc_type: str
    id_number: str = Field(..., alias="id_masked", description="脱敏后的证件号码")
    phone: str = Field(..., alias="phone_masked", description="脱敏后的联系电话")
    population_type: str
    status: str
    region_code: str
    region_name: str
    house_id: int | None
    household_id: int | None
    relation: str
    moved_in_on: dt.date | None
    moved_out_on: dt.date | None

    @staticmethod
    def resolve_region_code(obj: Person) -> str:
        return obj.region.code

    @staticmethod
    def resolve_region_name(obj: Person) -> str:
        return obj.region.name


class MembershipOut(Schema):
    id: int
    person_id: int
    kind: str
    kind_label: str
    attention_level: str
    risk_code: str
    risk_note: str
    details: dict[str, Any]
    helper_ids: list[int]
    helper_note: str
    started_on: dt.date
    ended_on: dt.date | None
    last_visit_at: dt.datetime | None
    next_visit_due: dt.date | None

    @staticmethod
    def resolve_kind_label(obj: GroupMembership) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_helper_ids(obj: GroupMembership) -> list[int]:
        return [u.pk for u in obj.helpers.all()]


class EventOut(Schema):
    action: str
    from_status: str
    to_status: str
    at: dt.datetime
    actor: str | None
    reason: str

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.label if obj.actor else None


class VisitOut(Schema):
    id: int
    visitor: str
    visited_at: dt.datetime
    kind: str
    outcome: str
    findings: str
    person_id: int | None
    household_id: int | None
    place_id: int | None
    lat: float | None
    lng: float | None
    photos: list[str]

    @staticmethod
    def resolve_visitor(obj: Visit) -> str:
        return obj.visitor.label

    @staticmethod
    def resolve_photos(obj: Visit) -> list[str]:
        return [p.image.url for p in obj.photos.all()]


class PersonDetailOut(Schema):
    person: PersonOut
    groups: list[MembershipOut] | None
    events: list[EventOut]
    visits: list[VisitOut]
    allowed_actions: list[str]


class PersonIn(Schema):
    name: str
    population_type: str
    id_number: str
    doc_type: str = codes.DocumentType.RESIDENT_ID
    gender: str = ""
    birth_date: dt.date | None = None
    ethnicity: str = "01"
    phone: str = ""
    relation: str = ""
    origin_code: str = ""
    hukou_address: str = ""
    occupation: str = ""
    workplace: str = ""
    hukou_consistency: str = ""
    inflow_reason: str = ""
    permit_type: str = ""
    permit_expiry: dt.date | None = None
    residence_type: str = ""
    foreign_name: str = ""
    nationality: str = ""
    visit_purpose: str = ""
    expected_departure: dt.date | None = None
    moved_in_on: dt.date | None = None
    is_key_focus: bool = False
    note: str = ""


class PersonRegisterIn(Schema):
    house_id: int
    household_id: int | None = None
    person: PersonIn


class HouseholdIn(Schema):
    house_id: int
    kind: str = "resident"
    number: str = ""
    members: list[PersonIn]


class HouseholdOut(Schema):
    id: int
    number: str
    kind: str
    house_id: int
    head_id: int | None
    is_active: bool
    members: list[PersonOut]


class MoveOutIn(Schema):
    moved_out_to: str
    moved_out_on: dt.date | None = None
    reason: str = ""


class MoveInIn(Schema):
    house_id: int
    household_id: int | None = None
    relation: str = ""
    moved_in_on: dt.date | None = None


class CancelIn(Schema):
    cancel_reason: str
    on: dt.date | None = None
    reason: str = ""


class ReasonIn(Schema):
    reason: str = ""


class RevealIn(Schema):
    fields: list[str] = Field(default_factory=lambda: ["id_number", "phone"])
    reason: str


class MembershipIn(Schema):
    kind: str
    attention_level: str
    started_on: dt.date | None = None
    risk_code: str = ""
    risk_note: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    helper_ids: list[int] = Field(default_factory=list)
    helper_note: str = ""


class MembershipUpdateIn(Schema):
    attention_level: str
    risk_code: str = ""
    risk_note: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    helper_ids: list[int] = Field(default_factory=list)
    helper_note: str = ""


class EndIn(Schema):
    reason: str
    ended_on: dt.date | None = None


class DueOut(Schema):
    membership: MembershipOut
    person: PersonOut
    days_left: int
    state: str


class GroupCountOut(Schema):
    kind: str
    label: str
    total: int
    by_level: dict[str, int]
    overdue: int


class VisitRuleIn(Schema):
    interval_days: int


class AddressIn(Schema):
    road: str
    number: str
    estate: str = ""
    region_code: str | None = None
    lat: float | None = None
    lng: float | None = None


class AddressOut(Schema):
    id: int
    code: str
    road: str
    number: str
    estate: str
    region_code: str
    lat: float | None
    lng: float | None

    @staticmethod
    def resolve_region_code(obj: Any) -> str:
        return obj.region.code


class BuildingIn(Schema):
    name: str
    use: str = codes.BuildingUse.RESIDENTIAL
    floors: int = 1
    unit_count: int = 1
    houses_per_floor: int = 0
    manager_name: str = ""
    region_code: str | None = None


class HouseOut(Schema):
    id: int
    code: str
    unit_number: int
    floor: int
    number: str
    use: str
    is_rental: bool
    rental_use: str
    rental_hazard: str

    @staticmethod
    def resolve_unit_number(obj: Any) -> int:
        return int(obj.unit.number)


class BuildingOut(Schema):
    id: int
    code: str
    name: str
    use: str
    floors: int
    unit_count: int
    address_id: int
    region_code: str
    houses: list[HouseOut]

    @staticmethod
    def resolve_region_code(obj: Any) -> str:
        # The detail endpoint answers with a dict (_building_out), the create endpoint with a model.
        return obj["region_code"] if isinstance(obj, dict) else obj.region.code


class HouseIn(Schema):
    unit_number: int
    floor: int
    number: str
    area: float | None = None
    use: str = codes.BuildingUse.RESIDENTIAL
    is_rental: bool = False
    rental_use: str = ""
    rental_hazard: str = ""


class PageOut(Schema):
    page: int
    page_size: int
    total: int


class PersonPageOut(PageOut):
    items: list[PersonOut]
    total_capped: bool = Field(False, description="total 已达计数上限（实际更多），请用筛选缩小范围")


class PeopleFilter(Schema):
    q: str = ""
    population_type: str = ""
    status: str = codes.PersonStatus.ACTIVE
    group: str = ""
    region: str = ""
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


class ImportOut(Schema):
    register_key: str
    rows: int
    created: int
    ok: bool
    errors: list[dict[str, Any]]


class VisitForm(Schema):
    person_id: int | None = None
    household_id: int | None = None
    place_id: int | None = None
    kind: str = codes.VisitKind.ROUTINE
    outcome: str = codes.VisitOutcome.NORMAL
    findings: str
    visited_at: dt.datetime | None = None
    lat: float | None = None
    lng: float | None = None


# --- people --------------------------------------------------------------------------------------
def _person_in(data: PersonIn) -> dict[str, Any]:
    return {k: v for k, v in data.dict().items() if v not in (None, "")}


@router.get("/people", response=PersonPageOut, summary="实有人口列表（脱敏）")
def people_list(request: HttpRequest, filters: Query[PeopleFilter]) -> Any:
    qs = selectors.person_list(
        scope=_scope(request),
        q=filters.q,
        population_type=filters.population_type,
        status=filters.status,
        group=filters.group,
        region_code=filters.region,
    ).defer("id_number", "phone")
    page = paginate(
        qs, page=filters.page, page_size=filters.page_size, count_limit=LIST_COUNT_LIMIT, count_in_order=True
    )
    return {
        "items": page.items,
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
        "total_capped": page.total_capped,
    }


@router.post("/people", response={201: PersonOut}, summary="登记人员（入住某房屋，可加入已有的户）")
def people_register(request: HttpRequest, payload: PersonRegisterIn) -> Any:
    scope = _scope(request)
    house = selectors.house_get(scope=scope, pk=payload.house_id)
    household = selectors.household_get(scope=scope, pk=payload.household_id) if payload.household_id else None
    person = services.person_register(
        actor=_actor(request), house=house, household=household, data=_person_in(payload.person)
    )
    return Status(201, person)


@router.get("/people/{person_id}", response=PersonDetailOut, summary="人员详情：列管信息、登记记录、走访")
def people_detail(request: HttpRequest, person_id: int) -> Any:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=person_id)
    from . import states

    return {
        "person": person,
        "groups": selectors.person_groups(scope=scope, person=person, include_ended=True)
        if permissions.can_see_groups(scope)
        else None,
        "events": selectors.person_events(scope=scope, person=person),
        "visits": list(selectors.person_visits(scope=scope, person=person)[:50]),
        "allowed_actions": states.allowed_actions(person.status) if permissions.can_write(scope) else [],
    }


@router.patch("/people/{person_id}", response=PersonOut, summary="修改人员信息")
def people_update(request: HttpRequest, person_id: int, payload: Body[dict[str, Any]]) -> Any:
    person = selectors.person_get(scope=_scope(request), pk=person_id)
    reason = str(payload.pop("reason", "") or "")
    return services.person_update(actor=_actor(request), person=person, changes=payload, reason=reason)


@router.post("/people/{person_id}/move-out", response=PersonOut, summary="迁出")
def people_move_out(request: HttpRequest, person_id: int, payload: MoveOutIn) -> Any:
    person = selectors.person_get(scope=_scope(request), pk=person_id)
    return services.person_move_out(
        actor=_actor(request),
        person=person,
        moved_out_to=payload.moved_out_to,
        moved_out_on=payload.moved_out_on,
        reason=payload.reason,
    )


@router.post("/people/{person_id}/move-in", response=PersonOut, summary="迁入（已迁出人员入住本辖区房屋）")
def people_move_in(request: HttpRequest, person_id: int, payload: MoveInIn) -> Any:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=person_id)
    house = selectors.house_get(scope=scope, pk=payload.house_id)
    household = selectors.household_get(scope=scope, pk=payload.household_id) if payload.household_id else None
    return services.person_move_in(
        actor=_actor(request),
        person=person,
        house=house,
        household=household,
        relation=payload.relation,
        moved_in_on=payload.moved_in_on,
    )


@router.post("/people/{person_id}/cancel", response=PersonOut, summary="注销（死亡、重复登记等）")
def people_cancel(request: HttpRequest, person_id: int, payload: CancelIn) -> Any:
    person = selectors.person_get(scope=_scope(request), pk=person_id)
    return services.person_cancel(
        actor=_actor(request), person=person, cancel_reason=payload.cancel_reason, on=payload.on, reason=payload.reason
    )


@router.post("/people/{person_id}/archive", response=PersonOut, summary="归档")
def people_archive(request: HttpRequest, person_id: int, payload: ReasonIn) -> Any:
    person = selectors.person_get(scope=_scope(request), pk=person_id)
    return services.person_archive(actor=_actor(request), person=person, reason=payload.reason)


@router.post("/people/{person_id}/reveal", response=dict[str, str], summary="查看完整证件号码/电话（须填写原因，留痕）")
def people_reveal(request: HttpRequest, person_id: int, payload: RevealIn) -> Any:
    person = selectors.person_get(scope=_scope(request), pk=person_id)
    return services.person_reveal(
        actor=_actor(request), person=person, fields=payload.fields, reason=payload.reason, request=request
    )


# --- households ----------------------------------------------------------------------------------
def _household_out(scope: Scope, household: Household) -> dict[str, Any]:
    return {
        "id": household.pk,
        "number": household.number,
        "kind": household.kind,
        "house_id": household.house_id,
        "head_id": household.head_id,
        "is_active": household.is_active,
        "members": list(selectors.household_members(scope=scope, household=household).select_related("region")),
    }


@router.post("/households", response={201: HouseholdOut}, summary="登记一户及其成员")
def households_register(request: HttpRequest, payload: HouseholdIn) -> Any:
    scope = _scope(request)
    house = selectors.house_get(scope=scope, pk=payload.house_id)
    household = services.household_register(
        actor=_actor(request),
        house=house,
        kind=payload.kind,
        number=payload.number,
        members=[_person_in(m) for m in payload.members],
    )
    return Status(201, _household_out(scope, household))


@router.get("/households/{household_id}", response=HouseholdOut, summary="户详情")
def households_detail(request: HttpRequest, household_id: int) -> Any:
    scope = _scope(request)
    return _household_out(scope, selectors.household_get(scope=scope, pk=household_id))


# --- address registry ----------------------------------------------------------------------------
@router.get("/addresses", response=list[AddressOut], summary="标准地址列表")
def addresses_list(request: HttpRequest, q: str = "", region: str = "", page: int = 1) -> Any:
    qs = selectors.address_list(scope=_scope(request), q=q, region_code=region)
    return paginate(qs, page=page, page_size=100).items


@router.post("/addresses", response={201: AddressOut}, summary="新建标准地址（按微网格代码或经纬度落格）")
def addresses_create(request: HttpRequest, payload: AddressIn) -> Any:
    return Status(201, services.address_create(actor=_actor(request), **payload.dict()))


@router.post("/addresses/{address_id}/buildings", response={201: BuildingOut}, summary="新建楼栋（可自动生成房屋）")
def buildings_create(request: HttpRequest, address_id: int, payload: BuildingIn) -> Any:
    scope = _scope(request)
    address = selectors.address_get(scope=scope, pk=address_id)
    building = services.building_create(actor=_actor(request), address=address, **payload.dict())
    return Status(201, _building_out(scope, building))


def _building_out(scope: Scope, building: Any) -> dict[str, Any]:
    return {
        "id": building.pk,
        "code": building.code,
        "name": building.name,
        "use": building.use,
        "floors": building.floors,
        "unit_count": building.unit_count,
        "address_id": building.address_id,
        "region_code": building.region.code,
        "houses": selectors.building_houses(scope=scope, building=building),
    }


@router.get("/buildings/{building_id}", response=BuildingOut, summary="楼栋及其房屋")
def buildings_detail(request: HttpRequest, building_id: int) -> Any:
    scope = _scope(request)
    return _building_out(scope, selectors.building_get(scope=scope, pk=building_id))


@router.post("/buildings/{building_id}/houses", response={201: HouseOut}, summary="新建房屋")
def houses_create(request: HttpRequest, building_id: int, payload: HouseIn) -> Any:
    building = selectors.building_get(scope=_scope(request), pk=building_id)
    return Status(201, services.house_create(actor=_actor(request), building=building, **payload.dict()))


# --- special groups and visits -------------------------------------------------------------------
@router.get("/groups", response=list[MembershipOut], summary="特殊人群名单（仅限有权角色）")
def groups_list(request: HttpRequest, kind: str = "", attention_level: str = "", page: int = 1) -> Any:
    qs = selectors.group_members(scope=_scope(request), kind=kind, attention_level=attention_level).prefetch_related(
        "helpers"
    )
    return paginate(qs, page=page, page_size=100).items


@router.get("/groups/summary", response=list[GroupCountOut], summary="特殊人群统计（按类别与关注程度）")
def groups_summary(request: HttpRequest) -> Any:
    return selectors.group_counts(scope=_scope(request))


@router.get("/groups/fields", summary="各类特殊人群的专项字段与代码表")
def groups_fields(request: HttpRequest) -> dict[str, Any]:
    return {
        kind: {
            "label": str(codes.GroupKind(kind).label),
            "risk_codes": [[c, str(label)] for c, label in groups.RISK_TABLES[kind].choices]
            if kind in groups.RISK_TABLES
            else [],
            "fields": [
                {
                    "name": s.name,
                    "label": s.label,
                    "type": s.kind,
                    "required": s.required,
                    "choices": [[c, str(label)] for c, label in s.choices.choices] if s.choices else [],
                }
                for s in specs
            ],
        }
        for kind, specs in groups.GROUP_FIELDS.items()
    }


@router.post("/people/{person_id}/groups", response={201: MembershipOut}, summary="列为特殊人群/重点青少年")
def groups_add(request: HttpRequest, person_id: int, payload: MembershipIn) -> Any:
    person = selectors.person_get(scope=_scope(request), pk=person_id)
    return Status(201, services.group_add(actor=_actor(request), person=person, **payload.dict()))


def _membership(request: HttpRequest, membership_id: int) -> GroupMembership:
    membership = selectors.group_members(scope=_scope(request)).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound("列管记录不存在或不在您的辖区内")
    return membership


@router.put("/groups/{membership_id}", response=MembershipOut, summary="更新关注程度、评估、帮扶人和专项信息")
def groups_update(request: HttpRequest, membership_id: int, payload: MembershipUpdateIn) -> Any:
    return services.group_update(
        actor=_actor(request), membership=_membership(request, membership_id), **payload.dict()
    )


@router.post("/groups/{membership_id}/end", response=MembershipOut, summary="解除列管")
def groups_end(request: HttpRequest, membership_id: int, payload: EndIn) -> Any:
    return services.group_end(
        actor=_actor(request),
        membership=_membership(request, membership_id),
        reason=payload.reason,
        ended_on=payload.ended_on,
    )


@router.get("/visits/due", response=list[DueOut], summary="应走访 / 逾期未走访名单")
def visits_due(request: HttpRequest, status: str = "due", kind: str = "", region: str = "", page: int = 1) -> Any:
    if status not in ("due", "overdue", "all"):
        raise ValidationFailed("status 应为 due、overdue 或 all", field="status")
    qs = selectors.visits_due(scope=_scope(request), status=status, kind=kind, region_code=region)
    page_ = paginate(qs, page=page, page_size=100)
    return [
        {"membership": r.membership, "person": r.membership.person, "days_left": r.days_left, "state": r.state}
        for r in selectors.due_rows(page_.items)
    ]


@router.post("/visits", response={201: VisitOut}, summary="登记走访（multipart：字段 + 照片 photos）")
def visits_create(
    request: HttpRequest, payload: Form[VisitForm], photos: File[list[UploadedFile]] | None = None
) -> Any:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=payload.person_id) if payload.person_id else None
    household = selectors.household_get(scope=scope, pk=payload.household_id) if payload.household_id else None
    place = selectors.entity_get(scope=scope, entity="places", pk=payload.place_id) if payload.place_id else None
    visit = services.visit_record(
        actor=_actor(request),
        person=person,
        household=household,
        place=place,
        kind=payload.kind,
        outcome=payload.outcome,
        findings=payload.findings,
        visited_at=payload.visited_at,
        lat=payload.lat,
        lng=payload.lng,
        photos=photos or [],
    )
    return Status(201, visit)


@router.get("/visit-rules", summary="走访频次（天）")
def visit_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "kind": k,
            "kind_label": kl,
            "attention_level": lvl,
            "level_label": ll,
            "interval_days": days,
            "configured": configured,
        }
        for k, kl, lvl, ll, days, configured in selectors.visit_rules(scope=_scope(request))
    ]


@router.put("/visit-rules/{kind}/{attention_level}", summary="设置走访频次（系统管理员）")
def visit_rule_set(request: HttpRequest, kind: str, attention_level: str, payload: VisitRuleIn) -> dict[str, Any]:
    rule = services.visit_rule_set(
        actor=_actor(request), kind=kind, attention_level=attention_level, interval_days=payload.interval_days
    )
    return {"kind": rule.kind, "attention_level": rule.attention_level, "interval_days": rule.interval_days}


# --- import / export -----------------------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


@router.get("/templates/{key}.xlsx", summary="下载导入模板")
def template(request: HttpRequest, key: str) -> HttpResponse:
    if key not in spreadsheets.REGISTERS:
        raise NotFound(f"未知登记类别 {key}")
    return _xlsx(spreadsheets.template_workbook(key), f"{key}-template.xlsx")


@router.post(
    "/import/{key}", response={200: ImportOut, 400: ImportOut}, summary="导入（全部成功才写入，否则返回逐行错误）"
)
def import_register(request: HttpRequest, key: str, file: File[UploadedFile]) -> Any:
    if key not in spreadsheets.REGISTERS:
        raise NotFound(f"未知登记类别 {key}")
    report = spreadsheets.import_workbook(actor=_actor(request), register=key, content=file.read(), request=request)
    return Status(200 if report.ok else 400, report.as_dict())


class ExportIn(Schema):
    reveal: bool = False
    reason: str = ""
    q: str = ""
    population_type: str = ""
    status: str = codes.PersonStatus.ACTIVE
    kind: str = ""
    region: str = ""


@router.post("/export/{key}", summary="导出 xlsx（默认脱敏；完整号码须有权限并填写原因，留痕）")
def export_register(request: HttpRequest, key: str, payload: ExportIn) -> HttpResponse:
    scope = _scope(request)
    filters = payload.dict(exclude={"reveal", "reason"})
    if key == "people":
        rows: Any = selectors.person_list(
            scope=scope,
            q=payload.q,
            population_type=payload.population_type,
            status=payload.status,
            region_code=payload.region,
        ).select_related("house__building__address", "house__unit")
        rows = spreadsheets.export_people_queryset(rows, reveal=payload.reveal)
    elif key in services.ENTITIES:
        rows = selectors.entity_list(
            scope=scope, entity=key, q=payload.q, kind=payload.kind, region_code=payload.region
        )
    else:
        raise NotFound(f"未知登记类别 {key}")
    content = spreadsheets.export_workbook(
        actor=_actor(request),
        register=key,
        rows=rows.iterator(chunk_size=2000),
        filters=filters,
        reveal=payload.reveal,
        reason=payload.reason,
        request=request,
    )
    return _xlsx(content, f"{key}-{dt.date.today():%Y%m%d}.xlsx")


# --- places, organisations, schools, lines, governance, teams ------------------------------------
def entity_dict(obj: Any) -> dict[str, Any]:
    from .services.entities import ENTITIES

    spec = next(s for s in ENTITIES.values() if isinstance(obj, s.model))
    out: dict[str, Any] = {
        "id": obj.pk,
        "region_code": obj.region.code,
        "region_name": obj.region.name,
        "lat": obj.lat,
        "lng": obj.lng,
    }
    for name in spec.fields:
        value = getattr(obj, name)
        out[name] = float(value) if hasattr(value, "as_tuple") else value
    for ref in spec.refs:
        out[ref] = getattr(obj, ref)
    if spec.key == "places":
        out["next_inspection_due"] = obj.next_inspection_due
    return out


@router.get("/{entity}", summary="重点场所/组织/学校/护路护线/综治组织/队伍 列表")
def entities_list(
    request: HttpRequest,
    entity: str,
    q: str = "",
    kind: str = "",
    risk_level: str = "",
    region: str = "",
    overdue: bool = False,
    page: int = 1,
) -> dict[str, Any]:
    qs = selectors.entity_list(
        scope=_scope(request), entity=entity, q=q, kind=kind, risk_level=risk_level, region_code=region, overdue=overdue
    )
    page_ = paginate(qs, page=page, page_size=100)
    return {
        "items": [entity_dict(o) for o in page_.items],
        "page": page_.page,
        "page_size": page_.page_size,
        "total": page_.total,
    }


@router.post("/{entity}", response={201: dict[str, Any]}, summary="新建")
def entities_create(request: HttpRequest, entity: str, payload: Body[dict[str, Any]]) -> Any:
    if entity not in services.ENTITIES:
        raise NotFound(f"未知登记类别 {entity}")
    return Status(201, entity_dict(services.entity_create(actor=_actor(request), entity=entity, data=payload)))


@router.get("/{entity}/{pk}", summary="详情")
def entities_detail(request: HttpRequest, entity: str, pk: int) -> dict[str, Any]:
    scope = _scope(request)
    obj = selectors.entity_get(scope=scope, entity=entity, pk=pk)
    out = entity_dict(obj)
    if entity == "schools":
        out["surroundings"] = [
            {
                "type": type(n.obj).__name__.lower(),
                "id": n.obj.pk,
                "name": n.obj.name,
                "kind": getattr(n.obj, "kind", ""),
                "metres": n.metres,
            }
            for n in selectors.school_surroundings(scope=scope, school=obj)
        ]
    return out


@router.patch("/{entity}/{pk}", summary="修改")
def entities_update(request: HttpRequest, entity: str, pk: int, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    obj = selectors.entity_get(scope=_scope(request), entity=entity, pk=pk)
    return entity_dict(services.entity_update(actor=_actor(request), obj=obj, data=payload))
