from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridgov.common.errors import DomainError
from gridgov.common.pagination import page_number, paginate

from . import selectors, services
from .forms import DepartmentCreateForm, PasswordChangeForm, UserCreateForm
from .models import Role, TOTPDevice, User
from .scope import Scope


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _apply_errors(form: Form, exc: DomainError) -> None:
    for field, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)
    if not exc.errors:
        form.add_error(None, exc.message)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_change_password(
                user=_user(request),
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改"))
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200)


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    if not _user(request).is_admin_role:
        return render(request, "403.html", {"message": _("只有系统管理员可以访问此页面")}, status=403)
    return None


@login_required
def users(request: HttpRequest) -> HttpResponse:
    if (refusal := _admin_only(request)) is not None:
        return refusal
    actor = _user(request)
    scope = Scope.for_user(actor)
    form = UserCreateForm(request.POST or None, departments=selectors.department_list(scope=scope))
    if request.method == "POST" and form.is_valid():
        try:
            created = services.user_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已创建用户 %(name)s") % {"name": created.username})
            return redirect("users")
    q = request.GET.get("q", "")
    role = request.GET.get("role", "")
    page = paginate(
        selectors.user_list(scope=scope, q=q, role=role), page=page_number(request.GET.get("page")), page_size=50
    )
    with_2fa = set(
        TOTPDevice.objects.filter(user__in=[u.pk for u in page.items], confirmed_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    return render(
        request,
        "accounts/users.html",
        {"form": form, "page": page, "q": q, "role": role, "roles": Role.choices, "with_2fa": with_2fa},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def user_toggle_active(request: HttpRequest, user_id: int) -> HttpResponse:
    if (refusal := _admin_only(request)) is not None:
        return refusal
    target = get_object_or_404(selectors.user_list(scope=Scope.for_user(_user(request))), pk=user_id)
    try:
        services.user_set_active(actor=_user(request), user=target, active=not target.is_active)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("users")


@login_required
def departments(request: HttpRequest) -> HttpResponse:
    if (refusal := _admin_only(request)) is not None:
        return refusal
    actor = _user(request)
    form = DepartmentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.department_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已创建部门"))
            return redirect("departments")
    items = selectors.department_list(scope=Scope.for_user(actor))
    return render(
        request, "accounts/departments.html", {"form": form, "items": items}, status=400 if form.errors else 200
    )
