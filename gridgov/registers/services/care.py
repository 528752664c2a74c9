"""Special groups and key youth (tags on a person), visit frequencies, and visits.

A membership carries a visit obligation: `next_visit_due` = last visit (or the day it was listed)
+ the interval of its group and attention level (`VisitRule`, defaulting to
`groups.DEFAULT_INTERVALS`). Recording a visit to a person fulfils every active membership they
have; a visit to a place moves its next inspection date by its inspection cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from gridgov.cases.photos import CleanPhoto, clean_photo
from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed

from .. import codes, groups, permissions
from ..codes import AttentionLevel, GroupKind, PersonStatus
from ..models import GroupMembership, Household, Person, PersonEvent, Place, Visit, VisitPhoto, VisitRule
from ._common import Errors, clean_code, clean_text, not_future, require, require_covers, scope_of
from .people import _event

if TYPE_CHECKING:
    from gridgov.accounts.models import User

MAX_PHOTOS = 9
BACKDATE_DAYS = 90


def interval_days(kind: str, attention_level: str) -> int:
    rule = (
        VisitRule.objects.filter(kind=kind, attention_level=attention_level)
        .values_list("interval_days", flat=True)
        .first()
    )
    return int(rule) if rule else groups.DEFAULT_INTERVALS[kind][attention_level]


def intervals() -> dict[tuple[str, str], int]:
    """Every (group, attention level) → days, rules overriding defaults (for batch work)."""
    table = {(k, lvl): days for k, levels in groups.DEFAULT_INTERVALS.items() for lvl, days in levels.items()}
    table.update({(r.kind, r.attention_level): r.interval_days for r in VisitRule.objects.all()})
    return table


def _due(membership: GroupMembership, days: int) -> dt.date:
    base = timezone.localdate(membership.last_visit_at) if membership.last_visit_at else membership.started_on
    return base + dt.timedelta(days=days)


def _helpers(errors: Errors, person: Person, helper_ids: Iterable[int] | None) -> list[Any]:
    from gridgov.accounts.models import User
    from gridgov.accounts.scope import Scope

    ids = list(dict.fromkeys(int(i) for i in (helper_ids or [])))
    users = list(User.objects.filter(pk__in=ids, is_active=True).select_related("jurisdiction", "department"))
    if len(users) != len(ids):
        errors.add("helpers", "帮扶责任人不存在或已停用")
    for user in users:
        if not Scope.for_user(user).covers(person.region_path):
            errors.add("helpers", f"{user.label}的辖区不包含该人员，不能担任帮扶责任人")
    return users


def _clean_membership(
    errors: Errors,
    kind: str,
    *,
    attention_level: str,
    risk_code: str,
    risk_note: str,
    details: dict[str, Any] | None,
    helper_note: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["attention_level"] = clean_code(
        errors, "attention_level", attention_level, "关注程度", AttentionLevel, required=True
    )
    table = groups.RISK_TABLES.get(kind)
    if table is not None:
        out["risk_code"] = clean_code(errors, "risk_code", risk_code, "危险性评估", table)
    elif risk_code:
        errors.add("risk_code", "该人群没有危险性评估代码，请在评估说明中填写")
        out["risk_code"] = ""
    else:
        out["risk_code"] = ""
    out["risk_note"] = clean_text(errors, "risk_note", risk_note, "评估说明", max_length=300)
    out["helper_note"] = clean_text(errors, "helper_note", helper_note, "其他帮扶人员", max_length=200)
    out["details"] = errors.run(lambda: groups.clean_details(kind, details)) or {}
    return out


@transaction.atomic
def group_add(
    *,
    actor: User,
    person: Person,
    kind: str,
    attention_level: str,
    started_on: dt.date | None = None,
    risk_code: str = "",
    risk_note: str = "",
    details: dict[str, Any] | None = None,
    helper_ids: Sequence[int] | None = None,
    helper_note: str = "",
) -> GroupMembership:
    scope = scope_of(actor)
    require(
        permissions.can_write(scope) and permissions.can_see_groups(scope),
        "您的角色不能登记特殊人群",
        "registers.groups",
    )
    locked = Person.objects.select_for_update().get(pk=person.pk)
    require_covers(scope, locked.region_path, "该人员")
    if locked.status != PersonStatus.ACTIVE:
        raise Conflict("只有在册人员可以列为特殊人群", field="person", rule="registers.group_needs_active")
    errors = Errors()
    kind = clean_code(errors, "kind", kind, "人群类别", GroupKind, required=True)
    if errors:
        errors.raise_if_any("特殊人群信息有误")
    cleaned = _clean_membership(
        errors,
        kind,
        attention_level=attention_level,
        risk_code=risk_code,
        risk_note=risk_note,
        details=details,
        helper_note=helper_note,
    )
    started_on = started_on or clock.today()
    not_future(errors, "started_on", started_on, "列管日期", clock.today())
    if kind == GroupKind.YOUTH and locked.age is not None and not 6 <= locked.age <= 25:
        errors.add("kind", "重点青少年应为6至25周岁")
    helpers = _helpers(errors, locked, helper_ids)
    if GroupMembership.objects.filter(person=locked, kind=kind, ended_on__isnull=True).exists():
        errors.add("kind", "该人员已列为此类人群")
    errors.raise_if_any("特殊人群信息有误")
    membership = GroupMembership(
        person=locked, kind=kind, started_on=started_on, region_path=locked.region_path, **cleaned
    )
    membership.next_visit_due = _due(membership, interval_days(kind, cleaned["attention_level"]))
    membership._history_user = actor  # type: ignore[attr-defined]
    membership.save()
    membership.helpers.set(helpers)
    _event(
        locked,
        PersonEvent.Action.GROUP_ADD,
        actor,
        old=locked.status,
        detail={"kind": kind, "attention_level": cleaned["attention_level"]},
    )
    return membership


def _lock_membership(scope: Any, membership: GroupMembership) -> GroupMembership:
    require(
        permissions.can_write(scope) and permissions.can_see_groups(scope),
        "您的角色不能修改特殊人群信息",
        "registers.groups",
    )
    locked = GroupMembership.objects.select_for_update(of=("self",)).select_related("person").get(pk=membership.pk)
    require_covers(scope, locked.region_path, "该人员")
    if locked.ended_on is not None:
        raise Conflict("该列管已解除", rule="registers.group_ended")
    return locked


@transaction.atomic
def group_update(
    *,
    actor: User,
    membership: GroupMembership,
    attention_level: str,
    risk_code: str = "",
    risk_note: str = "",
    details: dict[str, Any] | None = None,
    helper_ids: Sequence[int] | None = None,
    helper_note: str = "",
) -> GroupMembership:
    scope = scope_of(actor)
    locked = _lock_membership(scope, membership)
    errors = Errors()
    cleaned = _clean_membership(
        errors,
        locked.kind,
        attention_level=attention_level,
        risk_code=risk_code,
        risk_note=risk_note,
        details=details,
        helper_note=helper_note,
    )
    helpers = _helpers(errors, locked.person, helper_ids)
    errors.raise_if_any("特殊人群信息有误")
    before = {"attention_level": locked.attention_level, "risk_code": locked.risk_code}
    for key, value in cleaned.items():
        setattr(locked, key, value)
    locked.next_visit_due = _due(locked, interval_days(locked.kind, locked.attention_level))
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    locked.helpers.set(helpers)
    _event(
        locked.person,
        PersonEvent.Action.GROUP_UPDATE,
        actor,
        old=locked.person.status,
        detail={
            "kind": locked.kind,
            "before": before,
            "after": {"attention_level": locked.attention_level, "risk_code": locked.risk_code},
        },
    )
    return locked


@transaction.atomic
def group_end(
    *, actor: User, membership: GroupMembership, reason: str, ended_on: dt.date | None = None
) -> GroupMembership:
    scope = scope_of(actor)
    locked = _lock_membership(scope, membership)
    errors = Errors()
    reason = clean_text(errors, "reason", reason, "解除原因", max_length=200, required=True)
    ended_on = ended_on or clock.today()
    not_future(errors, "ended_on", ended_on, "解除日期", clock.today())
    if ended_on < locked.started_on:
        errors.add("ended_on", "解除日期不能早于列管日期")
    errors.raise_if_any("解除信息有误")
    locked.ended_on, locked.end_reason, locked.next_visit_due = ended_on, reason, None
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    _event(
        locked.person,
        PersonEvent.Action.GROUP_END,
        actor,
        old=locked.person.status,
        reason=reason,
        detail={"kind": locked.kind},
    )
    return locked


@transaction.atomic
def visit_rule_set(*, actor: User, kind: str, attention_level: str, interval_days: int) -> VisitRule:
    """Change a visit frequency and move the due date of every active membership it governs."""
    scope = scope_of(actor)
    require(permissions.can_configure(scope), "只有系统管理员可以配置走访频次", "registers.configure")
    errors = Errors()
    kind = clean_code(errors, "kind", kind, "人群类别", GroupKind, required=True)
    attention_level = clean_code(errors, "attention_level", attention_level, "关注程度", AttentionLevel, required=True)
    if not 1 <= int(interval_days) <= 366:
        errors.add("interval_days", "走访间隔应在1到366天之间")
    errors.raise_if_any("走访频次有误")
    rule, _ = VisitRule.objects.update_or_create(
        kind=kind, attention_level=attention_level, defaults={"interval_days": int(interval_days)}
    )
    affected = list(GroupMembership.objects.filter(kind=kind, attention_level=attention_level, ended_on__isnull=True))
    for m in affected:
        m.next_visit_due = _due(m, rule.interval_days)
    GroupMembership.objects.bulk_update(affected, ["next_visit_due"], batch_size=1000)
    audit_record(
        actor=actor,
        action="registers.visit_rule_changed",
        target=rule,
        detail={
            "kind": kind,
            "attention_level": attention_level,
            "interval_days": rule.interval_days,
            "memberships": len(affected),
        },
        region_path=scope.path or "",
    )
    return rule


def _check_photo(errors: Errors, index: int, photo: UploadedFile) -> CleanPhoto | None:
    """By content, as for case photos: a JPEG, PNG or WebP within the byte and pixel limits,
    re-encoded (which drops EXIF metadata such as the GPS position of the visit)."""
    try:
        return clean_photo(photo, field=f"photos.{index}")
    except ValidationFailed as exc:
        errors.add(f"photos.{index}", exc.message)
        return None


@transaction.atomic
def visit_record(
    *,
    actor: User,
    findings: str,
    person: Person | None = None,
    household: Household | None = None,
    place: Place | None = None,
    kind: str = codes.VisitKind.ROUTINE,
    outcome: str = codes.VisitOutcome.NORMAL,
    visited_at: dt.datetime | None = None,
    lat: float | None = None,
    lng: float | None = None,
    photos: Sequence[UploadedFile] = (),
) -> Visit:
    """Record a visit (走访) to a person, a household or a place, with photos, and move the due
    dates it fulfils."""
    scope = scope_of(actor)
    if not permissions.can_visit(scope):
        raise PermissionRefused("您的角色不能登记走访", rule="registers.visit")
    targets = [t for t in (person, household, place) if t is not None]
    if len(targets) != 1:
        raise ValidationFailed("请选择一个走访对象（人员、户或场所）", field="target")
    target = targets[0]
    require_covers(scope, target.region_path, "走访对象")
    errors = Errors()
    findings = clean_text(errors, "findings", findings, "走访情况", max_length=2000, required=True)
    kind = clean_code(errors, "kind", kind, "走访类型", codes.VisitKind, required=True)
    outcome = clean_code(errors, "outcome", outcome, "走访结果", codes.VisitOutcome, required=True)
    now = clock.now()
    at = visited_at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        errors.add("visited_at", "走访时间不能晚于现在")
    elif at < now - dt.timedelta(days=BACKDATE_DAYS):
        errors.add("visited_at", f"只能补录{BACKDATE_DAYS}天内的走访")
    if (lat is None) != (lng is None):
        errors.add("location", "经纬度应同时填写")
    elif lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        errors.add("location", "经纬度超出范围")
    if person is not None and person.status != PersonStatus.ACTIVE:
        errors.add("person", "该人员不在册，不能登记走访")
    if len(photos) > MAX_PHOTOS:
        errors.add("photos", f"最多上传{MAX_PHOTOS}张照片")
    cleaned = [_check_photo(errors, i, photo) for i, photo in enumerate(photos)]
    errors.raise_if_any("走访信息有误")
    memberships = (
        list(GroupMembership.objects.select_for_update().filter(person=person, ended_on__isnull=True)) if person else []
    )
    visit = Visit.objects.create(
        visitor=actor,
        visited_at=at,
        kind=kind,
        outcome=outcome,
        findings=findings,
        person=person,
        household=household,
        place=place,
        membership=memberships[0] if len(memberships) == 1 else None,
        lat=lat,
        lng=lng,
        region_id=target.region_id,
        region_path=target.region_path,
    )
    for photo, clean in zip(photos, cleaned, strict=True):
        assert clean is not None
        VisitPhoto.objects.create(visit=visit, image=clean.content, caption=(photo.name or "")[:100], taken_at=at)
    for m in memberships:
        if m.last_visit_at is None or at > m.last_visit_at:
            m.last_visit_at = at
            m.next_visit_due = _due(m, interval_days(m.kind, m.attention_level))
            m.save(update_fields=["last_visit_at", "next_visit_due", "updated_at"])
    if place is not None:
        locked = Place.objects.select_for_update().get(pk=place.pk)
        day = timezone.localdate(at)
        if locked.last_inspected_on is None or day > locked.last_inspected_on:
            locked.last_inspected_on = day
            locked.next_inspection_due = day + dt.timedelta(days=locked.inspection_cycle_days)
            locked.save(update_fields=["last_inspected_on", "next_inspection_due", "updated_at"])
    return visit
