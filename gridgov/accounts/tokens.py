"""API tokens for machine clients (`Authorization: Bearer <token>`).

A token acts as its owner: the owner's role and jurisdiction scope every answer, exactly as for
a browser session, so a token can never see more than the person who made it. Only a SHA-256 of
the token is stored (240 random bits, so a plain hash is enough); the token is shown once.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja.security import HttpBearer

from gridgov.common import clock
from gridgov.common.audit import audit_record, client_ip
from gridgov.common.errors import NotFound, PermissionRefused, ValidationFailed

from .models import APIToken, User
from .scope import Scope

TOKEN_PREFIX = "ggv_"
MAX_ACTIVE_TOKENS_PER_USER = 20
MAX_LIFETIME_DAYS = 730
# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _place(user: User) -> str:
    if user.jurisdiction_id and user.jurisdiction is not None:
        return user.jurisdiction.path
    if user.department_id and user.department is not None:
        return user.department.region.path
    return ""


@dataclass(frozen=True)
class IssuedToken:
    token: APIToken
    raw: str


@transaction.atomic
def api_token_create(
    *, actor: User, name: str, expires_in_days: int | None = None, request: HttpRequest | None = None
) -> IssuedToken:
    if not actor.is_active:
        raise PermissionRefused("账号已停用", rule="accounts.inactive")
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["请填写令牌名称（用途）"]
    elif len(name) > 100:
        errors["name"] = ["名称不能超过 100 个字符"]
    if expires_in_days is not None and not (1 <= expires_in_days <= MAX_LIFETIME_DAYS):
        errors["expires_in_days"] = [f"有效期应在 1 到 {MAX_LIFETIME_DAYS} 天之间"]
    now = clock.now()
    active = APIToken.objects.filter(user=actor, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if active.count() >= MAX_ACTIVE_TOKENS_PER_USER:
        errors.setdefault("__all__", []).append(
            f"每个用户最多 {MAX_ACTIVE_TOKENS_PER_USER} 个有效令牌，请先吊销不用的令牌"
        )
    if errors:
        raise ValidationFailed("令牌信息有误", errors=errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = APIToken.objects.create(
        user=actor,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    audit_record(
        actor=actor,
        action="auth.token_created",
        target=token,
        detail={
            "name": name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
        request=request,
        region_path=_place(actor),
    )
    return IssuedToken(token=token, raw=raw)


def api_token_list(*, scope: Scope, owner: User | None = None) -> QuerySet[APIToken]:
    """Tokens the viewer may see: their own, or — for admins — every token of a user inside the
    admin's jurisdiction."""
    if scope.is_empty:
        return APIToken.objects.none()
    qs = APIToken.objects.select_related("user", "user__jurisdiction", "user__department__region", "revoked_by")
    if owner is not None:
        return qs.filter(user=owner)
    if scope.role != "admin":
        return qs.filter(user_id=scope.user_id or 0)
    return qs.filter(
        Q(user__jurisdiction__path__startswith=scope.path) | Q(user__department__region__path__startswith=scope.path)
    )


@transaction.atomic
def api_token_revoke(*, actor: User, token_id: int, request: HttpRequest | None = None) -> APIToken:
    token = APIToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
    if token is None:
        raise NotFound("令牌不存在", rule="tokens.not_found")
    if token.user_id != actor.pk:
        if not actor.is_admin_role:
            raise NotFound("令牌不存在", rule="tokens.not_found")
        if not Scope.for_user(actor).covers(_place(token.user)):
            # Same answer as a missing token: guessing ids reveals nothing outside one's jurisdiction.
            raise NotFound("令牌不存在", rule="tokens.not_found")
    if token.revoked_at is not None:
        raise ValidationFailed("该令牌已吊销", rule="tokens.already_revoked")
    token.revoked_at = clock.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="auth.token_revoked",
        target=token,
        detail={"owner": token.user.username, "prefix": token.prefix},
        request=request,
        region_path=_place(token.user),
    )
    return token


@dataclass
class _Known:
    key: tuple[str, ...]
    token: APIToken


# token hash → the token row with its owner, jurisdiction and department, valid while the "auth",
# "regions" and "cases" version tokens stand (gridgov.cases.config: database triggers replace
# them on any change to tokens, users, departments or regions, so a revocation or a deactivated
# owner is refused at the very next request of every process).
_known: dict[str, _Known] = {}
_KNOWN_MAX = 10_000


def api_token_authenticate(raw: str, *, request: HttpRequest | None = None) -> User | None:
    """The active owner of a valid, unrevoked, unexpired token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    from gridgov.cases import config

    now = clock.now()
    digest = hash_token(raw)
    snap = config.snapshot()
    if request is not None:
        config.remember(request, snap)
    key = snap.key("auth", "regions", "cases")
    known = _known.get(digest)
    if known is None or key is None or known.key != key:
        # The owner's jurisdiction and department come with it: every endpoint scopes by them.
        row = (
            APIToken.objects.select_related("user__jurisdiction", "user__department").filter(token_hash=digest).first()
        )
        if row is None:
            return None
        known = _Known(key=key or (), token=row)
        if key is not None:
            if len(_known) >= _KNOWN_MAX:
                _known.clear()
            _known[digest] = known
    token = known.token
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=client_ip(request))
        token.last_used_at = now
    # A copy per request: the cached row is shared by the process's threads.
    return copy.copy(token.user)


class BearerTokenAuth(HttpBearer):
    """django-ninja auth: `Authorization: Bearer ggv_…`. Sets request.user to the owner so every
    endpoint's `Scope.for_user(request.user)` applies unchanged; no CSRF (no cookie involved)."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token, request=request)
        if user is None:
            return None
        request.user = user
        return user


bearer_token_auth = BearerTokenAuth()
