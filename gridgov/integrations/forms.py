from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import User
from gridgov.cases.models import Source
from gridgov.regions.models import Region

from .channels import EVENT_NAMES
from .models import ExternalSystem, ResponseMode


class _JurisdictionMixin(forms.Form):
    jurisdiction = forms.CharField(label=_("辖区代码"), max_length=24, help_text=_("区域代码，如 330109 或 330109001"))

    def clean_jurisdiction(self) -> Region:
        code = self.cleaned_data["jurisdiction"].strip()
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise forms.ValidationError(_("区域代码不存在"))
        return region


class Open311KeyForm(_JurisdictionMixin):
    name = forms.CharField(label=_("调用方名称"), max_length=100)
    source = forms.ChoiceField(label=_("案件来源"), choices=Source.choices, initial=Source.CITIZEN)
    acting_user = forms.CharField(
        label=_("代表账号（用户名）"), max_length=150, required=False, help_text=_("部门移交等需要账号的渠道填写")
    )
    response_mode = forms.ChoiceField(label=_("上报应答"), choices=ResponseMode.choices, initial=ResponseMode.ID)

    field_order = ["name", "jurisdiction", "source", "acting_user", "response_mode"]

    def clean_acting_user(self) -> User | None:
        username = self.cleaned_data["acting_user"].strip()
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("用户不存在"))
        return user


class HotlineChannelForm(_JurisdictionMixin):
    code = forms.SlugField(label=_("接入代码"), max_length=40, help_text=_("出现在接收地址中，如 xs-12345"))
    name = forms.CharField(label=_("名称"), max_length=100)
    system = forms.ChoiceField(label=_("外部系统"), choices=ExternalSystem.choices)
    push_url = forms.URLField(label=_("回传地址"), max_length=500, required=False, assume_scheme="https")

    field_order = ["code", "name", "system", "jurisdiction", "push_url"]


class SensorFeedForm(_JurisdictionMixin):
    code = forms.SlugField(label=_("接入代码"), max_length=40)
    name = forms.CharField(label=_("名称"), max_length=100)
    dedup_minutes = forms.IntegerField(label=_("去重时间窗（分钟）"), min_value=1, max_value=1440, initial=30)
    type_map = forms.CharField(
        label=_("告警类型映射（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('可选，如 {"dust": "0704"}；未列出的类型使用内置映射'),
    )

    field_order = ["code", "name", "jurisdiction", "dedup_minutes", "type_map"]

    def clean_type_map(self) -> dict[str, Any]:
        raw = self.cleaned_data["type_map"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise forms.ValidationError(_("不是有效的 JSON")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("应为 JSON 对象"))
        return value


class WebhookSubscriptionForm(_JurisdictionMixin):
    name = forms.CharField(label=_("名称"), max_length=100)
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("订阅事件"),
        choices=[(e, e) for e in EVENT_NAMES],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("不选表示全部事件"),
    )

    field_order = ["name", "url", "jurisdiction", "events"]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("工单表格（xlsx）"))
