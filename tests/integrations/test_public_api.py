"""/api/v1: the OpenAPI document is complete and self-consistent, the interactive docs work
offline (Swagger UI served from django-ninja's own static files), and machine clients with an
API token are authenticated and scoped like their owner."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client

from gridgov.accounts import tokens
from tests.cases.factories import IN_GRID_1, IN_TOWN_2, report
from tests.factories import Personas


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_document_is_complete_and_valid(db: None) -> None:
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "gridgov API"
    paths = doc["paths"]
    for prefix in ("/api/v1/regions", "/api/v1/cases", "/api/v1/regions/locate"):
        assert any(p.startswith(prefix) for p in paths), prefix
    operation_ids = []
    for path, item in paths.items():
        assert path.startswith("/api/v1/")
        for method, op in item.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert op.get("responses"), (path, method)
            operation_ids.append(op["operationId"])
            # Every path parameter in the template is declared.
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert set(re.findall(r"{(\w+)}", path)) <= declared, (path, method)
    assert len(operation_ids) == len(set(operation_ids))
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    security = doc["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(
        s for s in security.values() if s.get("scheme") == "bearer"
    ).items()


def test_interactive_docs_work_without_internet(db: None) -> None:
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger-ui" in html and "/api/v1/openapi.json" in html
    scripts = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts
    for asset in scripts:
        assert finders.find(asset.removeprefix("/static/")), asset


def test_a_token_client_calls_locate_and_is_scoped(personas: Personas) -> None:
    p = personas
    raw = tokens.api_token_create(actor=p.village_operator, name="指挥中心大屏").raw
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    c = Client()
    located = c.get("/api/v1/regions/locate", {"lat": IN_GRID_1[0], "lng": IN_GRID_1[1]}, **auth)
    assert located.status_code == 200
    assert located.json()["microgrid"]["code"] == p.tree.microgrids[0].code
    assert c.get("/api/v1/regions/locate", {"lat": IN_GRID_1[0], "lng": IN_GRID_1[1]}).status_code == 401
    bad = {"HTTP_AUTHORIZATION": "Bearer ggv_not-a-token"}
    assert c.get("/api/v1/regions/locate", {"lat": 30.05, "lng": 120.1}, **bad).status_code == 401
    mine, theirs = report(p), report(p, at=IN_TOWN_2)
    listed = {row["number"] for row in c.get("/api/v1/cases", {"queue": "all"}, **auth).json()["items"]}
    assert mine.number in listed and theirs.number not in listed
    assert c.get(f"/api/v1/cases/{theirs.number}", **auth).status_code == 404
