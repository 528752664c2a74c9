from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.test import Client

from gridgov.accounts import twofactor
from gridgov.accounts.models import RecoveryCode, TOTPDevice
from gridgov.common import clock
from gridgov.common.errors import PermissionRefused, ValidationFailed
from gridgov.common.models import AuditEvent
from tests.factories import PASSWORD

from .conftest import enrol

pytestmark = pytest.mark.django_db


def _password_step(client: Client, username: str, next_url: str = "") -> object:
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def test_admins_without_2fa_are_sent_to_set_it_up_first(personas, client_for, require_2fa):
    c = client_for(personas.admin)
    response = c.get("/accounts/users/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/setup/?next=")
    api = c.get("/api/v1/regions")
    assert api.status_code == 403 and api.json()["code"] == "2fa_required"
    # Grid workers are not required to.
    assert client_for(personas.grid_worker).get("/").status_code == 200


def test_setup_shows_secret_uri_and_qr_then_confirms_with_a_code(personas, client_for, require_2fa):
    c = client_for(personas.leader)
    page = c.get("/accounts/2fa/setup/")
    assert page.status_code == 200
    secret = page.context["secret"]
    body = page.content.decode()
    assert page.context["uri"].startswith("otpauth://totp/gridgov:leo?secret=" + secret)
    assert "<svg" in body and "<script" not in body.split("<main", 1)[1].split("</main>", 1)[0]
    wrong = c.post("/accounts/2fa/setup/", {"code": "000000"})
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="auth.2fa_setup_failed", actor=personas.leader).exists()
    done = c.post("/accounts/2fa/setup/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    # Stored hashed: no code appears in the database.
    stored = list(RecoveryCode.objects.filter(user=personas.leader).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(code.replace("-", "") in h for code in codes for h in stored)
    assert secret not in TOTPDevice.objects.get(user=personas.leader).secret_sealed
    assert AuditEvent.objects.filter(action="auth.2fa_enabled", actor=personas.leader).exists()
    # The session that enrolled carries on.
    assert c.get("/").status_code == 200


def test_login_with_2fa_asks_for_the_code_after_the_password(personas, client):
    secret, _ = enrol(personas.admin)
    step1 = _password_step(client, "root", next_url="/accounts/users/")
    assert step1.status_code == 302 and step1["Location"] == "/accounts/login/verify/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/login/verify/")
    assert page.status_code == 200 and "双因素认证" in page.content.decode()
    bad = client.post("/accounts/login/verify/", {"code": "123456"})
    assert bad.status_code == 400 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.2fa_failed", actor=personas.admin).exists()
    # The enrolment used the current step; the app shows the next one 30 s later.
    later = clock.now() + dt.timedelta(seconds=30)
    with clock.frozen(later):
        good = client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).at(later)})
        assert client.get("/accounts/users/").status_code == 200
    assert good.status_code == 302 and good["Location"] == "/accounts/users/"
    assert client.session["_auth_user_id"] == str(personas.admin.pk)


def test_a_code_cannot_be_used_twice(personas):
    secret, _ = enrol(personas.admin)
    # enrol() used the current step already; the next step's code works once.
    later = clock.now() + dt.timedelta(seconds=30)
    code = pyotp.TOTP(secret).at(later)
    with clock.frozen(later):
        assert twofactor.totp_verify(user=personas.admin, code=code) == "totp"
        assert twofactor.totp_verify(user=personas.admin, code=code) is None


def test_wrong_codes_count_towards_the_lockout(personas, client):
    enrol(personas.admin)
    _password_step(client, "root")
    for _ in range(5):
        client.post("/accounts/login/verify/", {"code": "000000"})
    response = client.post("/accounts/login/verify/", {"code": "000000"}, follow=True)
    assert "锁定" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()
    assert _password_step(Client(), "root").status_code == 429


def test_a_recovery_code_works_once(personas, client):
    _, codes = enrol(personas.admin)
    _password_step(client, "root")
    response = client.post("/accounts/login/verify/", {"code": codes[0].lower()})
    assert response.status_code == 302
    assert twofactor.recovery_codes_left(personas.admin) == 9
    other = Client()
    _password_step(other, "root")
    assert other.post("/accounts/login/verify/", {"code": codes[0]}).status_code == 400
    assert AuditEvent.objects.filter(action="auth.2fa_recovery_used").count() == 1


def test_the_verify_step_expires(personas, client):
    secret, _ = enrol(personas.admin)
    _password_step(client, "root")
    later = clock.now() + dt.timedelta(minutes=6)
    with clock.frozen(later):
        response = client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).at(later)})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_a_session_that_skipped_the_second_factor_is_ended(personas, client_for):
    enrol(personas.admin)
    c = client_for(personas.admin)  # force_login: no second factor in this session
    response = c.get("/accounts/users/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in c.session
    assert AuditEvent.objects.filter(action="auth.session_refused_without_2fa").exists()


def test_admin_resets_a_lost_device_in_their_jurisdiction_only(personas, verified_client_for):
    enrol(personas.town_operator)
    c = verified_client_for(personas.admin)
    assert c.post(f"/accounts/users/{personas.town_operator.pk}/2fa-reset/").status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.town_operator).exists()
    assert AuditEvent.objects.filter(action="auth.2fa_reset", actor=personas.admin).exists()
    enrol(personas.outsider)
    assert c.post(f"/accounts/users/{personas.outsider.pk}/2fa-reset/").status_code == 404
    with pytest.raises(PermissionRefused):
        twofactor.totp_disable(actor=personas.leader, user=personas.outsider)
    assert TOTPDevice.objects.filter(user=personas.outsider).exists()


def test_users_disable_their_own_2fa_only_with_a_current_code(personas, verified_client_for):
    secret, _ = enrol(personas.grid_worker)
    c = verified_client_for(personas.grid_worker)
    assert c.get("/accounts/2fa/").status_code == 200
    refused = c.post("/accounts/2fa/", {"action": "disable", "code": "000000"})
    assert refused.status_code == 400
    later = clock.now() + dt.timedelta(seconds=30)
    with clock.frozen(later):
        done = c.post("/accounts/2fa/", {"action": "disable", "code": pyotp.TOTP(secret).at(later)})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.grid_worker).exists()


def test_recovery_codes_can_be_regenerated_with_a_code(personas):
    secret, old = enrol(personas.leader)
    with pytest.raises(ValidationFailed):
        twofactor.recovery_codes_regenerate(user=personas.leader, code="111111")
    later = clock.now() + dt.timedelta(seconds=30)
    with clock.frozen(later):
        new = twofactor.recovery_codes_regenerate(user=personas.leader, code=pyotp.TOTP(secret).at(later))
    assert set(new).isdisjoint(old) and twofactor.recovery_codes_left(personas.leader) == 10


def test_demo_devices_use_the_documented_secret(personas):
    from gridgov.accounts.demo import DEMO_TOTP_SECRET

    twofactor.totp_install_fixed(user=personas.admin, secret=DEMO_TOTP_SECRET)
    assert twofactor.totp_verify(user=personas.admin, code=pyotp.TOTP(DEMO_TOTP_SECRET).now()) == "totp"
