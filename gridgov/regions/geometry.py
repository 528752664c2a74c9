"""GeoJSON in and out, and the checks a region polygon must pass.

Polygons are stored as GeoJSON geometry objects in WGS-84 longitude/latitude; shapely does the
geometry (its wheels bundle GEOS, so there is no GDAL/PostGIS install step).
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gridgov.common.errors import ValidationFailed

# Degrees → metres near 30°N, good enough for messages about slivers.
M_PER_DEG_LAT = 111_320.0


def parse_polygon(data: Any, *, field: str = "polygon") -> Polygon | MultiPolygon:
    """Parse a GeoJSON Polygon/MultiPolygon (or a Feature holding one) and refuse anything else.

    Errors name the field and say what is wrong, e.g. "坐标超出经纬度范围" or the GEOS reason
    for an invalid ring ("Self-intersection[120.1 30.2]").
    """
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict):
        raise ValidationFailed("边界必须是 GeoJSON 几何对象", field=field)
    gtype = data.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed(f"边界必须是 Polygon 或 MultiPolygon，收到 {gtype!r}", field=field)
    coords = data.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise ValidationFailed("边界缺少坐标 (coordinates)", field=field)
    _check_positions(coords, field=field)
    try:
        geom = shape({"type": gtype, "coordinates": coords})
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise ValidationFailed(f"边界坐标结构不正确：{exc}", field=field) from exc
    if not geom.is_empty and not geom.is_valid:
        raise ValidationFailed(f"边界几何无效：{explain_validity(geom)}", field=field)
    if geom.is_empty or geom.area <= 0:
        raise ValidationFailed("边界面积为零", field=field)
    assert isinstance(geom, Polygon | MultiPolygon)
    return geom


def _check_positions(node: Any, *, field: str) -> None:
    if isinstance(node, list) and node and all(isinstance(v, int | float) for v in node):
        if len(node) < 2:
            raise ValidationFailed("坐标点至少需要经度和纬度", field=field)
        lng, lat = float(node[0]), float(node[1])
        if not (math.isfinite(lng) and math.isfinite(lat)):
            raise ValidationFailed("坐标不是有限数值", field=field)
        if not (-180.0 <= lng <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValidationFailed(f"坐标超出经纬度范围：[{lng}, {lat}]（应为 [经度, 纬度]）", field=field)
        return
    if not isinstance(node, list) or not node:
        raise ValidationFailed("坐标必须是数字数组", field=field)
    for child in node:
        _check_positions(child, field=field)


def to_geojson(geom: BaseGeometry, *, precision: int = 6) -> dict[str, Any]:
    rounded = shapely.set_precision(geom, 10.0**-precision)
    return dict(mapping(rounded))


def approx_area_m2(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    return geom.area * M_PER_DEG_LAT * M_PER_DEG_LAT * math.cos(math.radians(lat))
