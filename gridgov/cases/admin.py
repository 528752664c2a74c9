"""Django admin for the case loop's configuration: the category code table, SLA limits and
routing rules. Cases themselves change only through services (states.py), never here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from gridgov.common.audit import audit_record

from .models import Case, CaseCategory, RoutingRule, SlaPolicy


class AuditedConfigAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Configuration changes are audited like permission changes (等保 2.0)."""

    def save_model(self, request: HttpRequest, obj: object, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        audit_record(
            actor=request.user,
            action=f"cases.config_{'changed' if change else 'added'}",
            target=obj,
            detail={"model": type(obj).__name__},
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: object) -> None:
        audit_record(
            actor=request.user, action="cases.config_deleted", target=obj, detail={"model": type(obj).__name__}
        )
        super().delete_model(request, obj)  # type: ignore[arg-type]


class SlaInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SlaPolicy
    extra = 0


@admin.register(CaseCategory)
class CaseCategoryAdmin(AuditedConfigAdmin):
    list_display = ("code", "name", "parent", "sort", "is_active")
    list_filter = ("is_active", "parent")
    search_fields = ("code", "name", "keywords")
    inlines = [SlaInline]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Categories are referenced by cases; retire them with "启用" instead.
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedConfigAdmin):
    list_display = ("category", "urgency", "sign_limit", "sign_unit", "handle_limit", "handle_unit")
    list_filter = ("urgency",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedConfigAdmin):
    list_display = ("category", "region", "department", "auto_dispatch", "priority", "is_active")
    list_filter = ("auto_dispatch", "is_active")
    autocomplete_fields = ("category",)
    raw_id_fields = ("region",)
    filter_horizontal = ("assist_departments",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: for support staff to look a case up; every change goes through the services."""

    list_display = ("number", "state", "category", "source", "reported_at", "deadline")
    list_filter = ("state", "source", "urgency")
    search_fields = ("number",)
    list_select_related = ("category",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
