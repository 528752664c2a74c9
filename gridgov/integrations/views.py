"""Admin screens under /integrations/: Open311 API keys, 12345/110 channels, sensor feeds and
webhook subscriptions (each secret shown once, on the page that created it — never put in a
cookie or a redirect), the delivery log, and the 12345 xlsx batch import for centre operators."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.common.errors import DomainError
from gridgov.common.pagination import page_number, paginate

from . import channels, outbox
from .forms import HotlineChannelForm, ImportForm, Open311KeyForm, SensorFeedForm, WebhookSubscriptionForm
from .hotline_12345.services import COLUMNS, orders_import_xlsx
from .models import HotlineChannel, Open311Key, OutboxMessage, OutboxStatus, SensorFeed, WebhookSubscription
from .open311 import services as open311_services

FORMS: dict[str, type[Form]] = {
    "key": Open311KeyForm,
    "channel": HotlineChannelForm,
    "feed": SensorFeedForm,
    "subscription": WebhookSubscriptionForm,
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _admin_scope(request: HttpRequest) -> Scope:
    user = _user(request)
    if not user.is_admin_role:
        raise PermissionDenied(_("只有系统管理员可以管理对外接口"))
    return Scope.for_user(user)


def _apply(form: Form, exc: DomainError) -> None:
    for field, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)
    if not exc.errors:
        form.add_error(None, exc.message)


def _in_scope(qs: QuerySet[Any], scope: Scope) -> QuerySet[Any]:
    return scope.filter(qs, field="jurisdiction__path")


def _create(kind: str, actor: User, data: dict[str, Any], request: HttpRequest) -> tuple[str, str]:
    if kind == "key":
        issued = open311_services.open311_key_create(actor=actor, request=request, **data)
        return _("Open311 API 密钥「%(name)s」") % {"name": issued.key.name}, issued.raw
    if kind == "channel":
        made = channels.hotline_channel_create(actor=actor, request=request, **data)
    elif kind == "feed":
        made = channels.sensor_feed_create(actor=actor, request=request, **data)
    else:
        made = channels.webhook_subscription_create(actor=actor, request=request, **data)
    return _("「%(name)s」的共享密钥") % {"name": made.obj.name}, made.secret


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = _admin_scope(request)
    actor = _user(request)
    kind = request.POST.get("form", "") if request.method == "POST" else ""
    forms = {k: cls(request.POST if k == kind else None, prefix=k) for k, cls in FORMS.items()}
    issued: tuple[str, str] | None = None
    status = 200
    if kind in forms:
        form = forms[kind]
        if form.is_valid():
            try:
                issued = _create(kind, actor, dict(form.cleaned_data), request)
            except DomainError as exc:
                _apply(form, exc)
            else:
                forms[kind] = FORMS[kind](prefix=kind)
        if form.errors:
            status = 400
    elif request.method == "POST":
        status = 400
    context = {
        "forms": forms,
        "issued": issued,
        "keys": _in_scope(Open311Key.objects.select_related("jurisdiction", "acting_user"), scope),
        "channels": _in_scope(HotlineChannel.objects.select_related("jurisdiction"), scope),
        "feeds": _in_scope(SensorFeed.objects.select_related("jurisdiction"), scope),
        "subscriptions": _in_scope(WebhookSubscription.objects.select_related("jurisdiction"), scope),
        "failed": _outbox(scope).filter(status=OutboxStatus.FAILED).count(),
        "pending": _outbox(scope).filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).count(),
    }
    # The page shows a secret: never cache it anywhere.
    response = render(request, "integrations/home.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _admin_scope(request)
    key = get_object_or_404(_in_scope(Open311Key.objects.all(), scope), pk=pk)
    try:
        open311_services.open311_key_revoke(actor=_user(request), key=key, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已吊销密钥 %(prefix)s…") % {"prefix": key.prefix})
    return redirect("integrations:home")


TOGGLE_MODELS: dict[str, type[HotlineChannel] | type[SensorFeed] | type[WebhookSubscription]] = {
    "channel": HotlineChannel,
    "feed": SensorFeed,
    "subscription": WebhookSubscription,
}


@login_required
@require_POST
def toggle(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    scope = _admin_scope(request)
    model = TOGGLE_MODELS.get(kind)
    if model is None:
        raise Http404
    obj = get_object_or_404(_in_scope(model.objects.select_related("jurisdiction"), scope), pk=pk)
    try:
        channels.set_active(actor=_user(request), obj=obj, active=not obj.is_active, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("integrations:home")


def _outbox(scope: Scope) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        Q(subscription__jurisdiction__path__startswith=scope.path or "\x00")
        | Q(channel__jurisdiction__path__startswith=scope.path or "\x00")
    )


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    scope = _admin_scope(request)
    status = request.GET.get("status", "")
    qs = _outbox(scope).select_related("subscription", "channel", "case").prefetch_related("attempt_log")
    if status in OutboxStatus.values:
        qs = qs.filter(status=status)
    page = paginate(qs.order_by("-created_at", "-id"), page=page_number(request.GET.get("page")), page_size=50)
    return render(
        request,
        "integrations/deliveries.html",
        {"page": page, "status": status, "statuses": OutboxStatus.choices},
    )


@login_required
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _admin_scope(request)
    message = get_object_or_404(_outbox(scope), pk=pk)
    outbox.retry_now(message=message)
    messages.success(request, _("已重新排队发送"))
    return redirect("integrations:deliveries")


@login_required
def hotline_import(request: HttpRequest, code: str) -> HttpResponse:
    """12345/110 batch import: admins, and centre operators whose jurisdiction covers the channel."""
    user = _user(request)
    channel = get_object_or_404(HotlineChannel.objects.select_related("jurisdiction"), code=code)
    scope = Scope.for_user(user)
    allowed = user.role in (Role.ADMIN, Role.CENTER_OPERATOR) and (
        scope.covers(channel.jurisdiction.path) or channel.jurisdiction.path.startswith(scope.path or "\x00")
    )
    if not allowed:
        raise PermissionDenied(_("只有该辖区的综治中心坐席或系统管理员可以导入工单"))
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = orders_import_xlsx(channel=channel, content=upload.read())
        except DomainError as exc:
            _apply(form, exc)
        if report is not None and report.errors:
            status = 400
    if form.errors:
        status = 400
    return render(
        request,
        "integrations/import.html",
        {"channel": channel, "form": form, "report": report, "columns": list(COLUMNS)},
        status=status,
    )
