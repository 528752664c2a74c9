"""Every write of mediation and petitions: one function per action of the dispute transition
table (states.py), intake of disputes (walk-in or from a case) and petitions (through the case
loop), and mediation centres.

Each function is one transaction: permission and validation first, then the change. A dispute is
locked (`select_for_update`) and written with a conditional UPDATE on `version`; every transition
appends a `DisputeEvent`. A dispute opened from a case drives that case through the cases services
(refer → close when settled, or back to its centre otherwise) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseCategory, Source, State, Urgency
from gridgov.common import clock
from gridgov.common.errors import Conflict, DomainError, NotFound, PermissionRefused, ValidationFailed
from gridgov.common.masking import mask_id_number, mask_phone
from gridgov.common.versioning import check_version, save_versioned
from gridgov.regions.models import Level, Region
from gridgov.registers import crypto
from gridgov.registers.idnumber import normalise_phone, parse_id_number

from . import codes
from .models import (
    Counter,
    Dispute,
    DisputeEvent,
    DisputeParty,
    DisputeSource,
    DisputeState,
    FollowUp,
    MediationCentre,
    MediationSession,
    Petition,
)
from .states import PARTY_LABELS, dispute_transition
from .states import DisputeParty as Party

MEDIATION_DAYS = 30  # 人民调解法: mediation is generally concluded within 30 days (local practice)
INTAKE_ROLES = {Role.MEDIATOR, Role.CENTER_OPERATOR}


class Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def absorb(self, exc: DomainError, prefix: str = "") -> None:
        for f, msgs in exc.errors.items():
            for m in msgs:
                self.add(prefix + f, m)
        if not exc.errors:
            self.add(prefix.rstrip(".") or "__all__", exc.message)

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


def _scope(actor: User) -> Scope:
    if not actor.is_active:
        raise PermissionRefused("账号已停用", rule="accounts.inactive")
    return Scope.for_user(actor)


def _next(key: str) -> int:
    if not Counter.objects.filter(key=key).update(value=F("value") + 1):
        try:
            with transaction.atomic():
                Counter.objects.create(key=key, value=1)
        except IntegrityError:
            Counter.objects.filter(key=key).update(value=F("value") + 1)
    return int(Counter.objects.values_list("value", flat=True).get(key=key))


def _seal(obj: Any) -> None:
    """Fill the keyed-hash and masked columns of the sealed fields from their plaintext."""
    for f in obj._meta.concrete_fields:
        if isinstance(f, crypto.EncryptedTextField) and f.hash_field:
            value = getattr(obj, f.attname) or ""
            setattr(obj, f.hash_field, crypto.lookup_hash(value, kind=f.hash_kind))
            masked = f.hash_field.replace("_hash", "_masked")
            setattr(obj, masked, mask_id_number(value) if f.hash_kind == "id" else mask_phone(value))


# --- centres ------------------------------------------------------------------------------------

LEVEL_OF_REGION: dict[str, str] = {
    Level.DISTRICT: codes.CentreLevel.DISTRICT,
    Level.STREET: codes.CentreLevel.STREET,
    Level.COMMUNITY: codes.CentreLevel.COMMUNITY,
}


@transaction.atomic
def centre_create(
    *, actor: User, region: Region, name: str = "", address: str = "", phone: str = ""
) -> MediationCentre:
    """A mediation centre at a district, street or community node (admins configure them)."""
    scope = _scope(actor)
    if actor.role != Role.ADMIN or not scope.covers(region.path):
        raise PermissionRefused("只有辖区的系统管理员可以设立矛调中心", rule="mediation.centre.role")
    errors = Errors()
    if region.level not in LEVEL_OF_REGION:
        errors.add("region", "矛调中心只设在区、镇街、村社三级")
    name = _text(errors, "name", name, "名称", max_length=100) or f"{region.name}矛盾纠纷调解中心"
    address = _text(errors, "address", address, "地址", max_length=160)
    phone = _text(errors, "phone", phone, "联系电话", max_length=24)
    if MediationCentre.objects.filter(region=region).exists():
        errors.add("region", "该区域已设有矛调中心")
    errors.raise_if_any("矛调中心信息有误")
    return MediationCentre.objects.create(
        region=region,
        region_path=region.path,
        name=name,
        level=LEVEL_OF_REGION[region.level],
        address=address,
        phone=phone,
    )


def centre_for(region: Region) -> MediationCentre | None:
    """The nearest active centre at or above a region (village → town → district)."""
    codes_ = [c for c in region.path.strip("/").split("/") if c][:3]
    centres = {
        c.region.code: c
        for c in MediationCentre.objects.filter(is_active=True, region__code__in=codes_).select_related("region")
    }
    return next((centres[c] for c in reversed(codes_) if c in centres), None)


# --- who may --------------------------------------------------------------------------------------


def dispute_parties(user: User | None, dispute: Dispute) -> set[Party]:
    out: set[Party] = set()
    if user is None or not user.is_active:
        return out
    scope = Scope.for_user(user)
    if user.role in INTAKE_ROLES and scope.covers(dispute.centre.region_path):
        out.add(Party.CENTRE)
    if user.role == Role.MEDIATOR and dispute.mediator_id == user.pk:
        out.add(Party.MEDIATOR)
    return out


class InvalidDisputeTransition(Conflict):
    pass


def check_dispute_may(actor: User, dispute: Dispute, action: str) -> set[Party]:
    """Refuse unless the actor may take `action` now. Order: role, state, relation."""
    t = dispute_transition(action)
    if not actor.is_active:
        raise PermissionRefused("账号已停用", rule="accounts.inactive")
    roles = {Party.CENTRE: INTAKE_ROLES, Party.MEDIATOR: {Role.MEDIATOR}}
    allowed = {str(r) for p in t.parties for r in roles[p]}
    who = "、".join(str(PARTY_LABELS[p]) for p in t.parties)
    if actor.role not in allowed:
        raise PermissionRefused(
            f"「{t.label}」须由{who}办理，您的角色（{actor.get_role_display()}）不能办理",
            rule=f"mediation.{action}.role",
        )
    if dispute.state not in t.sources:
        raise InvalidDisputeTransition(
            f"纠纷 {dispute.number} 当前状态为「{dispute.get_state_display()}」，不能{t.label}（可能已被他人处理，请刷新）",
            rule=f"mediation.{action}.state",
        )
    parties = dispute_parties(actor, dispute) & set(t.parties)
    if not parties:
        raise PermissionRefused(f"只有{who}可以{t.label}", rule=f"mediation.{action}.jurisdiction")
    return parties


def dispute_allowed_actions(actor: User, dispute: Dispute) -> list[str]:
    from .states import DISPUTE_TRANSITIONS

    out = []
    for action in DISPUTE_TRANSITIONS:
        try:
            check_dispute_may(actor, dispute, action)
        except (PermissionRefused, Conflict):
            continue
        out.append(action)
    return out


def _lock(dispute: Dispute, expected_version: int | None) -> Dispute:
    locked = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("centre", "mediator", "case")
        .filter(pk=dispute.pk)
        .first()
    )
    if locked is None:
        raise NotFound("纠纷不存在")
    check_version(locked, expected_version, message=_stale(locked), rule="mediation.version")
    return locked


def _stale(dispute: Dispute) -> str:
    return f"纠纷 {dispute.number} 已被他人更新，请刷新后重试"


def _save(dispute: Dispute, fields: Sequence[str]) -> None:
    save_versioned(dispute, fields, message=_stale(dispute), rule="mediation.version")


def _event(
    dispute: Dispute, *, action: str, from_state: str, actor: User | None, note: str = "", **detail: Any
) -> None:
    DisputeEvent.objects.create(
        dispute=dispute,
        at=clock.now(),
        action=action,
        from_state=from_state,
        to_state=dispute.state,
        actor=actor,
        actor_label=(actor.label if actor else "")[:150],
        note=note,
        detail=detail,
    )


# --- intake ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyIn:
    role: str
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""


def _clean_parties(errors: Errors, parties: Sequence[PartyIn]) -> list[DisputeParty]:
    out: list[DisputeParty] = []
    roles = [p.role for p in parties]
    if codes.PartyRole.APPLICANT not in roles:
        errors.add("parties", "请至少登记一名申请人")
    if len(parties) < 2:
        errors.add("parties", "纠纷至少有两方当事人")
    if len(parties) > 30:
        errors.add("parties", "当事人过多，请登记主要当事人（不超过 30 人）")
    for i, p in enumerate(parties):
        pre = f"parties.{i}."
        if p.role not in codes.PartyRole.values:
            errors.add(pre + "role", "未知当事人身份")
        name = _text(errors, pre + "name", p.name, "当事人姓名", max_length=60, required=True)
        id_number = ""
        if (p.id_number or "").strip():
            try:
                id_number = parse_id_number(p.id_number, field=pre + "id_number", today=clock.today()).number
            except ValidationFailed as exc:
                errors.absorb(exc)
        phone = ""
        try:
            phone = normalise_phone(p.phone, field=pre + "phone")
        except ValidationFailed as exc:
            errors.absorb(exc)
        address = _text(errors, pre + "address", p.address, "住址", max_length=160)
        row = DisputeParty(role=p.role, name=name, id_number=id_number, phone=phone, address=address, seq=i)
        _seal(row)
        out.append(row)
    return out


def _clean_dispute(
    errors: Errors,
    *,
    title: str,
    kind: str,
    description: str,
    scale: str,
    involved: int | None,
    amount: Any,
    occurred_on: dt.date | None,
    address: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["title"] = _text(errors, "title", title, "纠纷名称", max_length=100, required=True)
    if kind not in codes.KIND_NAMES:
        errors.add("kind", "请选择纠纷类型（GB/T 31000 事件类型小类）")
    out["kind"] = kind
    out["description"] = _text(errors, "description", description, "纠纷简述", max_length=2000, required=True)
    if scale not in codes.Scale.values:
        errors.add("scale", "未知事件规模")
    out["scale"] = scale
    if involved is None or not 1 <= int(involved) <= 100_000:
        errors.add("involved", "涉及人数应在 1 到 100000 之间")
    out["involved"] = int(involved or 0)
    value: Decimal | None = None
    if amount not in (None, ""):
        try:
            value = Decimal(str(amount))
            if value < 0 or value >= Decimal("1e12"):
                errors.add("amount", "涉及金额超出范围")
        except InvalidOperation:
            errors.add("amount", "涉及金额应为数字")
    out["amount"] = value
    if occurred_on is not None and occurred_on > clock.today():
        errors.add("occurred_on", "发生日期不能晚于今天")
    out["occurred_on"] = occurred_on
    out["address"] = _text(errors, "address", address, "发生地点", max_length=200)
    return out


def _dispute_number(now: dt.datetime) -> str:
    year = timezone.localdate(now).year
    return f"JF{year}-{_next(f'dispute-{year}'):05d}"


def _create_dispute(
    *,
    actor: User,
    region: Region,
    centre: MediationCentre,
    source: str,
    case: Case | None,
    fields: dict[str, Any],
    parties: list[DisputeParty],
) -> Dispute:
    now = clock.now()
    dispute = Dispute.objects.create(
        number=_dispute_number(now),
        region=region,
        region_path=region.path,
        centre=centre,
        source=source,
        case=case,
        registered_at=now,
        registered_by=actor,
        deadline=timezone.localdate(now) + dt.timedelta(days=MEDIATION_DAYS),
        **fields,
    )
    for p in parties:
        p.dispute = dispute
    DisputeParty.objects.bulk_create(parties)
    _event(dispute, action="register", from_state="", actor=actor, note=dispute.title, source=source)
    return dispute


def _pick_centre(
    errors: Errors, scope: Scope, region: Region, centre: MediationCentre | None
) -> MediationCentre | None:
    if centre is None:
        centre = centre_for(region)
        if centre is None:
            errors.add("centre", "该区域没有可受理的矛调中心")
            return None
    if not centre.is_active:
        errors.add("centre", "该矛调中心已停用")
    elif not region.path.startswith(centre.region_path):
        errors.add("centre", f"{centre.name}不管辖纠纷发生地")
    elif not scope.covers(centre.region_path):
        errors.add("centre", f"{centre.name}不在您的辖区内")
    return centre


@transaction.atomic
def dispute_register(
    *,
    actor: User,
    title: str,
    kind: str,
    description: str,
    parties: Sequence[PartyIn],
    region: Region | None,
    centre: MediationCentre | None = None,
    scale: str = codes.Scale.INDIVIDUAL,
    involved: int | None = 2,
    amount: Any = None,
    occurred_on: dt.date | None = None,
    address: str = "",
    source: str = DisputeSource.WALK_IN,
) -> Dispute:
    """一窗受理: a dispute registered at a mediation centre (walk-in, referral or online)."""
    scope = _scope(actor)
    if actor.role not in INTAKE_ROLES or scope.is_empty:
        raise PermissionRefused(f"{actor.get_role_display()}不能登记矛盾纠纷", rule="mediation.register.role")
    errors = Errors()
    fields = _clean_dispute(
        errors,
        title=title,
        kind=kind,
        description=description,
        scale=scale,
        involved=involved,
        amount=amount,
        occurred_on=occurred_on,
        address=address,
    )
    if source not in DisputeSource.values or source == DisputeSource.CASE:
        errors.add("source", "来源有误（事件转入请从案件发起）")
    chosen: MediationCentre | None = None
    if region is None:
        errors.add("region", "请选择纠纷发生地所在区域")
    elif not scope.covers(region.path):
        errors.add("region", "纠纷发生地不在您的辖区内")
    else:
        chosen = _pick_centre(errors, scope, region, centre)
    rows = _clean_parties(errors, parties)
    errors.raise_if_any("纠纷登记信息有误")
    assert region is not None and chosen is not None
    return _create_dispute(
        actor=actor, region=region, centre=chosen, source=source, case=None, fields=fields, parties=rows
    )


@transaction.atomic
def dispute_from_case(
    *,
    actor: User,
    case: Case,
    title: str,
    kind: str,
    parties: Sequence[PartyIn],
    centre: MediationCentre | None = None,
    scale: str = codes.Scale.INDIVIDUAL,
    involved: int | None = 2,
    amount: Any = None,
) -> Dispute:
    """转人民调解: the centre holding a dispute case opens a dispute from it; the case is referred
    to mediation through the case loop and follows the dispute to its end."""
    scope = _scope(actor)
    if Dispute.objects.filter(case=case, state__in=[DisputeState.REGISTERED, DisputeState.MEDIATING]).exists():
        raise Conflict(f"案件 {case.number} 已有调解中的纠纷", rule="mediation.case.open_dispute")
    errors = Errors()
    fields = _clean_dispute(
        errors,
        title=title,
        kind=kind,
        description=case.description,
        scale=scale,
        involved=involved,
        amount=amount,
        occurred_on=timezone.localdate(case.reported_at),
        address=case.address,
    )
    chosen = _pick_centre(errors, scope, case.region, centre)
    rows = _clean_parties(errors, parties)
    if errors.by_field:
        # Refuse a wrong role or state before listing field errors.
        case_services.check_may(actor, case, "refer_mediation")
    errors.raise_if_any("纠纷登记信息有误")
    assert chosen is not None
    dispute = _create_dispute(
        actor=actor,
        region=case.region,
        centre=chosen,
        source=DisputeSource.CASE,
        case=case,
        fields=fields,
        parties=rows,
    )
    case_services.case_refer_mediation(
        actor=actor, case=case, reference=dispute.number, note=f"转{chosen.name}调解（{dispute.number}）"
    )
    return dispute


# --- transitions ----------------------------------------------------------------------------------


def _check_mediator(errors: Errors, mediator: User | None, dispute: Dispute) -> None:
    if mediator is None:
        errors.add("mediator", "请选择调解员")
    elif not mediator.is_active or mediator.role != Role.MEDIATOR:
        errors.add("mediator", "请选择在岗的调解员")
    elif not Scope.for_user(mediator).covers(dispute.centre.region_path) and not Scope.for_user(mediator).covers(
        dispute.region_path
    ):
        errors.add("mediator", f"{mediator.label}不在{dispute.centre.name}的辖区内")
    elif dispute.case_id and not Scope.for_user(mediator).covers(dispute.region_path):
        errors.add("mediator", f"{mediator.label}的辖区不包含该纠纷发生地")


@transaction.atomic
def dispute_accept(
    *,
    actor: User,
    dispute: Dispute,
    mediator: User | None,
    deadline: dt.date | None = None,
    method: str = codes.Method.PEOPLES,
    expected_version: int | None = None,
) -> Dispute:
    """受理: a mediator takes the dispute (a mediator may assign themselves)."""
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "accept")
    errors = Errors()
    _check_mediator(errors, mediator, dispute)
    if method not in codes.Method.values:
        errors.add("method", "未知化解方式")
    if deadline is not None and deadline < clock.today():
        errors.add("deadline", "化解时限不能早于今天")
    errors.raise_if_any("受理信息有误")
    assert mediator is not None
    before = dispute.state
    dispute.state = DisputeState.MEDIATING
    dispute.mediator = mediator
    dispute.method = method
    dispute.accepted_at = clock.now()
    if deadline is not None:
        dispute.deadline = deadline
    _save(dispute, ["state", "mediator_id", "method", "accepted_at", "deadline"])
    _event(dispute, action="accept", from_state=before, actor=actor, note=f"调解员：{mediator.label}")
    return dispute


@transaction.atomic
def dispute_reassign(
    *, actor: User, dispute: Dispute, mediator: User | None, reason: str, expected_version: int | None = None
) -> Dispute:
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "reassign")
    errors = Errors()
    _check_mediator(errors, mediator, dispute)
    reason = _text(errors, "reason", reason, "更换理由", max_length=300, required=True)
    if mediator is not None and mediator.pk == dispute.mediator_id:
        errors.add("mediator", "与当前调解员相同")
    errors.raise_if_any("更换调解员信息有误")
    assert mediator is not None
    dispute.mediator = mediator
    _save(dispute, ["mediator_id"])
    _event(dispute, action="reassign", from_state=dispute.state, actor=actor, note=reason, mediator=mediator.label)
    return dispute


@transaction.atomic
def session_record(
    *,
    actor: User,
    dispute: Dispute,
    held_at: dt.datetime | None,
    mode: str,
    summary: str,
    result: str = codes.SessionResult.CONTINUE,
    location: str = "",
    attendees: str = "",
) -> MediationSession:
    """调解记录: one session, online (ODR) or in person."""
    dispute = _lock(dispute, None)
    check_dispute_may(actor, dispute, "session")
    errors = Errors()
    now = clock.now()
    if held_at is None:
        held_at = now
    if timezone.is_naive(held_at):
        held_at = timezone.make_aware(held_at)
    if held_at > now + dt.timedelta(minutes=5):
        errors.add("held_at", "调解时间不能晚于现在")
    elif held_at < dispute.registered_at - dt.timedelta(days=1):
        errors.add("held_at", "调解时间不能早于纠纷登记")
    if mode not in codes.SessionMode.values:
        errors.add("mode", "请选择调解方式")
    if result not in codes.SessionResult.values:
        errors.add("result", "未知调解结果")
    summary = _text(errors, "summary", summary, "调解经过", max_length=4000, required=True)
    location = _text(errors, "location", location, "地点/会议链接", max_length=200, required=mode == "in_person")
    attendees = _text(errors, "attendees", attendees, "参加人员", max_length=300)
    errors.raise_if_any("调解记录有误")
    row = MediationSession.objects.create(
        dispute=dispute,
        held_at=held_at,
        mode=mode,
        location=location,
        mediator=actor,
        attendees=attendees,
        summary=summary,
        result=result,
        created_at=now,
    )
    _save(dispute, [])
    _event(
        dispute, action="session", from_state=dispute.state, actor=actor, note=summary[:500], mode=mode, result=result
    )
    return row


def _agreement_number(dispute: Dispute, now: dt.datetime) -> str:
    year = timezone.localdate(now).year
    seq = _next(f"agreement-{dispute.centre_id}-{year}")
    short = (
        re.sub(
            r"(人民调解委员会|人民调解室|社会矛盾纠纷调处化解中心|矛盾纠纷调处化解中心|矛盾纠纷调解中心|调解中心|矛调中心|调解室)$",
            "",
            dispute.centre.name,
        )
        or dispute.centre.name
    )
    return f"（{year}）{short}调字第{seq}号"


def _case_in_mediation(case: Case | None) -> bool:
    return case is not None and case.state == State.HANDLING and case.department_id is None


@transaction.atomic
def dispute_settle(
    *,
    actor: User,
    dispute: Dispute,
    agreement: str,
    performance_term: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Dispute:
    """调解成功: the agreement (人民调解协议书) is recorded and numbered; a linked case is closed."""
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "settle")
    errors = Errors()
    agreement = _text(errors, "agreement", agreement, "协议内容", max_length=8000, required=True)
    if agreement and len(agreement) < 10:
        errors.add("agreement", "协议内容过短，请写明各方达成的具体事项")
    performance_term = _text(
        errors, "performance_term", performance_term, "履行方式及期限", max_length=300, required=True
    )
    note = _text(errors, "note", note, "化解情况", max_length=2000)
    errors.raise_if_any("调解协议信息有误")
    now = clock.now()
    before = dispute.state
    dispute.state = DisputeState.SETTLED
    dispute.agreement = agreement
    dispute.performance_term = performance_term
    dispute.outcome_note = note
    dispute.agreement_no = _agreement_number(dispute, now)
    dispute.concluded_at = now
    _save(dispute, ["state", "agreement", "performance_term", "outcome_note", "agreement_no", "concluded_at"])
    _event(dispute, action="settle", from_state=before, actor=actor, note=note, agreement_no=dispute.agreement_no)
    if dispute.case_id and _case_in_mediation(dispute.case):
        assert dispute.case is not None
        case_services.case_mediation_close(
            actor=actor,
            case=dispute.case,
            result=f"经调解达成协议（{dispute.agreement_no}）：{agreement}"[:4000],
            reference=dispute.number,
        )
    return dispute


@transaction.atomic
def dispute_confirm(
    *,
    actor: User,
    dispute: Dispute,
    court: str,
    reference: str,
    confirmed_on: dt.date | None,
    expected_version: int | None = None,
) -> Dispute:
    """司法确认: the court confirmed the agreement (recorded here; the ruling is the court's)."""
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "confirm")
    errors = Errors()
    court = _text(errors, "court", court, "确认法院", max_length=100, required=True)
    reference = _text(errors, "reference", reference, "司法确认文书号", max_length=60, required=True)
    if confirmed_on is None:
        errors.add("confirmed_on", "请填写确认日期")
    elif confirmed_on > clock.today():
        errors.add("confirmed_on", "确认日期不能晚于今天")
    elif dispute.concluded_at and confirmed_on < timezone.localdate(dispute.concluded_at):
        errors.add("confirmed_on", "确认日期不能早于达成协议")
    errors.raise_if_any("司法确认信息有误")
    before = dispute.state
    dispute.state = DisputeState.CONFIRMED
    dispute.judicial_court, dispute.judicial_ref, dispute.judicial_on = court, reference, confirmed_on
    _save(dispute, ["state", "judicial_court", "judicial_ref", "judicial_on"])
    _event(dispute, action="confirm", from_state=before, actor=actor, note=f"{court} {reference}")
    return dispute


def _return_case(actor: User, dispute: Dispute, reason: str) -> None:
    if dispute.case_id and _case_in_mediation(dispute.case):
        assert dispute.case is not None
        case_services.case_mediation_return(actor=actor, case=dispute.case, reason=reason, reference=dispute.number)


@transaction.atomic
def dispute_fail(*, actor: User, dispute: Dispute, reason: str, expected_version: int | None = None) -> Dispute:
    """调解不成: a linked case goes back to its centre."""
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "fail")
    errors = Errors()
    reason = _text(errors, "reason", reason, "调解不成的原因", max_length=2000, required=True)
    errors.raise_if_any("调解结果信息有误")
    before = dispute.state
    dispute.state = DisputeState.FAILED
    dispute.outcome_note = reason
    dispute.concluded_at = clock.now()
    _save(dispute, ["state", "outcome_note", "concluded_at"])
    _event(dispute, action="fail", from_state=before, actor=actor, note=reason)
    _return_case(actor, dispute, f"调解不成（{dispute.number}）：{reason}"[:500])
    return dispute


@transaction.atomic
def dispute_transfer(
    *, actor: User, dispute: Dispute, to: str, reason: str, expected_version: int | None = None
) -> Dispute:
    """移交: to court (引导诉讼), arbitration or the petition office."""
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "transfer")
    errors = Errors()
    if to not in codes.Transfer.values:
        errors.add("to", "请选择移交去向")
    reason = _text(errors, "reason", reason, "移交理由", max_length=2000, required=True)
    errors.raise_if_any("移交信息有误")
    before = dispute.state
    dispute.state = DisputeState.TRANSFERRED
    dispute.transfer_to = to
    if before != DisputeState.FAILED:
        dispute.outcome_note = reason
    dispute.concluded_at = dispute.concluded_at or clock.now()
    _save(dispute, ["state", "transfer_to", "outcome_note", "concluded_at"])
    _event(dispute, action="transfer", from_state=before, actor=actor, note=reason, to=to)
    _return_case(actor, dispute, f"{codes.Transfer(to).label}（{dispute.number}）：{reason}"[:500])
    return dispute


@transaction.atomic
def dispute_withdraw(*, actor: User, dispute: Dispute, reason: str, expected_version: int | None = None) -> Dispute:
    dispute = _lock(dispute, expected_version)
    check_dispute_may(actor, dispute, "withdraw")
    errors = Errors()
    reason = _text(errors, "reason", reason, "撤回说明", max_length=1000, required=True)
    errors.raise_if_any("撤回信息有误")
    before = dispute.state
    dispute.state = DisputeState.WITHDRAWN
    dispute.outcome_note = reason
    dispute.concluded_at = clock.now()
    _save(dispute, ["state", "outcome_note", "concluded_at"])
    _event(dispute, action="withdraw", from_state=before, actor=actor, note=reason)
    _return_case(actor, dispute, f"当事人撤回调解申请（{dispute.number}）：{reason}"[:500])
    return dispute


@transaction.atomic
def dispute_follow_up(
    *, actor: User, dispute: Dispute, method: str, performance: str, note: str, at: dt.datetime | None = None
) -> FollowUp:
    """回访: is the agreement being performed?"""
    dispute = _lock(dispute, None)
    check_dispute_may(actor, dispute, "follow_up")
    errors = Errors()
    if method not in ("phone", "visit"):
        errors.add("method", "请选择回访方式")
    if performance not in codes.Performance.values:
        errors.add("performance", "请选择协议履行情况")
    note = _text(errors, "note", note, "回访情况", max_length=500, required=True)
    now = clock.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        errors.add("at", "回访时间不能晚于现在")
    errors.raise_if_any("回访信息有误")
    row = FollowUp.objects.create(dispute=dispute, at=at, by=actor, method=method, performance=performance, note=note)
    _save(dispute, [])
    _event(dispute, action="follow_up", from_state=dispute.state, actor=actor, note=note, performance=performance)
    return row


# --- petitions ------------------------------------------------------------------------------------

PETITION_CATEGORY = "11"
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def subject_key(text: str) -> str:
    return _PUNCT.sub("", text or "").lower()[:120]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def same_subject(a: str, b: str) -> bool:
    """Two subjects are the same matter when at least half the character pairs of the shorter one
    occur in the other (Chinese has no word boundaries; bigram overlap survives reordering and
    rewording such as 小区违建长期未拆除 / 要求拆除小区违建)."""
    ka, kb = subject_key(a), subject_key(b)
    if not ka or not kb:
        return False
    if ka in kb or kb in ka:
        return True
    x, y = _bigrams(ka), _bigrams(kb)
    return len(x & y) / min(len(x), len(y)) >= 0.5


def person_key(name: str, phone: str) -> str:
    return crypto.lookup_hash(f"{name.strip()}|{phone}", kind="petitioner")


def earlier_petitions(*, id_hash: str, key: str) -> Any:
    """Every earlier petition of the same person: by ID-number hash when known, and by name +
    phone (not scoped: repeat detection looks across the whole installation)."""
    q = Q(person_key=key)
    if id_hash:
        q |= Q(id_hash=id_hash)
    return Petition.objects.filter(q)


@transaction.atomic
def petition_register(
    *,
    actor: User,
    channel: str,
    matter: str,
    subject: str,
    content: str,
    petitioner_name: str,
    phone: str,
    region: Region | None,
    address: str,
    id_number: str = "",
    people_count: int = 1,
    urgency: str = Urgency.NORMAL,
) -> Petition:
    """信访登记: the petition becomes a case of category 11 (信访事项) handled through the case loop
    on the petition time limits, linked to earlier petitions of the same person on the same subject."""
    scope = _scope(actor)
    if actor.role != Role.CENTER_OPERATOR or scope.is_empty:
        raise PermissionRefused("只有综治中心（信访窗口）坐席可以登记信访件", rule="mediation.petition.role")
    errors = Errors()
    if channel not in codes.PetitionChannel.values:
        errors.add("channel", "请选择信访形式")
    if matter not in codes.PetitionMatter.values:
        errors.add("matter", "请选择信访事项类别")
    subject = _text(errors, "subject", subject, "信访事项", max_length=120, required=True)
    content = _text(errors, "content", content, "诉求内容", max_length=3800, required=True)
    name = _text(errors, "petitioner_name", petitioner_name, "信访人姓名", max_length=50, required=True)
    try:
        phone = normalise_phone(phone, field="phone")
        if not phone:
            errors.add("phone", "请填写信访人联系电话（用于告知受理和答复）")
    except ValidationFailed as exc:
        errors.absorb(exc)
        phone = ""
    number_id = ""
    if (id_number or "").strip():
        try:
            number_id = parse_id_number(id_number, field="id_number", today=clock.today()).number
        except ValidationFailed as exc:
            errors.absorb(exc)
    if not 1 <= int(people_count or 0) <= 10_000:
        errors.add("people_count", "人数应在 1 到 10000 之间")
    address = _text(errors, "address", address, "事项发生地", max_length=200, required=True)
    if region is None:
        errors.add("region", "请选择事项发生地所在网格")
    elif region.level not in (Level.GRID, Level.MICROGRID):
        errors.add("region", "请选择网格或微网格")
    elif not scope.covers(region.path):
        errors.add("region", "事项发生地不在您的辖区内")
    category = CaseCategory.objects.filter(code=matter, is_active=True).first()
    if matter in codes.PetitionMatter.values and category is None:
        errors.add("matter", "信访事项类别未配置，请联系管理员")
    errors.raise_if_any("信访登记信息有误")
    assert region is not None and category is not None
    now = clock.now()
    year = timezone.localdate(now).year
    petition = Petition(
        number=f"XF{year}-{_next(f'petition-{year}'):05d}",
        channel=channel,
        matter=matter,
        subject=subject,
        content=content,
        petitioner_name=name,
        id_number=number_id,
        phone=phone,
        person_key=person_key(name, phone),
        people_count=int(people_count),
        address=address,
        region=region,
        region_path=region.path,
        received_at=now,
        received_by=actor,
        subject_key=subject_key(subject),
    )
    _seal(petition)
    earlier = [
        p
        for p in earlier_petitions(id_hash=petition.id_hash, key=petition.person_key).order_by("received_at", "id")
        if p.matter == matter and same_subject(p.subject, subject)
    ]
    if earlier:
        root = earlier[0].first or earlier[0]
        petition.first = root
        # The chain, not only the matches: a phone changed between visits still counts.
        petition.repeat_no = Petition.objects.filter(Q(pk=root.pk) | Q(first=root)).count()
    tag = f"【重复信访·第{petition.repeat_no + 1}次】" if earlier else "【信访】"
    case = case_services.case_report(
        actor=actor,
        category=category,
        description=f"{tag}{subject}：{content}"[:4000],
        source=Source.DEPARTMENT,
        urgency=urgency,
        region=region,
        address=address,
        reporter_name=name,
        reporter_phone=phone,
    )
    petition.case = case
    petition.save()
    return petition
