"""Regression (issue 9, found by schemathesis on PostgreSQL): a NUL character in any text input
reached a query and PostgreSQL refused it ("text fields cannot contain NUL") — a 500 from every
filter of /api/v1 and every form. Now a 400 naming the field, before any view runs."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/registers/groups?attention_level=%00&page=1", "attention_level"),
        ("/api/v1/registers/people?q=a%00b", "q"),
        ("/api/v1/cases/%00", "path"),
        ("/cases/?q=%00", "q"),
    ],
)
def test_nul_in_the_query_or_path_is_a_400_naming_the_field(personas, client_for, url, field):
    response = client_for(personas.grid_worker).get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["errors"] == {field: ["不能包含空字符（NUL）"]}


def test_nul_in_a_json_body_is_a_400(personas, client_for):
    response = client_for(personas.grid_worker).post(
        "/api/v1/cases/suggest-category", '{"text": "垃圾\\u0000堆放"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"body": ["不能包含空字符（NUL）"]}


def test_nul_in_a_form_field_is_a_400(db, client):
    response = client.post("/accounts/login/", {"username": "ali\x00ce", "password": "x"})
    assert response.status_code == 400
    assert "username" in response.content.decode()


def test_ordinary_requests_pass(personas, client_for):
    c = client_for(personas.grid_worker)
    assert c.get("/api/v1/registers/groups?attention_level=01").status_code == 200
    assert (
        c.post("/api/v1/cases/suggest-category", {"text": "垃圾堆放"}, content_type="application/json").status_code
        == 200
    )
