"""Reads of the audit log, always through the viewer's scope.

Admins and leaders see the events that happened inside their jurisdiction (the event's region
path) or were done by someone seated inside it (the actor's jurisdiction or department mandate).
Events tied to no place and no account — failed logins for names that do not exist, address
lock-outs — are shown to the installation's district-level viewers only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from gridgov.accounts.models import Role
from gridgov.accounts.scope import Scope

from .models import AuditEvent

AUDIT_VIEWER_ROLES = {Role.ADMIN, Role.LEADER}


def can_view_audit(scope: Scope) -> bool:
    return not scope.is_empty and scope.role in AUDIT_VIEWER_ROLES


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(
    *,
    scope: Scope,
    actor: str = "",
    action: str = "",
    target: str = "",
    ip: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    if not can_view_audit(scope) or scope.path is None:
        return AuditEvent.objects.none()
    visible = (
        Q(region_path__startswith=scope.path)
        | Q(actor__jurisdiction__path__startswith=scope.path)
        | Q(actor__department__region__path__startswith=scope.path)
    )
    if scope.path == f"/{settings.GRIDGOV['DISTRICT_CODE']}/":
        visible |= Q(region_path="", actor__isnull=True)
    qs = AuditEvent.objects.filter(visible)
    if actor:
        qs = qs.filter(Q(actor_label__icontains=actor) | Q(actor__display_name__icontains=actor))
    if action:
        qs = qs.filter(action__startswith=action)
    if target:
        qs = qs.filter(Q(target_label__icontains=target) | Q(target_id=target) | Q(detail__icontains=target))
    if ip:
        qs = qs.filter(ip=ip)
    if date_from:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return qs.select_related("actor").order_by("-at", "-id")


def audit_action_choices(*, scope: Scope) -> list[str]:
    """The distinct actions present in the viewer's part of the log (for the filter's list)."""
    return sorted(set(audit_events(scope=scope).order_by().values_list("action", flat=True).distinct()))
