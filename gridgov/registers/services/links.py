"""关联事件: linking a case to a register subject (a person, household, place, organisation or
school). The actor must be a register writer who sees both the case (its number, through the cases
scope) and the subject (through the register selectors); each link and unlink leaves an internal
row on the case's timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from gridgov.cases import selectors as case_selectors
from gridgov.cases import services as case_services
from gridgov.common import clock
from gridgov.common.errors import NotFound, ValidationFailed
from gridgov.common.masking import mask_name

from .. import permissions, selectors
from ..models import CaseLink, Household, Organisation, Person, Place, School
from ._common import require, scope_of

if TYPE_CHECKING:
    from gridgov.accounts.models import User
    from gridgov.accounts.scope import Scope
    from gridgov.cases.models import Case

Subject = Person | Household | Place | Organisation | School

KIND_LABELS = {
    "person": gettext_noop("实有人口"),
    "household": gettext_noop("户"),
    "place": gettext_noop("重点场所"),
    "organisation": gettext_noop("组织"),
    "school": gettext_noop("学校"),
}
_ENTITY_OF = {"place": "places", "organisation": "organisations", "school": "schools"}


def subject_label(kind: str, subject: Any) -> str:
    """What a case timeline may show of the subject: names of people masked."""
    if kind == "person":
        return mask_name(subject.name)
    if kind == "household":
        head = subject.head
        return f"户 {subject.number}" + (f"（户主 {mask_name(head.name)}）" if head else "")
    return str(subject)


def _kind_of(subject: Subject) -> str:
    for kind, model in (
        ("person", Person),
        ("household", Household),
        ("place", Place),
        ("organisation", Organisation),
        ("school", School),
    ):
        if isinstance(subject, model):
            return kind
    raise ValidationFailed("只能关联实有人口、户、重点场所、组织或学校", rule="registers.case_link.kind")


def _visible_subject(scope: Scope, kind: str, pk: int) -> Subject:
    """The subject again, through the viewer's scope (NotFound when out of reach)."""
    if kind == "person":
        return selectors.person_get(scope=scope, pk=pk)
    if kind == "household":
        return selectors.household_get(scope=scope, pk=pk)
    return selectors.entity_get(scope=scope, entity=_ENTITY_OF[kind], pk=pk)  # type: ignore[no-any-return]


def _visible_case(scope: Scope, case: Case) -> Case:
    try:
        return case_selectors.case_get(scope=scope, number=case.number)
    except NotFound as exc:
        raise ValidationFailed(
            f"案件 {case.number} 不存在或不在您的辖区",
            field="number",
            rule="registers.case_link.case_scope",
        ) from exc


def case_lookup(*, number: str) -> Case | None:
    """The case with that number, unscoped: the service checks the scope and answers an
    out-of-reach number exactly like an unknown one."""
    from gridgov.cases.models import Case

    return Case.objects.filter(number=(number or "").strip()).first()


@transaction.atomic
def case_link_subject(*, actor: User, case: Case, subject: Subject, note: str = "") -> CaseLink:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能关联事件", "registers.case_link.role")
    kind = _kind_of(subject)
    subject = _visible_subject(scope, kind, subject.pk)
    case = _visible_case(scope, case)
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("关联说明不能超过200字", field="note", rule="registers.case_link.note")
    if CaseLink.objects.filter(case=case, **{kind: subject}).exists():
        raise ValidationFailed(
            f"案件 {case.number} 已与该{KIND_LABELS[kind]}关联",
            field="number",
            rule="registers.case_link.duplicate",
        )
    try:
        with transaction.atomic():
            link = CaseLink.objects.create(
                case=case,
                note=note,
                region_path=subject.region_path,
                created_at=clock.now(),
                created_by=actor,
                **{kind: subject},
            )
    except IntegrityError as exc:  # a concurrent identical link
        raise ValidationFailed(
            f"案件 {case.number} 已与该{KIND_LABELS[kind]}关联",
            field="number",
            rule="registers.case_link.duplicate",
        ) from exc
    label = subject_label(kind, subject)
    case_services.case_record_link(
        actor=actor,
        case=case,
        linked=True,
        text=f"关联{KIND_LABELS[kind]}：{label}" + (f"（{note}）" if note else ""),
        detail={"kind": kind, "subject_id": subject.pk, "link_id": link.pk},
    )
    return link


@transaction.atomic
def case_unlink_subject(*, actor: User, link_id: int) -> None:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能解除关联", "registers.case_link.role")
    link = CaseLink.objects.select_related("case").filter(pk=link_id).first()
    if link is None or not scope.covers(link.region_path):
        raise NotFound("关联不存在或不在您的辖区内")
    kind = link.subject_kind
    subject = _visible_subject(scope, kind, link.subject_id or 0)
    case = _visible_case(scope, link.case)
    link.delete()
    case_services.case_record_link(
        actor=actor,
        case=case,
        linked=False,
        text=f"解除关联{KIND_LABELS[kind]}：{subject_label(kind, subject)}",
        detail={"kind": kind, "subject_id": subject.pk},
    )
