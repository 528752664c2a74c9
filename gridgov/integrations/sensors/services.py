"""IoT / video-analysis alerts → cases (source "sensor"), one case per device and incident.

A repeat alert of the same type from the same device within the feed's window (default 30
minutes, rolling from the previous alert) while the case is still open adds an internal note to
that case instead of a new case. A re-sent alert (same alert_id) is recognised and changes nothing.
Alerts of one feed are serialised by a lock on the feed row, so two alerts arriving together
cannot both open a case.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from gridgov.cases import services as case_services
from gridgov.cases.models import FINAL_STATES, Case, CaseCategory, Source, Urgency
from gridgov.common import clock
from gridgov.common.errors import NotFound, PermissionRefused, ValidationFailed
from gridgov.regions.selectors import region_locate

from ..models import AlertOutcome, SensorAlert, SensorFeed
from ..notes import integration_note

# Alert type → (leaf category code, label). A feed's type_map overrides or extends this.
ALERT_TYPES: dict[str, tuple[str, str]] = {
    "dust": ("0704", "扬尘超标"),
    "illegal_construction": ("0501", "疑似违法建设"),
    "fire_lane_blocked": ("0301", "消防通道占用"),
    "ebike_charging": ("0302", "电动车违规充电"),
    "smoke": ("0304", "烟火告警"),
    "exposed_garbage": ("0502", "暴露垃圾"),
    "garbage_overflow": ("0506", "垃圾满溢"),
    "street_vending": ("0601", "占道经营"),
    "illegal_parking": ("0602", "机动车违停"),
    "noise": ("0701", "噪声超标"),
    "open_burning": ("0705", "露天焚烧"),
    "road_damage": ("0801", "道路破损"),
    "manhole": ("0802", "井盖异常"),
    "waterlogging": ("0204", "道路积水"),
}
_TYPE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def validate_type_map(type_map: Any) -> list[str]:
    if not isinstance(type_map, dict):
        return ["告警类型映射应为 {类型: 小类编码}"]
    errors = []
    leaves = set(CaseCategory.objects.filter(parent__isnull=False, is_active=True).values_list("code", flat=True))
    for key, code in type_map.items():
        if not isinstance(key, str) or not _TYPE.match(key):
            errors.append(f"告警类型 {key!r} 应为小写字母、数字和下划线")
        elif not isinstance(code, str) or code not in leaves:
            errors.append(f"{key} 对应的 {code!r} 不是启用的事件小类编码")
    return errors


@dataclass(frozen=True)
class AlertInput:
    alert_id: str
    device_id: str
    alert_type: str
    occurred_at: dt.datetime
    lat: float
    lng: float
    description: str
    snapshot_url: str
    urgency: str


@dataclass(frozen=True)
class AlertResult:
    result: str  # created | joined | duplicate
    case: Case
    alert: SensorAlert


def _text(data: dict[str, Any], name: str, limit: int, errors: dict[str, list[str]], *, required: bool = False) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors[name] = ["必填"]
        return ""
    if not isinstance(value, (str, int)):
        errors[name] = ["应为文本"]
        return ""
    text = str(value).strip()
    if len(text) > limit:
        errors[name] = [f"不能超过 {limit} 个字符"]
    return text


def parse_alert(data: Any, *, now: dt.datetime) -> AlertInput:
    if not isinstance(data, dict):
        raise ValidationFailed("告警应为 JSON 对象", rule="sensors.alert.shape")
    errors: dict[str, list[str]] = {}
    device_id = _text(data, "device_id", 64, errors, required=True)
    alert_type = _text(data, "type", 40, errors, required=True)
    alert_id = _text(data, "alert_id", 64, errors)
    description = _text(data, "description", 1000, errors)
    snapshot_url = _text(data, "snapshot_url", 500, errors)
    if snapshot_url and not re.match(r"^https?://\S+$", snapshot_url):
        errors["snapshot_url"] = ["应为 http(s) 地址"]
    urgency = _text(data, "level", 16, errors) or Urgency.NORMAL
    if urgency not in Urgency.values:
        errors["level"] = ["应为 normal / urgent / critical"]
    coords: list[float] = []
    for name in ("lat", "lng"):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors[name] = ["必填，应为数字（WGS-84）"]
        else:
            coords.append(float(value))
    occurred = now
    raw_time = data.get("occurred_at")
    if raw_time not in (None, ""):
        try:
            occurred = dt.datetime.fromisoformat(str(raw_time))
            if occurred.tzinfo is None:
                occurred = timezone.make_aware(occurred)
        except ValueError:
            errors["occurred_at"] = ["应为 ISO 8601 时间，如 2026-11-23T10:00:00+08:00"]
        else:
            if occurred > now + dt.timedelta(minutes=5):
                errors["occurred_at"] = ["发生时间晚于当前时间"]
    if errors:
        raise ValidationFailed("告警内容有误", errors=errors)
    return AlertInput(
        alert_id=alert_id,
        device_id=device_id,
        alert_type=alert_type,
        occurred_at=occurred,
        lat=coords[0],
        lng=coords[1],
        description=description,
        snapshot_url=snapshot_url,
        urgency=urgency,
    )


def category_for(feed: SensorFeed, alert_type: str) -> tuple[CaseCategory, str]:
    mapped = (feed.type_map or {}).get(alert_type)
    code, label = ALERT_TYPES.get(alert_type, ("", alert_type))
    code = mapped or code
    if not code:
        known = sorted({*ALERT_TYPES, *(feed.type_map or {})})
        raise ValidationFailed(f"未知的告警类型 {alert_type!r}，可用：{', '.join(known)}", field="type")
    cat = CaseCategory.objects.filter(code=code, is_active=True, parent__isnull=False).first()
    if cat is None:
        raise ValidationFailed(f"告警类型 {alert_type} 对应的事件类别 {code} 不可用", field="type")
    return cat, label


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


@transaction.atomic
def alert_receive(*, feed: SensorFeed, alert: AlertInput, now: dt.datetime | None = None) -> AlertResult:
    now = now or clock.now()
    feed = SensorFeed.objects.select_for_update().select_related("jurisdiction").get(pk=feed.pk)
    if not feed.is_active:
        raise PermissionRefused("该接入已停用", rule="sensors.inactive")
    if alert.alert_id:
        seen = SensorAlert.objects.select_related("case").filter(feed=feed, alert_id=alert.alert_id).first()
        if seen is not None:
            return AlertResult("duplicate", seen.case, seen)
    category, label = category_for(feed, alert.alert_type)
    try:
        place = region_locate(lat=alert.lat, lng=alert.lng).microgrid
    except NotFound as exc:
        raise ValidationFailed(exc.message, field="location") from None
    if not place.path.startswith(feed.jurisdiction.path):
        raise PermissionRefused(f"设备位置不在「{feed.name}」的辖区内", rule="sensors.jurisdiction")
    window = dt.timedelta(minutes=feed.dedup_minutes)
    previous = (
        SensorAlert.objects.select_related("case")
        .filter(
            feed=feed,
            device_id=alert.device_id,
            alert_type=alert.alert_type,
            occurred_at__gte=alert.occurred_at - window,
            occurred_at__lte=alert.occurred_at + window,
        )
        .exclude(case__state__in=[str(s) for s in FINAL_STATES])
        .order_by("-occurred_at", "-id")
        .first()
    )
    fields = {
        "feed": feed,
        "alert_id": alert.alert_id,
        "device_id": alert.device_id,
        "alert_type": alert.alert_type,
        "occurred_at": alert.occurred_at,
        "received_at": now,
        "lat": alert.lat,
        "lng": alert.lng,
        "snapshot_url": alert.snapshot_url,
    }
    if previous is not None:
        integration_note(
            case=previous.case,
            unit=f"物联感知·{feed.name}",
            text=f"设备 {alert.device_id} 再次告警：{label}（{_local(alert.occurred_at)}）"
            + (f"，{alert.description}" if alert.description else ""),
            detail={"device_id": alert.device_id, "type": alert.alert_type, "alert_id": alert.alert_id},
            now=now,
        )
        row = SensorAlert.objects.create(case=previous.case, outcome=AlertOutcome.JOINED, **fields)
        return AlertResult("joined", previous.case, row)
    lines = [f"【物联感知·{feed.name}】设备 {alert.device_id} 告警：{label}（{_local(alert.occurred_at)}）"]
    if alert.description:
        lines.append(alert.description)
    if alert.snapshot_url:
        lines.append(f"【抓拍图片】{alert.snapshot_url}")
    case = case_services.case_report(
        actor=None,
        source=Source.SENSOR,
        category=category,
        description="\n".join(lines),
        urgency=alert.urgency,
        lat=alert.lat,
        lng=alert.lng,
        address=f"设备 {alert.device_id} 点位",
        now=now,
    )
    row = SensorAlert.objects.create(case=case, outcome=AlertOutcome.CREATED, **fields)
    return AlertResult("created", case, row)
