"""The authentication backend: Django's ModelBackend behind the lock-out check.

Putting the check here (not only in the login form) covers every way in — the login page, the
Django admin's login, `authenticate()` from anywhere — so a locked name cannot be tried elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from gridgov.common.audit import client_ip

from .throttle import login_lock


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get("username", "")
        if login_lock(username=username or "", ip=client_ip(request)) is not None:
            # PermissionDenied stops authenticate() at once: no other backend is tried and the
            # password is not even checked while the lock holds.
            raise PermissionDenied("locked")
        return super().authenticate(request, username=username, password=password, **kwargs)
