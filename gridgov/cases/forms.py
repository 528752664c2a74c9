"""Forms for the case screens and the public report page. They only parse input; every rule is
enforced by the services, whose field errors are put back on these forms."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .models import CaseCategory, Source, Urgency
from .selectors import category_tree

FORM_SALT = "gridgov.cases.public_report"
MIN_FILL_SECONDS = 3


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"})

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if f]


def category_choices() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [("", _("请选择类别"))]
    for main, subs in category_tree():
        if subs:
            out.append((main.name, [(str(c.pk), f"{c.code} {c.name}") for c in subs]))
    return out


class ReportForm(forms.Form):
    category = forms.ChoiceField(label=_("事件类别"))
    description = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    source = forms.ChoiceField(label=_("来源"), choices=Source.choices, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    reporter_name = forms.CharField(label=_("反映人"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    photos = PhotosField(label=_("现场照片"), required=False)
    settle = forms.BooleanField(label=_("已就地化解（报网格长审核）"), required=False)
    settle_result = forms.CharField(
        label=_("化解情况"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )

    def __init__(self, *args: Any, sources: list[str] | None = None, can_settle: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        if sources is not None:
            self.fields["source"].choices = [(s, Source(s).label) for s in sources]  # type: ignore[attr-defined]
        if not can_settle:
            del self.fields["settle"]
            del self.fields["settle_result"]

    def category_obj(self) -> CaseCategory | None:
        value = self.cleaned_data.get("category")
        return CaseCategory.objects.filter(pk=value).first() if value and str(value).isdigit() else None


class PublicReportForm(forms.Form):
    category = forms.ChoiceField(label=_("问题类型"))
    description = forms.CharField(
        label=_("问题描述"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("请描述问题和具体位置")}),
        max_length=2000,
    )
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    reporter_phone = forms.CharField(label=_("手机号（选填，便于回访）"), max_length=20, required=False)
    photos = PhotosField(label=_("照片（选填）"), required=False)
    # Spam guards: a field people never see, and the signed time the form was served.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial["token"] = signing.dumps(time.time(), salt=FORM_SALT)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("website"):
            raise forms.ValidationError(_("提交被拒绝"), code="spam")
        try:
            served = float(signing.loads(data.get("token", ""), salt=FORM_SALT, max_age=3600))
        except (signing.BadSignature, TypeError, ValueError):
            raise forms.ValidationError(_("页面已过期，请刷新后重新填写"), code="expired") from None
        if time.time() - served < MIN_FILL_SECONDS:
            raise forms.ValidationError(_("提交过快，请确认内容后再提交"), code="too_fast")
        return data


class TrackForm(forms.Form):
    code = forms.CharField(label=_("查询码"), max_length=12, min_length=10)


class RateForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(5, _("非常满意")), (4, _("满意")), (3, _("基本满意")), (2, _("不满意")), (1, _("非常不满意"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("意见建议"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
