"""Admin services shared by the inbound channels (12345/110 and sensor feeds) and webhook
subscriptions: create with a fresh shared secret (shown once), switch on and off."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases.states import ACTION_LABELS
from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import PermissionRefused, ValidationFailed
from gridgov.regions.models import Region

from . import security
from .hotline_12345.clients import SECRET_CONTEXT as HOTLINE_SECRET_CONTEXT
from .models import ExternalSystem, HotlineChannel, SensorFeed, WebhookSubscription
from .outbox import WEBHOOK_SECRET_CONTEXT

SENSOR_SECRET_CONTEXT = "integrations.sensorfeed.secret"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
EVENT_NAMES = [f"case.{a}" for a in ACTION_LABELS]


def check_admin(actor: User, region: Region | None = None) -> None:
    if not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionRefused("只有系统管理员可以管理对外接口", rule="integrations.admin")
    if region is not None and not Scope.for_user(actor).covers(region.path):
        raise PermissionRefused("所选辖区不在您的管辖范围内", rule="integrations.jurisdiction")


@dataclass(frozen=True)
class Issued:
    obj: Any
    secret: str


def _common(errors: dict[str, list[str]], *, code: str | None, name: str) -> None:
    if code is not None and not _CODE.match(code):
        errors["code"] = ["接入代码为 2–40 位小写字母、数字、-、_"]
    if not name.strip():
        errors["name"] = ["请填写名称"]
    elif len(name) > 100:
        errors["name"] = ["名称不能超过 100 字"]


def _url(errors: dict[str, list[str]], field: str, url: str, *, required: bool) -> None:
    if not url:
        if required:
            errors[field] = ["请填写地址"]
        return
    if len(url) > 500 or not re.match(r"^https?://[^\s/$.?#][^\s]*$", url):
        errors[field] = ["地址应为 http:// 或 https:// 开头的 URL"]


@transaction.atomic
def hotline_channel_create(
    *,
    actor: User,
    code: str,
    name: str,
    system: str,
    jurisdiction: Region,
    push_url: str = "",
    secret: str | None = None,
    request: HttpRequest | None = None,
) -> Issued:
    check_admin(actor, jurisdiction)
    errors: dict[str, list[str]] = {}
    code, push_url = (code or "").strip(), (push_url or "").strip()
    _common(errors, code=code, name=name)
    if system not in ExternalSystem.values:
        errors["system"] = ["未知的外部系统"]
    _url(errors, "push_url", push_url, required=False)
    if code and HotlineChannel.objects.filter(code=code).exists():
        errors["code"] = ["接入代码已存在"]
    if errors:
        raise ValidationFailed("接入信息有误", errors=errors)
    secret = secret or security.new_secret()
    channel = HotlineChannel.objects.create(
        code=code,
        name=name.strip(),
        system=system,
        secret_sealed=security.seal(secret, context=HOTLINE_SECRET_CONTEXT),
        jurisdiction=jurisdiction,
        push_url=push_url,
        created_at=clock.now(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="integrations.hotline_channel_created",
        target=channel,
        detail={"code": code, "system": system},
        request=request,
        region_path=jurisdiction.path,
    )
    return Issued(channel, secret)


@transaction.atomic
def sensor_feed_create(
    *,
    actor: User,
    code: str,
    name: str,
    jurisdiction: Region,
    dedup_minutes: int = 30,
    type_map: dict[str, str] | None = None,
    secret: str | None = None,
    request: HttpRequest | None = None,
) -> Issued:
    from .sensors.services import validate_type_map

    check_admin(actor, jurisdiction)
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    _common(errors, code=code, name=name)
    if not (1 <= int(dedup_minutes) <= 24 * 60):
        errors["dedup_minutes"] = ["去重时间窗应在 1–1440 分钟之间"]
    if code and SensorFeed.objects.filter(code=code).exists():
        errors["code"] = ["接入代码已存在"]
    type_errors = validate_type_map(type_map or {})
    if type_errors:
        errors["type_map"] = type_errors
    if errors:
        raise ValidationFailed("接入信息有误", errors=errors)
    secret = secret or security.new_secret()
    feed = SensorFeed.objects.create(
        code=code,
        name=name.strip(),
        secret_sealed=security.seal(secret, context=SENSOR_SECRET_CONTEXT),
        jurisdiction=jurisdiction,
        dedup_minutes=int(dedup_minutes),
        type_map=type_map or {},
        created_at=clock.now(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="integrations.sensor_feed_created",
        target=feed,
        detail={"code": code},
        request=request,
        region_path=jurisdiction.path,
    )
    return Issued(feed, secret)


@transaction.atomic
def webhook_subscription_create(
    *,
    actor: User,
    name: str,
    url: str,
    jurisdiction: Region,
    events: list[str] | None = None,
    request: HttpRequest | None = None,
) -> Issued:
    check_admin(actor, jurisdiction)
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    _common(errors, code=None, name=name)
    _url(errors, "url", url, required=True)
    events = [e.strip() for e in events or [] if e.strip()]
    unknown = [e for e in events if e not in EVENT_NAMES]
    if unknown:
        errors["events"] = [f"未知事件：{', '.join(unknown)}"]
    if errors:
        raise ValidationFailed("订阅信息有误", errors=errors)
    secret = security.new_secret()
    sub = WebhookSubscription.objects.create(
        name=name.strip(),
        url=url,
        secret_sealed=security.seal(secret, context=WEBHOOK_SECRET_CONTEXT),
        events=sorted(set(events)),
        jurisdiction=jurisdiction,
        created_at=clock.now(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="integrations.webhook_created",
        target=sub,
        detail={"url": url, "events": sub.events},
        request=request,
        region_path=jurisdiction.path,
    )
    return Issued(sub, secret)


@transaction.atomic
def set_active(
    *,
    actor: User,
    obj: HotlineChannel | SensorFeed | WebhookSubscription,
    active: bool,
    request: HttpRequest | None = None,
) -> None:
    check_admin(actor, obj.jurisdiction)
    type(obj).objects.filter(pk=obj.pk).update(is_active=active)
    audit_record(
        actor=actor,
        action=f"integrations.{type(obj).__name__.lower()}_{'enabled' if active else 'disabled'}",
        target=obj,
        request=request,
        region_path=obj.jurisdiction.path,
    )
