from __future__ import annotations

import pytest

from gridgov.accounts.scope import Scope
from gridgov.regions import selectors
from gridgov.regions.models import Level, Region

pytestmark = pytest.mark.django_db


def codes(qs) -> set[str]:
    return {r.code for r in qs}


def test_grid_worker_sees_only_their_grid_subtree(personas):
    scope = Scope.for_user(personas.grid_worker)
    grid = personas.tree.grids[0]
    assert codes(scope.regions()) == {grid.code, *(m.code for m in personas.tree.microgrids[:2])}


def test_colleague_cannot_open_the_next_grid(personas, client_for):
    response = client_for(personas.colleague).get(f"/regions/{personas.tree.grids[0].code}/")
    assert response.status_code == 403
    api = client_for(personas.colleague).get(f"/api/v1/regions/{personas.tree.grids[0].code}")
    assert api.status_code == 403
    assert api.json()["rule"] == "scope.jurisdiction"


def test_town_operator_sees_only_their_town(personas):
    scope = Scope.for_user(personas.town_operator)
    seen = scope.regions()
    town = personas.tree.towns[0]
    assert all(r.path.startswith(town.path) for r in seen)
    assert seen.count() == 1 + 2 + 4 + 8
    assert not seen.filter(code=personas.tree.towns[1].code).exists()


def test_leader_sees_the_district_but_not_the_neighbour(personas):
    scope = Scope.for_user(personas.leader)
    assert scope.regions().count() == 1 + 2 + 4 + 8 + 16
    assert not scope.regions().filter(code="330110").exists()


def test_department_handler_sees_their_departments_area(personas):
    scope = Scope.for_user(personas.handler)
    assert scope.path == personas.tree.district.path
    assert scope.department_id == personas.department.id


def test_inactive_or_anonymous_users_see_nothing(personas):
    personas.leader.is_active = False
    assert Scope.for_user(personas.leader).regions().count() == 0
    assert Scope.nobody().regions().count() == 0


def test_region_list_api_returns_only_the_viewers_subtree(personas, client_for):
    response = client_for(personas.town_operator).get("/api/v1/regions", {"level": Level.GRID})
    assert response.status_code == 200
    returned = {r["code"] for r in response.json()}
    assert returned == {g.code for g in personas.tree.grids[:4]}


def test_tree_page_starts_at_the_users_jurisdiction(personas, client_for):
    body = client_for(personas.grid_worker).get("/regions/").content.decode()
    assert f'href="/regions/{personas.tree.grids[0].code}/"' in body
    assert f'href="/regions/{personas.tree.towns[0].code}/"' not in body


def test_ancestors_above_the_jurisdiction_are_hidden(personas):
    scope = Scope.for_user(personas.grid_worker)
    micro = personas.tree.microgrids[0]
    assert [r.code for r in selectors.region_ancestors(scope=scope, region=micro)] == [personas.tree.grids[0].code]


def test_anonymous_api_call_is_refused(tree, client):
    assert client.get("/api/v1/regions").status_code == 401


def test_region_detail_shows_children_and_team(personas, client_for):
    body = client_for(personas.village_operator).get(f"/regions/{personas.tree.grids[0].code}/").content.decode()
    assert "网格员甲" in body and "网格长" in body
    assert Region.objects.get(code=personas.tree.grids[0].code).children.count() == 2


def test_team_lists_the_grid_leader_first(personas):
    from gridgov.accounts.selectors import team_for_region

    team = list(team_for_region(scope=Scope.for_user(personas.leader), region=personas.tree.grids[0]))
    assert [m.user.username for m in team] == ["gloria", "alice"]
    assert list(team_for_region(scope=Scope.for_user(personas.colleague), region=personas.tree.grids[0])) == []
