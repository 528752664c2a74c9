from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gridgov.accounts.scope import Scope
from gridgov.regions import selectors as region_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = Scope.for_user(request.user)  # type: ignore[arg-type]
    root = region_selectors.region_roots(scope=scope).first()
    counts = region_selectors.region_descendant_counts(scope=scope, region=root) if root else []
    return render(request, "home.html", {"root": root, "counts": counts, "scope": scope})


def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 — any database failure means "not ready"
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
