"""The outbox: messages written with the case event that caused them, sent after commit.

`deliver_due` claims each due message with a conditional UPDATE (two workers never send the same
message at once; a crashed worker's claim expires), sends it outside any transaction, and records
the attempt. A failure is retried after BACKOFF · 2^(attempt−1) seconds (capped) until
OUTBOX_MAX_ATTEMPTS, then the message is given up ("failed") and stays in the log. Receivers
must therefore be idempotent by the X-Gridgov-Delivery id: a message can arrive twice if a worker
dies between the send and the record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django_tasks import task

from gridgov.common import clock

from . import security, transport
from .conf import conf
from .models import DeliveryAttempt, OutboxKind, OutboxMessage, OutboxStatus
from .transport import DeliveryResult

log = logging.getLogger("gridgov.integrations.outbox")

WEBHOOK_SECRET_CONTEXT = "integrations.webhooksubscription.secret"
EVENT_HEADER = "X-Gridgov-Event"
DELIVERY_HEADER = "X-Gridgov-Delivery"


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts + 1`, after `attempts` failures (≥ 1)."""
    base = int(conf("OUTBOX_BACKOFF_SECONDS"))
    cap = int(conf("OUTBOX_BACKOFF_MAX_SECONDS"))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def schedule_after_commit(ids: Iterable[int]) -> None:
    """Send these messages once the current transaction commits: inline when the tasks backend
    is the immediate one, by a worker otherwise. `manage.py integrations_deliver` retries."""
    id_list = [int(i) for i in ids]
    if id_list:
        transaction.on_commit(lambda: deliver_messages.enqueue(id_list))


@task()
def deliver_messages(ids: list[int]) -> int:
    return deliver_due(ids=ids).delivered


@dataclass
class DeliveryStats:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: dt.datetime) -> Q:
    return Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING], next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )


def deliver_due(*, now: dt.datetime | None = None, limit: int = 200, ids: Iterable[int] | None = None) -> DeliveryStats:
    now = now or clock.now()
    stats = DeliveryStats()
    qs = OutboxMessage.objects.filter(_due(now))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    lease = dt.timedelta(seconds=transport.timeout() + 60)
    for pk in list(qs.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit]):
        if not OutboxMessage.objects.filter(_due(now), pk=pk).update(
            status=OutboxStatus.SENDING, locked_until=now + lease
        ):
            continue  # another worker took it
        stats.claimed += 1
        message = OutboxMessage.objects.select_related("subscription", "channel").get(pk=pk)
        try:
            result = send(message)
        except Exception as exc:  # a bug in a client must not stop the other deliveries
            log.exception("outbox message %s raised", pk)
            result = DeliveryResult(ok=False, error=f"内部错误：{type(exc).__name__}")
        outcome = record(message, result, now=clock.now())
        setattr(stats, outcome, getattr(stats, outcome) + 1)
    return stats


def send(message: OutboxMessage) -> DeliveryResult:
    if message.kind == OutboxKind.WEBHOOK:
        sub = message.subscription
        assert sub is not None
        if not sub.is_active:
            return DeliveryResult(ok=False, error="订阅已停用")
        body = json.dumps(message.payload, ensure_ascii=False, sort_keys=True).encode()
        secret = security.unseal(sub.secret_sealed, context=WEBHOOK_SECRET_CONTEXT)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "gridgov-webhooks/1",
            EVENT_HEADER: message.event_name,
            DELIVERY_HEADER: str(message.pk),
            **security.signed_headers(secret, body),
        }
        return transport.transport().post(sub.url, body, headers, transport.timeout())
    from .hotline_12345.clients import client

    channel = message.channel
    assert channel is not None
    if not channel.is_active:
        return DeliveryResult(ok=False, error="接入已停用")
    return client().push(channel, {**message.payload, "delivery_id": message.pk})


@transaction.atomic
def record(message: OutboxMessage, result: DeliveryResult, *, now: dt.datetime) -> str:
    attempts = message.attempts + 1
    DeliveryAttempt.objects.create(
        message=message,
        at=now,
        succeeded=result.ok,
        status_code=result.status_code,
        error=result.error[:500],
        duration_ms=max(0, result.duration_ms),
    )
    fields: dict[str, object] = {
        "attempts": F("attempts") + 1,
        "locked_until": None,
        "last_status_code": result.status_code,
        "last_error": result.error[:500],
    }
    if result.ok:
        fields.update(status=OutboxStatus.DELIVERED, delivered_at=now)
        outcome = "delivered"
    elif attempts >= int(conf("OUTBOX_MAX_ATTEMPTS")):
        fields.update(status=OutboxStatus.FAILED)
        outcome = "failed"
    else:
        fields.update(status=OutboxStatus.PENDING, next_attempt_at=now + backoff(attempts))
        outcome = "retrying"
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)
    if result.ok and message.kind == OutboxKind.HOTLINE_PUSH and message.case_id:
        from .models import ExternalOrder

        ExternalOrder.objects.filter(case_id=message.case_id).update(
            last_pushed_state=str(message.payload.get("status", ""))[:16]
        )
    return outcome


@transaction.atomic
def retry_now(*, message: OutboxMessage) -> OutboxMessage:
    """An admin sends a given-up (or waiting) message again, with a fresh attempt budget."""
    OutboxMessage.objects.filter(pk=message.pk).exclude(status=OutboxStatus.DELIVERED).update(
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=clock.now(), locked_until=None
    )
    schedule_after_commit([message.pk])
    message.refresh_from_db()
    return message
