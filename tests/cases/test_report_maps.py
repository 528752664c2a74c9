"""The report maps carry the reporter's grid outline as JSON (no inline script: CSP)."""

from __future__ import annotations

import json
import re


def _outline(html: str) -> dict:
    m = re.search(r'<script id="grid-outline" type="application/json">(.*?)</script>', html, re.S)
    assert m, "no outline on the page"
    return json.loads(m.group(1))


def test_the_staff_report_form_carries_the_users_grid_outline(personas, client_for):
    html = client_for(personas.grid_worker).get("/cases/new/").content.decode()
    outline = _outline(html)
    assert outline["properties"]["code"] == personas.grid_worker.jurisdiction.code
    assert outline["geometry"]["type"] == "Polygon"


def test_the_citizen_report_page_carries_that_grids_outline(personas, client):
    grid = personas.tree.grids[1]
    outline = _outline(client.get(f"/report/{grid.code}/").content.decode())
    assert outline["properties"]["code"] == grid.code and outline["geometry"]["coordinates"]
