"""Assessment screens: months, ranking with 红黄黑榜, a region's score card, the drill-down to the
records behind an indicator score, grid-worker scores, process self-assessment and review, and the
monthly report (xlsx / PDF)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import DomainError
from gridgov.common.pagination import page_number, paginate
from gridgov.regions.models import Level, Region

from . import indicators, reports, selectors, services
from .models import Assessment, EntryState, ListColour

PROCESS_ROLES = frozenset({Role.CENTER_OPERATOR, Role.LEADER, Role.ADMIN})


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    template = {403: "403.html", 404: "404.html"}.get(exc.status, "400.html")
    return render(request, template, {"message": exc.message, "errors": exc.errors}, status=exc.status)


def _assessment(request: HttpRequest, pk: int) -> Assessment:
    return selectors.assessment_get(scope=_scope(request), pk=pk)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    scheme = selectors.scheme_for(scope=scope)
    items = list(selectors.assessment_list(scope=scope)[:36])
    assessor = scheme is not None and services.is_assessor(_user(request), scheme.region)
    if not assessor:
        items = [a for a in items if a.is_published]
    latest = next((a for a in items if a.is_published), None)
    context = {
        "scheme": scheme,
        "items": items,
        "latest": latest,
        "assessor": assessor,
        "default_month": services.previous_month(clock.today()).strftime("%Y-%m"),
    }
    return render(request, "assessment/index.html", context)


@login_required
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    scheme = selectors.scheme_for(scope=scope)
    try:
        if scheme is None:
            raise services.ValidationFailed("尚未建立考核方案", field="scheme")
        month = services.parse_month(request.POST.get("month", ""))
        result = services.assessment_compute(actor=_user(request), scheme=scheme, month=month)
    except DomainError as exc:
        return _error(request, exc)
    messages.success(
        request, f"{month:%Y年%m月}试算完成：{result.villages} 个村社、{result.towns} 个镇街、{result.workers} 名网格员"
    )
    return redirect("assessment:detail", result.assessment.pk)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        assessment = services.assessment_publish(actor=_user(request), assessment=_assessment(request, pk))
    except DomainError as exc:
        return _error(request, exc)
    messages.success(request, f"{assessment.month:%Y年%m月}考核已发布，结果已冻结")
    return redirect("assessment:detail", assessment.pk)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    try:
        assessment = _assessment(request, pk)
        if not assessment.is_published and not services.is_assessor(_user(request), assessment.region):
            raise services.PermissionRefused("试算结果仅区级综治中心可见，发布后公开", rule="assessment.draft")
    except DomainError as exc:
        return _error(request, exc)
    level = request.GET.get("level", "")
    if level not in (Level.STREET, Level.COMMUNITY):
        level = Level.STREET if scope.depth <= 0 else Level.COMMUNITY
    town = request.GET.get("town", "")
    within = ""
    if town:
        region = Region.objects.filter(code=town, level=Level.STREET).first()
        within = region.path if region else "/nowhere/"
    colour = request.GET.get("list", "")
    rows = selectors.region_scores(scope=scope, assessment=assessment, level=level, within=within)
    if colour in ListColour.values:
        rows = rows.filter(list_colour=colour)
    page = paginate(rows, page=page_number(request.GET.get("page")), page_size=100)
    all_rows = selectors.region_scores(scope=scope, assessment=assessment, level=level, within=within)
    counts = {c: all_rows.filter(list_colour=c).count() for c in ListColour.values}
    towns = selectors.region_scores(scope=scope, assessment=assessment, level=Level.STREET) if level else []
    context = {
        "assessment": assessment,
        "page": page,
        "level": level,
        "town": town,
        "towns": towns,
        "colour": colour,
        "counts": counts,
        "assessor": services.is_assessor(_user(request), assessment.region),
        "rules": assessment.rules,
        "scheme_indicators": assessment.scheme.indicators.filter(is_active=True).order_by("group", "sort"),
    }
    return render(request, "assessment/detail.html", context)


@login_required
def region(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    scope = _scope(request)
    try:
        assessment = _assessment(request, pk)
        if not assessment.is_published and not services.is_assessor(_user(request), assessment.region):
            raise services.PermissionRefused("试算结果仅区级综治中心可见，发布后公开", rule="assessment.draft")
        score = selectors.region_score_get(scope=scope, assessment=assessment, code=code)
    except DomainError as exc:
        return _error(request, exc)
    lines = list(selectors.indicator_scores(region_score=score))
    for ln in lines:
        kind = indicators.get(ln.compute_key)
        ln.formula = kind.formula if kind else ""  # type: ignore[attr-defined]
    context = {"assessment": assessment, "score": score, "lines": lines}
    return render(request, "assessment/region.html", context)


@login_required
def drill(request: HttpRequest, pk: int, code: str, indicator: str) -> HttpResponse:
    scope = _scope(request)
    try:
        assessment = _assessment(request, pk)
        if not assessment.is_published and not services.is_assessor(_user(request), assessment.region):
            raise services.PermissionRefused("试算结果仅区级综治中心可见，发布后公开", rule="assessment.draft")
        score = selectors.region_score_get(scope=scope, assessment=assessment, code=code)
        line = selectors.indicator_score_get(region_score=score, code=indicator)
    except DomainError as exc:
        return _error(request, exc)
    model, qs, numerator, detail = selectors.drill_records(scope=scope, score=line)
    page = paginate(qs, page=page_number(request.GET.get("page")), page_size=50)
    context = {
        "assessment": assessment,
        "score": score,
        "line": line,
        "model": model,
        "page": page,
        "numerator": numerator,
        "detail": detail,
        "formula": getattr(indicators.get(line.compute_key), "formula", ""),
    }
    return render(request, "assessment/drill.html", context)


@login_required
def workers(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    try:
        assessment = _assessment(request, pk)
        if not assessment.is_published and not services.is_assessor(_user(request), assessment.region):
            raise services.PermissionRefused("试算结果仅区级综治中心可见，发布后公开", rule="assessment.draft")
    except DomainError as exc:
        return _error(request, exc)
    rows = selectors.worker_scores(scope=scope, assessment=assessment)
    page = paginate(rows, page=page_number(request.GET.get("page")), page_size=100)
    weights = services.WORKER_WEIGHTS
    return render(request, "assessment/workers.html", {"assessment": assessment, "page": page, "weights": weights})


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    fmt = request.GET.get("format", "xlsx")
    try:
        assessment = _assessment(request, pk)
        if not assessment.is_published and not services.is_assessor(_user(request), assessment.region):
            raise services.PermissionRefused("试算结果仅区级综治中心可见，发布后公开", rule="assessment.draft")
        if fmt not in ("xlsx", "pdf"):
            raise services.ValidationFailed("格式只能是 xlsx 或 pdf", field="format")
        code = request.GET.get("region", "").strip()
        place = reports.report_region(scope=scope, assessment=assessment, code=code)
        data = reports.build(scope=scope, assessment=assessment, region=place)
    except DomainError as exc:
        return _error(request, exc)
    body = reports.to_xlsx(data) if fmt == "xlsx" else reports.to_pdf(data)
    audit_record(
        actor=request.user,
        action="assessment.report",
        target=assessment,
        detail={"region": place.code, "format": fmt},
        request=request,
        region_path=place.path,
    )
    filename = f"assessment-{assessment.month:%Y%m}-{place.code}.{fmt}"
    content_type = (
        "application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- process indicators ----------------------------------------------------------------------------


@login_required
def process(request: HttpRequest) -> HttpResponse:
    """Self-assessment (towns) and review (district) of the month's process indicators."""
    scope = _scope(request)
    user = _user(request)
    if user.role not in PROCESS_ROLES:
        return _error(request, services.PermissionRefused("过程指标自评面向综治中心和领导", rule="assessment.process"))
    scheme = selectors.scheme_for(scope=scope)
    if scheme is None:
        return _error(request, services.ValidationFailed("尚未建立考核方案"))
    try:
        month = services.parse_month(request.GET.get("month", "") or clock.today().strftime("%Y-%m"))
    except DomainError as exc:
        return _error(request, exc)
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {}
    if request.method == "POST":
        posted = request.POST.dict()
        try:
            indicator = selectors.process_indicators(scheme=scheme).filter(pk=posted.get("indicator") or 0).first()
            village = Region.objects.filter(code=posted.get("region", ""), level=Level.COMMUNITY).first()
            if indicator is None:
                raise services.ValidationFailed("请选择过程指标", field="indicator")
            if village is None or not scope.covers(village.path):
                raise services.ValidationFailed("请选择辖区内的村（社区）", field="region")
            services.process_entry_submit(
                actor=user,
                indicator=indicator,
                village=village,
                month=month,
                value=posted.get("value"),
                evidence=posted.get("evidence", ""),
                attachments=request.FILES.getlist("attachments"),
            )
            messages.success(request, f"已提交 {village.name}「{indicator.name}」自评，等待区级审核")
            return redirect(f"{request.path}?month={month:%Y-%m}")
        except DomainError as exc:
            if exc.status != 400:
                return _error(request, exc)
            errors = exc.errors or {"__all__": [exc.message]}
    state = request.GET.get("state", "")
    entries = selectors.process_entries(scope=scope, scheme=scheme, month=month, state=state).order_by(
        "region_path", "indicator__sort"
    )
    page = paginate(entries, page=page_number(request.GET.get("page")), page_size=50)
    villages = scope.filter(Region.objects.filter(level=Level.COMMUNITY), field="path").order_by("path")
    context = {
        "scheme": scheme,
        "month": month,
        "page": page,
        "state": state,
        "states": EntryState.choices,
        "indicators": selectors.process_indicators(scheme=scheme),
        "villages": villages[:1000] if scope.depth >= 1 else villages.none(),
        "can_submit": user.role in ("center_operator", "admin") and 1 <= scope.depth <= 1,
        "assessor": services.is_assessor(user, scheme.region),
        "errors": errors,
        "posted": posted,
        "pending": selectors.process_entries(scope=scope, scheme=scheme, month=month, state="submitted").count(),
    }
    return render(request, "assessment/process.html", context, status=400 if errors else 200)


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    try:
        entry = selectors.process_entry_get(scope=scope, pk=pk)
        approve = request.POST.get("decision") == "approve"
        services.process_entry_review(
            actor=_user(request),
            entry=entry,
            approve=approve,
            value=request.POST.get("value", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        return _error(request, exc)
    messages.success(request, "已审核通过" if approve else "已退回")
    return redirect(f"/assessment/process/?month={entry.month:%Y-%m}&state=submitted")


@login_required
def library(request: HttpRequest) -> HttpResponse:
    scheme = selectors.scheme_for(scope=_scope(request))
    rows = list(scheme.indicators.order_by("group", "sort", "code")) if scheme else []
    kinds = {k.key: k for k in indicators.REGISTRY.values()}
    return render(request, "assessment/library.html", {"scheme": scheme, "rows": rows, "kinds": kinds})
