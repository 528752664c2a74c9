"""IoT and video-analysis alert feeds (扬尘, 违建, 消防通道占用 …) and the alert log that
de-duplicates repeats from one device into one case."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import User
from gridgov.cases.models import Case
from gridgov.regions.models import Region


class SensorFeed(models.Model):
    code = models.SlugField(_("接入代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    secret_sealed = models.TextField(_("共享密钥（加密）"))
    jurisdiction = models.ForeignKey(Region, verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="+")
    # alert type → leaf category code; types not listed here fall back to the built-in table.
    type_map = models.JSONField(_("告警类型映射"), default=dict, blank=True)
    dedup_minutes = models.PositiveIntegerField(_("去重时间窗（分钟）"), default=30)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("物联感知接入")
        verbose_name_plural = _("物联感知接入")
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name


class AlertOutcome(models.TextChoices):
    CREATED = "created", _("新建案件")
    JOINED = "joined", _("并入已有案件")


class SensorAlert(models.Model):
    feed = models.ForeignKey(SensorFeed, on_delete=models.PROTECT, related_name="alerts")
    alert_id = models.CharField(_("告警编号"), max_length=64, blank=True)
    device_id = models.CharField(_("设备编号"), max_length=64)
    alert_type = models.CharField(_("告警类型"), max_length=40)
    occurred_at = models.DateTimeField(_("发生时间"))
    received_at = models.DateTimeField(_("接收时间"))
    lat = models.FloatField()
    lng = models.FloatField()
    snapshot_url = models.URLField(max_length=500, blank=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sensor_alerts")
    outcome = models.CharField(max_length=8, choices=AlertOutcome.choices)

    class Meta:
        verbose_name = _("感知告警")
        verbose_name_plural = _("感知告警")
        ordering: ClassVar = ["-occurred_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["feed", "device_id", "alert_type", "occurred_at"], name="sensor_alert_dedup"),
        ]
        constraints: ClassVar = [
            # A re-sent alert (same feed and alert id) is recognised, never counted twice.
            models.UniqueConstraint(fields=["feed", "alert_id"], condition=~Q(alert_id=""), name="sensor_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.feed_id}:{self.device_id}:{self.alert_type}@{self.occurred_at:%Y-%m-%d %H:%M}"
