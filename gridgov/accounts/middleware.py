"""Session security for browser sessions: expiry and the second factor.

- Idle timeout (GRIDGOV["SESSION_IDLE_SECONDS"]) and absolute lifetime (SESSION_COOKIE_AGE, counted
  from the login, not from the last request) — 等保 2.0 会话超时.
- A user with a confirmed TOTP device must have passed it in this session; a session that got in
  another way (e.g. the Django admin's own login form) is ended.
- Admins and leaders without 2FA, when GRIDGOV["REQUIRE_2FA"] is on, are sent to set it up and
  can do nothing else until they have.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from gridgov.common import clock
from gridgov.common.audit import audit_record

from .models import TOTPDevice, User
from .twofactor import requires_2fa

AUTH_AT = "gridgov.auth_at"
SEEN_AT = "gridgov.seen_at"
OTP_VERIFIED = "gridgov.otp_verified"
# Refresh the idle clock at most this often: a session write per request would be wasteful.
SEEN_RESOLUTION = 60


def mark_session_start(request: HttpRequest, *, otp_verified: bool = False) -> None:
    ts = int(clock.now().timestamp())
    request.session[AUTH_AT] = ts
    request.session[SEEN_AT] = ts
    if otp_verified:
        request.session[OTP_VERIFIED] = True


def _exempt(path: str) -> bool:
    static = settings.STATIC_URL or "/static/"
    return path.startswith((static, "/healthz", "/i18n/"))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not _exempt(request.path):
            refusal = self._check(request, user)  # type: ignore[arg-type]
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: User) -> HttpResponse | None:
        now = int(clock.now().timestamp())
        session = request.session
        auth_at = int(session.get(AUTH_AT) or now)
        seen_at = int(session.get(SEEN_AT) or now)
        idle = int(str(settings.GRIDGOV["SESSION_IDLE_SECONDS"]))
        lifetime = int(settings.SESSION_COOKIE_AGE)
        if now - seen_at > idle or now - auth_at > lifetime:
            reason = "idle" if now - seen_at > idle else "lifetime"
            return self._end(
                request,
                user,
                action="auth.session_expired",
                detail={"reason": reason},
                message=_("会话已超时，请重新登录。"),
            )
        if AUTH_AT not in session:
            session[AUTH_AT] = auth_at
        if now - seen_at >= SEEN_RESOLUTION or SEEN_AT not in session:
            session[SEEN_AT] = now

        has_device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
        if has_device and not session.get(OTP_VERIFIED):
            return self._end(
                request,
                user,
                action="auth.session_refused_without_2fa",
                detail={},
                message=_("该账号已启用双因素认证，请通过登录页面重新登录。"),
            )
        if not has_device and requires_2fa(user):
            allowed = {reverse("twofactor_setup"), reverse("logout"), reverse("password_change")}
            if request.path in allowed:
                return None
            if _is_api(request):
                return JsonResponse({"detail": _("请先启用双因素认证"), "code": "2fa_required"}, status=403)
            return HttpResponseRedirect(reverse("twofactor_setup") + "?" + urlencode({"next": request.get_full_path()}))
        return None

    def _end(
        self, request: HttpRequest, user: User, *, action: str, detail: dict[str, str], message: str
    ) -> HttpResponse:
        audit_record(actor=user, action=action, target=user, detail=detail, request=request)
        logout(request)
        if _is_api(request):
            return JsonResponse({"detail": message, "code": "unauthenticated"}, status=401)
        messages.warning(request, message)
        login_url = reverse(settings.LOGIN_URL)
        if request.method == "GET":
            return HttpResponseRedirect(login_url + "?" + urlencode({"next": request.get_full_path()}))
        return HttpResponseRedirect(login_url)
