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


# Chinese names for the actions the platform writes; an action not listed shows its code.
ACTION_LABELS: dict[str, str] = {
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.login_failed": "登录失败",
    "auth.locked_out": "账号锁定",
    "auth.ip_locked_out": "地址锁定",
    "auth.unlocked": "解除锁定",
    "auth.session_expired": "会话超时",
    "auth.session_refused_without_2fa": "未经双因素认证的会话被终止",
    "auth.password_changed": "修改密码",
    "auth.2fa_enabled": "启用双因素认证",
    "auth.2fa_setup_failed": "双因素认证设置失败",
    "auth.2fa_failed": "双因素验证失败",
    "auth.2fa_recovery_used": "使用恢复码",
    "auth.2fa_recovery_regenerated": "重新生成恢复码",
    "auth.2fa_disabled": "停用双因素认证",
    "auth.2fa_reset": "重置双因素认证",
    "auth.token_created": "创建 API 令牌",
    "auth.token_revoked": "吊销 API 令牌",
    "accounts.user_created": "创建用户",
    "accounts.permission_changed": "权限变更",
    "accounts.user_activated": "启用用户",
    "accounts.user_deactivated": "停用用户",
    "accounts.department_created": "创建部门",
    "accounts.team_member_added": "加入网格团队",
    "admin.config_added": "配置新增",
    "admin.config_changed": "配置修改",
    "admin.config_deleted": "配置删除",
    "audit.exported": "导出审计日志",
    "audit.archived": "审计日志归档",
    "system.backup": "数据库备份",
    "system.restored": "数据库恢复",
}
