from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render

from gridgov.accounts import selectors as account_selectors
from gridgov.accounts.scope import Scope
from gridgov.common.errors import NotFound, PermissionRefused

from . import selectors
from .models import Level, Region


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _get(request: HttpRequest, code: str) -> Region:
    try:
        return selectors.region_get(scope=_scope(request), code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    root = selectors.region_roots(scope=scope).first()
    if root is None:
        return render(request, "regions/no_jurisdiction.html", status=403)
    children = selectors.region_children(scope=scope, region=root)
    return render(request, "regions/tree.html", {"root": root, "children": children})


@login_required
def tree_children(request: HttpRequest, code: str) -> HttpResponse:
    try:
        region = _get(request, code)
    except PermissionRefused as exc:
        return HttpResponseForbidden(exc.message)
    children = selectors.region_children(scope=_scope(request), region=region)
    return render(request, "regions/_tree_children.html", {"children": children})


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = _scope(request)
    try:
        region = _get(request, code)
    except PermissionRefused as exc:
        return render(request, "403.html", {"message": exc.message}, status=403)
    children = list(selectors.region_children(scope=scope, region=region))
    context = {
        "region": region,
        "ancestors": selectors.region_ancestors(scope=scope, region=region),
        "children": children,
        "counts": selectors.region_descendant_counts(scope=scope, region=region),
        "town_count": selectors.region_town_count(scope=scope, region=region)
        if region.level == Level.DISTRICT
        else None,
        "team": account_selectors.team_for_region(scope=scope, region=region),
        "operators": account_selectors.operators_for_region(scope=scope, region=region),
        "child_level": children[0].get_level_display() if children else "",
    }
    return render(request, "regions/detail.html", context)
