"""The Django admin site, with every add/change/delete written to the audit log.

Django admin is the configuration screen (code tables, task queues, history). Its own LogEntry is
editable by superusers and is not scoped; the audit log is append-only and searchable per
jurisdiction, so each admin action is copied there in the same transaction. Every ModelAdmin
registered on this site — gridgov's and third-party apps' — gets the audit hook mixed in, and the
admin's login page hands over to gridgov's own (lock-out and two-factor).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from .audit import audit_record

ACTIONS = {"addition": "admin.config_added", "change": "admin.config_changed", "deletion": "admin.config_deleted"}


def _label(model: type[Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


class AuditedModelAdminMixin:
    def _audit(self, request: HttpRequest, obj: Model, kind: str, message: Any = "") -> None:
        audit_record(
            actor=request.user,
            action=ACTIONS[kind],
            target=obj,
            detail={
                "model": _label(type(obj)),
                "change": message if isinstance(message, (str, list)) else str(message),
            },
            request=request,
        )

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "addition", message)
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "change", message)
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deletion")
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class GridgovAdminSite(admin.AdminSite):
    site_header = "gridgov 配置管理"
    site_title = "gridgov"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, AuditedModelAdminMixin):
            base = type(f"Audited{base.__name__}", (AuditedModelAdminMixin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(reverse("login") + "?" + urlencode({"next": target}))
