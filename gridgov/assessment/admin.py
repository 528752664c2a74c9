"""Admin for the assessment configuration (schemes, indicators, thresholds). Results are never
edited here: they come from `assessment_compute` and freeze on publication."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from gridgov.common.audit import audit_record

from . import indicators, services
from .models import Indicator, Scheme


class IndicatorForm(forms.ModelForm):  # type: ignore[type-arg]
    compute_key = forms.ChoiceField(label="计算口径", required=False)

    class Meta:
        model = Indicator
        fields = ["scheme", "code", "name", "group", "compute_key", "params", "direction", "normalise", "weight",
                  "full_at", "zero_at", "min_sample", "description", "sort", "is_active"]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["compute_key"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "（过程指标：自评）"), *indicators.choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        errors = services.validate_indicator(
            group=data.get("group", ""),
            compute_key=data.get("compute_key", ""),
            direction=data.get("direction", ""),
            weight=data.get("weight") or 0,
            full_at=data.get("full_at") or 0,
            zero_at=data.get("zero_at") or 0,
        )
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)
        return data


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"assessment.config_{'changed' if change else 'added'}",
            target=obj,
            detail={"model": type(obj).__name__},
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user, action="assessment.config_deleted", target=obj, detail={"model": type(obj).__name__}
        )
        super().delete_model(request, obj)


class IndicatorInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Indicator
    form = IndicatorForm
    extra = 0
    fields = ["code", "name", "group", "compute_key", "params", "direction", "normalise", "weight", "full_at",
              "zero_at", "min_sample", "sort", "is_active"]  # fmt: skip


@admin.register(Scheme)
class SchemeAdmin(AuditedAdmin):
    list_display = ["name", "region", "is_active", "red_min_score", "yellow_below", "black_below"]
    inlines = [IndicatorInline]


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    form = IndicatorForm
    list_display = ["code", "name", "group", "compute_key", "direction", "weight", "full_at", "zero_at", "min_sample"]
    list_filter = ["scheme", "group", "is_active"]
