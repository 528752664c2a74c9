from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from gridgov.accounts import tokens
from gridgov.accounts.models import APIToken, Role, User
from gridgov.common import clock
from gridgov.common.errors import NotFound, ValidationFailed
from gridgov.common.models import AuditEvent

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_token_is_shown_once_and_only_its_hash_is_stored(personas, client_for):
    c = client_for(personas.grid_worker)
    response = c.post("/accounts/tokens/", {"name": "巡查终端", "expires_in_days": 30})
    assert response.status_code == 200
    raw = response.context["issued"].raw
    assert raw.startswith("ggv_") and raw in response.content.decode()
    token = APIToken.objects.get(user=personas.grid_worker)
    assert token.token_hash == tokens.hash_token(raw) and raw not in token.token_hash
    assert not APIToken.objects.filter(token_hash__contains=raw[4:20]).exists()
    # Listed later by prefix only.
    again = c.get("/accounts/tokens/").content.decode()
    assert token.prefix in again and raw not in again
    assert AuditEvent.objects.filter(action="auth.token_created", actor=personas.grid_worker).exists()


def test_bad_token_input_is_refused_with_a_message(personas, client_for):
    c = client_for(personas.grid_worker)
    response = c.post("/accounts/tokens/", {"name": "", "expires_in_days": 9999})
    assert response.status_code == 400
    with pytest.raises(ValidationFailed) as exc:
        tokens.api_token_create(actor=personas.grid_worker, name="x", expires_in_days=0)
    assert "expires_in_days" in exc.value.errors


def test_a_token_acts_as_its_owner_within_the_owners_jurisdiction(personas):
    issued = tokens.api_token_create(actor=personas.town_operator, name="对接")
    c = Client()
    own_town = personas.tree.towns[0].code
    other_town = personas.tree.towns[1].code
    assert c.get(f"/api/v1/regions/{own_town}", **bearer(issued.raw)).status_code == 200
    refused = c.get(f"/api/v1/regions/{other_town}", **bearer(issued.raw))
    assert refused.status_code == 403 and refused.json()["rule"] == "scope.jurisdiction"
    listed = {r["code"] for r in c.get("/api/v1/regions", **bearer(issued.raw)).json()}
    assert own_town in listed and other_town not in listed
    # No session, no cookie involved.
    assert "sessionid" not in c.cookies


def test_missing_wrong_revoked_expired_and_deactivated_tokens_get_401(personas):
    c = Client()
    assert c.get("/api/v1/regions").status_code == 401
    assert c.get("/api/v1/regions", **bearer("ggv_not-a-real-token")).status_code == 401
    assert c.get("/api/v1/regions", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").status_code == 401
    issued = tokens.api_token_create(actor=personas.grid_worker, name="a", expires_in_days=1)
    assert c.get("/api/v1/regions", **bearer(issued.raw)).status_code == 200
    with clock.frozen(clock.now() + dt.timedelta(days=1, seconds=1)):
        assert c.get("/api/v1/regions", **bearer(issued.raw)).status_code == 401
    tokens.api_token_revoke(actor=personas.grid_worker, token_id=issued.token.pk)
    assert c.get("/api/v1/regions", **bearer(issued.raw)).status_code == 401
    second = tokens.api_token_create(actor=personas.colleague, name="b")
    User.objects.filter(pk=personas.colleague.pk).update(is_active=False)
    assert c.get("/api/v1/regions", **bearer(second.raw)).status_code == 401


def test_use_records_last_used_time_and_address(personas):
    issued = tokens.api_token_create(actor=personas.grid_worker, name="a")
    Client().get("/api/v1/regions", REMOTE_ADDR="10.2.3.4", **bearer(issued.raw))
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None and issued.token.last_used_ip == "10.2.3.4"


def test_owners_revoke_their_own_tokens_and_see_nobody_elses(personas, client_for):
    mine = tokens.api_token_create(actor=personas.grid_worker, name="mine")
    theirs = tokens.api_token_create(actor=personas.colleague, name="theirs")
    c = client_for(personas.grid_worker)
    assert "theirs" not in c.get("/accounts/tokens/").content.decode()
    c.post(f"/accounts/tokens/{theirs.token.pk}/revoke/")
    theirs.token.refresh_from_db()
    assert theirs.token.revoked_at is None
    assert c.post(f"/accounts/tokens/{mine.token.pk}/revoke/").status_code == 302
    mine.token.refresh_from_db()
    assert mine.token.revoked_at is not None and mine.token.revoked_by == personas.grid_worker
    assert AuditEvent.objects.filter(action="auth.token_revoked", target_id=str(mine.token.pk)).exists()


def test_admins_revoke_tokens_inside_their_jurisdiction_only(personas, client_for):
    inside = tokens.api_token_create(actor=personas.grid_worker, name="inside")
    outside = tokens.api_token_create(actor=personas.outsider, name="outside")
    town2_admin = User.objects.create(username="admin2", role=Role.ADMIN, jurisdiction=personas.tree.towns[1])
    with pytest.raises(NotFound):
        tokens.api_token_revoke(actor=town2_admin, token_id=inside.token.pk)
    c = client_for(personas.admin)
    page = c.get("/accounts/tokens/all/").content.decode()
    assert "inside" in page and "outside" not in page
    assert c.post(f"/accounts/tokens/{inside.token.pk}/revoke/").status_code == 302
    with pytest.raises(NotFound):
        tokens.api_token_revoke(actor=personas.admin, token_id=outside.token.pk)
    assert client_for(personas.town_operator).get("/accounts/tokens/all/").status_code == 403


def test_bearer_requests_need_no_csrf_token_but_session_posts_still_do(personas):
    issued = tokens.api_token_create(actor=personas.admin, name="sync")
    c = Client(enforce_csrf_checks=True)
    response = c.post(
        "/api/v1/regions",
        data={"code": "x"},
        content_type="application/json",
        **bearer(issued.raw),
    )
    assert response.status_code in (400, 422)  # reached validation, not a CSRF refusal
    session = Client(enforce_csrf_checks=True)
    session.force_login(personas.admin)
    assert session.post("/api/v1/regions", data={"code": "x"}, content_type="application/json").status_code == 403
