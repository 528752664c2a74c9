"""/audit/: search the audit log (admins and leaders, within their jurisdiction) and export a
search to Excel — the export itself is audited."""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.accounts.models import User
from gridgov.accounts.scope import Scope

from . import clock
from .audit import audit_record
from .audit_selectors import audit_action_choices, audit_events, can_view_audit
from .forms import AuditFilterForm
from .pagination import page_number, paginate

EXPORT_MAX_ROWS = 50_000


def _scope(request: HttpRequest) -> Scope | HttpResponse:
    scope = Scope.for_user(request.user)  # type: ignore[arg-type]
    if not can_view_audit(scope):
        return render(request, "403.html", {"message": _("只有系统管理员和领导可以查看审计日志")}, status=403)
    return scope


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if isinstance(scope, HttpResponse):
        return scope
    form = AuditFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        items = None
        status = 400
    else:
        filters = form.filters() if form.is_bound else {}
        items = paginate(audit_events(scope=scope, **filters), page=page_number(request.GET.get("page")), page_size=50)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": items, "actions": audit_action_choices(scope=scope), "query": request.GET.urlencode()},
        status=status,
    )


def _detail_text(detail: Any) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if isinstance(scope, HttpResponse):
        return scope
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        errors = "；".join(str(m) for msgs in form.errors.values() for m in msgs)
        return render(request, "400.html", {"title": _("导出失败"), "message": errors}, status=400)
    filters = form.filters() if form.is_bound else {}
    qs = audit_events(scope=scope, **filters)
    total = qs.count()
    if total > EXPORT_MAX_ROWS:
        message = _("结果共 %(n)s 条，超过单次导出上限 %(max)s 条，请缩小日期范围后再导出。") % {
            "n": total,
            "max": EXPORT_MAX_ROWS,
        }
        return render(request, "400.html", {"title": _("导出失败"), "message": message}, status=400)
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("审计日志"))
    sheet.append(
        [
            _("时间"),
            _("操作人"),
            _("操作"),
            _("对象类型"),
            _("对象编号"),
            _("对象"),
            _("原因"),
            _("详情"),
            _("IP 地址"),
            _("区域路径"),
        ]
    )
    for event in qs.iterator(chunk_size=2000):
        sheet.append(
            [
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_label,
                event.action,
                event.target_type,
                event.target_id,
                event.target_label,
                event.reason,
                _detail_text(event.detail),
                event.ip or "",
                event.region_path,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    actor = request.user
    assert isinstance(actor, User)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="audit.exported",
            detail={"filters": {k: str(v) for k, v in filters.items() if v}, "rows": total},
            request=request,
            region_path=scope.path or "",
        )
    filename = f"gridgov-audit-{clock.now():%Y%m%d-%H%M%S}.xlsx"
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
