from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError
from django.db.backends import utils as db_utils
from django.test import Client

from gridgov.accounts import tokens

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [
    Path(settings.BASE_DIR) / "gridgov" / "templates",
    *Path(settings.BASE_DIR).glob("gridgov/*/templates"),
]


@contextlib.contextmanager
def database_outage() -> Iterator[None]:
    """Every query fails as it does when PostgreSQL is down or restarting."""

    def refuse(self, *args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    original = (db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany)
    db_utils.CursorWrapper.execute = refuse
    db_utils.CursorWrapper.executemany = refuse
    try:
        yield
    finally:
        db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany = original


def test_pages_carry_the_security_headers(personas, client_for):
    response = client_for(personas.grid_worker).get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "microphone=()" in response["Permissions-Policy"]
    login = Client().get("/accounts/login/")
    assert "Content-Security-Policy" in login and "csrfmiddlewaretoken" in login.content.decode()


def test_a_configured_tile_server_is_allowed_for_images_only(personas, client_for, settings):
    from gridgov.common.middleware import content_security_policy

    settings.GRIDGOV = {**settings.GRIDGOV, "MAP_TILE_URL": "http://tiles.local/{z}/{x}/{y}.png"}
    csp = content_security_policy()
    assert "img-src 'self' data: http://tiles.local" in csp and "script-src 'self';" in csp


def test_no_template_carries_inline_script_or_event_handlers():
    """script-src 'self' only works if nothing is inline: no <script> bodies, no on*= handlers,
    no hx-on (htmx evaluates those with eval, which the policy and allowEval=false forbid)."""
    offenders = []
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:json|ld\+json)\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            if inline_script.search(text) or handler.search(text) or "hx-on" in text or "javascript:" in text:
                offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert offenders == []


def test_forms_keep_csrf_protection(personas):
    c = Client(enforce_csrf_checks=True)
    c.force_login(personas.grid_worker)
    assert c.post("/accounts/tokens/", {"name": "x"}).status_code == 403
    assert c.post("/accounts/password/", {}).status_code == 403


def test_a_database_outage_is_a_503_with_retry_after_and_recovers_by_itself(personas):
    browser = Client(raise_request_exception=False)
    browser.force_login(personas.grid_worker)
    machine = Client(raise_request_exception=False)
    token = tokens.api_token_create(actor=personas.grid_worker, name="m").raw
    assert browser.get("/").status_code == 200

    with database_outage():
        page = browser.get("/")  # the session middleware needs the database first
        api = browser.get("/api/v1/regions")
        bearer = machine.get("/api/v1/regions", HTTP_AUTHORIZATION=f"Bearer {token}")  # fails inside the view
        health = machine.get("/healthz")

    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "数据库暂时不可用" in page.content.decode()
    assert api.status_code == 503 and api.json()["code"] == "service_unavailable" and api["Retry-After"] == "30"
    assert bearer.status_code == 503 and bearer.json()["detail"] == "数据库暂时不可用，请稍后重试。"
    assert health.status_code == 503

    # The database is back: the very next requests succeed, nobody restarted anything.
    assert browser.get("/").status_code == 200
    assert machine.get("/api/v1/regions", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert machine.get("/healthz").json() == {"status": "ok"}


def test_other_errors_stay_500s(personas, client, monkeypatch):
    def boom(request):
        raise ValueError("not a database problem")

    monkeypatch.setattr("gridgov.common.views.region_selectors.region_roots", boom)
    c = Client(raise_request_exception=False)
    c.force_login(personas.grid_worker)
    assert c.get("/").status_code == 500
