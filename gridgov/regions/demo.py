"""Demo regions: the real 萧山区 divisions plus generated polygons, grids and micro-grids."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from .divisions import import_district
from .generator import DEFAULT_SEED, Plan, plan_district, walk
from .models import DEPTH_OF, Level, Region
from .services import apply_polygon, bump_region_version


def load(log: Callable[[str], None] = print, *, district_code: str | None = None, seed: int = DEFAULT_SEED) -> None:
    district_code = district_code or str(settings.GRIDGOV["DISTRICT_CODE"])
    district = Region.objects.filter(code=district_code).first()
    if district is not None and Region.objects.filter(path__startswith=district.path, level=Level.MICROGRID).exists():
        log(f"regions: {district.name} already loaded")
        return
    report = import_district(district_code)
    log(f"regions: imported divisions {report.by_level} (town-like {report.town_like})")
    build_generated_tree(district_code, seed=seed, log=log)


def plan_for(district_code: str, *, seed: int = DEFAULT_SEED) -> Plan:
    district = Region.objects.get(code=district_code)
    streets = [(r.code, r.name, r.kind) for r in Region.objects.filter(parent=district).order_by("code")]
    communities = [
        (r.code, r.name, r.parent.code if r.parent else "", r.kind)
        for r in Region.objects.filter(parent__parent=district, level=Level.COMMUNITY)
        .select_related("parent")
        .order_by("code")
    ]
    return plan_district(district.code, district.name, streets, communities, seed=seed)


@transaction.atomic
def build_generated_tree(district_code: str, *, seed: int = DEFAULT_SEED, log: Callable[[str], None] = print) -> None:
    plan = plan_for(district_code, seed=seed)
    plans = walk(plan)
    existing = {r.code: r for r in Region.objects.filter(path__startswith=f"/{district_code}/")}
    updates: list[Region] = []
    for p in plans:
        region = existing.get(p.code)
        if region is None:
            continue
        _fill(region, p)
        updates.append(region)
    Region.objects.bulk_update(
        updates, ["polygon", "centroid_lat", "centroid_lng", "households", "population"], batch_size=500
    )
    for level in (Level.GRID, Level.MICROGRID):
        new: list[Region] = []
        for p in plans:
            if p.level != level or p.code in existing:
                continue
            parent = existing[p.parent_code]  # type: ignore[index]
            region = Region(
                code=p.code,
                name=p.name,
                level=p.level,
                kind=p.kind,
                parent=parent,
                path=f"{parent.path}{p.code}/",
                depth=DEPTH_OF[p.level],
                dedicated_kind=p.dedicated_kind,
            )
            _fill(region, p)
            new.append(region)
        Region.objects.bulk_create(new, batch_size=1000)
        existing.update({r.code: r for r in Region.objects.filter(path__startswith=f"/{district_code}/", level=level)})
        log(f"regions: created {len(new)} {level}s")
    bump_region_version()


def _fill(region: Region, plan: Plan) -> None:
    apply_polygon(region, plan.geometry)
    region.households = plan.households
    region.population = plan.population
