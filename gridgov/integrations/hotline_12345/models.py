"""12345 hotline and 110 police work orders: the inbound channel (shared secret, jurisdiction,
push-back address) and the mapping from an external order number to the case it became."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import User
from gridgov.cases.models import Case
from gridgov.regions.models import Region


class ExternalSystem(models.TextChoices):
    HOTLINE_12345 = "12345", _("12345 政务服务热线")
    POLICE_110 = "110", _("110 警情")


class HotlineChannel(models.Model):
    code = models.SlugField(_("接入代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    system = models.CharField(_("外部系统"), max_length=8, choices=ExternalSystem.choices)
    secret_sealed = models.TextField(_("共享密钥（加密）"))
    jurisdiction = models.ForeignKey(
        Region, verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="hotline_channels"
    )
    push_url = models.URLField(_("回传地址"), max_length=500, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("热线/警情接入")
        verbose_name_plural = _("热线/警情接入")
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_system_display()})"


class ExternalOrder(models.Model):
    """external_system + external_id → case, unique: re-delivery of an order finds its case."""

    system = models.CharField(_("外部系统"), max_length=8, choices=ExternalSystem.choices)
    external_id = models.CharField(_("工单编号"), max_length=64)
    channel = models.ForeignKey(HotlineChannel, on_delete=models.PROTECT, related_name="orders")
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="external_order")
    payload_sha256 = models.CharField(max_length=64)
    deliveries = models.PositiveIntegerField(_("接收次数"), default=1)
    received_at = models.DateTimeField(_("首次接收"))
    updated_at = models.DateTimeField(_("最近接收"))
    last_pushed_state = models.CharField(_("最近回传状态"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("外部工单")
        verbose_name_plural = _("外部工单")
        ordering: ClassVar = ["-received_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["system", "external_id"], name="external_order_once"),
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"
