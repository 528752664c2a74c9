from __future__ import annotations

import random

import pytest
from shapely.ops import unary_union

from gridgov.regions.generator import DEFAULT_SEED, partition, plan_district, walk
from gridgov.regions.models import Kind, Level

STREETS = [("330109001", "城厢街道", Kind.SUBDISTRICT), ("330109002", "北干街道", Kind.SUBDISTRICT)]
COMMUNITIES = [
    ("330109001001", "陈公桥社区", "330109001", Kind.RESIDENTS_COMMITTEE),
    ("330109001201", "某村", "330109001", Kind.VILLAGE),
    ("330109002001", "北干社区", "330109002", Kind.RESIDENTS_COMMITTEE),
]


@pytest.fixture(scope="module")
def plan():
    return plan_district("330109", "萧山区", STREETS, COMMUNITIES, seed=DEFAULT_SEED)


def test_children_tile_their_parent_without_overlap(plan):
    for node in walk(plan):
        if not node.children:
            continue
        union = unary_union([c.geometry for c in node.children])
        assert union.symmetric_difference(node.geometry).area < 1e-9 * max(node.geometry.area, 1)
        total = sum(c.geometry.area for c in node.children)
        assert total == pytest.approx(node.geometry.area, rel=1e-4)  # coordinates are rounded to 1e-6


def test_grids_hold_300_to_500_households_and_microgrids_30_to_100(plan):
    nodes = walk(plan)
    grids = [n for n in nodes if n.level == Level.GRID and n.kind == Kind.GRID]
    micro = [n for n in nodes if n.level == Level.MICROGRID]
    assert grids and micro
    assert all(300 <= g.households <= 500 for g in grids)
    assert all(30 <= m.households <= 100 for m in micro)
    assert all(sum(c.households for c in g.children) == g.households for g in grids)


def test_same_seed_gives_the_same_map_and_another_seed_does_not(plan):
    again = plan_district("330109", "萧山区", STREETS, COMMUNITIES, seed=DEFAULT_SEED)
    other = plan_district("330109", "萧山区", STREETS, COMMUNITIES, seed=DEFAULT_SEED + 1)
    codes = [(n.code, n.geometry.wkt) for n in walk(plan)]
    assert codes == [(n.code, n.geometry.wkt) for n in walk(again)]
    assert codes != [(n.code, n.geometry.wkt) for n in walk(other)]


def test_the_centre_of_xiaoshan_lies_in_chengxiang(plan):
    from shapely.geometry import Point

    chengxiang = next(n for n in plan.children if n.code == "330109001")
    assert chengxiang.geometry.contains(Point(120.27, 30.16))


def test_grid_codes_extend_the_community_code(plan):
    for node in walk(plan):
        for child in node.children:
            assert child.code.startswith(node.code)
            if child.level in (Level.GRID, Level.MICROGRID):
                assert len(child.code) == len(node.code) + 3


def test_partition_makes_exactly_n_pieces():
    from shapely.geometry import box

    cells = partition(box(0, 0, 1, 1), 7, random.Random(1))
    assert len(cells) == 7
    assert sum(c.area for c in cells) == pytest.approx(1.0)
