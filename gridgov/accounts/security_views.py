"""Screens for sign-in security: login with lock-out, the second-factor step, 2FA setup and
management, API tokens, and lifting lock-outs (admins)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from gridgov.common import clock
from gridgov.common.audit import client_ip
from gridgov.common.errors import DomainError
from gridgov.common.pagination import page_number, paginate

from . import selectors, throttle, tokens, twofactor
from .forms import APITokenCreateForm, OTPForm, ThrottledAuthenticationForm, TOTPConfirmForm
from .middleware import OTP_VERIFIED
from .models import User
from .scope import Scope
from .views import _apply_errors, _user

PENDING = "gridgov.2fa_pending"
# How long the password step stays good while the user fetches their phone.
PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if twofactor.confirmed_device(user) is not None:
            self.request.session[PENDING] = {
                "uid": user.pk,
                "backend": user.backend,
                "at": int(clock.now().timestamp()),
                "next": self.get_success_url(),
            }
            return HttpResponseRedirect(reverse("login_verify"))
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if any(e.code in ("locked", "ip_locked") for e in form.non_field_errors().as_data()):
            response.status_code = 429
        return response


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    data = request.session.get(PENDING)
    if not isinstance(data, dict):
        return None
    if int(clock.now().timestamp()) - int(data.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    uid = data.get("uid")
    if not isinstance(uid, int):
        return None
    user = User.objects.filter(pk=uid, is_active=True).first()
    return (user, data) if user is not None else None


@never_cache
@sensitive_post_parameters("code")
def login_verify(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        messages.warning(request, _("登录已过期，请重新输入用户名和密码。"))
        return redirect("login")
    user, data = pending
    form = OTPForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        lock = throttle.login_lock(username=user.username, ip=client_ip(request))
        if lock is not None:
            request.session.pop(PENDING, None)
            messages.error(request, _("验证失败次数过多，该账号已被临时锁定，请稍后再试或联系系统管理员。"))
            return redirect("login")
        method = twofactor.totp_verify(user=user, code=form.cleaned_data["code"], request=request)
        if method is not None:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=str(data["backend"]))
            request.session[OTP_VERIFIED] = True
            if method == "recovery":
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _("您使用了一个恢复码，还剩 %(n)s 个。请尽快在“双因素认证”页面生成新的恢复码。") % {"n": left},
                )
            return HttpResponseRedirect(_safe_next(request, data.get("next")))
        throttle.login_failure_record(username=user.username, request=request, reason="2fa")
        form.add_error("code", _("验证码不正确或已使用，请输入验证器中当前显示的数字。"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/login_verify.html", {"form": form, "pending_user": user}, status=status)


@login_required
@never_cache
@sensitive_post_parameters("code")
def twofactor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if twofactor.confirmed_device(user) is not None:
        return redirect("twofactor_manage")
    pending = twofactor.pending_setup(user=user)
    if pending is None or (request.method == "GET" and request.GET.get("restart")):
        pending = twofactor.totp_setup_begin(user=user)
    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.totp_setup_confirm(user=user, code=form.cleaned_data["code"], request=request)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            request.session[OTP_VERIFIED] = True
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": _safe_next(request, request.GET.get("next"))},
            )
    return render(
        request,
        "accounts/twofactor_setup.html",
        {
            "form": form,
            "secret": pending.secret,
            "secret_groups": " ".join(pending.secret[i : i + 4] for i in range(0, len(pending.secret), 4)),
            "uri": pending.uri,
            "qr_svg": twofactor.qr_svg(pending.uri),
            "required": twofactor.requires_2fa(user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@sensitive_post_parameters("code")
def twofactor_manage(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    device = twofactor.confirmed_device(user)
    if device is None:
        return redirect("twofactor_setup")
    form = OTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        try:
            if action == "regenerate":
                codes = twofactor.recovery_codes_regenerate(user=user, code=form.cleaned_data["code"], request=request)
                return render(
                    request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("twofactor_manage")}
                )
            if action == "disable":
                twofactor.totp_disable(actor=user, user=user, code=form.cleaned_data["code"], request=request)
                request.session.pop(OTP_VERIFIED, None)
                messages.success(request, _("已停用双因素认证"))
                return redirect("twofactor_setup" if twofactor.requires_2fa(user) else "home")
            form.add_error(None, _("未知操作"))
        except DomainError as exc:
            _apply_errors(form, exc)
    return render(
        request,
        "accounts/twofactor_manage.html",
        {
            "form": form,
            "device": device,
            "left": twofactor.recovery_codes_left(user),
            "required": twofactor.requires_2fa(user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
def api_tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = APITokenCreateForm(request.POST or None)
    issued = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                issued = tokens.api_token_create(
                    actor=user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data.get("expires_in_days"),
                    request=request,
                )
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                form = APITokenCreateForm()
        if form.errors:
            status = 400
    items = tokens.api_token_list(scope=Scope.for_user(user), owner=user)
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "issued": issued, "items": items, "now": clock.now()},
        status=status,
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        tokens.api_token_revoke(actor=_user(request), token_id=token_id, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("令牌已吊销"))
    back = request.POST.get("back")
    return HttpResponseRedirect(_safe_next(request, back) if back else reverse("api_tokens"))


def _admin_refusal(request: HttpRequest) -> HttpResponse | None:
    if not _user(request).is_admin_role:
        return render(request, "403.html", {"message": _("只有系统管理员可以访问此页面")}, status=403)
    return None


@login_required
def api_tokens_admin(request: HttpRequest) -> HttpResponse:
    if (refusal := _admin_refusal(request)) is not None:
        return refusal
    scope = Scope.for_user(_user(request))
    qs = tokens.api_token_list(scope=scope)
    if request.GET.get("active") == "1":
        qs = qs.filter(revoked_at__isnull=True)
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(user__username__icontains=q)
    page = paginate(qs, page=page_number(request.GET.get("page")), page_size=50)
    return render(
        request,
        "accounts/api_tokens_admin.html",
        {"page": page, "q": q, "active": request.GET.get("active", ""), "now": clock.now()},
    )


@login_required
def lockouts(request: HttpRequest) -> HttpResponse:
    if (refusal := _admin_refusal(request)) is not None:
        return refusal
    items = throttle.active_locks(scope=Scope.for_user(_user(request)))
    return render(request, "accounts/lockouts.html", {"items": items})


@login_required
@require_POST
def lockout_unlock(request: HttpRequest, throttle_id: int) -> HttpResponse:
    if (refusal := _admin_refusal(request)) is not None:
        return refusal
    try:
        row = throttle.login_unlock(actor=_user(request), throttle_id=throttle_id, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除对 %(key)s 的锁定") % {"key": row.key})
    return redirect("lockouts")


@login_required
@require_POST
def user_2fa_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    if (refusal := _admin_refusal(request)) is not None:
        return refusal
    actor = _user(request)
    target = get_object_or_404(selectors.user_list(scope=Scope.for_user(actor)), pk=user_id)
    try:
        twofactor.totp_disable(actor=actor, user=target, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重置 %(name)s 的双因素认证，其下次登录时需重新设置") % {"name": target.username})
    return redirect("users")
