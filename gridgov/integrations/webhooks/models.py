"""Outbound webhook subscriptions for case events."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import User
from gridgov.regions.models import Region


class WebhookSubscription(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    secret_sealed = models.TextField(_("签名密钥（加密）"))
    # Event names ("case.report", "case.close" …); empty means every case event.
    events = models.JSONField(_("订阅事件"), default=list, blank=True)
    jurisdiction = models.ForeignKey(Region, verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("事件推送订阅")
        verbose_name_plural = _("事件推送订阅")
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events
