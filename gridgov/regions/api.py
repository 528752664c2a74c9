"""/api/v1/regions — the tree, GeoJSON for maps, point lookup, and admin edits."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from gridgov.accounts.scope import Scope

from . import selectors, services
from .models import Region

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None = Field(None)
    path: str
    is_town_like: bool
    dedicated_kind: str
    centroid_lat: float | None
    centroid_lng: float | None
    households: int
    population: int

    @staticmethod
    def resolve_parent_code(obj: Region) -> str | None:
        return obj.parent.code if obj.parent_id and obj.parent else None


class LevelCountOut(Schema):
    level: str
    label: str
    count: int


class RegionDetailOut(Schema):
    region: RegionOut
    ancestors: list[RegionOut]
    children: list[RegionOut]
    descendants: list[LevelCountOut]


class LocateOut(Schema):
    microgrid: RegionOut
    ancestors: list[RegionOut]


class RegionListFilter(Schema):
    parent: str | None = None
    level: str | None = None
    q: str = ""


class RegionCreateIn(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    polygon: Any = None
    households: int = Field(0, ge=0)
    population: int = Field(0, ge=0)
    dedicated_kind: str = ""


class PolygonIn(Schema):
    polygon: Any


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


@router.get("/locate", response=LocateOut, summary="定位：经纬度 → 微网格及其上级")
def locate(
    request: HttpRequest,
    lat: float = Query(..., ge=-90, le=90),  # type: ignore[type-arg]
    lng: float = Query(..., ge=-180, le=180),  # type: ignore[type-arg]
) -> Any:
    found = selectors.region_locate(lat=lat, lng=lng)
    return {"microgrid": found.microgrid, "ancestors": found.ancestors}


@router.get("", response=list[RegionOut], summary="区域列表（辖区内）")
def list_regions(request: HttpRequest, filters: Query[RegionListFilter]) -> Any:
    qs = selectors.region_list(scope=_scope(request), parent_code=filters.parent, level=filters.level, q=filters.q)
    return list(qs.select_related("parent")[:2000])


@router.post("", response={201: RegionOut}, summary="新建区域或网格（管理员）")
def create_region(request: HttpRequest, payload: RegionCreateIn) -> Any:
    parent = selectors.region_get(scope=_scope(request), code=payload.parent_code) if payload.parent_code else None
    region = services.region_create(
        actor=request.user,  # type: ignore[arg-type]
        code=payload.code,
        name=payload.name,
        level=payload.level,
        parent=parent,
        polygon=payload.polygon,
        households=payload.households,
        population=payload.population,
        dedicated_kind=payload.dedicated_kind,
    )
    return Status(201, region)


@router.get("/{code}", response=RegionDetailOut, summary="区域详情")
def region_detail(request: HttpRequest, code: str) -> Any:
    scope = _scope(request)
    region = selectors.region_get(scope=scope, code=code)
    return {
        "region": region,
        "ancestors": selectors.region_ancestors(scope=scope, region=region),
        "children": list(selectors.region_children(scope=scope, region=region).select_related("parent")),
        "descendants": selectors.region_descendant_counts(scope=scope, region=region),
    }


@router.put("/{code}/polygon", response=RegionOut, summary="修改边界（管理员）")
def set_polygon(request: HttpRequest, code: str, payload: PolygonIn) -> Any:
    region = selectors.region_get(scope=_scope(request), code=code)
    return services.region_set_polygon(actor=request.user, region=region, polygon=payload.polygon)  # type: ignore[arg-type]


@router.get("/{code}/geojson", url_name="region_geojson", summary="区域及下级边界 (GeoJSON FeatureCollection)")
def region_geojson(request: HttpRequest, code: str, children: bool = True) -> dict[str, Any]:
    scope = _scope(request)
    region = selectors.region_get(scope=scope, code=code)
    nodes = list(selectors.region_children(scope=scope, region=region)) if children else []
    if not nodes:
        nodes = [region]
    return {"type": "FeatureCollection", "features": [feature(r) for r in nodes if r.polygon]}


def feature(region: Region) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": region.code,
        "geometry": region.polygon,
        "properties": {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "kind": region.kind,
            "households": region.households,
            "population": region.population,
        },
    }
