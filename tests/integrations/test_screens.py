"""The /integrations/ admin screen: secrets shown once, hashed or sealed at rest, admins only."""

from __future__ import annotations

from gridgov.common.models import AuditEvent
from gridgov.integrations import channels, outbox
from gridgov.integrations.models import HotlineChannel, Open311Key, OutboxMessage, OutboxStatus
from gridgov.integrations.open311.services import hash_key
from tests.cases.factories import report
from tests.factories import Personas


def test_only_admins_see_the_screen(p: Personas, client_for) -> None:
    for user in (p.grid_worker, p.town_operator, p.leader):
        assert client_for(user).get("/integrations/").status_code == 403
    assert client_for(p.admin).get("/integrations/").status_code == 200


def test_admin_creates_a_key_shown_once_and_stored_hashed(p: Personas, client_for) -> None:
    c = client_for(p.admin)
    r = c.post(
        "/integrations/",
        {
            "form": "key",
            "key-name": "第三方随手拍",
            "key-jurisdiction": p.tree.towns[0].code,
            "key-source": "citizen",
            "key-acting_user": "",
            "key-response_mode": "id",
        },
    )
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    raw = r.context["issued"][1]
    assert raw.startswith("o311_") and raw in r.content.decode()
    key = Open311Key.objects.get()
    assert key.key_hash == hash_key(raw) and key.jurisdiction == p.tree.towns[0]
    assert raw not in c.get("/integrations/").content.decode()
    assert AuditEvent.objects.filter(action="integrations.open311_key_created").exists()
    r = c.post(f"/integrations/keys/{key.pk}/revoke/")
    assert r.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_department_source_needs_an_acting_account(p: Personas, client_for) -> None:
    c = client_for(p.admin)
    data = {
        "form": "key",
        "key-name": "城管系统",
        "key-jurisdiction": p.tree.district.code,
        "key-source": "department",
        "key-response_mode": "id",
    }
    r = c.post("/integrations/", {**data, "key-acting_user": ""})
    assert r.status_code == 400 and "代表账号" in r.content.decode()
    r = c.post("/integrations/", {**data, "key-acting_user": p.handler.username})
    assert r.status_code == 200 and Open311Key.objects.get().acting_user == p.handler


def test_channel_secret_is_sealed_and_channels_toggle(p: Personas, client_for) -> None:
    c = client_for(p.admin)
    r = c.post(
        "/integrations/",
        {
            "form": "channel",
            "channel-code": "xs-110",
            "channel-name": "萧山 110",
            "channel-system": "110",
            "channel-jurisdiction": p.tree.district.code,
            "channel-push_url": "",
        },
    )
    assert r.status_code == 200
    secret = r.context["issued"][1]
    channel = HotlineChannel.objects.get()
    assert secret not in channel.secret_sealed and channel.secret_sealed.startswith("g1.")
    c.post(f"/integrations/channel/{channel.pk}/toggle/")
    channel.refresh_from_db()
    assert not channel.is_active
    r = c.post("/integrations/", {"form": "channel", "channel-code": "Bad Code!"})
    assert r.status_code == 400


def test_delivery_log_and_retry(p: Personas, client_for) -> None:
    channels.webhook_subscription_create(
        actor=p.admin, name="停用的接收方", url="http://127.0.0.1:9/x", jurisdiction=p.tree.district
    )
    report(p)
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, attempts=8)
    c = client_for(p.admin)
    r = c.get("/integrations/deliveries/", {"status": "failed"})
    assert r.status_code == 200 and "case.report" in r.content.decode()
    c.post(f"/integrations/deliveries/{message.pk}/retry/")
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert outbox.deliver_due().claimed == 1
    assert client_for(p.town_operator).get("/integrations/deliveries/").status_code == 403
