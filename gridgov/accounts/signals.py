from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from gridgov.common.audit import audit_record

from .models import User
from .throttle import _place_of, login_failure_record, login_success_reset


@receiver(user_logged_in)
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="auth.login", target=user, request=request)
    login_success_reset(username=user.get_username())
    if request is not None and hasattr(request, "session"):
        from .middleware import mark_session_start

        mark_session_start(request)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user, request=request)


@receiver(user_login_failed)
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    known = User.objects.filter(username=username).select_related("jurisdiction", "department__region").first()
    audit_record(
        actor=None,
        action="auth.login_failed",
        target=known,
        detail={"username": username},
        request=request,
        region_path=_place_of(known),
    )
    login_failure_record(username=username, request=request)
