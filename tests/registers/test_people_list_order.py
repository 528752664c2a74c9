"""The people list: ordered by grid path then id (read off the subtree index on PostgreSQL), the
same order as before on both databases, and a count that stops at the list limit."""

from __future__ import annotations

import pytest

from gridgov.accounts.scope import Scope
from gridgov.registers import selectors
from gridgov.registers.models import Person
from tests.registers.factories import make_house, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def residents(personas):
    """People registered out of path order: micro-grids visited backwards and forwards."""
    p = personas
    worker = p.village_operator
    grids = p.tree.microgrids[:4]
    for i, region in enumerate([*reversed(grids), *grids, grids[1]]):
        house = make_house(worker, region, road=f"文化路{i}")
        for j in range(2):
            make_person(worker, house, name=f"居民{i}{j}")
    return p


def test_people_are_listed_by_grid_path_then_id(residents):
    for user in (residents.village_operator, residents.town_operator, residents.leader):
        listed = list(selectors.person_list(scope=Scope.for_user(user)).values_list("region_path", "id"))
        assert len(listed) == 18
        assert listed == sorted(listed)  # paths are ASCII: byte order is the collation's order here
        reference = Person.objects.filter(region_path__startswith=Scope.for_user(user).path, status="active")
        assert listed == list(reference.order_by("region_path", "id").values_list("region_path", "id"))


def test_pages_follow_the_same_order_and_the_count_stops_at_the_limit(residents, client_for, monkeypatch):
    c = client_for(residents.village_operator)
    first, second = (c.get(f"/api/v1/registers/people?page_size=10&page={n}").json() for n in (1, 2))
    ids = [p["id"] for p in first["items"] + second["items"]]
    expected = selectors.person_list(scope=Scope.for_user(residents.village_operator)).values_list("id", flat=True)
    assert ids == list(expected)
    assert (first["total"], first["total_capped"]) == (18, False)

    from gridgov.registers import api, views

    monkeypatch.setattr(api, "LIST_COUNT_LIMIT", 12)
    monkeypatch.setattr(views, "LIST_COUNT_LIMIT", 12)
    capped = c.get("/api/v1/registers/people?page_size=10").json()
    assert (capped["total"], capped["total_capped"]) == (12, True)
    page = c.get("/registers/people/").content.decode()
    assert "超过" in page.split('class="pager"')[1]  # "more than …" instead of an exact total
