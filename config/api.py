"""The /api/v1 NinjaAPI: one instance, every app's router mounted here.

Authentication: the browser session (with CSRF on unsafe methods), or an API token
(`Authorization: Bearer ggv_…`, acting as its owner with the owner's jurisdiction). Domain errors become 4xx with
a field-level body: {"detail": ..., "code": ..., "errors": {field: [messages]}, "rule": ...}.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import django_auth

from gridgov.accounts.tokens import bearer_token_auth
from gridgov.cases.api import router as cases_router
from gridgov.common.errors import DomainError
from gridgov.dashboard.api import router as dashboard_router
from gridgov.fieldwork.api import router as fieldwork_router
from gridgov.mediation.api import router as mediation_router
from gridgov.regions.api import router as regions_router
from gridgov.registers.api import router as registers_router


class Utf8JSONRenderer(JSONRenderer):
    # Chinese text as UTF-8, not \uXXXX escapes: half the size and readable in logs.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="gridgov API",
    version="1",
    description="网格化基层治理平台 API。所有数据均按调用者的辖区范围过滤。",
    # Bearer first: the session auth refuses a cookie-less POST on CSRF grounds before any other
    # method is tried, so a machine client must be recognised before it.
    auth=[bearer_token_auth, django_auth],
    urls_namespace="api-v1",
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "需要登录", "code": "unauthenticated"}, status=401)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload", "filters")]
        errors.setdefault(".".join(loc) or "__all__", []).append(str(err.get("msg", "invalid")))
    return api.create_response(request, {"detail": "请求参数有误", "code": "invalid", "errors": errors}, status=422)


api.add_router("/regions", regions_router)
api.add_router("/cases", cases_router)
api.add_router("/dashboard", dashboard_router)
api.add_router("/registers", registers_router)
api.add_router("/fieldwork", fieldwork_router)
api.add_router("/mediation", mediation_router)
