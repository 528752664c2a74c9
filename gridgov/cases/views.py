"""Case screens: work queues per role, detail with timeline and map, the action forms (dispatch
dialog included), report form, rates, inbox, xlsx export and per-grid QR codes."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridgov.accounts import selectors as account_selectors
from gridgov.accounts.models import Department, Role, User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import DomainError, NotFound, PermissionRefused, ValidationFailed
from gridgov.common.pagination import paginate
from gridgov.regions import selectors as region_selectors
from gridgov.regions.models import Level, Region
from gridgov.registers import selectors as register_selectors

from . import presenters, routing, selectors, services, sla
from .export import export_xlsx
from .forms import ReportForm
from .models import Case, CaseCategory, Notification, Source, State, Urgency
from .states import ACTION_LABELS, REPORTING_ROLES


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _get(request: HttpRequest, number: str) -> Case:
    try:
        return selectors.case_get(scope=_scope(request), number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _filters(request: HttpRequest) -> selectors.CaseFilters:
    g = request.GET

    def date(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(g.get(name, ""))
        except ValueError:
            return None

    dep = g.get("department", "")
    return selectors.CaseFilters(
        q=g.get("q", "")[:100],
        state=g.get("state", ""),
        category=g.get("category", "")[:8],
        source=g.get("source", "") if g.get("source") in Source.values else "",
        urgency=g.get("urgency", "") if g.get("urgency") in Urgency.values else "",
        colour=g.get("colour", "") if g.get("colour") in ("green", "yellow", "red") else "",
        region=g.get("region", "")[:24],
        department=int(dep) if dep.isdigit() else None,
        reported_from=date("from"),
        reported_to=date("to"),
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    key = request.GET.get("queue") or selectors.default_queue(scope)
    if key not in selectors.QUEUE_KEYS:
        key = "all"
    filters = _filters(request)
    qs = selectors.case_list(scope=scope, queue=key, filters=filters)
    try:
        page = paginate(
            qs, page=int(request.GET.get("page", "1") or 1), page_size=30, count_limit=selectors.LIST_COUNT_LIMIT
        )
    except ValueError:
        page = paginate(qs, page=1, page_size=30, count_limit=selectors.LIST_COUNT_LIMIT)
    now = clock.now()
    rows = [(c, presenters.colour_of(c, now)) for c in page.items]
    counts = selectors.queue_counts(scope=scope, now=now)
    context = {
        "queues": [(q, counts.get(q.key)) for q in selectors.queues_for(scope)],
        "queue": key,
        "page": page,
        "rows": rows,
        "f": filters,
        "states": State.choices,
        "sources": Source.choices,
        "urgencies": Urgency.choices,
        "categories": CaseCategory.objects.filter(parent__isnull=True, is_active=True).order_by("sort"),
        "departments": account_selectors.department_list(scope=scope),
        "can_report": _user(request).role in REPORTING_ROLES,
        "query": request.GET.urlencode(),
    }
    return render(request, "cases/queue.html", context)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    key = request.GET.get("queue") or "all"
    if key not in selectors.QUEUE_KEYS:
        key = "all"
    filters = _filters(request)
    qs = selectors.case_list(scope=scope, queue=key, filters=filters)
    data = export_xlsx(qs=qs, actor=request.user, request=request, filters={"queue": key, **filters.__dict__})
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="cases-{clock.today():%Y%m%d}.xlsx"'
    return response


def _report_sources(user: User) -> list[str]:
    allowed = services.ROLE_SOURCES.get(user.role, set())
    return [s for s in Source.values if s in allowed]


@login_required
def report(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role not in REPORTING_ROLES:
        return render(request, "403.html", {"message": _("您的角色不能上报事件")}, status=403)
    can_settle = user.role in (Role.GRID_WORKER, Role.GRID_LEADER)
    sources = _report_sources(user)
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        sources=sources,
        can_settle=can_settle,
        initial={"source": services.DEFAULT_SOURCE.get(user.role, sources[0] if sources else "")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = services.case_report(
                    actor=user,
                    category=form.category_obj(),
                    description=d["description"],
                    source=d.get("source") or None,
                    urgency=d["urgency"],
                    lat=d.get("lat"),
                    lng=d.get("lng"),
                    region=user.jurisdiction if d.get("lat") is None else None,
                    address=d.get("address", ""),
                    reporter_name=d.get("reporter_name", ""),
                    reporter_phone=d.get("reporter_phone", ""),
                    photos=d.get("photos") or [],
                    settle=bool(d.get("settle")),
                    settle_result=d.get("settle_result", ""),
                )
            except DomainError as exc:
                _apply(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已上报，案卷编号 %(n)s") % {"n": case.number})
                return redirect("cases:detail", case.number)
        else:
            status = 400
    root = user.jurisdiction
    return render(
        request,
        "cases/report.html",
        {
            "form": form,
            "center": (root.centroid_lat, root.centroid_lng) if root and root.centroid_lat else None,
            "outline": presenters.region_outline(root),
        },
        status=status,
    )


def _apply(form: Any, exc: DomainError) -> None:
    placed = False
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        if field == "location" and "lat" in form.fields:
            target = None
        for msg in msgs:
            form.add_error(target, msg)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
def duplicates_fragment(request: HttpRequest) -> HttpResponse:
    """htmx: open cases of the chosen category near the picked point, shown while reporting."""
    cat = request.GET.get("category", "")
    try:
        lat, lng = float(request.GET.get("lat", "")), float(request.GET.get("lng", ""))
    except ValueError:
        return HttpResponse("")
    if not cat.isdigit():
        return HttpResponse("")
    found = selectors.case_duplicates(scope=_scope(request), category=int(cat), lat=lat, lng=lng)
    return render(request, "cases/_duplicates.html", {"duplicates": found})


@login_required
def suggest_fragment(request: HttpRequest) -> HttpResponse:
    """htmx: suggested categories for the description typed so far."""
    text = request.GET.get("description", "")[:4000]
    suggestions = routing.suggest_category(text) if len(text.strip()) >= 4 else []
    return render(request, "cases/_suggest.html", {"suggestions": [s for s in suggestions if s.probability >= 0.05]})


def _detail_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = _user(request)
    scope = _scope(request)
    data = presenters.detail(case, user)
    allowed = data["allowed_actions"]
    ctx: dict[str, Any] = {
        "case": case,
        "d": data,
        "allowed": allowed,
        "labels": {k: str(v) for k, v in ACTION_LABELS.items()},
        "colour": presenters.colour_of(case),
        "colour_label": sla.COLOUR_LABELS.get(presenters.colour_of(case), ""),
        "region_trail": [*region_selectors.region_ancestors(scope=scope, region=case.region), case.region],
        "linked_subjects": register_selectors.case_subject_links(scope=scope, case=case),
    }
    if "dispatch" in allowed:
        route = routing.route_for(category=case.category, region_path=case.region_path)
        ancestors = [c for c in case.region_path.strip("/").split("/") if c]
        ctx["route"] = route
        ctx["departments"] = (
            Department.objects.filter(is_active=True)
            .filter(Q(region__code__in=ancestors))
            .select_related("region")
            .order_by("region__depth", "code")
        )
        ctx["lower_centers"] = (
            Region.objects.filter(
                path__startswith=case.center.path,
                level__in=[Level.STREET, Level.COMMUNITY],
                users__role=Role.CENTER_OPERATOR,
                users__is_active=True,
            )
            .exclude(pk=case.center_id)
            .filter(code__in=ancestors)
            .distinct()
        )
    if "merge" in allowed:
        ctx["duplicates"] = selectors.case_duplicates(
            scope=scope,
            category=case.category_id,
            lat=case.lat,
            lng=case.lng,
            exclude_id=case.pk,
            before=case.reported_at,
        )
    return ctx


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    case = _get(request, number)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _int(value: str | None, field: str, label: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise ValidationFailed(f"请填写{label}", field=field) from None


def _action_kwargs(request: HttpRequest, action: str) -> dict[str, Any]:
    p = request.POST
    kw: dict[str, Any] = {}
    if action != "note":
        version = p.get("version", "")
        kw["expected_version"] = int(version) if version.isdigit() else None
    if action in ("accept", "verify", "close", "approve_extension", "approve_settle"):
        kw["note"] = p.get("note", "")
    elif action in ("reject", "escalate", "rework", "refuse_extension", "refuse_settle"):
        kw["reason"] = p.get("reason", "")
    elif action == "merge":
        into = p.get("into", "").strip()
        if not into:
            raise ValidationFailed("请选择要合并到的案卷", field="into")
        kw["into"] = selectors.case_get(scope=_scope(request), number=into)
        kw["note"] = p.get("note", "")
    elif action == "dispatch":
        dep_id, center_code = p.get("department", ""), p.get("center", "")
        kw["department"] = Department.objects.filter(pk=int(dep_id)).first() if dep_id.isdigit() else None
        if dep_id and kw["department"] is None:
            raise ValidationFailed("部门不存在", field="department")
        ids = [int(x) for x in p.getlist("assist_departments") if x.isdigit()]
        kw["assist_departments"] = list(Department.objects.filter(pk__in=ids))
        kw["center"] = Region.objects.filter(code=center_code).first() if center_code else None
        kw["note"] = p.get("note", "")
    elif action == "return":
        kw["grounds"] = p.get("grounds", "")
    elif action == "request_extension":
        kw["days"] = _int(p.get("days"), "days", "延期天数")
        kw["reason"] = p.get("reason", "")
    elif action == "handle":
        kw["result"] = p.get("result", "")
        kw["public_reply"] = p.get("public_reply", "")
        kw["photos"] = request.FILES.getlist("photos")
    elif action == "rate":
        kw["score"] = _int(p.get("score"), "score", "满意度")
        kw["comment"] = p.get("comment", "")
    elif action == "supervise":
        try:
            day = dt.date.fromisoformat(p.get("deadline", ""))
        except ValueError:
            raise ValidationFailed("请选择督办期限", field="deadline") from None
        kw["deadline"] = timezone.make_aware(dt.datetime.combine(day, dt.time(18, 0)))
        kw["owner"] = p.get("owner", "")
        kw["requirement"] = p.get("requirement", "")
        kw["listed"] = p.get("listed") == "on"
    elif action == "note":
        kw["text"] = p.get("text", "")
    return kw


@login_required
@require_POST
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in services.ACTION_SERVICES:
        raise Http404("未知操作")
    case = _get(request, number)
    try:
        kwargs = _action_kwargs(request, action)
        services.ACTION_SERVICES[action](actor=_user(request), case=case, **kwargs)
    except DomainError as exc:
        ctx = _detail_context(request, selectors.case_get(scope=_scope(request), number=number))
        detail_msgs = [f"{m}" for msgs in exc.errors.values() for m in msgs]
        ctx["error"] = {"message": exc.message, "details": detail_msgs, "rule": exc.rule, "action": action}
        return render(request, "cases/detail.html", ctx, status=exc.status)
    messages.success(request, _("已%(a)s") % {"a": ACTION_LABELS.get(action, action)})
    return redirect("cases:detail", number)


@login_required
def photo(request: HttpRequest, number: str, photo_id: int) -> FileResponse:
    case = _get(request, number)
    row = case.photos.filter(pk=photo_id).first()
    if row is None:
        raise Http404("照片不存在")
    response = FileResponse(row.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    filters = _filters(request)
    qs = selectors.case_filter(selectors.case_queryset(scope=scope), filters)
    code = request.GET.get("region", "")
    try:
        node = (
            region_selectors.region_get(scope=scope, code=code)
            if code
            else region_selectors.region_roots(scope=scope).first()
        )
    except (NotFound, PermissionRefused):
        node = region_selectors.region_roots(scope=scope).first()
    whole, rows = sla.rates_by_region(scope=scope, region=node, qs=qs) if node else (None, [])
    context = {
        "node": node,
        "whole": whole,
        "rows": rows,
        "departments": sla.rates_by_department(qs=qs),
        "trail": region_selectors.region_ancestors(scope=scope, region=node) if node else [],
        "f": filters,
        "satisfied_min": sla.conf("CASE_SATISFIED_MIN"),
    }
    return render(request, "cases/stats.html", context)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=clock.now())
        return redirect("cases:inbox")
    page = paginate(selectors.notifications_for(user_id=user.pk), page=int(request.GET.get("page", "1") or 1))
    return render(request, "cases/inbox.html", {"page": page})


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    row = selectors.notifications_for(user_id=_user(request).pk).filter(pk=notification_id).first()
    if row is None:
        raise Http404("通知不存在")
    if row.read_at is None:
        Notification.objects.filter(pk=row.pk).update(read_at=clock.now())
    return redirect("cases:detail", row.case.number) if row.case else redirect("cases:inbox")


@login_required
def qr_sheet(request: HttpRequest) -> HttpResponse:
    """Printable QR codes of the grids in the viewer's jurisdiction (post them in the grid)."""
    scope = _scope(request)
    grids = region_selectors.region_list(scope=scope, level=Level.GRID)
    page = paginate(grids, page=int(request.GET.get("page", "1") or 1), page_size=24)
    items = [(g, request.build_absolute_uri(reverse("citizen_report_grid", args=[g.code]))) for g in page.items]
    return render(request, "cases/qr.html", {"page": page, "items": items})


@login_required
def qr_svg(request: HttpRequest, code: str) -> HttpResponse:
    import segno

    scope = _scope(request)
    try:
        grid = region_selectors.region_get(scope=scope, code=code)
    except (NotFound, PermissionRefused) as exc:
        raise Http404(str(exc)) from exc
    url = request.build_absolute_uri(reverse("citizen_report_grid", args=[grid.code]))
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2, title=f"{grid.name} 随手拍")
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")
