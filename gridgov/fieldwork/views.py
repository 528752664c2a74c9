"""Field-work screens: the grid worker's day on the phone (due visits, the visit form, patrols,
one-tap reports from findings), counts, and the hazard campaign (campaigns, inspections, hazards,
assignment sheets). Forms only parse input; the services enforce every rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridgov.accounts.models import Department, Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases.forms import category_choices
from gridgov.common import clock
from gridgov.common.errors import DomainError, NotFound, ValidationFailed
from gridgov.common.pagination import page_number, paginate
from gridgov.regions.models import Level, Region
from gridgov.registers import codes as register_codes
from gridgov.registers.models import Household, Person, Place

from . import export, pdf, selectors, services
from .models import CampaignState, FindingCase, HazardLevel, HazardState, InspectionState
from .services import ItemResult
from .states import ACTION_LABELS


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _errors(exc: DomainError) -> dict[str, Any]:
    return {"message": exc.message, "fields": exc.errors, "rule": exc.rule}


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _date(raw: str | None, field: str, label: str, *, required: bool = False) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise ValidationFailed(f"请填写{label}", field=field)
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 年-月-日", field=field) from None


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


# --- the worker's day --------------------------------------------------------------------------------


@login_required
def today(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    data = selectors.worker_today(scope=_scope(request), user=user)
    return render(
        request,
        "fieldwork/today.html",
        {
            "t": data,
            "today": clock.today(),
            "can_visit": user.role in (Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON),
        },
    )


def _target(request: HttpRequest, scope: Scope) -> tuple[str, Any]:
    src = request.POST if request.method == "POST" else request.GET
    for kind, model in (("person", Person), ("household", Household), ("place", Place)):
        pk = _int(src.get(kind))
        if pk is not None:
            obj = scope.filter(model.objects.filter(pk=pk)).first()  # type: ignore[attr-defined]
            if obj is None:
                raise Http404(_("走访对象不存在"))
            return kind, obj
    return "", None


@login_required
def visit_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    kind, target = _target(request, scope)
    error: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            visit = services.visit_record_checked(
                actor=user,
                findings=p.get("findings", ""),
                person=target if kind == "person" else None,
                household=target if kind == "household" else None,
                place=target if kind == "place" else None,
                kind=p.get("kind", register_codes.VisitKind.ROUTINE),
                outcome=p.get("outcome", register_codes.VisitOutcome.NORMAL),
                lat=_float(p.get("lat")),
                lng=_float(p.get("lng")),
                accuracy_m=_int(p.get("accuracy")),
                confirm_outside=p.get("confirm_outside") == "on",
                outside_reason=p.get("outside_reason", ""),
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            messages.success(request, _("走访已登记"))
            return redirect("fieldwork:visit", visit.pk)
    places = scope.filter(Place.objects.filter(is_active=True)).order_by("next_inspection_due", "name")[:50]
    return render(
        request,
        "fieldwork/visit_form.html",
        {
            "kind": kind,
            "target": target,
            "error": error,
            "p": request.POST,
            "visit_kinds": register_codes.VisitKind.choices,
            "outcomes": register_codes.VisitOutcome.choices,
            "places": places,
        },
        status=status,
    )


@login_required
def visits(request: HttpRequest) -> HttpResponse:
    qs = selectors.my_visits(scope=_scope(request), user=_user(request))
    if request.GET.get("format") == "xlsx":
        return export.xlsx_response(
            filename="visits",
            title="走访记录",
            columns=[
                ("走访时间", 18),
                ("类型", 10),
                ("对象", 24),
                ("结果", 10),
                ("走访情况", 50),
                ("定位核验", 16),
                ("网格", 24),
            ],
            rows=(
                [
                    export.t(v.visited_at),
                    v.get_kind_display(),
                    _target_label(v),
                    v.get_outcome_display(),
                    v.findings,
                    getattr(getattr(v, "fieldwork_location", None), "get_status_display", lambda: "")(),
                    v.region.name,
                ]
                for v in qs
            ),
            request=request,
            action="fieldwork.visits_exported",
            filters={},
        )
    page = paginate(qs, page=page_number(request.GET.get("page")), page_size=30)
    return render(request, "fieldwork/visits.html", {"page": page})


def _target_label(v: Any) -> str:
    from gridgov.common.masking import mask_name

    if v.person_id:
        return mask_name(v.person.name)
    if v.household_id:
        return f"户 {v.household.number}"
    return v.place.name if v.place_id else ""


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        visit = selectors.visit_get(scope=_scope(request), pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return _finding_page(request, visit=visit, checkin=None)


@login_required
def checkin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        checkin = selectors.checkin_get(scope=_scope(request), pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return _finding_page(request, visit=None, checkin=checkin)


def _finding_page(request: HttpRequest, *, visit: Any, checkin: Any) -> HttpResponse:
    user = _user(request)
    error = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            case = services.finding_report_case(
                actor=user,
                visit=visit,
                checkin=checkin,
                category=_int(p.get("category")),
                description=p.get("description", ""),
                urgency=p.get("urgency", "normal"),
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            messages.success(request, _("已上报，案卷编号 %(n)s") % {"n": case.number})
            return redirect("cases:detail", case.number)
    owner = (visit.visitor_id if visit else checkin.patrol.worker_id) == user.pk
    finding = visit.findings if visit else checkin.note
    return render(
        request,
        "fieldwork/finding.html",
        {
            "visit": visit,
            "checkin": checkin,
            "can_report": owner,
            "categories": category_choices(),
            "description": request.POST.get("description", finding),
            "error": error,
            "cases": [
                fc.case
                for fc in FindingCase.objects.filter(visit=visit, checkin=checkin).select_related(
                    "case", "case__category"
                )
            ],
        },
        status=status,
    )


# --- patrols ------------------------------------------------------------------------------------


@login_required
def patrol(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    error = None
    status = 200
    active = selectors.worker_today(scope=scope, user=user).active_patrol
    if request.method == "POST":
        p = request.POST
        op = p.get("op", "")
        try:
            if op == "start":
                services.patrol_start(actor=user)
                messages.success(request, _("巡查已开始，请沿途打卡"))
            elif op == "checkin" and active:
                place = scope.filter(Place.objects.filter(pk=_int(p.get("place")) or 0)).first()
                c = services.patrol_checkin(
                    actor=user,
                    patrol=active,
                    lat=_float(p.get("lat")),
                    lng=_float(p.get("lng")),
                    note=p.get("note", ""),
                    has_issue=p.get("has_issue") == "on",
                    place=place,
                )
                if c.has_issue:
                    messages.success(request, _("已打卡，可一键上报发现的问题"))
                    return redirect("fieldwork:checkin", c.pk)
                messages.success(request, _("已打卡") if c.inside_grid else _("已打卡（不在本网格内）"))
            elif op == "end" and active:
                services.patrol_end(actor=user, patrol=active, summary=p.get("summary", ""))
                messages.success(request, _("巡查已结束"))
            else:
                raise ValidationFailed("没有进行中的巡查", field="op")
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            return redirect("fieldwork:patrol")
    patrols = paginate(
        selectors.patrol_list(scope=scope, user=user), page=page_number(request.GET.get("page")), page_size=10
    )
    places = scope.filter(Place.objects.filter(is_active=True)).order_by("name")[:50]
    return render(
        request,
        "fieldwork/patrol.html",
        {
            "active": active,
            "checkins": list(active.checkins.select_related("place", "located_region")) if active else [],
            "page": patrols,
            "error": error,
            "places": places,
        },
        status=status,
    )


@login_required
def counts(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    today = clock.today()
    by = request.GET.get("by", "day") if request.GET.get("by") in ("day", "month") else "day"
    try:
        start = _date(request.GET.get("from"), "from", "开始日期") or today.replace(day=1)
        end = _date(request.GET.get("to"), "to", "结束日期") or today
    except ValidationFailed:
        start, end = today.replace(day=1), today
    if end < start or (end - start).days > 400:
        start, end = today.replace(day=1), today
    rows = selectors.worker_counts(scope=scope, start=start, end=end, by=by)
    if request.GET.get("format") == "xlsx":
        return export.xlsx_response(
            filename="worker-counts",
            title="走访巡查统计",
            columns=[("日期/月份", 12), ("人员", 16), ("走访", 8), ("巡查", 8), ("打卡", 8), ("发现上报", 10)],
            rows=(
                [
                    r.period.strftime("%Y-%m-%d" if by == "day" else "%Y-%m"),
                    r.label,
                    r.visits,
                    r.patrols,
                    r.checkins,
                    r.finding_cases,
                ]
                for r in rows
            ),
            request=request,
            action="fieldwork.counts_exported",
            filters={"from": start, "to": end, "by": by},
        )
    return render(request, "fieldwork/counts.html", {"rows": rows, "start": start, "end": end, "by": by})


# --- campaigns ----------------------------------------------------------------------------------


def _is_organiser(user: User) -> bool:
    return user.role == Role.CENTER_OPERATOR


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    state = request.GET.get("state", "")
    qs = selectors.campaign_list(scope=scope, state=state if state in CampaignState.values else "")
    rows = []
    for c in qs[:100]:
        whole, _rows = selectors.campaign_progress(scope=scope, campaign=c)
        rows.append((c, whole))
    return render(
        request,
        "fieldwork/campaigns.html",
        {"rows": rows, "state": state, "states": CampaignState.choices, "can_create": _is_organiser(_user(request))},
    )


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    if not _is_organiser(user):
        return render(request, "403.html", {"message": _("只有综治中心坐席可以组织专项整治")}, status=403)
    regions = list(scope.regions().filter(level__in=[Level.STREET, Level.COMMUNITY]).order_by("path")[:300])
    if user.jurisdiction and user.jurisdiction.level == Level.DISTRICT:
        regions = [user.jurisdiction, *regions]
    error = None
    status = 200
    p = request.POST
    if request.method == "POST":
        try:
            chosen = list(Region.objects.filter(code__in=p.getlist("scope_regions")))
            campaign = services.campaign_create(
                actor=user,
                name=p.get("name", ""),
                theme=p.get("theme", ""),
                description=p.get("description", ""),
                starts_on=_date(p.get("starts_on"), "starts_on", "开始日期", required=True),
                ends_on=_date(p.get("ends_on"), "ends_on", "结束日期", required=True),
                scope_regions=chosen,
                target_place_kinds=p.getlist("target_place_kinds"),
                checklist=p.get("checklist", "").splitlines(),
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            messages.success(request, _("专项整治已创建，请启动并派发检查任务"))
            return redirect("fieldwork:campaign", campaign.pk)
    return render(
        request,
        "fieldwork/campaign_form.html",
        {
            "regions": regions,
            "kinds": register_codes.PlaceKind.choices,
            "error": error,
            "p": p,
            "chosen": p.getlist("scope_regions") if p else [],
            "chosen_kinds": p.getlist("target_place_kinds") if p else [],
        },
        status=status,
    )


def _campaign(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.campaign_get(scope=_scope(request), pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    campaign = _campaign(request, pk)
    node = None
    code = request.GET.get("region", "")
    if code:
        node = Region.objects.filter(code=code).first()
        if node is None or not (scope.covers(node.path) and node.path.startswith(campaign.region_path)):
            node = None
    whole, rows = selectors.campaign_progress(scope=scope, campaign=campaign, node=node)
    shown = node or Region.objects.filter(code=whole.key).first()
    hazards = selectors.hazard_list(scope=scope, user=user, f=selectors.HazardFilters(campaign=campaign.pk))
    inspections = selectors.inspection_list(scope=scope, campaign=campaign)
    organiser = _is_organiser(user) and scope.covers(campaign.region_path)
    return render(
        request,
        "fieldwork/campaign.html",
        {
            "c": campaign,
            "whole": whole,
            "rows": rows,
            "node": shown,
            "items": list(campaign.items.all()),
            "hazards": hazards[:200],
            "inspections": inspections[:200],
            "today": clock.today(),
            "organiser": organiser,
            "workers": _assignable(scope) if organiser else [],
            "departments": Department.objects.filter(is_active=True).order_by("code") if organiser else [],
            "places": _places_for(scope, campaign) if organiser else [],
            "grids": scope.regions().filter(level=Level.GRID).order_by("path")[:300] if organiser else [],
            "error": request.session.pop("fieldwork_error", None),
        },
    )


def _assignable(scope: Scope) -> list[User]:
    return list(
        scope.filter(
            User.objects.filter(is_active=True, role__in=[Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON]),
            field="jurisdiction__path",
        )
        .select_related("jurisdiction")
        .order_by("jurisdiction__path", "username")[:300]
    )


def _places_for(scope: Scope, campaign: Any) -> list[Place]:
    taken = campaign.inspections.filter(place__isnull=False).values("place_id")
    qs = scope.filter(Place.objects.filter(is_active=True)).exclude(pk__in=taken)
    if campaign.target_place_kinds:
        qs = qs.filter(kind__in=campaign.target_place_kinds)
    return list(qs.order_by("region_path", "name")[:300])


@login_required
@require_POST
def campaign_act(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    user = _user(request)
    campaign = _campaign(request, pk)
    p = request.POST
    try:
        if op == "start":
            services.campaign_start(actor=user, campaign=campaign)
            messages.success(request, _("专项整治已启动"))
        elif op == "close":
            services.campaign_close(actor=user, campaign=campaign)
            messages.success(request, _("专项整治已结束"))
        elif op == "generate":
            n = services.inspection_generate(
                actor=user, campaign=campaign, due_on=_date(p.get("due_on"), "due_on", "检查期限", required=True)
            )
            messages.success(request, _("已派发 %(n)s 个检查任务") % {"n": n})
        elif op == "assign":
            place = Place.objects.filter(pk=_int(p.get("place")) or 0).first()
            assignee = User.objects.filter(pk=_int(p.get("assignee")) or 0).first()
            department = Department.objects.filter(pk=_int(p.get("department")) or 0).first()
            services.inspection_assign(
                actor=user,
                campaign=campaign,
                place=place,
                unit_name=p.get("unit_name", ""),
                address=p.get("address", ""),
                region=Region.objects.filter(code=p.get("region", "")).first(),
                assignee=assignee,
                department=department,
                due_on=_date(p.get("due_on"), "due_on", "检查期限", required=True),
            )
            messages.success(request, _("检查任务已派发"))
        else:
            raise Http404(_("未知操作"))
    except DomainError as exc:
        request.session["fieldwork_error"] = {"message": exc.message, "fields": exc.errors, "op": op}
    return redirect("fieldwork:campaign", pk)


@login_required
def campaign_hazards_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    qs = selectors.hazard_list(
        scope=_scope(request), user=_user(request), f=selectors.HazardFilters(campaign=campaign.pk)
    )
    rows, red = export.hazard_rows(qs)
    return export.xlsx_response(
        filename=f"hazards-{campaign.pk}",
        title="隐患清单",
        columns=export.HAZARD_COLUMNS,
        rows=rows,
        red_rows=red,
        request=request,
        action="fieldwork.hazards_exported",
        filters={"campaign": campaign.pk},
    )


@login_required
def campaign_inspections_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    qs = selectors.inspection_list(scope=_scope(request), campaign=campaign).prefetch_related("results")
    return export.xlsx_response(
        filename=f"inspections-{campaign.pk}",
        title="检查任务",
        columns=export.INSPECTION_COLUMNS,
        rows=export.inspection_rows(qs),
        request=request,
        action="fieldwork.inspections_exported",
        filters={"campaign": campaign.pk},
    )


@login_required
def area_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    campaign = _campaign(request, pk)
    region = Region.objects.filter(code=request.GET.get("region", "")).first() or campaign.region
    if not scope.covers(region.path) and not campaign.region_path.startswith(scope.path or "\0"):
        raise Http404(_("区域不在您的辖区内"))
    hazards = [
        h
        for h in selectors.hazard_list(scope=scope, f=selectors.HazardFilters(campaign=campaign.pk, region=region.code))
        if h.is_open
    ]
    user = _user(request)
    body = pdf.area_sheet(campaign=campaign, region=region, hazards=hazards, issued_by=_issuer(user), now=clock.now())
    return _pdf(body, f"area-sheet-{region.code}.pdf")


def _issuer(user: User) -> str:
    if user.jurisdiction:
        return f"{user.jurisdiction.name}综治中心" if user.role == Role.CENTER_OPERATOR else user.jurisdiction.name
    return user.department.name if user.department else user.label


def _pdf(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- inspections and hazards ----------------------------------------------------------------------


@login_required
def inspection(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        row = selectors.inspection_get(scope=_scope(request), user=user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    items = list(row.campaign.items.all())
    error = None
    status = 200
    if request.method == "POST":
        p = request.POST
        results = {}
        for item in items:
            verdict = p.get(f"item_{item.pk}", "")
            if verdict in ("pass", "fail"):
                results[item.pk] = ItemResult(
                    passed=verdict == "pass",
                    note=p.get(f"note_{item.pk}", ""),
                    raise_hazard=p.get(f"hazard_{item.pk}", "on") == "on",
                    hazard_level=p.get(f"level_{item.pk}", HazardLevel.GENERAL),
                )
        try:
            raised = services.inspection_record(
                actor=user,
                inspection=row,
                results=results,
                note=p.get("note", ""),
                lat=_float(p.get("lat")),
                lng=_float(p.get("lng")),
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            messages.success(request, _("检查已登记，发现隐患 %(n)s 处") % {"n": len(raised)})
            return redirect("fieldwork:inspection", row.pk)
    return render(
        request,
        "fieldwork/inspection.html",
        {
            "i": row,
            "items": items,
            "results": {r.item_id: r for r in row.results.all()},
            "hazards": list(row.hazards.all()),
            "can_record": row.state == InspectionState.ASSIGNED and services.may_inspect(user, row),
            "error": error,
            "p": request.POST,
            "levels": HazardLevel.choices,
        },
        status=status,
    )


def _hazard_filters(request: HttpRequest) -> selectors.HazardFilters:
    g = request.GET
    return selectors.HazardFilters(
        campaign=_int(g.get("campaign")),
        state=g.get("state", "") if g.get("state", "") in HazardState.values else "",
        overdue=g.get("overdue") == "1",
        listed=g.get("listed") == "1",
        region=g.get("region", "")[:24],
        q=g.get("q", "")[:50].strip(),
    )


@login_required
def hazards(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    f = _hazard_filters(request)
    qs = selectors.hazard_list(scope=scope, user=_user(request), f=f)
    if request.GET.get("format") == "xlsx":
        rows, red = export.hazard_rows(qs)
        return export.xlsx_response(
            filename="hazards",
            title="隐患清单",
            columns=export.HAZARD_COLUMNS,
            rows=rows,
            red_rows=red,
            request=request,
            action="fieldwork.hazards_exported",
            filters=vars(f),
        )
    page = paginate(qs, page=page_number(request.GET.get("page")), page_size=50)
    return render(
        request,
        "fieldwork/hazards.html",
        {
            "page": page,
            "f": f,
            "states": HazardState.choices,
            "today": clock.today(),
            "campaigns": selectors.campaign_list(scope=scope)[:50],
            "query": request.GET.urlencode(),
        },
    )


def _hazard(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.hazard_get(scope=_scope(request), user=_user(request), pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _hazard_context(request: HttpRequest, hazard: Any) -> dict[str, Any]:
    user = _user(request)
    return {
        "h": hazard,
        "timeline": selectors.hazard_timeline(hazard),
        "allowed": services.hazard_allowed_actions(user, hazard),
        "labels": {k: str(v) for k, v in ACTION_LABELS.items()},
        "overdue": hazard.is_overdue(clock.today()),
        "photos": list(hazard.photos.all()),
        "departments": Department.objects.filter(is_active=True).order_by("code"),
        "today": clock.today(),
    }


@login_required
def hazard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "fieldwork/hazard.html", _hazard_context(request, _hazard(request, pk)))


@login_required
@require_POST
def hazard_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _user(request)
    hazard = _hazard(request, pk)
    p = request.POST
    version = _int(p.get("version"))
    try:
        if action == "assign":
            services.hazard_assign(
                actor=user,
                hazard=hazard,
                target=p.get("target", ""),
                measures=p.get("measures", ""),
                responsible=p.get("responsible", ""),
                responsible_department=Department.objects.filter(pk=_int(p.get("responsible_department")) or 0).first(),
                deadline=_date(p.get("deadline"), "deadline", "整改期限", required=True),
                expected_version=version,
            )
        elif action == "report":
            services.hazard_report(
                actor=user,
                hazard=hazard,
                rectification=p.get("rectification", ""),
                photos=request.FILES.getlist("photos"),
                expected_version=version,
            )
        elif action == "sign_off":
            services.hazard_sign_off(actor=user, hazard=hazard, note=p.get("note", ""), expected_version=version)
        elif action == "send_back":
            services.hazard_send_back(
                actor=user,
                hazard=hazard,
                reason=p.get("reason", ""),
                deadline=_date(p.get("deadline"), "deadline", "整改期限"),
                expected_version=version,
            )
        elif action == "void":
            services.hazard_void(actor=user, hazard=hazard, reason=p.get("reason", ""), expected_version=version)
        elif action == "list":
            services.hazard_list(
                actor=user,
                hazard=hazard,
                owner=p.get("owner", ""),
                requirement=p.get("requirement", ""),
                expected_version=version,
            )
        else:
            raise Http404(_("未知操作"))
    except DomainError as exc:
        ctx = _hazard_context(request, _hazard(request, pk))
        ctx["error"] = {**_errors(exc), "action": action}
        return render(request, "fieldwork/hazard.html", ctx, status=exc.status)
    messages.success(request, _("已%(a)s") % {"a": ACTION_LABELS.get(action, action)})
    return redirect("fieldwork:hazard", pk)


@login_required
def hazard_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = _hazard(request, pk)
    body = pdf.hazard_sheet(hazard, issued_by=_issuer(_user(request)), now=clock.now())
    return _pdf(body, f"hazard-{hazard.number}.pdf")


@login_required
def hazard_photo(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    hazard = _hazard(request, pk)
    row = hazard.photos.filter(pk=photo_id).first()
    if row is None:
        raise Http404(_("照片不存在"))
    response = FileResponse(row.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
