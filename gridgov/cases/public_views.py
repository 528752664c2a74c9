"""The citizen channel: a public, no-login report page (reachable from a grid's QR code), the
tracking page with the public timeline (unit names only, no staff names or internal notes), and
rating. Rate-limited per client IP; a honeypot field and a minimum fill time turn bots away."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gridgov.common.errors import DomainError, NotFound
from gridgov.regions.models import Level, Region

from . import presenters, selectors, services, throttle
from .conf import conf
from .forms import PublicReportForm, RateForm, TrackForm
from .models import CaseCategory, Source
from .views import _apply


def _grid(code: str | None) -> Region | None:
    if not code:
        return None
    grid = Region.objects.filter(code=code, level__in=[Level.GRID, Level.MICROGRID]).first()
    if grid is None:
        raise Http404("网格不存在")
    return grid


@never_cache
def report(request: HttpRequest, grid_code: str | None = None) -> HttpResponse:
    grid = _grid(grid_code)
    form = PublicReportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        try:
            throttle.hit(request, bucket="report", limit=int(conf("CITIZEN_REPORTS_PER_HOUR")))
        except throttle.TooManyRequests as exc:
            form.is_valid()
            form.add_error(None, exc.message)
            return render(request, "cases/public_report.html", _page_context(form, grid), status=429)
        if form.is_valid():
            d = form.cleaned_data
            category = CaseCategory.objects.filter(pk=d["category"]).first() if str(d["category"]).isdigit() else None
            has_point = d.get("lat") is not None and d.get("lng") is not None
            try:
                case = services.case_report(
                    actor=None,
                    source=Source.CITIZEN,
                    category=category,
                    description=d["description"],
                    lat=d.get("lat") if has_point else None,
                    lng=d.get("lng") if has_point else None,
                    region=None if has_point else grid,
                    address=d.get("address", ""),
                    reporter_phone=d.get("reporter_phone", ""),
                    photos=d.get("photos") or [],
                )
            except DomainError as exc:
                _apply(form, exc)
                status = exc.status
            else:
                request.session["cases_reported"] = case.tracking_code
                return redirect("citizen_report_done", case.tracking_code)
        else:
            status = 400
    return render(request, "cases/public_report.html", _page_context(form, grid), status=status)


def _page_context(form: PublicReportForm, grid: Region | None) -> dict[str, Any]:
    center = (grid.centroid_lat, grid.centroid_lng) if grid and grid.centroid_lat else None
    return {"form": form, "grid": grid, "center": center, "outline": presenters.region_outline(grid)}


@never_cache
def report_done(request: HttpRequest, code: str) -> HttpResponse:
    # Only the browser that filed the report sees the code spelled out on this page.
    if request.session.get("cases_reported") != code:
        return redirect("citizen_track")
    case = selectors.case_by_tracking_code(code=code)
    return render(request, "cases/public_done.html", {"case": case, "code": code})


@never_cache
def track_lookup(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect("citizen_track_case", form.cleaned_data["code"].strip().upper())
    return render(request, "cases/track_lookup.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
def track(request: HttpRequest, code: str) -> HttpResponse:
    try:
        throttle.hit(request, bucket="track", limit=120)
        case = selectors.case_by_tracking_code(code=code)
    except throttle.TooManyRequests as exc:
        return render(request, "cases/track_lookup.html", {"form": TrackForm(), "error": exc.message}, status=429)
    except NotFound:
        return render(request, "cases/track_lookup.html", {"form": TrackForm(), "error": _("查询码不正确")}, status=404)
    return render(request, "cases/track.html", {"c": presenters.public(case), "code": code, "form": RateForm()})


@require_POST
def rate(request: HttpRequest, code: str) -> HttpResponse:
    try:
        throttle.hit(request, bucket="rate", limit=30)
        case = selectors.case_by_tracking_code(code=code)
    except (throttle.TooManyRequests, NotFound) as exc:
        return render(
            request,
            "cases/track_lookup.html",
            {"form": TrackForm(), "error": str(exc)},
            status=getattr(exc, "status", 404),
        )
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            services.case_rate(
                actor=None,
                case=case,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                tracking_code=code,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return render(
                request,
                "cases/track.html",
                {"c": presenters.public(case), "code": code, "form": form},
                status=exc.status,
            )
        return redirect("citizen_track_case", code)
    return render(request, "cases/track.html", {"c": presenters.public(case), "code": code, "form": form}, status=400)
