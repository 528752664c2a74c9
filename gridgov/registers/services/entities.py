"""Places, organisations, schools, line-protection segments, governance bodies and teams.

These registers share one shape — a row in a micro-grid with typed fields — so one create/update
path serves them all, driven by `ENTITIES`; the model's own field validation (choices, lengths,
types) gives the field-level messages and a few rules per register are added on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_noop

from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import Conflict, ValidationFailed
from gridgov.regions.models import Region

from .. import codes, permissions
from ..idnumber import normalise_credit_code, normalise_phone
from ..models import Building, GovernanceOrg, House, LineSegment, Organisation, Place, School, Team
from ._common import Errors, require, require_covers, resolve_leaf, scope_of

if TYPE_CHECKING:
    from gridgov.accounts.models import User

# Inspection cycle (days) by risk level when none is given: red weekly … blue quarterly.
DEFAULT_CYCLE: dict[str, int] = {
    codes.RiskLevel.MAJOR: 7,
    codes.RiskLevel.HIGH: 15,
    codes.RiskLevel.GENERAL: 30,
    codes.RiskLevel.LOW: 90,
}


@dataclass(frozen=True)
class Entity:
    key: str
    model: type[models.Model]
    label: str
    fields: list[str]
    # foreign keys accepted by id, each checked against the actor's scope
    refs: dict[str, type[models.Model]] = field(default_factory=dict)
    phones: tuple[str, ...] = ("contact_phone",)
    extra_clean: Callable[[Errors, Any], None] | None = None
    # Governance bodies sit at a level of the tree (a town's centre belongs to the town), not in a
    # micro-grid like everything else.
    any_level: bool = False


def _clean_organisation(errors: Errors, obj: Organisation) -> None:
    obj.credit_code = errors.run(lambda: normalise_credit_code(obj.credit_code)) or ""
    if obj.kind == codes.OrganisationKind.ENTERPRISE:
        if not obj.category:
            errors.add("category", "请选择企业类别")
        obj.social_org_type = ""
    elif obj.kind == codes.OrganisationKind.SOCIAL:
        if not obj.social_org_type:
            errors.add("social_org_type", "请选择社会组织类型")
        obj.category = obj.registration_type = obj.holding = ""
    if obj.credit_code and Organisation.objects.filter(credit_code=obj.credit_code).exclude(pk=obj.pk).exists():
        errors.add("credit_code", "该统一社会信用代码已登记")


def _clean_place(errors: Errors, obj: Place) -> None:
    if obj.kind == codes.PlaceKind.RENTAL:
        if not obj.rental_use:
            errors.add("rental_use", "出租房屋请选择出租用途")
        obj.rental_hazard = obj.rental_hazard or codes.RentalHazard.NONE
    else:
        obj.rental_use = obj.rental_hazard = ""
    try:
        cycle = int(obj.inspection_cycle_days or 0) or DEFAULT_CYCLE.get(obj.risk_level, 30)
        last = Place._meta.get_field("last_inspected_on").to_python(obj.last_inspected_on)  # type: ignore[union-attr]
    except (TypeError, ValueError, DjangoValidationError):
        return  # the model's own validation reports the malformed value
    obj.inspection_cycle_days, obj.last_inspected_on = cycle, last
    if last and last > clock.today():
        errors.add("last_inspected_on", "最近巡查日期不能晚于今天")
    obj.next_inspection_due = (last or clock.today()) + dt.timedelta(days=cycle)


def _clean_line(errors: Errors, obj: LineSegment) -> None:
    if obj.geometry:
        geom = obj.geometry
        if not isinstance(geom, dict) or geom.get("type") != "LineString" or len(geom.get("coordinates") or []) < 2:
            errors.add("geometry", "线路走向应为至少两个点的 GeoJSON LineString")


ENTITIES: dict[str, Entity] = {
    "places": Entity(
        "places",
        Place,
        gettext_noop("重点场所"),
        [
            "kind",
            "name",
            "address",
            "risk_level",
            "inspection_cycle_days",
            "last_inspected_on",
            "contact_name",
            "contact_phone",
            "rental_use",
            "rental_hazard",
            "occupants",
            "is_active",
            "note",
        ],
        refs={"building_id": Building, "house_id": House, "organisation_id": Organisation},
        extra_clean=_clean_place,
    ),
    "organisations": Entity(
        "organisations",
        Organisation,
        gettext_noop("组织"),
        [
            "kind",
            "name",
            "credit_code",
            "category",
            "registration_type",
            "holding",
            "social_org_type",
            "address",
            "legal_rep_name",
            "contact_phone",
            "employees",
            "security_hazard",
            "attention_level",
            "is_active",
            "note",
        ],
        refs={"building_id": Building},
        extra_clean=_clean_organisation,
    ),
    "schools": Entity(
        "schools",
        School,
        gettext_noop("学校"),
        [
            "name",
            "school_type",
            "address",
            "students",
            "staff",
            "principal_name",
            "security_chief",
            "contact_phone",
            "guards",
            "has_police_room",
            "has_alarm_link",
            "surroundings_note",
        ],
    ),
    "lines": Entity(
        "lines",
        LineSegment,
        gettext_noop("护路护线"),
        [
            "kind",
            "name",
            "section",
            "length_km",
            "responsible_unit",
            "risk_level",
            "geometry",
            "last_patrolled_on",
            "note",
        ],
        refs={"team_id": Team},
        phones=(),
        extra_clean=_clean_line,
    ),
    "governance": Entity(
        "governance",
        GovernanceOrg,
        gettext_noop("综治组织"),
        ["name", "institution_type", "level", "address", "head_name", "contact_phone", "member_units"],
        any_level=True,
    ),
    "teams": Entity(
        "teams",
        Team,
        gettext_noop("综治队伍"),
        ["name", "team_type", "leader_name", "contact_phone", "member_count", "duties"],
        refs={"organisation_id": GovernanceOrg},
        any_level=True,
    ),
}


def _apply(errors: Errors, scope: Scope, spec: Entity, obj: Any, data: Mapping[str, Any]) -> None:
    allowed = set(spec.fields) | set(spec.refs) | {"region_code", "lat", "lng"}
    for key in sorted(set(data) - allowed):
        errors.add(key, "未知字段")
    for name in spec.fields:
        if name in data:
            value = data[name]
            model_field: Any = spec.model._meta.get_field(name)
            if value is None and not model_field.null:
                value = (
                    "" if isinstance(model_field, models.CharField | models.TextField) else model_field.get_default()
                )
            if isinstance(value, str) and not isinstance(model_field, models.JSONField):
                value = value.strip()
            setattr(obj, name, value)
    for ref, ref_model in spec.refs.items():
        if ref not in data:
            continue
        raw = data[ref]
        if raw in (None, ""):
            setattr(obj, ref, None)
            continue
        target: Any = ref_model._default_manager.filter(pk=int(raw)).first() if str(raw).isdigit() else None
        if target is None:
            errors.add(ref, "关联记录不存在")
        elif not scope.covers(target.region_path):  # type: ignore[attr-defined]
            errors.add(ref, "关联记录不在您的辖区内")
        else:
            setattr(obj, ref, target.pk)
    for phone in spec.phones:
        if phone in data:
            setattr(obj, phone, _phone(errors, phone, getattr(obj, phone)))


def _phone(errors: Errors, name: str, value: Any) -> str:
    try:
        return normalise_phone(value, field=name)
    except ValidationFailed as exc:
        errors.absorb(exc)
        return ""


def _place(errors: Errors, scope: Scope, spec: Entity, obj: Any, data: Mapping[str, Any], *, creating: bool) -> None:
    lat, lng = data.get("lat"), data.get("lng")
    try:
        lat = float(lat) if lat not in (None, "") else None
        lng = float(lng) if lng not in (None, "") else None
    except (TypeError, ValueError):
        errors.add("location", "经纬度应为数字")
        return
    code = data.get("region_code")
    building_id = getattr(obj, "building_id", None)
    building = Building.objects.filter(pk=building_id).first() if building_id else None
    if not code and lat is None and building is not None:
        code = building.region.code
        lat, lng = building.lat, building.lng
    if code and spec.any_level:
        region = Region.objects.filter(code=str(code).strip()).first()
        if region is None:
            errors.add("region_code", f"区域代码 {code} 不存在")
        elif not scope.covers(region.path):
            errors.add("region_code", "该区域不在您的辖区内")
        else:
            obj.region, obj.region_path = region, region.path
            obj.lat = lat if lat is not None else region.centroid_lat
            obj.lng = lng if lng is not None else region.centroid_lng
        return
    if code or lat is not None or creating:
        region = errors.run(lambda: resolve_leaf(scope, region_code=code, lat=lat, lng=lng))
        if region is not None:
            obj.region, obj.region_path = region, region.path
            obj.lat = lat if lat is not None else region.centroid_lat
            obj.lng = lng if lng is not None else region.centroid_lng


def _full_clean(errors: Errors, obj: Any) -> None:
    try:
        obj.full_clean(
            exclude=["region", "region_path", "created_by"], validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                errors.add(name, message)


@transaction.atomic
def entity_create(*, actor: User, entity: str, data: Mapping[str, Any]) -> Any:
    spec = ENTITIES[entity]
    scope = scope_of(actor)
    require(permissions.can_write(scope), f"您的角色不能登记{spec.label}", "registers.write")
    errors = Errors()
    obj = spec.model(created_by=actor)
    _apply(errors, scope, spec, obj, data)
    if spec.key == "places" and not data.get("inspection_cycle_days"):
        obj.inspection_cycle_days = 0  # type: ignore[attr-defined]  # derived from the risk level
    _place(errors, scope, spec, obj, data, creating=True)
    if spec.extra_clean:
        spec.extra_clean(errors, obj)
    _full_clean(errors, obj)
    errors.raise_if_any(f"{spec.label}信息有误")
    return _save(actor, obj)


@transaction.atomic
def entity_update(*, actor: User, obj: Any, data: Mapping[str, Any]) -> Any:
    spec = next(s for s in ENTITIES.values() if isinstance(obj, s.model))
    scope = scope_of(actor)
    require(permissions.can_write(scope), f"您的角色不能修改{spec.label}", "registers.write")
    locked: Any = spec.model._default_manager.select_for_update().get(pk=obj.pk)
    require_covers(scope, locked.region_path, f"该{spec.label}")  # type: ignore[attr-defined]
    errors = Errors()
    _apply(errors, scope, spec, locked, data)
    _place(errors, scope, spec, locked, data, creating=False)
    if spec.extra_clean:
        spec.extra_clean(errors, locked)
    _full_clean(errors, locked)
    errors.raise_if_any(f"{spec.label}信息有误")
    return _save(actor, locked)


def _save(actor: User, obj: Any) -> Any:
    obj._history_user = actor
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise Conflict("与已登记的记录冲突（编码重复）", rule="registers.unique") from exc
    return obj


def place_create(*, actor: User, data: Mapping[str, Any]) -> Place:
    return entity_create(actor=actor, entity="places", data=data)  # type: ignore[no-any-return]


def organisation_create(*, actor: User, data: Mapping[str, Any]) -> Organisation:
    return entity_create(actor=actor, entity="organisations", data=data)  # type: ignore[no-any-return]


def school_create(*, actor: User, data: Mapping[str, Any]) -> School:
    return entity_create(actor=actor, entity="schools", data=data)  # type: ignore[no-any-return]


def line_create(*, actor: User, data: Mapping[str, Any]) -> LineSegment:
    return entity_create(actor=actor, entity="lines", data=data)  # type: ignore[no-any-return]


def governance_create(*, actor: User, data: Mapping[str, Any]) -> GovernanceOrg:
    return entity_create(actor=actor, entity="governance", data=data)  # type: ignore[no-any-return]


def team_create(*, actor: User, data: Mapping[str, Any]) -> Team:
    return entity_create(actor=actor, entity="teams", data=data)  # type: ignore[no-any-return]


def refuse_unknown_entity(entity: str) -> None:
    if entity not in ENTITIES:
        raise ValidationFailed(f"未知登记类别 {entity!r}", field="entity")
