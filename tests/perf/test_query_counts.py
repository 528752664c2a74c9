"""The main list pages and API lists issue the same number of queries however many rows they
show: no N+1. Each test counts the queries of a page, adds rows of other kinds (other
categories, grids, departments, states), counts again and expects the same number.

No timing here (bench/ measures speed); these only pin the shape of the work.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridgov.common import clock
from tests.cases.factories import IN_COMMUNITY_2, IN_GRID_1, IN_GRID_2, IN_TOWN_2, MONDAY_10, drive, report
from tests.factories import Personas, make_region
from tests.registers.factories import make_house, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(MONDAY_10):
        yield


def queries(client: Client, url: str) -> int:
    client.get(url)  # warm per-process caches (spatial index, category tree, sessions)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def cases_of_every_kind(p: Personas, n: int) -> None:
    points = [IN_GRID_1, IN_GRID_2, IN_COMMUNITY_2, IN_TOWN_2]
    codes = ["0502", "0301", "0102", "0203"]
    states = ["reported", "accepted", "dispatched", "handling", "closed"]
    for i in range(n):
        actor = p.grid_worker if points[i % 4] in (IN_GRID_1, IN_GRID_2) else p.district_operator
        kw = {} if actor is p.grid_worker else {"source": "hotline_12345", "address": "人民路1号"}
        case = report(p, at=points[i % 4], code=codes[i % 4], actor=actor, **kw)
        if points[i % 4] != IN_TOWN_2:  # drive() walks cases of town 1's centres
            drive(p, case, states[i % len(states)])


def constant(measure: Callable[[], int], grow: Callable[[], None]) -> tuple[int, int]:
    before = measure()
    grow()
    return before, measure()


def test_case_queue_pages_and_api_lists_do_not_grow_with_cases(personas, client_for):
    p = personas
    cases_of_every_kind(p, 2)
    op, leader, handler = client_for(p.district_operator), client_for(p.leader), client_for(p.handler)
    urls = [
        (op, "/cases/?queue=all"),
        (op, "/cases/?queue=overdue"),
        (client_for(p.village_operator), "/cases/?queue=to_accept"),
        (handler, "/cases/?queue=to_handle"),
        (leader, "/cases/?queue=all"),
        (op, "/api/v1/cases?queue=all"),
        (handler, "/api/v1/cases?queue=to_sign"),
        (op, "/api/v1/cases?queue=to_dispatch"),
    ]
    before = [queries(c, u) for c, u in urls]
    cases_of_every_kind(p, 5)
    after = [queries(c, u) for c, u in urls]
    assert after == before, list(zip([u for _, u in urls], before, after, strict=True))


def test_people_lists_do_not_grow_with_residents(personas, client_for):
    p = personas
    worker = p.grid_worker
    house = make_house(worker, p.tree.microgrids[0])
    make_person(worker, house, name="王一")
    c = client_for(p.village_operator)
    urls = ["/registers/people/", "/api/v1/registers/people"]
    before = [queries(c, u) for u in urls]
    for i, region in enumerate(p.tree.microgrids[:2] * 3):
        other = make_house(worker, region, road=f"建设路{i}")
        make_person(worker, other, name=f"李{i}")
    after = [queries(c, u) for u in urls]
    assert after == before


def test_command_centre_reads_do_not_grow_with_cases(personas, client_for):
    p = personas
    cases_of_every_kind(p, 2)
    leader = client_for(p.leader)
    urls = ["/dashboard/", "/api/v1/dashboard/summary", "/api/v1/dashboard/markers"]
    before = [queries(leader, u) for u in urls]
    cases_of_every_kind(p, 5)
    after = [queries(leader, u) for u in urls]
    assert after == before


def test_region_tree_reads_do_not_grow_with_regions(personas, client_for):
    p = personas
    admin = client_for(p.district_operator)
    community = p.tree.communities[0]
    urls = ["/regions/", f"/regions/{community.code}/", f"/regions/{community.code}/tree/", "/api/v1/regions"]
    before = [queries(admin, u) for u in urls]
    grid = p.tree.grids[0]
    for i in range(4):
        code = f"{community.code}{900 + i:03d}"
        extra = make_region(code, f"新网格{i}", "grid", community, None)
        make_region(f"{code}001", f"新微网格{i}", "microgrid", extra, None)
    assert grid.pk
    after = [queries(admin, u) for u in urls]
    assert after == before


def test_queue_pages_count_every_tab_in_two_queries(personas, client_for):
    """The HTML queue page runs the API list's queries plus two for the tab counts (the open
    workload's conditional aggregates and "mine") and two for the filter pickers (categories,
    departments), however many tabs the role has; a handler's scope adds its "reported any
    case?" question once more."""
    p = personas
    cases_of_every_kind(p, 3)
    for user, extra in ((p.district_operator, 4), (p.leader, 4), (p.grid_worker, 4), (p.handler, 5)):
        c = client_for(user)
        html, api = queries(c, "/cases/?queue=all"), queries(c, "/api/v1/cases?queue=all")
        assert html - api == extra, (user.username, html, api)
