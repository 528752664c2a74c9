"""Plausible polygons for a district whose boundaries are not published.

Deterministic from a seed: the district outline is cut into towns around known town seats, each
town into its villages/communities, each village into grids of 300–500 households, each grid into
micro-grids of 30–100 households. Every cut is a Voronoi partition (Lloyd-relaxed for even cells)
clipped to the parent, so children tile their parent exactly and siblings never overlap.
Coordinates are WGS-84 longitude/latitude.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .models import Kind, Level

# A rough outline of 萧山区 (lng, lat): the Qiantang bank and reclaimed land in the north-east,
# the hills towards 诸暨 in the south; ~1,450 km², as the real district (1,420 km²).
XIAOSHAN_OUTLINE: list[tuple[float, float]] = [
    (120.190, 30.180),
    (120.225, 30.215),
    (120.245, 30.262),
    (120.300, 30.270),
    (120.360, 30.283),
    (120.430, 30.318),
    (120.500, 30.352),
    (120.575, 30.385),
    (120.650, 30.398),
    (120.715, 30.360),
    (120.690, 30.300),
    (120.610, 30.250),
    (120.545, 30.210),
    (120.505, 30.160),
    (120.440, 30.120),
    (120.380, 30.050),
    (120.345, 29.960),
    (120.300, 29.885),
    (120.250, 29.852),
    (120.190, 29.865),
    (120.140, 29.905),
    (120.105, 29.960),
    (120.075, 30.020),
    (120.110, 30.080),
    (120.150, 30.125),
]

# Approximate seats of the towns/streets (lat, lng), so the generated map reads like the real one:
# 城厢 at the centre (30.16 N, 120.27 E), the new city to the north, farms and reclaimed land east.
TOWN_SEATS: dict[str, tuple[float, float]] = {
    "330109001": (30.160, 120.268),  # 城厢街道
    "330109002": (30.190, 120.282),  # 北干街道
    "330109003": (30.128, 120.246),  # 蜀山街道
    "330109004": (30.175, 120.318),  # 新塘街道
    "330109005": (30.222, 120.432),  # 靖江街道
    "330109006": (30.290, 120.470),  # 南阳街道
    "330109012": (30.118, 120.190),  # 闻堰街道
    "330109013": (30.222, 120.292),  # 宁围街道
    "330109014": (30.198, 120.348),  # 新街街道
    "330109015": (30.222, 120.250),  # 盈丰街道
    "330109100": (29.905, 120.190),  # 楼塔镇
    "330109101": (29.955, 120.235),  # 河上镇
    "330109102": (30.010, 120.170),  # 戴村镇
    "330109103": (29.930, 120.290),  # 浦阳镇
    "330109104": (29.985, 120.320),  # 进化镇
    "330109105": (30.050, 120.270),  # 临浦镇
    "330109106": (30.075, 120.215),  # 义桥镇
    "330109107": (30.085, 120.305),  # 所前镇
    "330109108": (30.155, 120.370),  # 衙前镇
    "330109113": (30.180, 120.460),  # 瓜沥镇
    "330109115": (30.235, 120.560),  # 益农镇
    "330109120": (30.262, 120.505),  # 党湾镇
    "330109401": (30.205, 120.318),  # 萧山经济技术开发区
    "330109403": (30.168, 120.292),  # 萧山商业城
    "330109501": (30.345, 120.610),  # 围垦区
    "330109503": (30.135, 120.410),  # 红山农场
    "330109505": (30.238, 120.270),  # 萧山钱江世纪城
}

DEDICATED_KINDS = ["学校", "农贸市场", "医院", "工业园区", "公园"]
DEFAULT_SEED = 20261122


@dataclass
class Plan:
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None
    geometry: BaseGeometry
    households: int = 0
    population: int = 0
    dedicated_kind: str = ""
    children: list[Plan] = field(default_factory=list)


def outline_for(district_code: str, rng: random.Random) -> Polygon:
    if district_code == "330109":
        return Polygon(XIAOSHAN_OUTLINE)
    # Any other district: a wobbly disc ~40 km across around a seed-chosen point in eastern China.
    lat0, lng0 = 28 + rng.random() * 6, 113 + rng.random() * 7
    pts = []
    for i in range(24):
        a = 2 * math.pi * i / 24
        r = 0.18 * (0.8 + 0.4 * rng.random())
        pts.append((lng0 + r * math.cos(a) / math.cos(math.radians(lat0)), lat0 + r * math.sin(a)))
    return Polygon(pts)


def _sample(poly: BaseGeometry, n: int, rng: random.Random) -> list[Point]:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out: list[Point] = []
    while len(out) < n:
        xs = np.array([minx + rng.random() * (maxx - minx) for _ in range(4 * n)])
        ys = np.array([miny + rng.random() * (maxy - miny) for _ in range(4 * n)])
        inside = shapely.contains_xy(poly, xs, ys)
        out.extend(Point(x, y) for x, y in zip(xs[inside], ys[inside], strict=True))
    return out[:n]


def _voronoi(points: list[Point], poly: BaseGeometry) -> list[BaseGeometry]:
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=poly.envelope.buffer(0.05), ordered=True)
    return [cell.intersection(poly) for cell in cells.geoms]


def partition(
    poly: BaseGeometry, n: int, rng: random.Random, *, seeds: list[Point] | None = None, relax: int = 2
) -> list[BaseGeometry]:
    """Cut `poly` into `n` non-overlapping pieces that tile it exactly."""
    if n <= 1:
        return [poly]
    points = seeds or _sample(poly, n, rng)
    if seeds is None:
        for _ in range(relax):
            cells = _voronoi(points, poly)
            points = [
                c.representative_point() if c.is_empty is False and not c.centroid.within(poly) else c.centroid
                for c in cells
            ]
    cells = _voronoi(points, poly)
    return [_clean(c) for c in cells]


def _clean(geom: BaseGeometry) -> BaseGeometry:
    geom = shapely.set_precision(geom, 1e-6)
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and g.area > 0]
    return MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _reading_order(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """West→east within north→south bands, the numbering rule of DB11 and DB6101/T 3185."""
    return sorted(cells, key=lambda c: (-round(c.centroid.y, 2), c.centroid.x))


def plan_district(
    district_code: str,
    district_name: str,
    streets: list[tuple[str, str, str]],
    communities: list[tuple[str, str, str, str]],
    *,
    seed: int = DEFAULT_SEED,
    outline: Polygon | None = None,
) -> Plan:
    """`streets`: (code, name, kind); `communities`: (code, name, street_code, kind).
    Returns the district plan with every level below filled in. `outline` places a synthetic
    district (`gridgov synth --scale city` lays several side by side); by default it comes from
    `outline_for`."""
    rng = random.Random(f"{seed}:{district_code}")
    default_outline = outline_for(district_code, rng)
    outline = outline or default_outline
    district = Plan(district_code, district_name, Level.DISTRICT, Kind.DISTRICT, None, _clean(outline))

    seats = [TOWN_SEATS.get(code) for code, _, _ in streets]
    if all(s is not None and outline.contains(Point(s[1], s[0])) for s in seats):
        town_cells = partition(outline, len(streets), rng, seeds=[Point(s[1], s[0]) for s in seats if s])
    else:
        town_cells = _reading_order(partition(outline, len(streets), rng))
    by_street: dict[str, list[tuple[str, str, str, str]]] = {}
    for row in communities:
        by_street.setdefault(row[2], []).append(row)

    for (s_code, s_name, s_kind), s_cell in zip(streets, town_cells, strict=True):
        town = Plan(s_code, s_name, Level.STREET, s_kind, district_code, s_cell)
        district.children.append(town)
        members = sorted(by_street.get(s_code, []))
        if not members:
            continue
        cells = _reading_order(partition(s_cell, len(members), rng))
        for index, ((c_code, c_name, _, c_kind), c_cell) in enumerate(zip(members, cells, strict=True)):
            village = Plan(c_code, c_name, Level.COMMUNITY, c_kind, s_code, c_cell)
            town.children.append(village)
            _plan_grids(village, rng, with_dedicated=index % 7 == 3)
    _roll_up(district)
    return district


def _plan_grids(village: Plan, rng: random.Random, *, with_dedicated: bool) -> None:
    urban = village.kind == Kind.RESIDENTS_COMMITTEE
    # Grid count first, then 320–480 households each: every grid stays inside the 300–500 rule.
    n_grids = rng.randint(3, 8) if urban else rng.randint(1, 4)
    sizes = [rng.randint(320, 480) for _ in range(n_grids)]
    n_cells = n_grids + (1 if with_dedicated else 0)
    cells = _reading_order(partition(village.geometry, n_cells, rng))
    dedicated_cell = cells.pop(rng.randrange(len(cells))) if with_dedicated else None
    for number, (cell, hh) in enumerate(zip(cells, sizes, strict=True), start=1):
        grid = Plan(
            f"{village.code}{number:03d}",
            f"{village.name}第{number}网格",
            Level.GRID,
            Kind.GRID,
            village.code,
            cell,
            hh,
        )
        village.children.append(grid)
        _plan_microgrids(grid, rng)
    if dedicated_cell is not None:
        kind = DEDICATED_KINDS[rng.randrange(len(DEDICATED_KINDS))]
        grid = Plan(
            f"{village.code}901",
            f"{village.name}{kind}专属网格",
            Level.GRID,
            Kind.DEDICATED_GRID,
            village.code,
            dedicated_cell,
            rng.randint(40, 120),
            dedicated_kind=kind,
        )
        village.children.append(grid)
        _plan_microgrids(grid, rng)


def _plan_microgrids(grid: Plan, rng: random.Random) -> None:
    n = max(1, math.ceil(grid.households / 80))
    sizes = _split(grid.households, n, rng)
    cells = _reading_order(partition(grid.geometry, n, rng, relax=1))
    for number, (cell, hh) in enumerate(zip(cells, sizes, strict=True), start=1):
        grid.children.append(
            Plan(
                f"{grid.code}{number:03d}",
                f"{grid.name}{number}号微网格",
                Level.MICROGRID,
                Kind.MICROGRID,
                grid.code,
                cell,
                hh,
                round(hh * (2.4 + rng.random() * 0.6)),
            )
        )


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split `total` into `parts` near-equal integers (±10%) that add up exactly."""
    if parts == 1:
        return [total]
    weights = [0.9 + 0.2 * rng.random() for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for i in range(total - sum(sizes)):
        sizes[i % parts] += 1
    return sizes


def _roll_up(plan: Plan) -> None:
    for child in plan.children:
        _roll_up(child)
    if plan.children:
        plan.households = sum(c.households for c in plan.children)
        plan.population = sum(c.population for c in plan.children)


def walk(plan: Plan) -> list[Plan]:
    out = [plan]
    for child in plan.children:
        out.extend(walk(child))
    return out
