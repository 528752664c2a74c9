"""Case intake through the API issues a fixed, short list of statements: one read of the version
tokens (configuration, regions, token authentication all come from per-process caches), the case
number, the case, its timeline row, the live row and the day rows. It must not grow with more
categories, regions, centres, cases, or webhook subscriptions that do not want the event.

No timing here (bench/intake.py measures speed); this pins the shape of the work.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridgov.accounts.tokens import api_token_create
from gridgov.common import clock
from tests.cases.factories import IN_COMMUNITY_2, IN_GRID_1, IN_GRID_2, MONDAY_10, report
from tests.factories import make_region

pytestmark = pytest.mark.django_db

# What one report sends (savepoints of the test's own transaction aside), in order.
EXPECTED = [
    "versions",  # RegionVersion + ConfigVersion tokens, one query
    "number",  # nextval (PostgreSQL) / counter upsert (SQLite)
    "insert cases_case",
    "insert cases_caseevent",
    "insert dashboard_livecase",
    "insert dashboard_regiondaystat",  # the shared day rows, last
]


def kind(sql: str) -> str:
    if "cases_configversion" in sql:
        return "versions"
    if "nextval(" in sql or "INTO cases_casecounter" in sql:
        return "number"
    m = re.match(r'\s*INSERT INTO "?(\w+)"?', sql)
    if m:
        return f"insert {m.group(1)}"
    return sql[:80]


@pytest.fixture(autouse=True)
def _monday(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(MONDAY_10):
        yield


def intake_statements(client: Client, at: tuple[float, float], code: str = "0502") -> list[str]:
    body = {"category": code, "description": "小区门口垃圾堆放多日", "lat": at[0], "lng": at[1]}
    with CaptureQueriesContext(connection) as ctx:
        r = client.post("/api/v1/cases", body)
    assert r.status_code == 201, r.content
    return [kind(q["sql"]) for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_one_api_intake_sends_the_same_six_statements_however_big_the_world(personas):
    p = personas
    client = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(actor=p.grid_worker, name="feed").raw)
    intake_statements(client, IN_GRID_1)  # warm: caches, the token's last-used stamp, the day's rows
    assert intake_statements(client, IN_GRID_1) == EXPECTED
    # More of everything: cases elsewhere, a new grid, a webhook subscription for other events.
    for at in (IN_GRID_2, IN_COMMUNITY_2):
        report(p, at=at, actor=p.district_operator, source="hotline_12345", address="人民路1号")
    make_region(f"{p.tree.communities[0].code}901", "新网格", "grid", p.tree.communities[0], None)
    from gridgov.integrations.models import WebhookSubscription

    WebhookSubscription.objects.create(
        name="only closures",
        url="https://example.invalid/hook",
        secret_sealed="x",
        events=["case.close"],
        jurisdiction=p.tree.district,
        created_at=MONDAY_10,
    )
    intake_statements(client, IN_GRID_2)  # the caches reload once after those changes
    assert intake_statements(client, IN_GRID_1, code="0301") == EXPECTED


def test_session_intake_adds_only_the_session_and_its_user(personas, client_for):
    client = client_for(personas.grid_worker)
    intake_statements(client, IN_GRID_1)
    got = intake_statements(client, IN_GRID_1)
    # The session row, its user, the user's second-factor check (SessionSecurityMiddleware) and
    # the user's jurisdiction (the timeline's unit label): four more than a token client.
    assert [k for k in got if k in EXPECTED] == EXPECTED
    assert len(got) == len(EXPECTED) + 4, got
