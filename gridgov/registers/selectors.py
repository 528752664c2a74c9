"""Reads of the registers, always through the viewer's scope.

A person outside the viewer's jurisdiction answers "not found" rather than "forbidden": whether
somebody is registered somewhere is itself personal data. Lists never decrypt anything — they
show the masked columns written at save time.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, OrderBy, Q, QuerySet
from django.utils import timezone

from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import NotFound, PermissionRefused
from gridgov.regions.models import Level, Region

from . import codes, crypto, permissions
from .codes import AttentionLevel, GroupKind, PersonStatus
from .idnumber import normalise_id_number
from .models import (
    Address,
    Building,
    GroupMembership,
    House,
    Household,
    Organisation,
    Person,
    PersonEvent,
    Place,
    School,
    Visit,
    VisitRule,
)
from .services.entities import ENTITIES

DUE_SOON_DAYS = 3
_ID_LIKE = re.compile(r"^[0-9]{6,17}[0-9Xx]$|^[A-Za-z][A-Za-z0-9-]{4,29}$")
_PHONE_LIKE = re.compile(r"^1[3-9]\d{9}$")


class TreeOrder(OrderBy):
    """`ORDER BY region_path, id` in the order of the `varchar_pattern_ops` index that serves the
    subtree filter (`person_path_like`: region_path, id), so a page of any subtree is read off
    that index instead of sorting the subtree: on PostgreSQL `region_path USING ~<~, id` (byte
    order; a plain `ORDER BY region_path` follows the collation, which a pattern-ops index
    cannot give). SQLite compares bytes already. Paths are ASCII digits and slashes, so this is
    the order of `ORDER BY region_path, id` under the C / C.UTF-8 collations as well."""

    def __init__(self, path: Any = None, pk: Any = None, descending: bool = False) -> None:
        super().__init__(path if path is not None else F("region_path"), descending=descending)
        self.pk = pk if pk is not None else F("id")

    def get_source_expressions(self) -> list[Any]:
        return [self.expression, self.pk]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.expression, self.pk = exprs

    def as_sql(self, compiler: Any, connection: Any, template: Any = None, **extra: Any) -> tuple[str, list[Any]]:
        path_sql, path_params = compiler.compile(self.expression)
        pk_sql, pk_params = compiler.compile(self.pk)
        direction = "DESC" if self.descending else "ASC"
        if connection.vendor == "postgresql":
            path_order = "USING ~>~" if self.descending else "USING ~<~"
        else:
            path_order = direction
        return f"{path_sql} {path_order}, {pk_sql} {direction}", [*path_params, *pk_params]


def _people_scope(scope: Scope) -> QuerySet[Person]:
    if not permissions.can_read_people(scope):
        raise PermissionRefused("您的角色不能查看人口信息", rule="registers.read_people")
    return scope.filter(Person.objects.all())


def person_list(
    *,
    scope: Scope,
    q: str = "",
    population_type: str = "",
    status: str = PersonStatus.ACTIVE,
    group: str = "",
    region_code: str = "",
    house_id: int | None = None,
    key_focus: bool = False,
) -> QuerySet[Person]:
    qs = _people_scope(scope).select_related("region", "house", "house__building", "house__unit")
    q = q.strip()
    if q:
        if _PHONE_LIKE.match(q):
            qs = qs.filter(phone_hash__in=crypto.lookup_hashes(q, kind="phone"))
        elif _ID_LIKE.match(q) and len(q) >= 15:
            qs = qs.filter(id_hash__in=crypto.lookup_hashes(normalise_id_number(q), kind="id"))
        else:
            qs = qs.filter(name__contains=q)
    if population_type:
        qs = qs.filter(population_type=population_type)
    if status and status != "all":
        qs = qs.filter(status=status)
    if group:
        if not permissions.can_see_groups(scope):
            raise PermissionRefused("您的角色不能按特殊人群筛选", rule="registers.groups")
        qs = qs.filter(groups__kind=group, groups__ended_on__isnull=True)
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        qs = qs.filter(region_path__startswith=region.path) if region and scope.covers(region.path) else qs.none()
    if house_id:
        qs = qs.filter(house_id=house_id)
    if key_focus:
        qs = qs.filter(is_key_focus=True)
    return qs.order_by(TreeOrder())


def person_get(*, scope: Scope, pk: int) -> Person:
    person = (
        _people_scope(scope)
        .select_related("region", "house", "house__building", "house__unit", "household", "household__head")
        .filter(pk=pk)
        .first()
    )
    if person is None:
        raise NotFound("人员不存在或不在您的辖区内")
    return person


def person_groups(*, scope: Scope, person: Person, include_ended: bool = False) -> list[GroupMembership]:
    if not permissions.can_see_groups(scope) or not scope.covers(person.region_path):
        return []
    qs = GroupMembership.objects.filter(person=person).prefetch_related("helpers")
    if not include_ended:
        qs = qs.filter(ended_on__isnull=True)
    return list(qs.order_by("ended_on", "kind"))


def person_events(*, scope: Scope, person: Person) -> list[PersonEvent]:
    if not scope.covers(person.region_path):
        return []
    events = PersonEvent.objects.filter(person=person).select_related("actor").order_by("-at", "-id")
    if not permissions.can_see_groups(scope):
        events = events.exclude(action__startswith="group_")
    return list(events[:200])


@dataclass
class HistoryRow:
    at: dt.datetime
    user: str
    kind: str
    changes: list[tuple[str, str, str]]
    reason: str


def person_history(*, scope: Scope, person: Person, limit: int = 50) -> list[HistoryRow]:
    """Field-level change history (django-simple-history), newest first; sealed fields show
    through their masked columns."""
    if not scope.covers(person.region_path):
        return []
    labels = {f.name: str(f.verbose_name) for f in Person._meta.fields}
    hidden = {"id_hash", "phone_hash", "updated_at", "region", "region_path", "lat", "lng"}
    records = list(person.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])  # type: ignore[attr-defined]
    rows: list[HistoryRow] = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        if len(rows) >= limit:
            break
        changes: list[tuple[str, str, str]] = []
        if older is not None:
            delta = newer.diff_against(older)
            for change in delta.changes:
                if change.field in hidden:
                    continue
                changes.append((labels.get(change.field, change.field), _shown(change.old), _shown(change.new)))
        rows.append(
            HistoryRow(
                at=newer.history_date,
                user=str(newer.history_user or ""),
                kind={"+": "创建", "~": "修改", "-": "删除"}.get(newer.history_type, newer.history_type),
                changes=changes,
                reason=newer.history_change_reason or "",
            )
        )
    return rows


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return str(value)


def person_visits(*, scope: Scope, person: Person) -> QuerySet[Visit]:
    if not scope.covers(person.region_path):
        return Visit.objects.none()
    qs = Visit.objects.filter(person=person).select_related("visitor").prefetch_related("photos")
    if not permissions.can_see_groups(scope):
        # A visit's findings often tell why the person is visited; only group viewers read them.
        qs = qs.filter(membership__isnull=True)
    return qs.order_by("-visited_at")


def household_get(*, scope: Scope, pk: int) -> Household:
    household = (
        scope.filter(Household.objects.all())
        .select_related("house", "house__building", "head", "region")
        .filter(pk=pk)
        .first()
    )
    if household is None or not permissions.can_read_people(scope):
        raise NotFound("户不存在或不在您的辖区内")
    return household


def household_members(*, scope: Scope, household: Household) -> QuerySet[Person]:
    return _people_scope(scope).filter(household=household).order_by("relation", "id")


def address_list(*, scope: Scope, q: str = "", region_code: str = "") -> QuerySet[Address]:
    qs = scope.filter(Address.objects.all()).select_related("region").annotate(building_count=Count("buildings"))
    if q:
        qs = qs.filter(Q(road__contains=q) | Q(estate__contains=q) | Q(code__startswith=q))
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        qs = qs.filter(region_path__startswith=region.path) if region else qs.none()
    return qs.order_by("code")


def address_get(*, scope: Scope, pk: int) -> Address:
    address = scope.filter(Address.objects.all()).select_related("region").filter(pk=pk).first()
    if address is None:
        raise NotFound("地址不存在或不在您的辖区内")
    return address


def building_get(*, scope: Scope, pk: int) -> Building:
    building = scope.filter(Building.objects.all()).select_related("address", "region").filter(pk=pk).first()
    if building is None:
        raise NotFound("楼栋不存在或不在您的辖区内")
    return building


def building_houses(*, scope: Scope, building: Building) -> list[House]:
    houses = scope.filter(House.objects.filter(building=building)).select_related("unit")
    return list(
        houses.annotate(
            resident_count=Count("residents", filter=Q(residents__status=PersonStatus.ACTIVE)),
        ).order_by("unit__number", "-floor", "number")
    )


def house_get(*, scope: Scope, pk: int) -> House:
    house = (
        scope.filter(House.objects.all())
        .select_related("building", "building__address", "unit", "region")
        .filter(pk=pk)
        .first()
    )
    if house is None:
        raise NotFound("房屋不存在或不在您的辖区内")
    return house


def house_households(*, scope: Scope, house: House) -> list[Household]:
    if not permissions.can_read_people(scope):
        return []
    return list(
        scope.filter(Household.objects.filter(house=house)).select_related("head").order_by("-is_active", "number")
    )


def house_by_code(*, scope: Scope, code: str) -> House | None:
    return scope.filter(House.objects.filter(code=code.strip())).select_related("building", "unit").first()


@dataclass
class DueRow:
    membership: GroupMembership
    days_left: int

    @property
    def overdue_days(self) -> int:
        return max(0, -self.days_left)

    @property
    def state(self) -> str:
        if self.days_left < 0:
            return "overdue"
        return "due" if self.days_left <= DUE_SOON_DAYS else "ok"


def visits_due(
    *,
    scope: Scope,
    status: str = "due",
    kind: str = "",
    attention_level: str = "",
    region_code: str = "",
    as_of: dt.date | None = None,
) -> QuerySet[GroupMembership]:
    """Active memberships whose visit is overdue (`status="overdue"`) or due within
    `DUE_SOON_DAYS` (`"due"`, which includes overdue), ordered most urgent first."""
    if not permissions.can_see_groups(scope):
        raise PermissionRefused("您的角色不能查看特殊人群走访名单", rule="registers.groups")
    today = as_of or clock.today()
    qs = scope.filter(GroupMembership.objects.filter(ended_on__isnull=True, person__status=PersonStatus.ACTIVE))
    if status == "overdue":
        qs = qs.filter(next_visit_due__lt=today)
    elif status == "due":
        qs = qs.filter(next_visit_due__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
    if kind:
        qs = qs.filter(kind=kind)
    if attention_level:
        qs = qs.filter(attention_level=attention_level)
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        qs = qs.filter(region_path__startswith=region.path) if region else qs.none()
    return (
        qs.select_related("person", "person__region", "person__house", "person__house__building")
        .prefetch_related("helpers")
        .order_by("next_visit_due", "attention_level", "id")
    )


def due_rows(memberships: list[GroupMembership], *, as_of: dt.date | None = None) -> list[DueRow]:
    today = as_of or clock.today()
    return [DueRow(m, (m.next_visit_due - today).days if m.next_visit_due else 0) for m in memberships]


def group_members(*, scope: Scope, kind: str = "", attention_level: str = "", q: str = "") -> QuerySet[GroupMembership]:
    if not permissions.can_see_groups(scope):
        raise PermissionRefused("您的角色不能查看特殊人群名单", rule="registers.groups")
    qs = scope.filter(GroupMembership.objects.filter(ended_on__isnull=True)).select_related("person", "person__region")
    if kind:
        qs = qs.filter(kind=kind)
    if attention_level:
        qs = qs.filter(attention_level=attention_level)
    if q:
        qs = qs.filter(person__name__contains=q)
    return qs.order_by("next_visit_due", "id")


@dataclass
class GroupCount:
    kind: str
    label: str
    total: int
    by_level: dict[str, int]
    overdue: int


def group_counts(*, scope: Scope, as_of: dt.date | None = None) -> list[GroupCount]:
    """Aggregate counts per group and attention level: what leaders see instead of names."""
    if not permissions.can_see_group_counts(scope):
        raise PermissionRefused("您的角色不能查看特殊人群统计", rule="registers.group_counts")
    today = as_of or clock.today()
    base = scope.filter(GroupMembership.objects.filter(ended_on__isnull=True, person__status=PersonStatus.ACTIVE))
    cells = {
        (r["kind"], r["attention_level"]): r["n"]
        for r in base.values("kind", "attention_level").annotate(n=Count("id"))
    }
    overdue = dict(
        base.filter(next_visit_due__lt=today).values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    out = []
    for kind in GroupKind:
        by_level = {str(lvl.label): cells.get((kind.value, lvl.value), 0) for lvl in AttentionLevel}
        out.append(
            GroupCount(kind.value, str(kind.label), sum(by_level.values()), by_level, overdue.get(kind.value, 0))
        )
    return out


@dataclass
class Overview:
    people: dict[str, int]
    households: int
    houses: int
    rentals: int
    buildings: int
    addresses: int
    entities: dict[str, int]


def overview(*, scope: Scope) -> Overview:
    people: dict[str, int] = {}
    households = 0
    if permissions.can_read_people(scope):
        rows = (
            scope.filter(Person.objects.filter(status=PersonStatus.ACTIVE))
            .values("population_type")
            .annotate(n=Count("id"))
        )
        people = {r["population_type"]: r["n"] for r in rows}
        households = scope.filter(Household.objects.filter(is_active=True)).count()
    houses = scope.filter(House.objects.all())
    return Overview(
        people=people,
        households=households,
        houses=houses.count(),
        rentals=houses.filter(is_rental=True).count(),
        buildings=scope.filter(Building.objects.all()).count(),
        addresses=scope.filter(Address.objects.all()).count(),
        entities={key: scope.filter(spec.model._default_manager.all()).count() for key, spec in ENTITIES.items()},
    )


def entity_list(
    *,
    scope: Scope,
    entity: str,
    q: str = "",
    kind: str = "",
    risk_level: str = "",
    region_code: str = "",
    overdue: bool = False,
) -> QuerySet[Any]:
    spec = ENTITIES.get(entity)
    if spec is None:
        raise NotFound(f"未知登记类别 {entity}")
    if not permissions.can_read_places(scope):
        raise PermissionRefused("您没有辖区，不能查看登记信息", rule="scope.jurisdiction")
    qs: QuerySet[Any] = scope.filter(spec.model._default_manager.all()).select_related("region")
    names = {f.name for f in spec.model._meta.fields}
    if q:
        qs = qs.filter(name__contains=q)
    if kind:
        kind_field = (
            "kind"
            if "kind" in names
            else "school_type"
            if "school_type" in names
            else "team_type"
            if "team_type" in names
            else "institution_type"
        )
        qs = qs.filter(**{kind_field: kind})
    if risk_level and "risk_level" in names:
        qs = qs.filter(risk_level=risk_level)
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        qs = qs.filter(region_path__startswith=region.path) if region else qs.none()
    if overdue and entity == "places":
        qs = qs.filter(is_active=True, next_inspection_due__lt=clock.today())
    return qs.order_by("region_path", "name", "id")


def entity_get(*, scope: Scope, entity: str, pk: int) -> Any:
    obj = entity_list(scope=scope, entity=entity).filter(pk=pk).first()
    if obj is None:
        raise NotFound("记录不存在或不在您的辖区内")
    return obj


def entity_visits(*, scope: Scope, place: Place) -> QuerySet[Visit]:
    if not scope.covers(place.region_path):
        return Visit.objects.none()
    return (
        Visit.objects.filter(place=place).select_related("visitor").prefetch_related("photos").order_by("-visited_at")
    )


@dataclass
class Nearby:
    obj: Any
    metres: int


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    # Equirectangular approximation: exact enough at a few hundred metres.
    x = math.radians(lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def school_surroundings(*, scope: Scope, school: School, radius_m: int = 300) -> list[Nearby]:
    """校园周边: key places and organisations within `radius_m` of the school (entertainment,
    internet cafés, rentals, hazardous chemicals… are what a 校园周边 check looks for)."""
    if school.lat is None or school.lng is None or not scope.covers(school.region_path):
        return []
    dlat = radius_m / 111_000
    dlng = radius_m / (111_000 * max(math.cos(math.radians(school.lat)), 0.1))
    box = {"lat__range": (school.lat - dlat, school.lat + dlat), "lng__range": (school.lng - dlng, school.lng + dlng)}
    found: list[Nearby] = []
    for model in (Place, Organisation):
        obj: Any
        for obj in scope.filter(model._default_manager.filter(**box)):
            metres = _metres(school.lat, school.lng, float(obj.lat), float(obj.lng))
            if metres <= radius_m and not (
                model is Place and obj.kind == codes.PlaceKind.SCHOOL and obj.name == school.name
            ):
                found.append(Nearby(obj, round(metres)))
    return sorted(found, key=lambda n: n.metres)


def leaf_regions(*, scope: Scope, limit: int = 400) -> list[Region]:
    """Micro-grids (and grids without any) the viewer may register into, for pickers: code and
    name only (the outlines are GeoJSON: loading 800 of them cost a list page ~100 ms)."""
    qs = (
        scope.regions()
        .filter(level__in=[Level.GRID, Level.MICROGRID])
        .only("id", "code", "name", "level", "parent_id", "path")
        .order_by("path")
    )
    regions = list(qs[: limit * 2])
    parents = {r.parent_id for r in regions if r.level == Level.MICROGRID}
    return [r for r in regions if r.level == Level.MICROGRID or r.id not in parents][:limit]


def visit_rules(*, scope: Scope) -> list[tuple[str, str, str, str, int, bool]]:
    """(kind, kind label, level, level label, days, configured?) for every cell of the table."""
    from .groups import DEFAULT_INTERVALS

    rules = {(r.kind, r.attention_level): r.interval_days for r in VisitRule.objects.all()}
    out = []
    for kind in GroupKind:
        for level in AttentionLevel:
            key = (kind.value, level.value)
            out.append(
                (
                    kind.value,
                    str(kind.label),
                    level.value,
                    str(level.label),
                    rules.get(key, DEFAULT_INTERVALS[kind][level]),
                    key in rules,
                )
            )
    return out


def localdate(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value else None


# --- 关联事件 ----------------------------------------------------------------------------------------
def subject_case_links(*, scope: Scope, kind: str, subject: Any) -> list[Any]:
    """The cases linked to a subject the viewer already sees, narrowed to the cases the viewer
    may see, each with its SLA colour."""
    from gridgov.cases import presenters
    from gridgov.cases.selectors import case_queryset

    from .models import CaseLink

    if not scope.covers(subject.region_path):
        return []
    links = list(
        CaseLink.objects.filter(**{kind: subject}, case__in=case_queryset(scope=scope).values("pk"))
        .select_related("case__category__parent", "created_by")
        .order_by("-case__reported_at", "-id")
    )
    now = clock.now()
    for link in links:
        link.colour = presenters.colour_of(link.case, now)  # type: ignore[attr-defined]
    return links


@dataclass(frozen=True)
class LinkedSubject:
    kind: str
    kind_label: str
    label: str
    url: str | None


def case_subject_links(*, scope: Scope, case: Any) -> list[LinkedSubject]:
    """Whom a case concerns, for a viewer who sees the case: names masked, and a link to the
    register page only where the viewer could open it."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from .models import CaseLink
    from .services.links import KIND_LABELS, subject_label

    entity_of = {"place": "places", "organisation": "organisations", "school": "schools"}
    out = []
    links = CaseLink.objects.filter(case=case).select_related(
        "person", "household__head", "place", "organisation", "school"
    )
    for link in links.order_by("id"):
        kind = link.subject_kind
        subject = link.subject
        is_people = kind in ("person", "household")
        allowed = scope.covers(link.region_path) and (
            permissions.can_read_people(scope) if is_people else permissions.can_read_places(scope)
        )
        url = None
        if allowed:
            if kind == "person":
                url = reverse("registers:person", args=[link.person_id])
            elif kind == "household":
                url = reverse("registers:household", args=[link.household_id])
            else:
                url = reverse("registers:entity", args=[entity_of[kind], link.subject_id])
        out.append(LinkedSubject(kind, gettext(KIND_LABELS[kind]), subject_label(kind, subject), url))
    return out
