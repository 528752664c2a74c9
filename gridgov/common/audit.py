"""Write audit events. Call inside the transaction of the act being audited, so an act that
rolls back leaves no audit row claiming it happened — and an act never commits unaudited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import clock
from .models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: Any,
    action: str,
    target: Any = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    region_path: str = "",
) -> AuditEvent:
    actor_obj = actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None
    target_type = target_id = target_label = ""
    if target is not None:
        target_type = type(target).__name__
        target_id = str(getattr(target, "pk", "") or "")
        target_label = str(target)[:200]
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=actor_obj,
        actor_label=(str(actor_obj.get_username()) if actor_obj else "")[:150],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        reason=reason[:500],
        detail=detail or {},
        ip=client_ip(request),
        region_path=region_path or getattr(target, "region_path", "") or getattr(target, "path", "") or "",
    )
