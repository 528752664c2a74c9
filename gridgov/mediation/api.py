"""/api/v1/mediation — mediation centres, disputes (intake, from a case, every action of the
transition table, the agreement PDF, xlsx), success rates, and petitions. Scoped by the caller's
jurisdiction; parties' names are masked in lists and identifiers are never returned in full."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import Status

from gridgov.accounts.models import User
from gridgov.accounts.scope import Scope
from gridgov.cases import selectors as case_selectors
from gridgov.common import clock
from gridgov.common.dates import check_day
from gridgov.common.errors import NotFound, ValidationFailed
from gridgov.common.masking import mask_name
from gridgov.common.pagination import paginate
from gridgov.fieldwork import pdf
from gridgov.regions.models import Region

from . import selectors, services
from .models import Dispute, DisputeState, MediationCentre, Petition
from .services import PartyIn

router = Router(tags=["mediation"])


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class CentreOut(Schema):
    id: int
    name: str
    level: str
    region_code: str


class PartySchema(Schema):
    role: str
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""


class PartyOut(Schema):
    role: str
    name: str
    id_masked: str
    phone_masked: str


class DisputeIn(Schema):
    title: str
    kind: str
    description: str
    region_code: str
    parties: list[PartySchema]
    centre_id: int | None = None
    scale: str = "01"
    involved: int = 2
    amount: str | None = None
    occurred_on: dt.date | None = None
    address: str = ""
    source: str = "walk_in"


class FromCaseIn(Schema):
    case_number: str
    title: str
    kind: str
    parties: list[PartySchema]
    centre_id: int | None = None
    scale: str = "01"
    involved: int = 2
    amount: str | None = None


class DisputeRowOut(Schema):
    number: str
    title: str
    kind: str
    kind_label: str
    state: str
    centre: str
    centre_level: str
    mediator: str | None
    parties: str
    case_number: str | None
    registered_at: dt.datetime
    concluded_at: dt.datetime | None


class DisputeOut(DisputeRowOut):
    description: str
    scale: str
    involved: int
    deadline: dt.date | None
    agreement_no: str
    agreement: str
    performance_term: str
    transfer_to: str
    outcome_note: str
    judicial_ref: str
    version: int
    party_list: list[PartyOut]
    allowed_actions: list[str]


class DisputePageOut(Schema):
    items: list[DisputeRowOut]
    page: int
    pages: int
    total: int


class DisputeActionIn(Schema):
    expected_version: int | None = None
    mediator_id: int | None = None
    method: str = "01"
    deadline: dt.date | None = None
    reason: str = ""
    mode: str = ""
    held_at: dt.datetime | None = None
    location: str = ""
    attendees: str = ""
    summary: str = ""
    result: str = "continue"
    agreement: str = ""
    performance_term: str = ""
    note: str = ""
    court: str = ""
    reference: str = ""
    confirmed_on: dt.date | None = None
    to: str = ""
    performance: str = ""


class RateOut(Schema):
    key: str
    label: str
    total: int
    open: int
    settled: int
    confirmed: int
    failed: int
    transferred: int
    withdrawn: int
    concluded: int
    success_rate: float | None


class RatesOut(Schema):
    whole: RateOut
    rows: list[RateOut]


class PetitionIn(Schema):
    channel: str
    matter: str
    subject: str
    content: str
    petitioner_name: str
    phone: str
    region_code: str
    address: str
    id_number: str = ""
    people_count: int = 1
    urgency: str = "normal"


class PetitionOut(Schema):
    number: str
    channel: str
    matter: str
    subject: str
    petitioner: str
    phone_masked: str
    people_count: int
    region_code: str
    received_at: dt.datetime
    case_number: str
    case_state: str
    handle_deadline: dt.datetime | None
    repeat: bool
    repeat_no: int
    first_number: str | None


def _row(d: Dispute) -> dict[str, Any]:
    return {
        "number": d.number,
        "title": d.title,
        "kind": d.kind,
        "kind_label": d.kind_label,
        "state": d.state,
        "centre": d.centre.name,
        "centre_level": d.centre.level,
        "mediator": d.mediator.label if d.mediator else None,
        "parties": selectors.party_summary(d),
        "case_number": d.case.number if d.case else None,
        "registered_at": d.registered_at,
        "concluded_at": d.concluded_at,
    }


def _detail(d: Dispute, user: User) -> dict[str, Any]:
    return {
        **_row(d),
        **{
            k: getattr(d, k)
            for k in (
                "description",
                "scale",
                "involved",
                "deadline",
                "agreement_no",
                "agreement",
                "performance_term",
                "transfer_to",
                "outcome_note",
                "judicial_ref",
                "version",
            )
        },
        "party_list": [
            {"role": p.role, "name": mask_name(p.name), "id_masked": p.id_masked, "phone_masked": p.phone_masked}
            for p in d.parties.all()
        ],
        "allowed_actions": services.dispute_allowed_actions(user, d),
    }


def _parties(rows: list[PartySchema]) -> list[PartyIn]:
    return [PartyIn(role=p.role, name=p.name, id_number=p.id_number, phone=p.phone, address=p.address) for p in rows]


@router.get("/centres", response=list[CentreOut], summary="可受理的矛调中心（区、镇街、村社三级）")
def centres(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": c.pk, "name": c.name, "level": c.level, "region_code": c.region.code}
        for c in selectors.centres(scope=_scope(request))
    ]


class DisputeQuery(Schema):
    state: str = ""
    kind: str = ""
    level: str = ""
    q: str = ""
    mine: bool = False
    page: int = 1
    page_size: int = 50


@router.get("/disputes", response=DisputePageOut, summary="矛盾纠纷列表（当事人姓名脱敏）")
def dispute_list(request: HttpRequest, filters: Query[DisputeQuery]) -> dict[str, Any]:
    f = selectors.DisputeFilters(
        state=filters.state, kind=filters.kind, level=filters.level, q=filters.q[:50], mine=filters.mine
    )
    page = paginate(
        selectors.dispute_list(scope=_scope(request), f=f, user=_user(request)),
        page=filters.page,
        page_size=filters.page_size,
    )
    return {"items": [_row(d) for d in page.items], "page": page.page, "pages": page.pages, "total": page.total}


@router.post("/disputes", response={201: DisputeOut}, summary="登记纠纷")
def dispute_create(request: HttpRequest, payload: DisputeIn) -> Any:
    user = _user(request)
    region = Region.objects.filter(code=payload.region_code).first()
    if region is None:
        raise ValidationFailed("区域不存在", field="region_code")
    d = services.dispute_register(
        actor=user,
        title=payload.title,
        kind=payload.kind,
        description=payload.description,
        parties=_parties(payload.parties),
        region=region,
        centre=MediationCentre.objects.filter(pk=payload.centre_id).first() if payload.centre_id else None,
        scale=payload.scale,
        involved=payload.involved,
        amount=payload.amount,
        occurred_on=payload.occurred_on,
        address=payload.address,
        source=payload.source,
    )
    return Status(201, _detail(d, user))


@router.post("/disputes/from-case", response={201: DisputeOut}, summary="事件转人民调解")
def dispute_from_case(request: HttpRequest, payload: FromCaseIn) -> Any:
    user = _user(request)
    case = case_selectors.case_get(scope=_scope(request), number=payload.case_number)
    d = services.dispute_from_case(
        actor=user,
        case=case,
        title=payload.title,
        kind=payload.kind,
        parties=_parties(payload.parties),
        centre=MediationCentre.objects.filter(pk=payload.centre_id).first() if payload.centre_id else None,
        scale=payload.scale,
        involved=payload.involved,
        amount=payload.amount,
    )
    return Status(201, _detail(d, user))


@router.get("/disputes/export.xlsx", summary="导出纠纷列表")
def dispute_export(request: HttpRequest) -> HttpResponse:
    from .views import disputes_xlsx

    f = selectors.DisputeFilters()
    return disputes_xlsx(request, selectors.dispute_list(scope=_scope(request), f=f, user=_user(request)), f)


@router.get("/rates", response=RatesOut, summary="调解成功率（by=level|kind|mediator）")
def rates(
    request: HttpRequest, by: str = "level", start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, Any]:
    if by not in ("level", "kind", "mediator"):
        raise ValidationFailed("by 只能是 level、kind 或 mediator", field="by")
    check_day(start, field="start", label="开始日期")
    check_day(end, field="end", label="结束日期")

    def out(r: selectors.Rate) -> dict[str, Any]:
        return {**{k: getattr(r, k) for k in RateOut.model_fields}}

    whole, rows = selectors.success_rates(scope=_scope(request), by=by, start=start, end=end)
    return {"whole": out(whole), "rows": [out(r) for r in rows]}


@router.get("/disputes/{number}", response=DisputeOut)
def dispute_get(request: HttpRequest, number: str) -> dict[str, Any]:
    return _detail(selectors.dispute_get(scope=_scope(request), number=number), _user(request))


@router.get("/disputes/{number}/agreement.pdf", summary="人民调解协议书（PDF）")
def dispute_agreement(request: HttpRequest, number: str) -> HttpResponse:
    d = selectors.dispute_get(scope=_scope(request), number=number)
    if d.state not in (DisputeState.SETTLED, DisputeState.CONFIRMED):
        raise NotFound("该纠纷尚未达成调解协议")
    return HttpResponse(
        pdf.agreement(d, parties=list(d.parties.all()), now=clock.now()), content_type="application/pdf"
    )


@router.post(
    "/disputes/{number}/{action}",
    response=DisputeOut,
    summary="纠纷流转：accept/reassign/session/settle/confirm/fail/transfer/withdraw/follow_up",
)
def dispute_act(request: HttpRequest, number: str, action: str, payload: DisputeActionIn) -> dict[str, Any]:
    user = _user(request)
    d = selectors.dispute_get(scope=_scope(request), number=number)
    v = payload.expected_version
    mediator = User.objects.filter(pk=payload.mediator_id).first() if payload.mediator_id else None
    if action == "accept":
        services.dispute_accept(
            actor=user,
            dispute=d,
            mediator=mediator,
            method=payload.method,
            deadline=payload.deadline,
            expected_version=v,
        )
    elif action == "reassign":
        services.dispute_reassign(actor=user, dispute=d, mediator=mediator, reason=payload.reason, expected_version=v)
    elif action == "session":
        services.session_record(
            actor=user,
            dispute=d,
            held_at=payload.held_at,
            mode=payload.mode,
            location=payload.location,
            attendees=payload.attendees,
            summary=payload.summary,
            result=payload.result,
        )
    elif action == "settle":
        services.dispute_settle(
            actor=user,
            dispute=d,
            agreement=payload.agreement,
            performance_term=payload.performance_term,
            note=payload.note,
            expected_version=v,
        )
    elif action == "confirm":
        services.dispute_confirm(
            actor=user,
            dispute=d,
            court=payload.court,
            reference=payload.reference,
            confirmed_on=payload.confirmed_on,
            expected_version=v,
        )
    elif action == "fail":
        services.dispute_fail(actor=user, dispute=d, reason=payload.reason, expected_version=v)
    elif action == "transfer":
        services.dispute_transfer(actor=user, dispute=d, to=payload.to, reason=payload.reason, expected_version=v)
    elif action == "withdraw":
        services.dispute_withdraw(actor=user, dispute=d, reason=payload.reason, expected_version=v)
    elif action == "follow_up":
        services.dispute_follow_up(
            actor=user, dispute=d, method=payload.method, performance=payload.performance, note=payload.note
        )
    else:
        raise ValidationFailed(f"未知操作 {action!r}", field="action")
    return _detail(selectors.dispute_get(scope=_scope(request), number=number), user)


# --- petitions ------------------------------------------------------------------------------------


def _petition_out(x: Petition) -> dict[str, Any]:
    return {
        "number": x.number,
        "channel": x.channel,
        "matter": x.matter,
        "subject": x.subject,
        "petitioner": mask_name(x.petitioner_name),
        "phone_masked": x.phone_masked,
        "people_count": x.people_count,
        "region_code": x.region.code,
        "received_at": x.received_at,
        "case_number": x.case.number,
        "case_state": x.case.state,
        "handle_deadline": x.case.handle_deadline,
        "repeat": x.is_repeat,
        "repeat_no": x.repeat_no,
        "first_number": x.first.number if x.first else None,
    }


@router.get("/petitions", response=list[PetitionOut], summary="信访件（repeat=1 仅重复信访）")
def petition_list(
    request: HttpRequest, matter: str = "", repeat: bool = False, q: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    f = selectors.PetitionFilters(matter=matter, repeat=repeat, q=q[:50])
    return [_petition_out(x) for x in selectors.petition_list(scope=_scope(request), f=f)[: max(1, min(limit, 500))]]


@router.post("/petitions", response={201: PetitionOut}, summary="登记信访（生成办理案卷，识别重复信访）")
def petition_create(request: HttpRequest, payload: PetitionIn) -> Any:
    x = services.petition_register(
        actor=_user(request),
        channel=payload.channel,
        matter=payload.matter,
        subject=payload.subject,
        content=payload.content,
        petitioner_name=payload.petitioner_name,
        phone=payload.phone,
        region=Region.objects.filter(code=payload.region_code).first(),
        address=payload.address,
        id_number=payload.id_number,
        people_count=payload.people_count,
        urgency=payload.urgency if payload.urgency in ("normal", "urgent") else "normal",
    )
    return Status(201, _petition_out(x))


@router.get("/petitions/{number}", response=PetitionOut)
def petition_get(request: HttpRequest, number: str) -> dict[str, Any]:
    return _petition_out(selectors.petition_get(scope=_scope(request), number=number))
