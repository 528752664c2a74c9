from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gridgov.common import clock
from gridgov.common.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))


def _login(client):
    with clock.frozen(T0):
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_a_session_ends_after_thirty_idle_minutes(personas, client):
    _login(client)
    with clock.frozen(T0 + dt.timedelta(minutes=29)):
        assert client.get("/").status_code == 200
    with clock.frozen(T0 + dt.timedelta(minutes=58)):
        assert client.get("/").status_code == 200  # 29 idle minutes since the last request
    with clock.frozen(T0 + dt.timedelta(minutes=89)):
        response = client.get("/regions/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=%2Fregions%2F"
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.detail == {"reason": "idle"} and event.actor == personas.grid_worker


def test_a_busy_session_still_ends_at_its_absolute_lifetime(personas, client, settings):
    settings.SESSION_COOKIE_AGE = 2 * 3600
    _login(client)
    for minutes in range(20, 120, 20):
        with clock.frozen(T0 + dt.timedelta(minutes=minutes)):
            assert client.get("/").status_code == 200
    with clock.frozen(T0 + dt.timedelta(minutes=121)):
        assert client.get("/").status_code == 302
    assert AuditEvent.objects.get(action="auth.session_expired").detail == {"reason": "lifetime"}


def test_an_expired_api_session_gets_401_json(personas, client):
    _login(client)
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        response = client.get("/api/v1/regions")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_idle_timeout_is_configurable(personas, client, settings):
    settings.GRIDGOV = {**settings.GRIDGOV, "SESSION_IDLE_SECONDS": 300}
    _login(client)
    with clock.frozen(T0 + dt.timedelta(minutes=6)):
        assert client.get("/").status_code == 302
