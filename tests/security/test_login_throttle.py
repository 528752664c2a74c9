from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone

from gridgov.accounts import throttle
from gridgov.accounts.models import LoginThrottle, Role, User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import PermissionRefused
from gridgov.common.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))


def _login(client: Client, username: str, password: str, ip: str = "10.1.1.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client: Client, username: str, times: int, ip: str = "10.1.1.1") -> None:
    for _ in range(times):
        assert _login(client, username, "wrong-password", ip).status_code == 200


def test_five_failures_lock_the_username_for_fifteen_minutes(personas, client):
    with clock.frozen(T0):
        _fail(client, "alice", 5)
        response = _login(client, "alice", PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "已被临时锁定" in body and "09:15" in body
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.locked_out")
    assert event.target_id == str(personas.grid_worker.pk)
    assert event.region_path == personas.grid_worker.jurisdiction.path
    with clock.frozen(T0 + dt.timedelta(minutes=14, seconds=59)):
        assert _login(client, "alice", PASSWORD).status_code == 429
    with clock.frozen(T0 + dt.timedelta(minutes=15, seconds=1)):
        assert _login(client, "alice", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(personas.grid_worker.pk)


def test_four_failures_then_a_success_start_counting_afresh(personas, client):
    with clock.frozen(T0):
        _fail(client, "alice", 4)
        assert _login(client, "alice", PASSWORD).status_code == 302
        client.logout()
        _fail(client, "alice", 4)
        assert _login(client, "alice", PASSWORD).status_code == 302


def test_failures_spread_beyond_the_window_do_not_lock(personas, client):
    for minute in (0, 5, 10, 14, 16):
        with clock.frozen(T0 + dt.timedelta(minutes=minute)):
            _fail(client, "alice", 1)
    with clock.frozen(T0 + dt.timedelta(minutes=17)):
        assert _login(client, "alice", PASSWORD).status_code == 302


def test_unknown_names_lock_too_so_a_lock_reveals_nothing(personas, client):
    with clock.frozen(T0):
        _fail(client, "nobody-here", 5)
        response = _login(client, "nobody-here", "whatever")
    assert response.status_code == 429 and "已被临时锁定" in response.content.decode()


def test_case_variants_share_one_counter(personas, client):
    with clock.frozen(T0):
        for name in ("alice", "ALICE", "Alice", "aLiCe", "alicE"):
            _fail(client, name, 1)
        assert _login(client, "alice", PASSWORD).status_code == 429


def test_a_locked_name_cannot_be_tried_through_authenticate_either(personas):
    with clock.frozen(T0):
        for _ in range(5):
            assert authenticate(None, username="alice", password="nope") is None
        assert authenticate(None, username="alice", password=PASSWORD) is None
    with clock.frozen(T0 + dt.timedelta(minutes=16)):
        assert authenticate(None, username="alice", password=PASSWORD) == personas.grid_worker


def test_one_address_trying_many_names_is_refused(personas, client, settings):
    settings.GRIDGOV = {**settings.GRIDGOV, "LOGIN_IP_FAILURE_LIMIT": 6}
    with clock.frozen(T0):
        for i in range(6):
            _fail(client, f"guess{i}", 1, ip="10.9.9.9")
        response = _login(client, "alice", PASSWORD, ip="10.9.9.9")
        assert response.status_code == 429
        assert "网络地址" in response.content.decode()
        # Another address is unaffected.
        assert _login(Client(), "alice", PASSWORD, ip="10.1.1.2").status_code == 302
    assert AuditEvent.objects.filter(action="auth.ip_locked_out", ip="10.9.9.9").exists()


def test_the_counter_lives_in_the_database(personas, client):
    with clock.frozen(T0):
        _fail(client, "alice", 3)
    row = LoginThrottle.objects.get(kind="username", key="alice")
    assert row.failures == 3 and row.locked_until is None
    # A second "worker" (another client, same database) sees the same count.
    with clock.frozen(T0):
        _fail(Client(), "alice", 2)
    row.refresh_from_db()
    assert row.locked_until == T0 + dt.timedelta(minutes=15)


def test_an_admin_lifts_a_lock_in_their_jurisdiction_and_it_is_audited(personas, client, client_for):
    with clock.frozen(T0):
        _fail(client, "alice", 5)
    admin = client_for(personas.admin)
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        page = admin.get("/accounts/lockouts/")
        assert page.status_code == 200 and "alice" in page.content.decode()
        row = LoginThrottle.objects.get(kind="username", key="alice")
        assert admin.post(f"/accounts/lockouts/{row.pk}/unlock/").status_code == 302
        assert _login(client, "alice", PASSWORD).status_code == 302
    unlock = AuditEvent.objects.get(action="auth.unlocked")
    assert unlock.actor == personas.admin and unlock.detail["key"] == "alice"


def test_a_town_admin_cannot_lift_a_lock_of_another_town(personas, client):
    town2_admin = User.objects.create(username="admin2", role=Role.ADMIN, jurisdiction=personas.tree.towns[1])
    with clock.frozen(T0):
        _fail(client, "alice", 5)
        row = LoginThrottle.objects.get(kind="username", key="alice")
        assert throttle.active_locks(scope=Scope.for_user(town2_admin)) == []
        with pytest.raises(PermissionRefused):
            throttle.login_unlock(actor=town2_admin, throttle_id=row.pk)
        with pytest.raises(PermissionRefused):
            throttle.login_unlock(actor=personas.leader, throttle_id=row.pk)


def test_non_admins_cannot_open_the_lockout_screen(personas, client_for):
    assert client_for(personas.town_operator).get("/accounts/lockouts/").status_code == 403
    assert client_for(personas.admin).post("/accounts/lockouts/999999/unlock/").status_code == 302


def test_the_django_admin_login_hands_over_to_the_guarded_login(personas, client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
