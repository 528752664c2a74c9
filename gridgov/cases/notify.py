"""Notifications: the in-app inbox always, plus pluggable channel adapters (SMS gateway,
DingTalk robot, log) listed in GRIDGOV["NOTIFICATION_CHANNELS"].

Services call `notify(...)` inside their transaction; delivery is deferred with
`transaction.on_commit`, so a rolled-back action never tells anyone it happened, and a slow or
failing channel never holds the case row lock. A channel that fails is logged and skipped: the
inbox row is the record.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from django.db import transaction
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from gridgov.accounts.models import Role, User
from gridgov.common import clock

from .conf import conf
from .models import Case, Notification

log = logging.getLogger("gridgov.cases.notify")


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str = ""
    case_id: int | None = None
    case_number: str = ""
    user_ids: tuple[int, ...] = ()
    # Citizens have no account: channels that can reach a phone number (SMS) use these.
    phones: tuple[str, ...] = field(default_factory=tuple)


class Channel(Protocol):
    def send(self, message: Message) -> None: ...


class LogChannel:
    """Writes every message to the "gridgov.cases.notify" logger (useful on a test bench)."""

    def send(self, message: Message) -> None:
        log.info("[%s] %s → users %s phones %d", message.kind, message.title, message.user_ids, len(message.phones))


class WebhookChannel:
    """POSTs the message as JSON to GRIDGOV_NOTIFY_WEBHOOK_URL — the shape an intranet SMS
    gateway or message bus adapter accepts: {kind, title, body, case, users: [{username, phone}], phones}."""

    timeout = 5

    def __init__(self, url: str | None = None) -> None:
        self.url = url if url is not None else str(conf("NOTIFY_WEBHOOK_URL"))

    def payload(self, message: Message) -> dict[str, object]:
        users = list(User.objects.filter(pk__in=message.user_ids).values("username", "phone"))
        return {
            "kind": message.kind,
            "title": message.title,
            "body": message.body,
            "case": message.case_number,
            "users": users,
            "phones": list(message.phones),
        }

    def send(self, message: Message) -> None:
        if not self.url:
            return
        data = json.dumps(self.payload(message), ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


class DingTalkRobotChannel(WebhookChannel):
    """A DingTalk group robot (GRIDGOV_DINGTALK_WEBHOOK): a text message to the duty group."""

    def __init__(self, url: str | None = None) -> None:
        super().__init__(url if url is not None else str(conf("DINGTALK_WEBHOOK")))

    def payload(self, message: Message) -> dict[str, object]:
        text = f"【{message.title}】{message.body}"
        if message.case_number:
            text += f"（案卷 {message.case_number}）"
        return {"msgtype": "text", "text": {"content": text}}


@lru_cache(maxsize=8)
def _channels(spec: tuple[str, ...]) -> list[Channel]:
    return [import_string(path)() for path in spec]


def channels() -> list[Channel]:
    return _channels(tuple(conf("NOTIFICATION_CHANNELS")))


def deliver(message: Message) -> list[Notification]:
    now = clock.now()
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user_id=uid,
                case_id=message.case_id,
                kind=message.kind,
                title=message.title[:200],
                body=message.body[:500],
                created_at=now,
            )
            for uid in dict.fromkeys(message.user_ids)
        ]
    )
    for channel in channels():
        try:
            channel.send(message)
        except Exception:
            log.exception("notification channel %s failed for %s", type(channel).__name__, message.kind)
    return rows


def notify(
    *,
    kind: str,
    case: Case | None,
    users: Iterable[User | int],
    title: str,
    body: str = "",
    phones: Iterable[str] = (),
) -> None:
    """Queue a message for delivery after the current transaction commits."""
    user_ids = tuple(dict.fromkeys(u if isinstance(u, int) else u.pk for u in users))
    phone_list = tuple(p for p in phones if p)
    if not user_ids and not phone_list:
        return
    message = Message(
        kind=kind,
        title=title,
        body=body,
        case_id=case.pk if case else None,
        case_number=case.number if case else "",
        user_ids=user_ids,
        phones=phone_list,
    )
    transaction.on_commit(lambda: deliver(message))


# --- recipients -------------------------------------------------------------------------------


def handlers_of(department_ids: Iterable[int]) -> QuerySet[User]:
    return User.objects.filter(
        role=Role.DEPARTMENT_HANDLER, department_id__in=list(department_ids), is_active=True
    ).only("id")


def operators_of(center_id: int) -> QuerySet[User]:
    return User.objects.filter(role=Role.CENTER_OPERATOR, jurisdiction_id=center_id, is_active=True).only("id")


def grid_leaders_of(region_path: str) -> QuerySet[User]:
    codes = [c for c in region_path.strip("/").split("/") if c]
    if len(codes) < 4:
        return User.objects.none()
    grid_path = "/" + "/".join(codes[:4]) + "/"
    return User.objects.filter(role=Role.GRID_LEADER, jurisdiction__path=grid_path, is_active=True).only("id")
