from __future__ import annotations

import pytest

from gridgov.common.errors import PermissionRefused, ValidationFailed
from gridgov.regions import services
from gridgov.regions.models import Level, Region
from tests.factories import square

pytestmark = pytest.mark.django_db


def test_it_refuses_a_child_outside_its_parent(tree):
    grid = tree.grids[0]  # lng 120.0–120.2, lat 30.0–30.2
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(
            actor=None,
            code=grid.code + "009",
            name="越界微网格",
            level=Level.MICROGRID,
            parent=grid,
            polygon=square(120.15, 30.15, 120.30, 30.25),
        )
    assert exc.value.rule == "regions.child_within_parent"
    assert "polygon" in exc.value.errors
    assert not Region.objects.filter(code=grid.code + "009").exists()


def test_it_accepts_a_child_within_the_tolerance(tree):
    other = tree.other_district  # lng 121.0–121.4, lat 30.0–30.4, no children yet
    # pokes out of the district by 1e-5 degrees (about a metre) on the west side
    created = services.region_create(
        actor=None,
        code="330110001",
        name="边缘街道",
        level=Level.STREET,
        parent=other,
        polygon=square(121.0 - 1e-5, 30.0, 121.2, 30.4),
    )
    assert created.path == "/330110/330110001/"
    assert created.kind == "subdistrict"


def test_it_refuses_overlapping_siblings(tree):
    grid = tree.grids[0]
    # micro-grid 1 covers lat 30.0–30.1 of this grid; a new one over the same ground overlaps it
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(
            actor=None,
            code=grid.code + "003",
            name="重叠微网格",
            level=Level.MICROGRID,
            parent=grid,
            polygon=square(120.0, 30.0, 120.2, 30.05),
        )
    assert exc.value.rule == "regions.siblings_disjoint"
    assert tree.microgrids[0].name in exc.value.message


def test_reshaping_a_parent_may_not_orphan_its_children(tree):
    grid = tree.grids[0]
    with pytest.raises(ValidationFailed) as exc:
        services.region_set_polygon(actor=None, region=grid, polygon=square(120.0, 30.0, 120.2, 30.15))
    assert "下级区域" in exc.value.message
    grid.refresh_from_db()
    assert grid.polygon == square(120.0, 30.0, 120.2, 30.2)


@pytest.mark.parametrize(
    ("polygon", "fragment"),
    [
        ({"type": "Point", "coordinates": [120.1, 30.1]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[120.1, 30.1], [200, 30.1], [120.1, 30.2], [120.1, 30.1]]]}, "范围"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], [[2, 2], [3, 2], [3, 3], [2, 3], [2, 2]]],
            },
            "无效",
        ),
        ({"type": "Polygon", "coordinates": "abc"}, "坐标"),
        ({"type": "Polygon"}, "坐标"),
        ("not geojson", "GeoJSON"),
    ],
)
def test_bad_geojson_is_refused_with_a_field_message(personas, client_for, polygon, fragment):
    response = client_for(personas.admin).post(
        "/api/v1/regions",
        {
            "code": "330109001001003",
            "name": "新网格",
            "level": "grid",
            "parent_code": "330109001001",
            "polygon": polygon,
        },
        content_type="application/json",
    )
    assert response.status_code in (400, 422), response.content
    body = response.json()
    assert "polygon" in body["errors"]
    assert fragment in " ".join(body["errors"]["polygon"]) or fragment in body["detail"]
    assert not Region.objects.filter(code="330109001001003").exists()


def test_admin_creates_a_grid_through_the_api(personas, client_for):
    response = client_for(personas.admin).post(
        "/api/v1/regions",
        {"code": "330109002001003", "name": "新网格", "level": "grid", "parent_code": "330109002001"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["path"] == "/330109/330109002/330109002001/330109002001003/"


def test_it_refuses_region_edits_by_non_admins(personas):
    with pytest.raises(PermissionRefused):
        services.region_create(
            actor=personas.town_operator,
            code="330109001001003",
            name="x",
            level=Level.GRID,
            parent=personas.tree.communities[0],
        )


def test_code_must_match_level_and_parent(tree):
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(
            actor=None, code="330199001001009", name="x", level=Level.GRID, parent=tree.communities[0]
        )
    assert "code" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(actor=None, code="330109001009", name="x", level=Level.GRID, parent=tree.towns[0])
    assert "parent" in exc.value.errors


def test_rollup_recomputes_parent_counts_from_microgrids(tree):
    Region.objects.filter(pk=tree.microgrids[0].pk).update(households=80, population=200)
    services.region_rollup_counts(root=tree.district)
    tree.district.refresh_from_db()
    tree.grids[0].refresh_from_db()
    assert tree.grids[0].households == 130
    assert tree.district.households == 50 * 15 + 80
    assert tree.district.population == 125 * 15 + 200
