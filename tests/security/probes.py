"""The probe table: every URL of the site and every operation of /api/v1, and how to fill it.

`django_routes()` and `api_operations()` enumerate what exists (URL resolvers, the OpenAPI of
config.api.api); `uncovered()` is what exists but is neither probed nor listed as public here, so
a new endpoint without an access test fails tests/security/test_access_control.py.

A probe names the record kind whose identifier fills the URL's parameter; `static` fills the
others. Kinds with records in tests/security/world.py are checked against the access oracle
(outside the user's reach: 403/404, never the data); other kinds are filled with guessed ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api


@dataclass(frozen=True)
class Probe:
    kind: str | None = None  # record kind filling the main parameter; None: no record
    static: dict[str, Any] = field(default_factory=dict)
    write: bool = False  # unsafe method: probed only with records the user must not reach


GUESSED = "guess"  # a kind without world records: filled with guessed ids (existing or not)
P = Probe
G = Probe(GUESSED)

# Pages anybody may open, with the reason they are public.
PUBLIC: dict[str, str] = {
    "": "home page: redirects to login or to the user's start page",
    "healthz": "load-balancer health check, no data",
    "favicon.ico": "redirect to the static site icon",
    "accounts/login/": "login",
    "accounts/login/verify/": "second login step (TOTP), holds only the pending login",
    "accounts/logout/": "logout",
    "report/": "citizen report form (public channel)",
    "report/<str:grid_code>/": "citizen report form from a grid's QR code",
    "report/done/<str:code>/": "citizen acknowledgement page: the tracking code is the credential",
    "track/": "citizen tracking lookup form",
    "track/<str:code>/": "citizen tracking page: the tracking code is the credential (tested below)",
    "track/<str:code>/rate/": "citizen rating: the tracking code is the credential",
    "i18n/setlang/": "language switch",
    "integrations/hotline/<slug:code>/orders": "12345 webhook: HMAC-signed machine endpoint (tests/integrations)",
    "integrations/hotline/<slug:code>/orders/batch": "12345 batch webhook: HMAC-signed (tests/integrations)",
    "integrations/sensors/<slug:code>/alerts": "sensor webhook: HMAC-signed machine endpoint (tests/integrations)",
    "api/v1/docs": "API documentation page (no data)",
    "api/v1/openapi.json": "API description (no data)",
    "api/v1/": "API root",
    "GET /api/v1/cases/public/track/{code}": "citizen tracking by code",
    "POST /api/v1/cases/public/track/{code}/rate": "citizen rating by tracking code",
    "POST /api/v1/cases/public/report": "citizen report (public channel)",
    "GET /api/v1/cases/categories": "the public category code table",
}
# Open311 GeoReport v2 is public by design (GETs anonymous, POST with an api_key): tested in
# tests/integrations/test_open311.py and fuzzed in tests/security/test_hostile_input.py.
PUBLIC_PREFIXES = {"open311/v2/": "Open311 GeoReport v2 (public standard; api_key for POST)"}

ADMIN_PREFIX = "admin/"  # Django admin: probed generically (every changelist, staff only)

DJANGO: dict[str, Probe] = {
    "audit/": P(),
    "audit/export.xlsx": P(),
    "accounts/password/": P(),
    "accounts/2fa/": P(),
    "accounts/2fa/setup/": P(),
    "accounts/tokens/": P(),
    "accounts/tokens/all/": P(),
    "accounts/tokens/<int:token_id>/revoke/": P(GUESSED, write=True),
    "accounts/lockouts/": P(),
    "accounts/lockouts/<int:throttle_id>/unlock/": P(GUESSED, write=True),
    "accounts/users/": P(),
    "accounts/users/<int:user_id>/active/": P(GUESSED, write=True),
    "accounts/users/<int:user_id>/2fa-reset/": P(GUESSED, write=True),
    "accounts/departments/": P(),
    "regions/": P(),
    "regions/<str:code>/": P("region"),
    "regions/<str:code>/tree/": P("region"),
    "cases/": P(),
    "cases/new/": P(),
    "cases/export.xlsx": P(),
    "cases/stats/": P(),
    "cases/inbox/": P(),
    "cases/inbox/<int:notification_id>/": G,
    "cases/qr/": P(),
    "cases/qr/<str:code>.svg": P("region"),
    "cases/_duplicates/": P(),
    "cases/_suggest/": P(),
    "cases/<str:number>/": P("case"),
    "cases/<str:number>/act/<str:action>/": P("case", {"action": "accept"}, write=True),
    "cases/<str:number>/photos/<int:photo_id>/": P("case"),
    "registers/": P(),
    "registers/people/": P(),
    "registers/people/<int:pk>/": P("person"),
    "registers/people/<int:pk>/edit/": P("person"),
    "registers/people/<int:pk>/reveal/": P("person", write=True),
    "registers/people/<int:pk>/move-in/": P("person"),
    "registers/people/<int:pk>/groups/new/": P("person"),
    "registers/people/<int:pk>/<str:action>/": P("person", {"action": "archive"}),
    "registers/case-links/<int:link_id>/unlink/": Probe(GUESSED, write=True),
    "registers/groups/": P(),
    "registers/groups/<int:pk>/edit/": P("group"),
    "registers/groups/<int:pk>/end/": P("group", write=True),
    "registers/visits/due/": P(),
    "registers/visits/new/": P(),
    "registers/visit-rules/": P(),
    "registers/addresses/": P(),
    "registers/addresses/<int:pk>/": P("address"),
    "registers/buildings/<int:pk>/": P("building"),
    "registers/houses/<int:pk>/": P("house"),
    "registers/houses/<int:pk>/household/new/": P("house"),
    "registers/households/<int:pk>/": G,
    "registers/import/<str:register>/": P(None, {"register": "people"}),
    "registers/export/<str:register>/": P(None, {"register": "people"}),
    "registers/template/<str:register>.xlsx": P(None, {"register": "people"}),
    "registers/e/<str:entity>/": P(None, {"entity": "places"}),
    "registers/e/<str:entity>/new/": P(None, {"entity": "places"}),
    "registers/e/<str:entity>/<int:pk>/": P("place", {"entity": "places"}),
    "registers/e/<str:entity>/<int:pk>/edit/": P("place", {"entity": "places"}),
    "fieldwork/": P(),
    "fieldwork/visit/new/": P(),
    "fieldwork/visits/": P(),
    "fieldwork/visits/<int:pk>/": G,
    "fieldwork/patrol/": P(),
    "fieldwork/checkins/<int:pk>/": G,
    "fieldwork/counts/": P(),
    "fieldwork/campaigns/": P(),
    "fieldwork/campaigns/new/": P(),
    "fieldwork/campaigns/<int:pk>/": P("campaign"),
    "fieldwork/campaigns/<int:pk>/act/<str:op>/": P("campaign", {"op": "close"}, write=True),
    "fieldwork/campaigns/<int:pk>/hazards.xlsx": P("campaign"),
    "fieldwork/campaigns/<int:pk>/inspections.xlsx": P("campaign"),
    "fieldwork/campaigns/<int:pk>/area-sheet.pdf": P("campaign"),
    "fieldwork/inspections/<int:pk>/": P("inspection"),
    "fieldwork/hazards/": P(),
    "fieldwork/hazards/<int:pk>/": P("hazard"),
    "fieldwork/hazards/<int:pk>/act/<str:action>/": P("hazard", {"action": "void"}, write=True),
    "fieldwork/hazards/<int:pk>/sheet.pdf": P("hazard"),
    "fieldwork/hazards/<int:pk>/photos/<int:photo_id>/": P("hazard", {"photo_id": 1}),
    "mediation/": P(),
    "mediation/new/": P(),
    "mediation/from-case/<str:number>/": P("case"),
    "mediation/rates/": P(),
    "mediation/petitions/": P(),
    "mediation/petitions/new/": P(),
    "mediation/petitions/<str:number>/": P(GUESSED),
    "mediation/d/<str:number>/": P("dispute"),
    "mediation/d/<str:number>/act/<str:action>/": P("dispute", {"action": "withdraw"}, write=True),
    "mediation/d/<str:number>/agreement.pdf": P("dispute"),
    "integrations/": P(),
    "integrations/keys/<int:pk>/revoke/": P(GUESSED, write=True),
    "integrations/<str:kind>/<int:pk>/toggle/": P(GUESSED, {"kind": "channel"}, write=True),
    "integrations/deliveries/": P(),
    "integrations/deliveries/<int:pk>/retry/": P(GUESSED, write=True),
    "integrations/hotline/<slug:code>/import/": P(None, {"code": "12345"}),
    "assessment/": P(),
    "assessment/compute/": P(),
    "assessment/indicators/": P(),
    "assessment/process/": P(),
    "assessment/process/<int:pk>/review/": G,
    "assessment/<int:pk>/": G,
    "assessment/<int:pk>/publish/": P(GUESSED, write=True),
    "assessment/<int:pk>/workers/": G,
    "assessment/<int:pk>/report/": G,
    "assessment/<int:pk>/region/<str:code>/": P(GUESSED, {"code": "330109002"}),
    "assessment/<int:pk>/region/<str:code>/<str:indicator>/": P(GUESSED, {"code": "330109002", "indicator": "x"}),
    "dashboard/": P(),
    "dashboard/live/": P(),
}

API: dict[str, Probe] = {
    "GET /api/v1/regions/locate": P(None, {"lat": 30.05, "lng": 120.5}),
    "GET /api/v1/regions": P(),
    "POST /api/v1/regions": P(None, write=True),
    "GET /api/v1/regions/{code}": P("region"),
    "PUT /api/v1/regions/{code}/polygon": P("region", write=True),
    "GET /api/v1/regions/{code}/geojson": P("region"),
    "POST /api/v1/cases/suggest-category": P(None),
    "GET /api/v1/cases/duplicates": P(None, {"lat": 30.05, "lng": 120.5, "category": "0502"}),
    "GET /api/v1/cases/rates": P(),
    "GET /api/v1/cases/export.xlsx": P(),
    "GET /api/v1/cases/notifications": P(),
    "POST /api/v1/cases/notifications/{notification_id}/read": P(GUESSED, write=True),
    "GET /api/v1/cases": P(),
    "POST /api/v1/cases": P(None, write=True),
    "GET /api/v1/cases/{number}": P("case"),
    "GET /api/v1/cases/{number}/duplicates": P("case"),
    "GET /api/v1/cases/{number}/route": P("case"),
    **{
        f"POST /api/v1/cases/{{number}}/{a}": P("case", write=True)
        for a in (
            "accept",
            "reject",
            "merge",
            "escalate",
            "dispatch",
            "sign",
            "return",
            "extension",
            "extension/approve",
            "extension/refuse",
            "handle",
            "verify",
            "rework",
            "close",
            "rate",
            "supervise",
            "settle/approve",
            "settle/refuse",
            "notes",
        )
    },
    "GET /api/v1/registers/people": P(),
    "POST /api/v1/registers/people": P(None, write=True),
    "GET /api/v1/registers/people/{person_id}": P("person"),
    "PATCH /api/v1/registers/people/{person_id}": P("person", write=True),
    **{
        f"POST /api/v1/registers/people/{{person_id}}/{a}": P("person", write=True)
        for a in ("move-out", "move-in", "cancel", "archive", "reveal", "groups")
    },
    "POST /api/v1/registers/households": P(None, write=True),
    "GET /api/v1/registers/households/{household_id}": G,
    "GET /api/v1/registers/addresses": P(),
    "POST /api/v1/registers/addresses": P(None, write=True),
    "POST /api/v1/registers/addresses/{address_id}/buildings": P("address", write=True),
    "GET /api/v1/registers/buildings/{building_id}": P("building"),
    "POST /api/v1/registers/buildings/{building_id}/houses": P("building", write=True),
    "GET /api/v1/registers/groups": P(),
    "GET /api/v1/registers/groups/summary": P(),
    "GET /api/v1/registers/groups/fields": P(),
    "PUT /api/v1/registers/groups/{membership_id}": P("group", write=True),
    "POST /api/v1/registers/groups/{membership_id}/end": P("group", write=True),
    "GET /api/v1/registers/visits/due": P(),
    "POST /api/v1/registers/visits": P(None, write=True),
    "GET /api/v1/registers/visit-rules": P(),
    "PUT /api/v1/registers/visit-rules/{kind}/{attention_level}": P(
        None, {"kind": "released", "attention_level": "01"}, write=True
    ),
    "GET /api/v1/registers/templates/{key}.xlsx": P(None, {"key": "people"}),
    "POST /api/v1/registers/import/{key}": P(None, {"key": "people"}, write=True),
    "POST /api/v1/registers/export/{key}": P(None, {"key": "people"}),
    "GET /api/v1/registers/{entity}": P(None, {"entity": "places"}),
    "POST /api/v1/registers/{entity}": P(None, {"entity": "places"}, write=True),
    "GET /api/v1/registers/{entity}/{pk}": P("place", {"entity": "places"}),
    "PATCH /api/v1/registers/{entity}/{pk}": P("place", {"entity": "places"}, write=True),
    "GET /api/v1/dashboard/summary": P(),
    "GET /api/v1/dashboard/markers": P(),
    "GET /api/v1/fieldwork/today": P(),
    "POST /api/v1/fieldwork/visits": P(None, write=True),
    "GET /api/v1/fieldwork/visits": P(),
    "POST /api/v1/fieldwork/visits/{visit_id}/report-case": P(GUESSED, write=True),
    "GET /api/v1/fieldwork/patrols": P(),
    "POST /api/v1/fieldwork/patrols": P(None, write=True),
    "POST /api/v1/fieldwork/patrols/{patrol_id}/checkins": P(GUESSED, write=True),
    "POST /api/v1/fieldwork/patrols/{patrol_id}/end": P(GUESSED, write=True),
    "POST /api/v1/fieldwork/checkins/{checkin_id}/report-case": P(GUESSED, write=True),
    "GET /api/v1/fieldwork/counts": P(),
    "GET /api/v1/fieldwork/campaigns": P(),
    "POST /api/v1/fieldwork/campaigns": P(None, write=True),
    "GET /api/v1/fieldwork/campaigns/{campaign_id}": P("campaign"),
    "POST /api/v1/fieldwork/campaigns/{campaign_id}/start": P("campaign", write=True),
    "POST /api/v1/fieldwork/campaigns/{campaign_id}/close": P("campaign", write=True),
    "GET /api/v1/fieldwork/campaigns/{campaign_id}/progress": P("campaign"),
    "POST /api/v1/fieldwork/campaigns/{campaign_id}/inspections": P("campaign", write=True),
    "POST /api/v1/fieldwork/campaigns/{campaign_id}/inspections/generate": P("campaign", write=True),
    "GET /api/v1/fieldwork/inspections": P(),
    "POST /api/v1/fieldwork/inspections/{inspection_id}/record": P("inspection", write=True),
    "GET /api/v1/fieldwork/hazards": P(),
    "GET /api/v1/fieldwork/hazards/export.xlsx": P(),
    "GET /api/v1/fieldwork/hazards/{hazard_id}": P("hazard"),
    "GET /api/v1/fieldwork/hazards/{hazard_id}/timeline": P("hazard"),
    "GET /api/v1/fieldwork/hazards/{hazard_id}/sheet.pdf": P("hazard"),
    "POST /api/v1/fieldwork/hazards/{hazard_id}/{action}": P("hazard", {"action": "void"}, write=True),
    "GET /api/v1/mediation/centres": P(),
    "GET /api/v1/mediation/disputes": P(),
    "POST /api/v1/mediation/disputes": P(None, write=True),
    "POST /api/v1/mediation/disputes/from-case": P(None, write=True),
    "GET /api/v1/mediation/disputes/export.xlsx": P(),
    "GET /api/v1/mediation/rates": P(),
    "GET /api/v1/mediation/disputes/{number}": P("dispute"),
    "GET /api/v1/mediation/disputes/{number}/agreement.pdf": P("dispute"),
    "POST /api/v1/mediation/disputes/{number}/{action}": P("dispute", {"action": "withdraw"}, write=True),
    "GET /api/v1/mediation/petitions": P(),
    "POST /api/v1/mediation/petitions": P(None, write=True),
    "GET /api/v1/mediation/petitions/{number}": G,
}


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    out: list[tuple[str, URLPattern]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += _walk(p.url_patterns, prefix + str(p.pattern))
        else:
            out.append((prefix + str(p.pattern), p))
    return out


def django_routes() -> list[str]:
    """Every URL route of the site; the API's operations are listed by api_operations() instead,
    except its documentation pages."""
    api_pages = ("api/v1/docs", "api/v1/openapi.json", "api/v1/")
    return [r for r, _ in _walk(get_resolver().url_patterns) if not r.startswith("api/v1/") or r in api_pages]


def api_operations() -> list[str]:
    schema = api.get_openapi_schema()
    return [f"{m.upper()} /api/v1{path.removeprefix('/api/v1')}" for path, ops in schema["paths"].items() for m in ops]


def uncovered() -> list[str]:
    missing = []
    for route in django_routes():
        if route.startswith(ADMIN_PREFIX) or any(route.startswith(p) for p in PUBLIC_PREFIXES):
            continue
        if route not in DJANGO and route not in PUBLIC:
            missing.append(route)
    for op in api_operations():
        if op not in API and op not in PUBLIC:
            missing.append(op)
    return missing


def stale() -> list[str]:
    """Table rows naming an endpoint that no longer exists."""
    routes, ops = set(django_routes()), set(api_operations())
    return [k for k in DJANGO if k not in routes] + [k for k in API if k not in ops]


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")


def params(route: str) -> list[str]:
    return [a or b for a, b in _PARAM.findall(route)]


def fill(route: str, values: dict[str, Any]) -> str:
    return _PARAM.sub(lambda m: str(values[m.group(1) or m.group(2)]), route)
