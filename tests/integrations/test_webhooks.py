"""Outbound webhooks: signed deliveries after commit, scoped and filtered subscriptions, retries
with exponential back-off against a local stub that fails then succeeds, and the delivery log."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from gridgov.cases import services as case_services
from gridgov.common import clock
from gridgov.integrations import channels, outbox
from gridgov.integrations.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from tests.cases.factories import IN_TOWN_2, MONDAY_10, report
from tests.factories import Personas


class Stub:
    """An HTTP receiver on 127.0.0.1 that answers `codes` in turn (then 200) and keeps requests."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.received.append(({k: v for k, v in self.headers.items()}, body))
                code = stub.codes.pop(0) if stub.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


@pytest.fixture
def subscription(p: Personas, stub: Stub):
    return channels.webhook_subscription_create(
        actor=p.admin, name="区数据中台", url=stub.url, jurisdiction=p.tree.towns[0], events=[]
    )


def test_case_events_are_delivered_signed_after_commit(
    p: Personas, stub: Stub, subscription, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = report(p)
        assert stub.received == []  # nothing leaves before the commit
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_accept(actor=p.village_operator, case=case)
    assert len(stub.received) == 2
    headers, body = stub.received[1]
    payload = json.loads(body)
    assert headers["X-Gridgov-Event"] == "case.accept" and payload["event"] == "case.accept"
    assert payload["case"]["number"] == case.number and payload["transition"]["to_state"] == "accepted"
    ts = headers["X-Gridgov-Timestamp"]
    expected = hmac.new(subscription.secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Gridgov-Signature"] == f"sha256={expected}"
    assert int(ts) == int(MONDAY_10.timestamp())
    text = body.decode()
    for personal in ("网格员甲", "alice", case.tracking_code, case.description):
        assert personal not in text
    assert headers["X-Gridgov-Delivery"] == str(OutboxMessage.objects.order_by("id").last().pk)
    assert OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 2


def test_subscriptions_filter_by_event_and_jurisdiction(
    p: Personas, stub: Stub, django_capture_on_commit_callbacks
) -> None:
    channels.webhook_subscription_create(
        actor=p.admin, name="只要结案", url=stub.url, jurisdiction=p.tree.district, events=["case.accept"]
    )
    channels.webhook_subscription_create(
        actor=p.admin, name="第2街道", url=stub.url, jurisdiction=p.tree.towns[1], events=[]
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = report(p)
        case_services.case_accept(actor=p.village_operator, case=case)
        report(p, at=IN_TOWN_2)
    events = [json.loads(b)["event"] for _, b in stub.received]
    assert sorted(events) == ["case.accept", "case.report"]  # town 2's report; town 1's accept


def test_failing_then_succeeding_receiver_is_retried_with_backoff(
    p: Personas, stub: Stub, subscription, django_capture_on_commit_callbacks
) -> None:
    stub.codes = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        report(p)
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert message.next_attempt_at == MONDAY_10 + dt.timedelta(seconds=30)
    assert message.last_status_code == 500
    # Not due yet: nothing is sent.
    assert outbox.deliver_due(now=MONDAY_10 + dt.timedelta(seconds=10)).claimed == 0
    with clock.frozen(MONDAY_10 + dt.timedelta(seconds=31)):
        call_command("integrations_deliver")
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == MONDAY_10 + dt.timedelta(seconds=31 + 60)
    with clock.frozen(MONDAY_10 + dt.timedelta(seconds=92)):
        stats = outbox.deliver_due()
    assert stats.delivered == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 3
    log = list(DeliveryAttempt.objects.filter(message=message).order_by("at").values_list("succeeded", "status_code"))
    assert log == [(False, 500), (False, 503), (True, 200)]
    assert len(stub.received) == 3
    bodies = {b for _, b in stub.received}
    assert len(bodies) == 1  # the same payload each time


def test_gives_up_after_the_maximum_attempts(p: Personas, stub: Stub, subscription) -> None:
    stub.codes = [500] * 10
    report(p)  # no commit callbacks here: the command does all the sending
    at = MONDAY_10
    for _ in range(4):
        at += dt.timedelta(hours=1)
        outbox.deliver_due(now=at)
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED and message.attempts == 4
    assert outbox.deliver_due(now=at + dt.timedelta(days=1)).claimed == 0
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_unreachable_receiver_and_redirects_count_as_failures(p: Personas, stub: Stub) -> None:
    channels.webhook_subscription_create(
        actor=p.admin, name="无人接收", url="http://127.0.0.1:9/nothing", jurisdiction=p.tree.district
    )
    stub.codes = [302]
    channels.webhook_subscription_create(actor=p.admin, name="跳转", url=stub.url, jurisdiction=p.tree.district)
    report(p)
    stats = outbox.deliver_due()
    assert stats.claimed == 2 and stats.retrying == 2
    errors = sorted(OutboxMessage.objects.values_list("last_error", flat=True))
    assert errors[0] == "HTTP 302" and errors[1].startswith("连接失败")


def test_subscription_validation(p: Personas) -> None:
    from gridgov.common.errors import PermissionRefused, ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        channels.webhook_subscription_create(
            actor=p.admin, name="", url="ftp://x", jurisdiction=p.tree.district, events=["case.explode"]
        )
    assert set(exc.value.errors) == {"name", "url", "events"}
    with pytest.raises(PermissionRefused):
        channels.webhook_subscription_create(
            actor=p.town_operator, name="x", url="https://x.example", jurisdiction=p.tree.district
        )
