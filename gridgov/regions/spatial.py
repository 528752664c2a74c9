"""Point → micro-grid lookup over an in-process index.

The index holds every leaf of the tree (micro-grids, and grids that have none). It is built once
per process and rebuilt when `RegionVersion` moves, which every polygon change bumps in its own
transaction. A lookup finds candidate leaves by bounding box in a uniform grid (`boxgrid`) and
makes the exact point-in-polygon test inside GEOS.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely

from .boxgrid import BoxGrid
from .geometry import parse_polygon
from .models import Level, Region, RegionVersion


@dataclass(frozen=True)
class LeafInfo:
    id: int
    code: str
    path: str


class Locator:
    """Spatial index over leaf polygons; thread-safe for reads once built.

    Lookups go through a `BoxGrid`: cells about one leaf wide, candidates by bounding box in numpy,
    the exact test with `shapely.intersects_xy` on the prepared polygon. It answers as an STRtree
    `intersects` query would (bench/locate.py checks both against a naive scan) at several times
    the speed, because no point geometry is built."""

    def __init__(self, leaves: list[LeafInfo], geometries: list[shapely.Geometry]) -> None:
        self.leaves = leaves
        self.geometries = np.asarray(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.grid = BoxGrid(self.geometries)

    def __len__(self) -> int:
        return len(self.leaves)

    def locate(self, lat: float, lng: float) -> LeafInfo | None:
        # A point on a shared edge touches two leaves; the lowest index (smallest code) wins so
        # the answer is stable.
        index = self.grid.locate(lng, lat)
        return None if index < 0 else self.leaves[index]

    def locate_many(self, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
        """Vectorised lookup: index into `leaves` per point, -1 where outside every leaf."""
        return self.grid.locate_many(np.asarray(lngs, dtype=np.float64), np.asarray(lats, dtype=np.float64))


def build_locator(regions: list[Region] | None = None) -> Locator:
    if regions is None:
        has_children = set(Region.objects.filter(level=Level.MICROGRID).values_list("parent_id", flat=True).distinct())
        qs = Region.objects.filter(level__in=[Level.GRID, Level.MICROGRID], polygon__isnull=False).only(
            "id", "code", "path", "level", "polygon"
        )
        regions = [r for r in qs.order_by("code") if r.level == Level.MICROGRID or r.id not in has_children]
    leaves: list[LeafInfo] = []
    geoms: list[shapely.Geometry] = []
    for region in regions:
        leaves.append(LeafInfo(region.id, region.code, region.path))
        geoms.append(parse_polygon(region.polygon))
    return Locator(leaves, geoms)


_lock = threading.Lock()
_cached: tuple[str, Locator] | None = None


def current_version() -> str:
    return RegionVersion.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def get_locator(version: str | None = None) -> Locator:
    """The process-wide index, rebuilt if any region polygon changed since it was built. A caller
    that has just read the `RegionVersion` token (cases.config reads every token in one query)
    passes it instead of reading it again."""
    global _cached
    version = current_version() if version is None else version
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == version:
            return _cached[1]
        locator = build_locator()
        _cached = (version, locator)
        return locator


def reset_cache() -> None:
    global _cached
    with _lock:
        _cached = None
