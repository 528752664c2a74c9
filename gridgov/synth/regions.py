"""The region trees of a synthetic district or city, planned by `gridgov.regions.generator`.

- district: 萧山区 from its real division tables (the demo map, ~12,400 micro-grids);
- city: 萧山区 plus synthetic districts side by side around it (wobbly outlines of the same
  size, made-up codes 330191… and names, never mistaken for real divisions), ~60,000 micro-grids.

Planning a district takes ~10 s of GEOS work, so the districts of a city are planned in parallel
processes; the plans are deterministic from the seed whatever the process count.
"""

from __future__ import annotations

import csv
import math
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from shapely.geometry import Polygon

from gridgov.regions.divisions import DATA_DIR
from gridgov.regions.generator import Plan, plan_district
from gridgov.regions.models import Kind
from gridgov.regions.services import community_kind, street_kind

REAL_DISTRICT = ("330109", "萧山区")
# (code, name, centre lat, centre lng): made-up codes outside GB/T 2260's use for 杭州 (3301xx
# ends at 330127), placed north and south of 萧山 so no two outlines overlap.
SYNTHETIC_DISTRICTS: list[tuple[str, str, float, float]] = [
    ("330191", "合成甲区", 30.66, 120.02),
    ("330192", "合成乙区", 30.66, 120.62),
    ("330193", "合成丙区", 29.58, 120.02),
    ("330194", "合成丁区", 29.58, 120.62),
]
SYNTHETIC_STREETS = 27
SYNTHETIC_COMMUNITIES_PER_STREET = 21


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    lat: float = 0.0
    lng: float = 0.0

    @property
    def synthetic(self) -> bool:
        return self.code != REAL_DISTRICT[0]


def districts_for(scale: str) -> list[DistrictSpec]:
    real = DistrictSpec(*REAL_DISTRICT)
    if scale == "district":
        return [real]
    return [real, *(DistrictSpec(*d) for d in SYNTHETIC_DISTRICTS)]


def _real_tables(code: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
    d = DATA_DIR / code
    with (d / "streets.csv").open(encoding="utf-8") as fh:
        streets = [(r["code"], r["name"], street_kind(r["code"])) for r in csv.DictReader(fh)]
    with (d / "villages.csv").open(encoding="utf-8") as fh:
        communities = [(r["code"], r["name"], r["streetCode"], community_kind(r["code"])) for r in csv.DictReader(fh)]
    return streets, communities


def _synthetic_tables(spec: DistrictSpec) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
    streets: list[tuple[str, str, str]] = []
    communities: list[tuple[str, str, str, str]] = []
    for s in range(SYNTHETIC_STREETS):
        # 10 街道 (001–010), then 镇 (100–): the same mix as 萧山.
        number = s + 1 if s < 10 else 100 + s - 10
        s_code = f"{spec.code}{number:03d}"
        streets.append((s_code, f"{spec.name}第{s + 1}{'街道' if s < 10 else '镇'}", street_kind(s_code)))
        for c in range(SYNTHETIC_COMMUNITIES_PER_STREET):
            # Streets hold communities (001–), towns mostly villages (200–) with a few communities.
            urban = s < 10 or c < 4
            c_number = c + 1 if urban else 200 + c
            c_code = f"{s_code}{c_number:03d}"
            label = "社区" if urban else "村"
            communities.append((c_code, f"{streets[-1][1]}{c + 1}{label}", s_code, community_kind(c_code)))
    return streets, communities


def _outline(spec: DistrictSpec, seed: int) -> Polygon:
    """A wobbly disc ~1,400 km² around the spec's centre (萧山's size)."""
    rng = random.Random(f"{seed}:outline:{spec.code}")
    pts = []
    for i in range(32):
        a = 2 * math.pi * i / 32
        r = 0.19 * (0.85 + 0.3 * rng.random())
        pts.append((spec.lng + r * math.cos(a) / math.cos(math.radians(spec.lat)), spec.lat + r * math.sin(a)))
    return Polygon(pts)


def plan_one(spec: DistrictSpec, seed: int) -> Plan:
    if not spec.synthetic:
        streets, communities = _real_tables(spec.code)
        return plan_district(spec.code, spec.name, streets, communities, seed=seed)
    streets, communities = _synthetic_tables(spec)
    return plan_district(spec.code, spec.name, streets, communities, seed=seed, outline=_outline(spec, seed))


def plan_all(specs: list[DistrictSpec], seed: int, *, processes: int) -> list[Plan]:
    if processes <= 1 or len(specs) == 1:
        return [plan_one(s, seed) for s in specs]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        return list(pool.map(plan_one, specs, [seed] * len(specs)))


__all__ = ["DistrictSpec", "Kind", "districts_for", "plan_all", "plan_one"]
