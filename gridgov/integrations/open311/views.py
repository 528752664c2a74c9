"""Open311 GeoReport v2 endpoints under /open311/v2/ (plain Django views: the format is the
path suffix, .xml or .json). GETs need no key; POST requests needs api_key (403 otherwise).
Every refusal is the spec's error list with a 400/403/404 status, never a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from gridgov.common import clock

from ..conf import conf
from . import selectors, services
from .formats import Open311Error, error_response, respond

log = logging.getLogger("gridgov.integrations.open311")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed (discovery's changeset).
CHANGESET = "2026-07-01T00:00:00+08:00"


def _guard(fmt: str, request: HttpRequest, methods: tuple[str, ...], build: Callable[[], HttpResponse]) -> HttpResponse:
    if request.method not in methods:
        response = error_response(fmt, Open311Error(405, f"method {request.method} is not allowed here"))
        response["Allow"] = ", ".join(methods)
        return response
    try:
        return build()
    except Open311Error as exc:
        return error_response(fmt, exc)


def _jurisdiction_id(request: HttpRequest) -> str | None:
    return request.POST.get("jurisdiction_id") or request.GET.get("jurisdiction_id")


def _check_jurisdiction(request: HttpRequest) -> None:
    """Resources that do not vary by area only refuse an unknown jurisdiction_id."""
    if _jurisdiction_id(request):
        selectors.resolve_jurisdiction(_jurisdiction_id(request))


@csrf_exempt
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    def build() -> HttpResponse:
        _check_jurisdiction(request)
        return respond(fmt, "services", selectors.service_list())

    return _guard(fmt, request, ("GET", "HEAD"), build)


@csrf_exempt
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    def build() -> HttpResponse:
        _check_jurisdiction(request)
        return respond(fmt, "service_definition", selectors.service_definition(code))

    return _guard(fmt, request, ("GET", "HEAD"), build)


@csrf_exempt
@never_cache
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    def get() -> HttpResponse:
        jurisdiction = selectors.resolve_jurisdiction(_jurisdiction_id(request))
        params = {
            k: request.GET.get(k) for k in ("service_request_id", "service_code", "start_date", "end_date", "status")
        }
        qs = selectors.request_query(jurisdiction, params, now=clock.now())
        return respond(fmt, "service_requests", selectors.requests_out(qs[: selectors.MAX_REQUESTS]))

    def post() -> HttpResponse:
        api_key = request.POST.get("api_key") or request.GET.get("api_key")
        submission = services.open311_request_create(
            data=request.POST, api_key=api_key, jurisdiction_id=_jurisdiction_id(request)
        )
        return respond(fmt, "service_requests", [services.submission_out(submission)])

    if request.method == "POST":
        if request.content_type and request.content_type not in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return error_response(
                fmt, Open311Error(400, "the body must be application/x-www-form-urlencoded; charset=utf-8")
            )
        return _guard(fmt, request, ("POST",), post)
    return _guard(fmt, request, ("GET", "HEAD"), get)


@csrf_exempt
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    def build() -> HttpResponse:
        jurisdiction = selectors.resolve_jurisdiction(_jurisdiction_id(request))
        return respond(fmt, "service_requests", [selectors.request_one(jurisdiction, number)])

    return _guard(fmt, request, ("GET", "HEAD"), build)


@csrf_exempt
def token(request: HttpRequest, token_id: str, fmt: str) -> HttpResponse:
    def build() -> HttpResponse:
        _check_jurisdiction(request)
        return respond(fmt, "service_requests", [selectors.token_lookup(token_id)])

    return _guard(fmt, request, ("GET", "HEAD"), build)


@csrf_exempt
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    def build() -> HttpResponse:
        root = request.build_absolute_uri(reverse("open311:root")).rstrip("/")
        contact = str(conf("OPEN311_CONTACT") or f"{settings.SITE_NAME}（{settings.GRIDGOV['DISTRICT_CODE']}）")
        key_service = str(conf("OPEN311_KEY_SERVICE") or request.build_absolute_uri(reverse("integrations:home")))
        body = {
            "changeset": CHANGESET,
            "contact": contact,
            "key_service": key_service,
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": root,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }
        return respond(fmt, "discovery", body)

    return _guard(fmt, request, ("GET", "HEAD"), build)


@csrf_exempt
def root(request: HttpRequest) -> HttpResponse:
    """The endpoint's base URL: point clients at discovery."""
    return discovery(request, "xml")


@csrf_exempt
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    fmt = "json" if rest.endswith(".json") else "xml"
    return error_response(fmt, Open311Error(404, f"no such GeoReport v2 resource: /{rest}"))
