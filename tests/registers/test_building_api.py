"""Regression (issue 9, found by the access probes): GET /api/v1/registers/buildings/{id} was a
500 — the detail answers with a dict and the schema's region resolver expected a model."""

from __future__ import annotations

from tests.registers.factories import make_house


def test_building_detail_answers_with_its_region_and_houses(personas, client_for):
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    response = client_for(personas.grid_worker).get(f"/api/v1/registers/buildings/{house.building_id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["region_code"] == personas.tree.microgrids[0].code
    assert house.code in [h["code"] for h in body["houses"]]


def test_building_outside_the_jurisdiction_is_not_found(personas, client_for):
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    response = client_for(personas.outsider).get(f"/api/v1/registers/buildings/{house.building_id}")
    assert response.status_code == 404
