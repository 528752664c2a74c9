"""Models of the integration adapters (each adapter keeps its own in its folder) and the outbox
shared by everything that calls out: webhook deliveries and 12345/110 push-back."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.cases.models import Case

from .hotline_12345.models import ExternalOrder, ExternalSystem, HotlineChannel
from .open311.models import Datatype, Open311Key, Open311Request, ResponseMode, ServiceAttribute
from .sensors.models import AlertOutcome, SensorAlert, SensorFeed
from .webhooks.models import WebhookSubscription

__all__ = [
    "AlertOutcome",
    "Datatype",
    "DeliveryAttempt",
    "ExternalOrder",
    "ExternalSystem",
    "HotlineChannel",
    "Open311Key",
    "Open311Request",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "ResponseMode",
    "SensorAlert",
    "SensorFeed",
    "ServiceAttribute",
    "WebhookSubscription",
]


class OutboxKind(models.TextChoices):
    WEBHOOK = "webhook", _("事件推送")
    HOTLINE_PUSH = "hotline_push", _("热线回传")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("已放弃")


class OutboxMessage(models.Model):
    """One message to send, written in the transaction of the case event that caused it and sent
    after commit — never inside it. Retried with exponential back-off up to a maximum."""

    kind = models.CharField(max_length=16, choices=OutboxKind.choices)
    subscription = models.ForeignKey(
        WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.ForeignKey(HotlineChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="pushes")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_name = models.CharField(_("事件"), max_length=40)
    payload = models.JSONField()
    status = models.CharField(_("状态"), max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    # A worker that claimed the message owns it until then (a crashed worker's claim expires).
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind="webhook", subscription__isnull=False) | Q(kind="hotline_push", channel__isnull=False),
                name="outbox_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.event_name} ({self.status})"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per attempt."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering: ClassVar = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.message_id} @ {self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.succeeded else 'fail'}"
