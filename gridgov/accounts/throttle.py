"""Login throttling and lock-out, counted in the database so every worker process agrees.

Two counters per attempt: the username (case-folded, whether or not such an account exists) and
the client address. A username reaching LOGIN_FAILURE_LIMIT failures within the window is locked
for LOGIN_LOCKOUT_SECONDS; an address reaching LOGIN_IP_FAILURE_LIMIT is refused likewise (one
machine trying many names). Wrong second-factor codes count as failures of the username too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from gridgov.common import clock
from gridgov.common.audit import audit_record, client_ip
from gridgov.common.errors import PermissionRefused

from .models import LoginThrottle, ThrottleKind, User
from .scope import Scope


def _conf(name: str) -> int:
    value: Any = settings.GRIDGOV[name]
    return int(value)


def normalise_username(username: str) -> str:
    return (username or "").strip().casefold()[:150]


@dataclass(frozen=True)
class Lock:
    kind: str
    key: str
    until: dt.datetime


def login_lock(*, username: str, ip: str | None, now: dt.datetime | None = None) -> Lock | None:
    """The lock that refuses this attempt, if any (the username's first, then the address's)."""
    now = now or clock.now()
    pairs = [(ThrottleKind.USERNAME, normalise_username(username))]
    if ip:
        pairs.append((ThrottleKind.IP, ip))
    for kind, key in pairs:
        if not key:
            continue
        row = LoginThrottle.objects.filter(kind=kind, key=key, locked_until__gt=now).first()
        if row is not None and row.locked_until is not None:
            return Lock(kind=kind, key=key, until=row.locked_until)
    return None


def _bump(kind: str, key: str, limit: int, now: dt.datetime) -> LoginThrottle | None:
    """Count one failure; returns the row if this failure started a lock-out."""
    window = dt.timedelta(seconds=_conf("LOGIN_FAILURE_WINDOW_SECONDS"))
    row, _ = LoginThrottle.objects.get_or_create(
        kind=kind, key=key, defaults={"window_started_at": now, "updated_at": now}
    )
    # Lock the row: two workers counting the same name must not both read 4 and write 5.
    row = LoginThrottle.objects.select_for_update().get(pk=row.pk)
    if row.locked_until is not None and row.locked_until > now:
        return None  # already locked; attempts while locked do not extend the lock
    if row.window_started_at <= now - window or (row.locked_until is not None and row.locked_until <= now):
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    row.updated_at = now
    started = False
    if row.failures >= limit:
        row.locked_until = now + dt.timedelta(seconds=_conf("LOGIN_LOCKOUT_SECONDS"))
        started = True
    row.save(update_fields=["failures", "window_started_at", "locked_until", "updated_at"])
    return row if started else None


def _place_of(user: User | None) -> str:
    if user is None:
        return ""
    if user.jurisdiction_id and user.jurisdiction is not None:
        return user.jurisdiction.path
    if user.department_id and user.department is not None:
        return user.department.region.path
    return ""


@transaction.atomic
def login_failure_record(*, username: str, request: HttpRequest | None, reason: str = "password") -> None:
    """Count a failed attempt (wrong password or wrong second-factor code) and audit a lock-out."""
    now = clock.now()
    name = normalise_username(username)
    ip = client_ip(request)
    if name:
        locked = _bump(ThrottleKind.USERNAME, name, _conf("LOGIN_FAILURE_LIMIT"), now)
        if locked is not None:
            user = User.objects.filter(username__iexact=name).select_related("jurisdiction", "department").first()
            audit_record(
                actor=None,
                action="auth.locked_out",
                target=user,
                detail={
                    "username": name,
                    "failures": locked.failures,
                    "until": locked.locked_until.isoformat() if locked.locked_until else None,
                    "cause": reason,
                },
                request=request,
                region_path=_place_of(user),
            )
    if ip:
        locked = _bump(ThrottleKind.IP, ip, _conf("LOGIN_IP_FAILURE_LIMIT"), now)
        if locked is not None:
            audit_record(
                actor=None,
                action="auth.ip_locked_out",
                detail={
                    "ip": ip,
                    "failures": locked.failures,
                    "until": locked.locked_until.isoformat() if locked.locked_until else None,
                },
                request=request,
            )


@transaction.atomic
def login_success_reset(*, username: str) -> None:
    # Only the username's counter: a success from an address must not clear that address's
    # count, or one valid account would let a machine guess other names forever.
    LoginThrottle.objects.filter(kind=ThrottleKind.USERNAME, key=normalise_username(username)).delete()


def active_locks(*, scope: Scope, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Current lock-outs an admin may lift: usernames of accounts inside the admin's jurisdiction
    (and, for a district-level admin, unknown names and client addresses too)."""
    now = now or clock.now()
    rows = list(LoginThrottle.objects.filter(locked_until__gt=now).order_by("-locked_until"))
    names = [r.key for r in rows if r.kind == ThrottleKind.USERNAME]
    users = {
        u.username.casefold(): u
        for u in User.objects.filter(username__in=names).select_related("jurisdiction", "department__region")
    }
    top_level = scope.depth == 0
    out: list[dict[str, Any]] = []
    for row in rows:
        user = users.get(row.key) if row.kind == ThrottleKind.USERNAME else None
        if user is not None:
            if not scope.covers(_place_of(user)):
                continue
        elif not top_level:
            continue
        out.append({"row": row, "user": user})
    return out


@transaction.atomic
def login_unlock(*, actor: User, throttle_id: int, request: HttpRequest | None = None) -> LoginThrottle:
    if not actor.is_admin_role:
        raise PermissionRefused("只有系统管理员可以解除锁定", rule="accounts.admin_only")
    scope = Scope.for_user(actor)
    allowed = {item["row"].pk for item in active_locks(scope=scope)}
    row = LoginThrottle.objects.select_for_update().filter(pk=throttle_id).first()
    if row is None or row.pk not in allowed:
        raise PermissionRefused("该锁定记录不存在或不在您的辖区内", rule="scope.jurisdiction")
    user = (
        User.objects.filter(username__iexact=row.key).select_related("jurisdiction", "department").first()
        if row.kind == ThrottleKind.USERNAME
        else None
    )
    audit_record(
        actor=actor,
        action="auth.unlocked",
        target=user,
        detail={
            "kind": row.kind,
            "key": row.key,
            "was_locked_until": row.locked_until.isoformat() if row.locked_until else None,
        },
        request=request,
        region_path=_place_of(user),
    )
    row.failures = 0
    row.locked_until = None
    row.window_started_at = clock.now()
    row.updated_at = row.window_started_at
    row.save(update_fields=["failures", "locked_until", "window_started_at", "updated_at"])
    return row
