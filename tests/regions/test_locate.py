from __future__ import annotations

import numpy as np
import pytest

from gridgov.regions import services, spatial
from gridgov.regions.models import Level

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lat", "lng", "expected"),
    [
        (30.05, 120.10, "330109001001001001"),  # town 1, community 1 (south), grid 1 (west), micro 1 (south)
        (30.15, 120.10, "330109001001001002"),  # … micro 2 (north)
        (30.05, 120.30, "330109001001002001"),  # … grid 2 (east)
        (30.35, 120.70, "330109002002002002"),  # town 2, community 2, grid 2, micro 2
    ],
)
def test_points_inside_land_in_the_right_microgrid(personas, client_for, lat, lng, expected):
    response = client_for(personas.grid_worker).get("/api/v1/regions/locate", {"lat": lat, "lng": lng})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["microgrid"]["code"] == expected
    assert [a["level"] for a in body["ancestors"]] == ["district", "street", "community", "grid"]
    assert body["ancestors"][-1]["code"] == expected[:15]


@pytest.mark.parametrize(("lat", "lng"), [(31.0, 121.0), (30.2, 119.9), (0.0, 0.0)])
def test_points_outside_the_district_are_refused_with_a_message(personas, client_for, lat, lng):
    response = client_for(personas.grid_worker).get("/api/v1/regions/locate", {"lat": lat, "lng": lng})
    assert response.status_code == 404
    assert "不在" in response.json()["detail"]


def test_out_of_range_coordinates_are_a_field_error(personas, client_for):
    response = client_for(personas.grid_worker).get("/api/v1/regions/locate", {"lat": 95, "lng": 120})
    assert response.status_code == 422
    assert "lat" in response.json()["errors"]


def test_index_reloads_when_a_polygon_changes(tree):
    before = spatial.get_locator()
    assert before.locate(30.05, 120.10).code == "330109001001001001"
    micro = tree.microgrids[0]
    # shrink micro-grid 1 to its western half: the eastern half of it is now outside every leaf
    services.region_set_polygon(
        actor=None,
        region=micro,
        polygon={
            "type": "Polygon",
            "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1], [120.0, 30.0]]],
        },
    )
    after = spatial.get_locator()
    assert after is not before
    assert after.locate(30.05, 120.05).code == micro.code
    assert after.locate(30.05, 120.15) is None


def test_point_on_a_shared_edge_gets_a_stable_answer(tree):
    locator = spatial.get_locator()
    first = locator.locate(30.1, 120.1)
    assert first is not None
    assert all(locator.locate(30.1, 120.1) == first for _ in range(5))


def test_vectorised_lookup_agrees_with_single_lookups(tree):
    locator = spatial.get_locator()
    rng = np.random.default_rng(7)
    lats = rng.uniform(29.9, 30.5, 300)
    lngs = rng.uniform(119.9, 120.9, 300)
    many = locator.locate_many(lats, lngs)
    for lat, lng, idx in zip(lats, lngs, many, strict=True):
        single = locator.locate(float(lat), float(lng))
        assert (single is None and idx == -1) or (single is not None and locator.leaves[idx] == single)


def test_grids_without_microgrids_are_leaves(tree):
    from tests.factories import make_region

    comm = tree.communities[0]
    # a dedicated grid carved out of nothing else would overlap; place it in a fresh community
    town = tree.towns[0]
    town.refresh_from_db()
    new_comm = make_region("330109001003", "新社区", Level.COMMUNITY, town, None)
    make_region("330109001003001", "新网格", Level.GRID, new_comm, (120.9, 30.5, 121.0, 30.6))
    services.bump_region_version()
    assert spatial.get_locator().locate(30.55, 120.95).code == "330109001003001"
    assert comm.code  # untouched


def _square(x0: float, y0: float, x1: float, y1: float):
    import shapely

    return shapely.box(x0, y0, x1, y1)


def test_overlapping_leaves_give_the_lowest_leaf_one_at_a_time_and_in_bulk():
    # leaf 1 overlaps leaf 0 on [1, 1.5] x [0, 1]; leaf 2 lies beside them, sharing the edge x = 2
    leaves = [spatial.LeafInfo(i, f"leaf{i}", "") for i in range(3)]
    locator = spatial.Locator(leaves, [_square(0, 0, 1.5, 1), _square(1, 0, 2, 1), _square(2, 0, 3, 1)])
    lngs = np.array([1.25, 0.5, 1.75, 2.0, 2.5, 3.5, np.nan, -1e9])
    lats = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    expected = [0, 0, 1, 1, 2, -1, -1, -1]  # x = 2 is on leaves 1 and 2: the lower wins
    assert locator.locate_many(lats, lngs).tolist() == expected
    singles = [locator.locate(float(la), float(ln)) for la, ln in zip(lats, lngs, strict=True)]
    assert [-1 if s is None else s.id for s in singles] == expected


def test_bulk_lookup_matches_a_naive_scan_over_leaves_of_mixed_sizes():
    import shapely

    rng = np.random.default_rng(11)
    # small leaves and a few ten times larger ones, so leaves span many cells of the grid
    boxes = []
    for _ in range(400):
        x, y = rng.uniform(0, 10, 2)
        w = rng.choice([0.05, 0.5])
        boxes.append(_square(x, y, x + w, y + w * rng.uniform(0.5, 2)))
    leaves = [spatial.LeafInfo(i, f"l{i:04d}", "") for i in range(len(boxes))]
    locator = spatial.Locator(leaves, boxes)
    lngs, lats = rng.uniform(-1, 11, 3000), rng.uniform(-1, 11, 3000)
    got = locator.locate_many(lats, lngs)
    for lat, lng, index in zip(lats, lngs, got, strict=True):
        point = shapely.Point(lng, lat)
        naive = next((i for i, b in enumerate(boxes) if b.intersects(point)), -1)
        assert index == naive
        single = locator.locate(float(lat), float(lng))
        assert (single.id if single else -1) == naive


@pytest.mark.parametrize(("lat", "lng"), [(1e308, 1e308), (-1e308, 120.1), (float("inf"), 120.1), (30.1, float("nan"))])
def test_absurd_coordinates_are_outside_every_leaf(tree, lat, lng):
    locator = spatial.get_locator()
    assert locator.locate(lat, lng) is None
    assert locator.locate_many(np.array([lat]), np.array([lng])).tolist() == [-1]
