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


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a view (in a middleware reading the session or
    the user) is still a 503 with Retry-After, not a 500."""
    import sys

    from django.views.defaults import server_error as default_server_error

    from .middleware import DATABASE_ERRORS, database_unavailable_response

    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return database_unavailable_response(request)
    return default_server_error(request)
