from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .dates import EARLIEST, LATEST, in_range


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("操作人"), max_length=150, required=False)
    action = forms.CharField(label=_("操作"), max_length=64, required=False)
    target = forms.CharField(label=_("对象"), max_length=200, required=False)
    ip = forms.GenericIPAddressField(label=_("IP 地址"), required=False)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            if not in_range(day):
                self.add_error(name, _("日期应在 %(a)s 至 %(b)s 之间") % {"a": EARLIEST, "b": LATEST})
                data[name] = None
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {k: data.get(k) or ("" if k not in ("date_from", "date_to") else None) for k in self.fields}
