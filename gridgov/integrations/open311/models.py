"""Open311 GeoReport v2: API keys, the service definitions' attributes, and what a POST brought
besides the case itself (the personal fields are stored, never output)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import User
from gridgov.cases.models import Case, CaseCategory, Source
from gridgov.regions.models import Region


class ResponseMode(models.TextChoices):
    # The spec: a POST answers with service_request_id, or with a token to be resolved later.
    ID = "id", _("返回案卷编号（service_request_id）")
    TOKEN = "token", _("返回令牌（token）")


class Open311Key(models.Model):
    """An api_key for POST Service Request. Only the SHA-256 is stored; the key is shown once.
    A key is scoped to a jurisdiction (a region node): requests located outside it are refused."""

    name = models.CharField(_("名称（调用方）"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    jurisdiction = models.ForeignKey(
        Region, verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="open311_keys"
    )
    source = models.CharField(_("案件来源"), max_length=24, choices=Source.choices, default=Source.CITIZEN)
    # Channels that need a staff account (e.g. a department's system reporting as 部门移交) act as it.
    acting_user = models.ForeignKey(
        User, verbose_name=_("代表账号"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response_mode = models.CharField(_("上报应答"), max_length=8, choices=ResponseMode.choices, default=ResponseMode.ID)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("Open311 API 密钥")
        verbose_name_plural = _("Open311 API 密钥")
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Datatype(models.TextChoices):
    STRING = "string", _("字符串")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("长文本")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


class ServiceAttribute(models.Model):
    """An attribute of a service definition (GeoReport v2 method 2), per leaf category.
    `values` holds [{"key": ..., "name": ...}] for the list datatypes."""

    category = models.ForeignKey(
        CaseCategory, verbose_name=_("事件小类"), on_delete=models.CASCADE, related_name="open311_attributes"
    )
    code = models.SlugField(_("代码"), max_length=40)
    description = models.CharField(_("说明（提问）"), max_length=200)
    datatype = models.CharField(_("数据类型"), max_length=16, choices=Datatype.choices)
    datatype_description = models.CharField(_("格式说明"), max_length=200, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    # false: an informational text shown to the user, not a question.
    variable = models.BooleanField(_("需要填写"), default=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    values = models.JSONField(_("选项"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("Open311 服务属性")
        verbose_name_plural = _("Open311 服务属性")
        ordering: ClassVar = ["category__code", "order", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_once"),
            models.CheckConstraint(condition=Q(order__gte=1), name="open311_attribute_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code}.{self.code}"

    def value_keys(self) -> list[str]:
        return [str(v.get("key", "")) for v in self.values or [] if isinstance(v, dict)]


class Open311Request(models.Model):
    """A case that came in through Open311 POST: the key, the answer token, the attributes and
    the client's extra fields. Personal fields (email, names, phone on the case) never leave."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311_request")
    key = models.ForeignKey(Open311Key, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=40, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    email = models.CharField(max_length=254, blank=True)
    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Open311 上报")
        verbose_name_plural = _("Open311 上报")
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.key_id}"
