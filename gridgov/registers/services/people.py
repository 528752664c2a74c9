"""实有人口: register a household with its people, register one person, update, move in, move
out, cancel (death and other), archive — each an explicit action with a timeline row.

Duplicate detection: a person is one row for the whole installation, keyed by the keyed hash of
the ID number (unique in the database too). Registering a number that already exists never makes
a second row: an active record is refused with where it is registered; a moved-out one is moved
in here (迁入), keeping its history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed

from .. import codes, crypto, permissions, states
from ..codes import PersonStatus, PopulationType
from ..idnumber import normalise_id_number, parse_id_number
from ..models import GroupMembership, House, Household, HouseholdKind, Person, PersonEvent
from ._common import Errors, clean_code, clean_phone, clean_text, not_future, require, require_covers, scope_of, seal
from .address import household_new

if TYPE_CHECKING:
    from gridgov.accounts.models import User

PERSON_FIELDS = {
    "name",
    "doc_type",
    "id_number",
    "gender",
    "birth_date",
    "ethnicity",
    "phone",
    "population_type",
    "relation",
    "origin_code",
    "hukou_address",
    "occupation",
    "workplace",
    "hukou_consistency",
    "inflow_reason",
    "permit_type",
    "permit_expiry",
    "residence_type",
    "foreign_name",
    "nationality",
    "visit_purpose",
    "expected_departure",
    "moved_in_on",
    "is_key_focus",
    "note",
}
_OTHER_DOC = re.compile(r"^[A-Z0-9-]{5,30}$")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")
_ORIGIN = re.compile(r"\d{6}")


def _date(errors: Errors, field: str, value: Any, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(field, f"{label}应为日期（YYYY-MM-DD）")
        return None


def clean_person(
    data: Mapping[str, Any],
    *,
    errors: Errors,
    prefix: str = "",
    partial: Person | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Validate a person's fields; returns cleaned values. With `partial`, missing keys keep the
    record's current values (an update). `today` defaults to `clock.today()` (a batch passes it
    once)."""
    unknown = set(data) - PERSON_FIELDS
    for key in sorted(unknown):
        errors.add(f"{prefix}{key}", "未知字段")

    def get_or_current(key: str) -> Any:
        return data[key] if key in data else getattr(partial, key)

    get = data.get if partial is None else get_or_current
    today = today or clock.today()
    out: dict[str, Any] = {}
    out["name"] = clean_text(errors, prefix + "name", get("name"), "姓名", max_length=50, required=True)
    out["population_type"] = clean_code(
        errors, prefix + "population_type", get("population_type"), "人口类别", PopulationType, required=True
    )
    out["doc_type"] = clean_code(
        errors, prefix + "doc_type", get("doc_type") or codes.DocumentType.RESIDENT_ID, "证件类型", codes.DocumentType
    )
    out["gender"] = clean_code(errors, prefix + "gender", get("gender"), "性别", codes.Gender)
    out["birth_date"] = _date(errors, prefix + "birth_date", get("birth_date"), "出生日期")
    raw_id = get("id_number")
    if out["doc_type"] == codes.DocumentType.RESIDENT_ID:
        facts = errors.run(lambda: parse_id_number(raw_id, field=prefix + "id_number", today=today))
        if facts is not None:
            out["id_number"] = facts.number
            if out["birth_date"] and out["birth_date"] != facts.birth_date:
                errors.add(prefix + "birth_date", "出生日期与公民身份号码不一致")
            if out["gender"] in ("1", "2") and out["gender"] != facts.gender:
                errors.add(prefix + "gender", "性别与公民身份号码不一致")
            out["birth_date"], out["gender"] = facts.birth_date, facts.gender
            if not get("origin_code"):
                out["origin_code"] = facts.region_code
    else:
        number = normalise_id_number(raw_id)
        if not number:
            errors.add(prefix + "id_number", "请填写证件号码")
        elif not _OTHER_DOC.match(number):
            errors.add(prefix + "id_number", "证件号码应为5到30位字母、数字")
        out["id_number"] = number
        if not out["birth_date"]:
            errors.add(prefix + "birth_date", "请填写出生日期")
        if not out["gender"]:
            errors.add(prefix + "gender", "请选择性别")
    not_future(errors, prefix + "birth_date", out["birth_date"], "出生日期", today)
    out["ethnicity"] = clean_code(errors, prefix + "ethnicity", get("ethnicity") or "01", "民族", _Ethnicities)
    out["phone"] = clean_phone(errors, prefix + "phone", get("phone"))
    out["relation"] = clean_code(errors, prefix + "relation", get("relation"), "与户主关系", codes.Relation)
    origin = str(get("origin_code") or out.get("origin_code") or "").strip()
    if origin and not _ORIGIN.fullmatch(origin):
        errors.add(prefix + "origin_code", "户籍地区划代码应为6位数字")
    out["origin_code"] = origin
    out["hukou_address"] = clean_text(
        errors, prefix + "hukou_address", get("hukou_address"), "户籍地详址", max_length=120
    )
    out["occupation"] = clean_text(errors, prefix + "occupation", get("occupation"), "职业", max_length=40)
    out["workplace"] = clean_text(errors, prefix + "workplace", get("workplace"), "服务处所", max_length=80)
    out["note"] = clean_text(errors, prefix + "note", get("note"), "备注", max_length=1000)
    out["is_key_focus"] = bool(get("is_key_focus"))
    ptype = out["population_type"]
    # Type-specific items (GB/T 31000 户籍 / 流动 / 境外): kept only for their own type.
    out["hukou_consistency"] = clean_code(
        errors,
        prefix + "hukou_consistency",
        get("hukou_consistency") if ptype == PopulationType.REGISTERED else "",
        "人户一致标识",
        codes.HukouConsistency,
    )
    floating = ptype == PopulationType.FLOATING
    out["inflow_reason"] = clean_code(
        errors, prefix + "inflow_reason", get("inflow_reason") if floating else "", "流入原因", codes.InflowReason
    )
    out["permit_type"] = clean_code(
        errors, prefix + "permit_type", get("permit_type") if floating else "", "办证类型", codes.PermitType
    )
    out["permit_expiry"] = (
        _date(errors, prefix + "permit_expiry", get("permit_expiry"), "证件到期日期") if floating else None
    )
    out["residence_type"] = clean_code(
        errors, prefix + "residence_type", get("residence_type") if floating else "", "住所类型", codes.ResidenceType
    )
    foreign = ptype == PopulationType.FOREIGN
    out["foreign_name"] = clean_text(
        errors, prefix + "foreign_name", get("foreign_name") if foreign else "", "外文姓名", max_length=80
    )
    nationality = str((get("nationality") if foreign else "") or "").strip().upper()
    out["visit_purpose"] = clean_code(
        errors, prefix + "visit_purpose", get("visit_purpose") if foreign else "", "来华目的", codes.VisitPurpose
    )
    out["expected_departure"] = (
        _date(errors, prefix + "expected_departure", get("expected_departure"), "预计离开日期") if foreign else None
    )
    if foreign:
        if not _NATIONALITY.match(nationality):
            errors.add(prefix + "nationality", "请填写国籍（GB/T 2659 三字母代码，如 USA、JPN）")
        elif nationality == "CHN":
            errors.add(prefix + "nationality", "境外人员的国籍不能为中国")
        if out["doc_type"] == codes.DocumentType.RESIDENT_ID:
            errors.add(prefix + "doc_type", "境外人员请使用护照或通行证等证件")
    elif ptype and out["doc_type"] not in (codes.DocumentType.RESIDENT_ID, ""):
        errors.add(prefix + "doc_type", "户籍人口和流动人口请使用居民身份证")
    out["nationality"] = nationality
    if partial is None:
        moved_in = _date(errors, prefix + "moved_in_on", data.get("moved_in_on"), "入住日期") or today
        not_future(errors, prefix + "moved_in_on", moved_in, "入住日期", today)
        out["moved_in_on"] = moved_in
    return out


class _Ethnicities:
    values = [code for code, _label in codes.ETHNICITIES]


def find_by_id_number(id_number: str) -> Person | None:
    """Exact lookup through the keyed hash (every configured key, for rotations in progress)."""
    hashes = crypto.lookup_hashes(normalise_id_number(id_number), kind="id")
    if not hashes:
        return None
    return Person.objects.select_related("region").filter(id_hash__in=hashes).first()


def _event(
    person: Person,
    action: str,
    actor: User | None,
    *,
    old: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    PersonEvent.objects.create(
        person=person,
        action=action,
        from_status=old,
        to_status=person.status,
        at=clock.now(),
        actor=actor if actor is not None and actor.pk else None,
        reason=reason[:300],
        detail=detail or {},
        region_path=person.region_path,
    )


def _duplicate_refusal(existing: Person, field: str) -> Conflict:
    where = existing.region.name if existing.region_id else ""
    status = codes.label_of(PersonStatus, existing.status)
    return Conflict(
        f"该证件号码已登记（{where}，{status}），不能重复登记",
        field=field,
        rule="registers.person_once",
    )


def _check_writer(actor: User, house: House) -> None:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能登记人口", "registers.write")
    require_covers(scope, house.region_path, "该房屋")


def _place_in(person: Person, house: House, household: Household | None) -> None:
    person.house = house
    person.household = household
    person.region = house.region
    person.region_path = house.region_path
    person.lat, person.lng = house.lat, house.lng


@transaction.atomic
def household_register(
    *,
    actor: User,
    house: House,
    members: Sequence[Mapping[str, Any]],
    kind: str = HouseholdKind.RESIDENT,
    number: str = "",
) -> Household:
    """Register a household in a house with all its people, in one transaction.

    Exactly one member has relation 户主 (02). Errors of every member come back at once, keyed
    `members.<i>.<field>`; nothing is written unless all members are valid."""
    _check_writer(actor, house)
    errors = Errors()
    if not members:
        errors.add("members", "请至少登记一名家庭成员")
    cleaned = [clean_person(m, errors=errors, prefix=f"members.{i}.") for i, m in enumerate(members)]
    heads = [i for i, c in enumerate(cleaned) if c.get("relation") == codes.Relation.HEAD]
    if members and len(heads) != 1:
        errors.add("members", "一户应有且只有一名户主（与户主关系：02 户主）")
    for i, c in enumerate(cleaned):
        if not c.get("relation") and i not in heads:
            errors.add(f"members.{i}.relation", "请选择与户主关系")
    seen: dict[str, int] = {}
    for i, c in enumerate(cleaned):
        number_ = c.get("id_number")
        if number_:
            if number_ in seen:
                errors.add(f"members.{i}.id_number", f"与第{seen[number_] + 1}名成员的证件号码重复")
            seen.setdefault(number_, i)
            existing = find_by_id_number(number_)
            if existing is not None and existing.status != PersonStatus.MOVED_OUT:
                errors.absorb(_duplicate_refusal(existing, f"members.{i}.id_number"))
    errors.raise_if_any("户内成员信息有误")
    household = household_new(actor=actor, house=house, kind=kind, number=number)
    people = [_register_one(actor, house, household, c) for c in cleaned]
    household.head = people[heads[0]]
    household._history_user = actor  # type: ignore[attr-defined]
    household.save(update_fields=["head", "updated_at"])
    return household


def _register_one(actor: User, house: House, household: Household | None, c: dict[str, Any]) -> Person:
    existing = find_by_id_number(c["id_number"])
    if existing is not None:
        if existing.status != PersonStatus.MOVED_OUT:
            raise _duplicate_refusal(existing, "id_number")
        return _move_in(actor, existing, house, household, c, reason="重新登记时迁入")
    person = Person(status=PersonStatus.ACTIVE, created_by=actor, **c)
    _place_in(person, house, household)
    seal(person)
    person._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:  # a concurrent registration of the same number won the race
        raise Conflict("该证件号码刚刚已被登记，不能重复登记", field="id_number", rule="registers.person_once") from exc
    _event(person, PersonEvent.Action.REGISTER, actor, detail={"house": house.code})
    return person


@transaction.atomic
def person_register(
    *, actor: User, house: House, data: Mapping[str, Any], household: Household | None = None
) -> Person:
    """Register one person into a house (and optionally an existing household there)."""
    _check_writer(actor, house)
    if household is not None and household.house_id != house.pk:
        raise ValidationFailed("所选的户不在该房屋", field="household")
    errors = Errors()
    cleaned = clean_person(data, errors=errors)
    if household is not None and not cleaned.get("relation"):
        errors.add("relation", "请选择与户主关系")
    errors.raise_if_any("人员信息有误")
    person = _register_one(actor, house, household, cleaned)
    if household is not None and cleaned.get("relation") == codes.Relation.HEAD:
        _set_head(actor, household, person)
    return person


def _set_head(actor: User, household: Household, person: Person) -> None:
    if household.head_id and household.head_id != person.pk:
        raise ValidationFailed("该户已有户主", field="relation")
    household.head = person
    household._history_user = actor  # type: ignore[attr-defined]
    household.save(update_fields=["head", "updated_at"])


def _lock(person: Person) -> Person:
    return Person.objects.select_for_update(of=("self",)).select_related("region", "household").get(pk=person.pk)


@transaction.atomic
def person_update(*, actor: User, person: Person, changes: Mapping[str, Any], reason: str = "") -> Person:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能修改人口信息", "registers.write")
    locked = _lock(person)
    require_covers(scope, locked.region_path, "该人员")
    if locked.status == PersonStatus.ARCHIVED:
        raise Conflict("已归档的记录不能修改", rule="registers.archived_readonly")
    errors = Errors()
    if "moved_in_on" in changes:
        errors.add("moved_in_on", "入住日期请通过“迁入”办理")
    cleaned = clean_person({k: v for k, v in changes.items() if k != "moved_in_on"}, errors=errors, partial=locked)
    if cleaned.get("id_number") and cleaned["id_number"] != locked.id_number:
        existing = find_by_id_number(cleaned["id_number"])
        if existing is not None and existing.pk != locked.pk:
            errors.absorb(_duplicate_refusal(existing, "id_number"))
        elif not reason.strip():
            errors.add("reason", "修改证件号码须填写原因")
    errors.raise_if_any("人员信息有误")
    changed = sorted(k for k, v in cleaned.items() if getattr(locked, k) != v)
    for key in changed:
        setattr(locked, key, cleaned[key])
    if not changed:
        return locked
    seal(locked)
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = reason[:100]  # type: ignore[attr-defined]
    locked.save()
    # Sealed values never go into the timeline, only the fact they changed.
    _event(locked, PersonEvent.Action.UPDATE, actor, old=locked.status, reason=reason, detail={"fields": changed})
    return locked


def _move_in(
    actor: User,
    person: Person,
    house: House,
    household: Household | None,
    cleaned: dict[str, Any] | None,
    *,
    reason: str,
) -> Person:
    old = person.status
    person.status = states.next_status(old, "move_in")
    if cleaned:
        for key, value in cleaned.items():
            setattr(person, key, value)
        seal(person)
    _place_in(person, house, household)
    person.moved_in_on = (cleaned or {}).get("moved_in_on") or clock.today()
    person.moved_out_on = None
    person.moved_out_to = ""
    person.archived_at = None
    person._history_user = actor  # type: ignore[attr-defined]
    person.save()
    GroupMembership.objects.filter(person=person, ended_on__isnull=True).update(region_path=person.region_path)
    _event(person, PersonEvent.Action.MOVE_IN, actor, old=old, reason=reason, detail={"house": house.code})
    return person


@transaction.atomic
def person_move_in(
    *,
    actor: User,
    person: Person,
    house: House,
    household: Household | None = None,
    relation: str = "",
    moved_in_on: dt.date | None = None,
) -> Person:
    """迁入: a moved-out person comes to live in a house of the actor's jurisdiction. The record
    may have been in another grid (the person moved across the district)."""
    _check_writer(actor, house)
    locked = _lock(person)
    if household is not None and household.house_id != house.pk:
        raise ValidationFailed("所选的户不在该房屋", field="household")
    errors = Errors()
    relation = clean_code(errors, "relation", relation, "与户主关系", codes.Relation, required=household is not None)
    not_future(errors, "moved_in_on", moved_in_on, "迁入日期", clock.today())
    errors.raise_if_any("迁入信息有误")
    states.next_status(locked.status, "move_in")
    locked.relation = relation
    moved = _move_in(actor, locked, house, household, {"moved_in_on": moved_in_on or clock.today()}, reason="迁入")
    if household is not None and relation == codes.Relation.HEAD:
        _set_head(actor, household, moved)
    return moved


def _leave_household(actor: User, person: Person) -> None:
    household = person.household
    if household is None:
        return
    person.household = None
    stays = household.members.filter(status=PersonStatus.ACTIVE).exclude(pk=person.pk)
    update = ["updated_at"]
    if household.head_id == person.pk:
        household.head = None
        update.append("head")
    if not stays.exists():
        household.is_active = False
        update.append("is_active")
    household._history_user = actor  # type: ignore[attr-defined]
    household.save(update_fields=update)


@transaction.atomic
def person_move_out(
    *, actor: User, person: Person, moved_out_on: dt.date | None = None, moved_out_to: str = "", reason: str = ""
) -> Person:
    """迁出: the person no longer lives here. The record stays in this grid (as 已迁出) until it is
    archived or the person is moved in elsewhere."""
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能办理迁出", "registers.write")
    locked = _lock(person)
    require_covers(scope, locked.region_path, "该人员")
    errors = Errors()
    moved_out_to = clean_text(errors, "moved_out_to", moved_out_to, "迁往地", max_length=120, required=True)
    on = moved_out_on or clock.today()
    not_future(errors, "moved_out_on", on, "迁出日期", clock.today())
    if locked.moved_in_on and on < locked.moved_in_on:
        errors.add("moved_out_on", "迁出日期不能早于入住日期")
    errors.raise_if_any("迁出信息有误")
    old = locked.status
    locked.status = states.next_status(old, "move_out")
    locked.moved_out_on, locked.moved_out_to = on, moved_out_to
    _leave_household(actor, locked)
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    _event(
        locked,
        PersonEvent.Action.MOVE_OUT,
        actor,
        old=old,
        reason=reason,
        detail={"to": moved_out_to, "on": on.isoformat()},
    )
    return locked


@transaction.atomic
def person_cancel(
    *, actor: User, person: Person, cancel_reason: str, on: dt.date | None = None, reason: str = ""
) -> Person:
    """注销 (death, duplicate record, other): ends the person's special-group memberships too."""
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能办理注销", "registers.write")
    locked = _lock(person)
    require_covers(scope, locked.region_path, "该人员")
    errors = Errors()
    cancel_reason = clean_code(errors, "cancel_reason", cancel_reason, "注销原因", codes.CancelReason, required=True)
    on = on or clock.today()
    not_future(errors, "on", on, "注销日期", clock.today())
    if cancel_reason == codes.CancelReason.OTHER and not reason.strip():
        errors.add("reason", "请说明注销原因")
    errors.raise_if_any("注销信息有误")
    old = locked.status
    locked.status = states.next_status(old, "cancel")
    locked.cancel_reason, locked.cancelled_on = cancel_reason, on
    _leave_household(actor, locked)
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    ended = GroupMembership.objects.filter(person=locked, ended_on__isnull=True).update(
        ended_on=on, end_reason=f"人员注销（{codes.label_of(codes.CancelReason, cancel_reason)}）", next_visit_due=None
    )
    _event(
        locked,
        PersonEvent.Action.CANCEL,
        actor,
        old=old,
        reason=reason,
        detail={"cancel_reason": cancel_reason, "groups_ended": ended},
    )
    return locked


@transaction.atomic
def person_archive(*, actor: User, person: Person, reason: str = "") -> Person:
    """归档: close a moved-out or cancelled record for good (grid leader or centre operator)."""
    scope = scope_of(actor)
    require(permissions.can_archive(scope), "只有网格长或综治中心可以归档", "registers.archive")
    locked = _lock(person)
    require_covers(scope, locked.region_path, "该人员")
    old = locked.status
    locked.status = states.next_status(old, "archive")
    locked.archived_at = clock.now()
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    _event(locked, PersonEvent.Action.ARCHIVE, actor, old=old, reason=reason)
    return locked


REVEALABLE = {"id_number": "证件号码", "phone": "联系电话"}


@transaction.atomic
def person_reveal(
    *, actor: User, person: Person, fields: Sequence[str], reason: str, request: HttpRequest | None = None
) -> dict[str, str]:
    """Show full ID/phone numbers to a role allowed to, for a stated reason; audited in the same
    transaction (an unaudited reveal cannot happen)."""
    scope = scope_of(actor)
    if not permissions.can_reveal(scope):
        raise PermissionRefused("您的角色不能查看完整证件号码和电话", rule="registers.reveal")
    require_covers(scope, person.region_path, "该人员")
    errors = Errors()
    wanted = list(dict.fromkeys(fields))
    if not wanted:
        errors.add("fields", "请选择要查看的信息")
    for name in wanted:
        if name not in REVEALABLE:
            errors.add("fields", f"不能查看 {name!r}")
    reason = clean_text(errors, "reason", reason, "查看原因", max_length=300, required=True)
    if reason and len(reason) < 4:
        errors.add("reason", "请具体说明查看原因（至少4个字）")
    errors.raise_if_any("查看申请有误")
    fresh = Person.objects.get(pk=person.pk)
    audit_record(
        actor=actor,
        action="registers.person_revealed",
        target=fresh,
        reason=reason,
        detail={"fields": wanted},
        request=request,
        region_path=fresh.region_path,
    )
    return {name: getattr(fresh, name) for name in wanted}
