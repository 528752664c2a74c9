"""The command centre (指挥中心 / 驾驶舱): one screen for the viewer's jurisdiction.

`/dashboard/` — desktop and phone (responsive); `/dashboard/?mode=screen` — the 1920×1080 dark
big-screen layout. Maps and charts are drawn by static/js/dashboard.js from the JSON API
(api.py); the live block (figures and the feed of new and red cases) is an htmx partial polled
every 15 seconds. Every number is read from the rollups.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridgov.accounts.scope import Scope
from gridgov.assessment import selectors as assessment_selectors
from gridgov.common import clock
from gridgov.common.errors import NotFound, PermissionRefused
from gridgov.regions.models import Level, Region

from . import selectors

POLL_SECONDS = 15


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _refusal(request: HttpRequest, exc: PermissionRefused | NotFound) -> HttpResponse:
    status = 403 if isinstance(exc, PermissionRefused) else 404
    template = "403.html" if status == 403 else "404.html"
    return render(request, template, {"message": exc.message}, status=status)


def ranking_for(scope: Scope, region: Region) -> dict[str, Any]:
    """The latest published month: the ranking of the region's children (towns of a district,
    villages of a town) or, for a village, its own place."""
    assessment = assessment_selectors.latest_published(scope=scope)
    if assessment is None:
        return {"assessment": None}
    if region.level == Level.DISTRICT:
        level, within = Level.STREET, region.path
    else:
        level, within = Level.COMMUNITY, region.path if region.level == Level.STREET else ""
    rows = assessment_selectors.region_scores(scope=scope, assessment=assessment, level=level, within=within)
    if region.level in (Level.COMMUNITY, Level.GRID):
        community_path = "/".join(region.path.split("/")[:4]) + "/"
        rows = rows.filter(region_path=community_path)
    items = list(rows)
    ranked = [r for r in items if r.ranked]
    return {
        "assessment": assessment,
        "top": ranked[:10],
        "bottom": ranked[-5:] if len(ranked) > 15 else [],
        "mine": items[0] if region.level in (Level.COMMUNITY, Level.GRID) and items else None,
        "lists": {c: sum(1 for r in items if r.list_colour == c) for c in ("red", "yellow", "black")},
    }


@login_required
def index(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    try:
        region = selectors.region_for(scope=scope, code=request.GET.get("region", "").strip())
    except (PermissionRefused, NotFound) as exc:
        return _refusal(request, exc)
    now = clock.now()
    screen = request.GET.get("mode") == "screen"
    context = {
        "region": region,
        "trail": selectors.trail(scope=scope, region=region),
        "figures": selectors.figures(region=region, now=now),
        "children": selectors.children(region=region, now=now),
        "feed": selectors.feed(region=region, now=now),
        "ranking": ranking_for(scope, region),
        "now": now,
        "poll": POLL_SECONDS,
        "screen": screen,
    }
    return render(request, "dashboard/screen.html" if screen else "dashboard/index.html", context)


@login_required
def live(request: HttpRequest) -> HttpResponse:
    """The polled block: live figures and the feed."""
    scope = _scope(request)
    try:
        region = selectors.region_for(scope=scope, code=request.GET.get("region", "").strip())
    except (PermissionRefused, NotFound) as exc:
        return HttpResponse(exc.message, status=403 if isinstance(exc, PermissionRefused) else 404)
    now = clock.now()
    context = {
        "region": region,
        "figures": selectors.figures(region=region, now=now),
        "feed": selectors.feed(region=region, now=now),
        "now": now,
        "poll": POLL_SECONDS,
        "screen": request.GET.get("mode") == "screen",
    }
    return render(request, "dashboard/_live.html", context)
