"""HTTP hardening and graceful degradation.

SecurityHeadersMiddleware adds the Content-Security-Policy (no inline script: every script is a
file under /static/), Permissions-Policy and cross-origin isolation headers that Django's own
SecurityMiddleware does not set. DatabaseUnavailableMiddleware turns a lost database into a 503
with Retry-After instead of a 500, so load balancers and clients back off and retry; Django drops
the broken connection at the end of the request and the next one reconnects by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def content_security_policy() -> str:
    override = str(settings.GRIDGOV.get("CSP", "") or "")
    if override:
        return str(override)
    img = ["'self'", "data:"]
    tile_url = str(settings.GRIDGOV.get("MAP_TILE_URL", "") or "")
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            img.append(f"{parts.scheme}://{host}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Leaflet and ECharts position elements through the DOM style API, which CSP does not
        # restrict; no template carries a style attribute or <style> block.
        "style-src": ["'self'"],
        "img-src": img,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


PERMISSIONS_POLICY = (
    "camera=(self), geolocation=(self), microphone=(), payment=(), usb=(), serial=(), "
    "magnetometer=(), gyroscope=(), accelerometer=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    message = "数据库暂时不可用，请稍后重试。"
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        response: HttpResponse = JsonResponse(
            {"detail": message, "code": "service_unavailable"}, status=503, json_dumps_params={"ensure_ascii": False}
        )
    else:
        # Rendered without the request context: the session, the user and the CSRF token would
        # all need the database.
        html = render_to_string("503.html", {"SITE_NAME": settings.SITE_NAME, "retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            import logging

            logging.getLogger("gridgov.db").warning("database unavailable: %s", exception)
            return database_unavailable_response(request)
        return None


NUL_MESSAGE = "不能包含空字符（NUL）"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nul_field(request: HttpRequest) -> str | None:
    """The first input that carries a NUL character, or None. PostgreSQL refuses NUL in text (a
    500 deep in a query), and no legitimate input has one; file contents are not inputs here."""
    if "\x00" in request.path:
        return "path"
    for name, value in request.COOKIES.items():
        if "\x00" in name or "\x00" in value:
            return f"cookie.{name}"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return name.replace("\x00", "") or "query"
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.content_type in _FORM_TYPES:
            for name, values in request.POST.lists():
                if "\x00" in name or any("\x00" in v for v in values):
                    return name.replace("\x00", "") or "body"
        elif request.content_type == "application/json":
            raw = request.body
            if b"\x00" in raw or b"\\u0000" in raw.lower():
                return "body"
    return None


class NulCharacterMiddleware:
    """Refuse any request whose path, cookies, query or form/JSON fields carry a NUL character with
    a 400 naming the field (found by fuzzing /api/v1 on PostgreSQL: 500s from every text filter)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        body = {"detail": "请求参数有误", "code": "invalid", "errors": {field: [NUL_MESSAGE]}}
        if request.path.startswith(("/api/", "/open311/")) or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        return HttpResponse(
            f"请求参数有误：{field} {NUL_MESSAGE}", status=400, content_type="text/plain; charset=utf-8"
        )
