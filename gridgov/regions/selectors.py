"""Reads of the region tree, always through the viewer's scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from gridgov.accounts.scope import Scope
from gridgov.common.errors import NotFound, PermissionRefused

from .models import LEVEL_ORDER, Region
from .spatial import get_locator


def region_roots(*, scope: Scope) -> QuerySet[Region]:
    """The top of what the viewer may see: their own jurisdiction node."""
    if scope.region_id is None:
        return Region.objects.none()
    return Region.objects.filter(pk=scope.region_id)


def region_get(*, scope: Scope, code: str) -> Region:
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise NotFound(f"区域 {code} 不存在")
    if not scope.covers(region.path):
        # Same answer shape as an unknown code would leak existence; a 403 is clearer for staff
        # and region codes are public statistical codes anyway.
        raise PermissionRefused("该区域不在您的辖区内", rule="scope.jurisdiction")
    return region


def region_children(*, scope: Scope, region: Region) -> QuerySet[Region]:
    if not scope.covers(region.path):
        return Region.objects.none()
    return region.children.all().annotate(child_count=Count("children")).order_by("code")


def region_list(
    *, scope: Scope, parent_code: str | None = None, level: str | None = None, q: str = ""
) -> QuerySet[Region]:
    qs = scope.regions()
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("path")


def region_ancestors(*, scope: Scope, region: Region) -> list[Region]:
    """Ancestors the viewer may see, top-down (a grid worker sees no parents above the grid)."""
    codes = region.ancestor_codes
    rows = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [rows[c] for c in codes if c in rows and scope.covers(rows[c].path)]


@dataclass
class LevelCount:
    level: str
    label: str
    count: int


def region_descendant_counts(*, scope: Scope, region: Region) -> list[LevelCount]:
    if not scope.covers(region.path):
        return []
    rows = dict(
        Region.objects.filter(path__startswith=region.path)
        .exclude(pk=region.pk)
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    from .models import Level

    return [LevelCount(level, str(Level(level).label), rows.get(level, 0)) for level in LEVEL_ORDER if level in rows]


def region_town_count(*, scope: Scope, region: Region) -> int:
    """Towns/streets proper: 类似乡级单位 are in the tree but not counted as towns."""
    from .models import Level

    return scope.regions().filter(parent=region, level=Level.STREET, is_town_like=False).count()


@dataclass
class Located:
    microgrid: Region
    ancestors: list[Region]


def region_locate(*, lat: float, lng: float) -> Located:
    """Point → the micro-grid (or childless grid) containing it, with its ancestors.

    Not scoped: which micro-grid a coordinate falls in is public map knowledge, and the citizen
    report page and intake adapters need it before anyone is logged in.
    """
    leaf = get_locator().locate(lat, lng)
    if leaf is None:
        raise NotFound("该位置不在本平台辖区的任何网格内", field="location")
    codes = [c for c in leaf.path.strip("/").split("/") if c]
    rows = {r.code: r for r in Region.objects.filter(code__in=codes)}
    if leaf.code not in rows:  # index built before a deletion; next version bump rebuilds it
        raise NotFound("该位置不在本平台辖区的任何网格内", field="location")
    return Located(microgrid=rows[leaf.code], ancestors=[rows[c] for c in codes[:-1] if c in rows])
