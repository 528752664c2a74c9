"""Case events → outbound messages, written in the same transaction as the event.

The case services write one CaseEvent per action in the action's transaction; a post_save
receiver here turns it into outbox rows (webhook subscriptions that want it, and the 12345/110
push-back when the case came from a work order). The rows commit or roll back with the event, and
are sent after commit (outbox.schedule_after_commit) — no network call inside the case's
transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from gridgov.cases import config
from gridgov.cases.models import Case, CaseEvent, Source, State
from gridgov.cases.states import ACTION_LABELS

from .models import ExternalOrder, OutboxKind, OutboxMessage, WebhookSubscription
from .outbox import schedule_after_commit

# Actions that change what the hotline caller is told even when the state stays (a reply).
PUSH_ACTIONS = frozenset({"handle", "reject", "merge", "close", "approve_settle"})
HOTLINE_SOURCES = frozenset({Source.HOTLINE_12345, Source.POLICE_110})


def iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def event_name(event: CaseEvent) -> str:
    return f"case.{event.action}"


def webhook_payload(event: CaseEvent, case: Case) -> dict[str, Any]:
    """No personal data: no reporter, no staff names, no internal notes, no description."""
    return {
        "event": event_name(event),
        "occurred_at": iso(event.at),
        "case": {
            "number": case.number,
            "state": case.state,
            "state_label": str(State(case.state).label),
            "category_code": case.category.code,
            "category_name": case.category.name,
            "source": case.source,
            "urgency": case.urgency,
            "region_code": case.region.code,
            "center_code": case.center.code,
            "department": case.department.name if case.department_id and case.department else None,
            "reported_at": iso(case.reported_at),
            "deadline": iso(case.deadline),
        },
        "transition": {
            "action": event.action,
            "action_label": str(ACTION_LABELS.get(event.action, event.action)),
            "from_state": event.from_state,
            "to_state": event.to_state,
            "unit": event.unit_label if event.is_public else "",
            "public_note": event.public_note if event.is_public else "",
        },
    }


def hotline_payload(event: CaseEvent, case: Case, order: ExternalOrder) -> dict[str, Any]:
    """What the hotline tells its caller: the state and the public reply / public timeline only."""
    reply = case.public_reply if event.action == "handle" or case.state == State.CLOSED else ""
    return {
        "system": order.system,
        "order_no": order.external_id,
        "case_number": case.number,
        "event": event.action,
        "status": case.state,
        "status_label": str(State(case.state).label),
        "finished": case.state in (State.CLOSED, State.REJECTED, State.MERGED),
        "reply": reply or (event.public_note if event.is_public else ""),
        "unit": event.unit_label if event.is_public else "",
        "at": iso(event.at),
    }


def active_subscriptions() -> list[WebhookSubscription]:
    """Active webhook subscriptions, cached per process while the `webhooks` version token stands
    (cases.config: a database trigger replaces it on any change to the table). Most events find
    none, and then cost no query here."""

    def load() -> list[WebhookSubscription]:
        return list(WebhookSubscription.objects.filter(is_active=True).select_related("jurisdiction"))

    return config.snapshot().cached("webhooks", load)  # type: ignore[no-any-return]


RELATED = ("category", "region", "center", "department")


def _case_of(instance: CaseEvent) -> Case:
    """The case as the action left it: the services hand the event the object they changed, with
    its category, region, centre and department loaded; anything else is read again."""
    cached = instance._state.fields_cache.get("case")
    if (
        isinstance(cached, Case)
        and cached.pk == instance.case_id
        and all(getattr(Case, f).is_cached(cached) or getattr(cached, f"{f}_id") is None for f in RELATED)
    ):
        return cached
    return Case.objects.select_related(*RELATED).get(pk=instance.case_id)


@receiver(post_save, sender=CaseEvent, dispatch_uid="integrations.case_event")
def case_event_saved(sender: type[CaseEvent], instance: CaseEvent, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    subscriptions = active_subscriptions()
    changes_state = bool(instance.from_state) and instance.from_state != instance.to_state
    # instance.case is the object the service passed in: no query to read its source.
    may_push = (
        instance.is_public
        and (changes_state or instance.action in PUSH_ACTIONS)
        and instance.case.source in HOTLINE_SOURCES
    )
    if not subscriptions and not may_push:
        return
    case = _case_of(instance)
    now = instance.at
    rows: list[OutboxMessage] = []
    name = event_name(instance)
    for sub in subscriptions:
        if case.region_path.startswith(sub.jurisdiction.path) and sub.wants(name):
            rows.append(
                OutboxMessage(
                    kind=OutboxKind.WEBHOOK,
                    subscription=sub,
                    case=case,
                    event_name=name,
                    payload=webhook_payload(instance, case),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    if may_push:
        order = ExternalOrder.objects.select_related("channel").filter(case_id=case.pk).first()
        if order is not None and order.channel.is_active:
            from .hotline_12345.clients import client

            if client().accepts(order.channel):
                rows.append(
                    OutboxMessage(
                        kind=OutboxKind.HOTLINE_PUSH,
                        channel=order.channel,
                        case=case,
                        event_name=name,
                        payload=hotline_payload(instance, case, order),
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    if not rows:
        return
    if connection.features.can_return_rows_from_bulk_insert:
        OutboxMessage.objects.bulk_create(rows)
    else:
        for row in rows:
            row.save()
    schedule_after_commit(r.pk for r in rows)
