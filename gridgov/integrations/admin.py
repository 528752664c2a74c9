"""Django admin as configuration for the adapters: service attributes, keys, channels, feeds and
subscriptions (secrets and key hashes are never shown or edited here — create them on the
/integrations/ screen, which shows them once), and the delivery log read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gridgov.common.audit import audit_record

from .models import (
    DeliveryAttempt,
    ExternalOrder,
    HotlineChannel,
    Open311Key,
    OutboxMessage,
    SensorAlert,
    SensorFeed,
    ServiceAttribute,
    WebhookSubscription,
)


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"integrations.config_{'changed' if change else 'added'}",
            target=obj,
            detail={"model": type(obj).__name__},
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user,
            action="integrations.config_deleted",
            target=obj,
            detail={"model": type(obj).__name__},
            request=request,
        )
        super().delete_model(request, obj)


class CreatedOnScreenAdmin(AuditedAdmin):
    """Rows carrying a secret are created on /integrations/ (the secret is shown once there)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(AuditedAdmin):
    list_display = ("category", "code", "datatype", "required", "order", "is_active")
    list_filter = ("datatype", "required", "is_active")
    search_fields = ("code", "description", "category__code", "category__name")
    autocomplete_fields = ("category",)


@admin.register(Open311Key)
class Open311KeyAdmin(CreatedOnScreenAdmin):
    list_display = ("name", "prefix", "jurisdiction", "source", "response_mode", "last_used_at", "revoked_at")
    list_filter = ("source", "response_mode")
    search_fields = ("name", "prefix")
    fields = (
        "name",
        "prefix",
        "jurisdiction",
        "source",
        "acting_user",
        "response_mode",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "jurisdiction", "source", "acting_user", "created_at", "last_used_at", "revoked_at")


@admin.register(HotlineChannel)
class HotlineChannelAdmin(CreatedOnScreenAdmin):
    list_display = ("code", "name", "system", "jurisdiction", "push_url", "is_active")
    fields = ("code", "name", "system", "jurisdiction", "push_url", "is_active", "created_at")
    readonly_fields = ("code", "system", "jurisdiction", "created_at")


@admin.register(SensorFeed)
class SensorFeedAdmin(CreatedOnScreenAdmin):
    list_display = ("code", "name", "jurisdiction", "dedup_minutes", "is_active")
    fields = ("code", "name", "jurisdiction", "type_map", "dedup_minutes", "is_active", "created_at")
    readonly_fields = ("code", "jurisdiction", "created_at")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(CreatedOnScreenAdmin):
    list_display = ("name", "url", "jurisdiction", "is_active")
    fields = ("name", "url", "events", "jurisdiction", "is_active", "created_at")
    readonly_fields = ("jurisdiction", "created_at")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExternalOrder)
class ExternalOrderAdmin(ReadOnlyAdmin):
    list_display = ("system", "external_id", "case", "deliveries", "received_at", "updated_at", "last_pushed_state")
    search_fields = ("external_id", "case__number")
    list_filter = ("system",)


@admin.register(SensorAlert)
class SensorAlertAdmin(ReadOnlyAdmin):
    list_display = ("feed", "device_id", "alert_type", "occurred_at", "case", "outcome")
    list_filter = ("outcome", "alert_type")
    search_fields = ("device_id", "alert_id", "case__number")


class AttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "succeeded", "status_code", "error", "duration_ms")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "event_name", "case", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("kind", "status")
    inlines = (AttemptInline,)
