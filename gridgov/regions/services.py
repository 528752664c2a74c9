"""Writes to the region tree. Each is one transaction: check first, then change, then bump the
spatial-index token so every process reloads its STRtree."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from gridgov.common.errors import PermissionRefused, ValidationFailed

from .geometry import approx_area_m2, parse_polygon, to_geojson
from .models import CODE_LENGTH, DEPTH_OF, LEVEL_ORDER, Kind, Level, Region, RegionVersion

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from gridgov.accounts.models import User


def bump_region_version() -> None:
    RegionVersion.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


def _require_admin(actor: User | None, parent: Region | None) -> None:
    if actor is None:  # importers and the demo loader run as the system
        return
    from gridgov.accounts.scope import Scope

    if not actor.is_admin_role:
        raise PermissionRefused("只有系统管理员可以维护区域与网格", rule="regions.admin_only")
    scope = Scope.for_user(actor)
    if parent is not None and not scope.covers(parent.path):
        raise PermissionRefused("上级区域不在您的辖区内", rule="scope.jurisdiction")


def check_polygon_fits(
    geom: BaseGeometry,
    *,
    parent: Region | None,
    siblings: list[Region],
    children: list[Region] = (),  # type: ignore[assignment]
) -> None:
    """A child polygon lies within its parent (with a small tolerance) and overlaps no sibling
    beyond the configured ratio; when a parent is reshaped, its children must still fit."""
    tol = settings.GRIDGOV["POLYGON_CONTAINMENT_TOLERANCE"]
    ratio = settings.GRIDGOV["SIBLING_OVERLAP_RATIO"]
    if parent is not None and parent.polygon:
        outer = parse_polygon(parent.polygon).buffer(tol)
        outside = geom.difference(outer)
        if not outside.is_empty and outside.area > 0:
            raise ValidationFailed(
                f"边界超出上级区域「{parent.name}」约 {approx_area_m2(outside):,.0f} 平方米",
                field="polygon",
                rule="regions.child_within_parent",
            )
    for sibling in siblings:
        if not sibling.polygon:
            continue
        other = parse_polygon(sibling.polygon)
        overlap = geom.intersection(other).area
        if overlap > ratio * min(geom.area, other.area):
            raise ValidationFailed(
                f"边界与同级区域「{sibling.name}」({sibling.code}) 重叠约 {approx_area_m2(geom.intersection(other)):,.0f} 平方米",
                field="polygon",
                rule="regions.siblings_disjoint",
            )
    grown = geom.buffer(tol)
    for child in children:
        if child.polygon and not parse_polygon(child.polygon).difference(grown).is_empty:
            raise ValidationFailed(
                f"下级区域「{child.name}」({child.code}) 将超出新边界",
                field="polygon",
                rule="regions.child_within_parent",
            )


def _derived_kind(level: str, code: str, dedicated: bool) -> str:
    if level == Level.DISTRICT:
        return Kind.DISTRICT
    if level == Level.STREET:
        return street_kind(code)
    if level == Level.COMMUNITY:
        return community_kind(code)
    if level == Level.GRID:
        return Kind.DEDICATED_GRID if dedicated else Kind.GRID
    return Kind.MICROGRID


def street_kind(code: str) -> str:
    """统计用区划代码 rule for the 3 street digits: 001–099 街道, 100–199 镇, 200–399 乡,
    400 and up 类似乡级单位 (development zones, farms…)."""
    n = int(code[6:9])
    if n < 100:
        return Kind.SUBDISTRICT
    if n < 200:
        return Kind.TOWN
    if n < 400:
        return Kind.TOWNSHIP
    return Kind.TOWN_LIKE


def community_kind(code: str) -> str:
    """The last 3 digits: 001–199 居民委员会 (community), 200–399 村民委员会 (village)."""
    return Kind.VILLAGE if 200 <= int(code[9:12]) < 400 else Kind.RESIDENTS_COMMITTEE


@transaction.atomic
def region_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    level: str,
    parent: Region | None,
    polygon: Any = None,
    households: int = 0,
    population: int = 0,
    dedicated_kind: str = "",
) -> Region:
    _require_admin(actor, parent)
    errors: dict[str, list[str]] = {}
    if level not in LEVEL_ORDER:
        errors.setdefault("level", []).append(f"未知层级 {level!r}")
    else:
        expected_parent = LEVEL_ORDER[DEPTH_OF[level] - 1] if DEPTH_OF[level] > 0 else None
        if (parent.level if parent else None) != expected_parent:
            errors.setdefault("parent", []).append(
                f"{Level(level).label}的上级必须是{Level(expected_parent).label if expected_parent else '空'}"
            )
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            errors.setdefault("code", []).append(f"{Level(level).label}代码应为 {CODE_LENGTH[level]} 位数字")
        elif parent is not None and not code.startswith(parent.code):
            errors.setdefault("code", []).append(f"代码应以上级代码 {parent.code} 开头")
    if not name.strip():
        errors.setdefault("name", []).append("名称不能为空")
    if Region.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(f"代码 {code} 已存在")
    if errors:
        raise ValidationFailed("区域信息有误", errors=errors)
    if dedicated_kind and level != Level.GRID:
        raise ValidationFailed("只有网格可以设为专属网格", field="dedicated_kind")

    region = Region(
        code=code,
        name=name.strip(),
        level=level,
        kind=_derived_kind(level, code, bool(dedicated_kind)),
        parent=parent,
        path=f"{parent.path if parent else '/'}{code}/",
        depth=DEPTH_OF[level],
        is_town_like=level == Level.STREET and street_kind(code) == Kind.TOWN_LIKE,
        dedicated_kind=dedicated_kind,
        households=households,
        population=population,
    )
    if polygon is not None:
        geom = parse_polygon(polygon)
        siblings = list(Region.objects.filter(parent=parent)) if parent else []
        check_polygon_fits(geom, parent=parent, siblings=siblings)
        apply_polygon(region, geom)
        bump_region_version()
    region.save()
    return region


def apply_polygon(region: Region, geom: BaseGeometry) -> None:
    region.polygon = to_geojson(geom)
    point = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
    region.centroid_lat = round(point.y, 6)
    region.centroid_lng = round(point.x, 6)


@transaction.atomic
def region_set_polygon(*, actor: User | None, region: Region, polygon: Any) -> Region:
    _require_admin(actor, region.parent)
    geom = parse_polygon(polygon)
    locked = Region.objects.select_for_update().get(pk=region.pk)
    siblings = list(Region.objects.filter(parent_id=locked.parent_id).exclude(pk=locked.pk))
    check_polygon_fits(geom, parent=locked.parent, siblings=siblings, children=list(locked.children.all()))
    apply_polygon(locked, geom)
    locked.save(update_fields=["polygon", "centroid_lat", "centroid_lng", "updated_at"])
    bump_region_version()
    return locked


@transaction.atomic
def region_rename(*, actor: User | None, region: Region, name: str) -> Region:
    _require_admin(actor, region.parent)
    if not name.strip():
        raise ValidationFailed("名称不能为空", field="name")
    Region.objects.filter(pk=region.pk).update(name=name.strip())
    region.refresh_from_db()
    return region


@transaction.atomic
def region_rollup_counts(*, root: Region) -> int:
    """Recompute households/population of every non-leaf node under `root` from its leaves,
    bottom-up in memory (micro-grid figures are the ones workers maintain). Returns the number
    of nodes changed."""
    rows = list(
        Region.objects.filter(path__startswith=root.path).values_list(
            "id", "parent_id", "depth", "households", "population"
        )
    )
    has_children = {parent_id for _, parent_id, _, _, _ in rows}
    totals: dict[int, list[int]] = {}
    for region_id, parent_id, _depth, households, population in sorted(rows, key=lambda r: -r[2]):
        own = totals.get(region_id) if region_id in has_children else [households, population]
        own = own or [0, 0]
        totals[region_id] = own
        if parent_id is not None:
            acc = totals.setdefault(parent_id, [0, 0])
            acc[0] += own[0]
            acc[1] += own[1]
    changed = [
        Region(id=region_id, households=totals[region_id][0], population=totals[region_id][1])
        for region_id, _p, _d, households, population in rows
        if region_id in has_children and [households, population] != totals[region_id]
    ]
    Region.objects.bulk_update(changed, ["households", "population"], batch_size=500)
    return len(changed)
