"""Hostile input: schemathesis against /api/v1 (its own OpenAPI) as an authenticated user (API token)
and against Open311 GeoReport v2 (a small OpenAPI description written here), in-process through
WSGI. No generated request may answer 5xx; every refusal is a 4xx.

Examples per operation: GRIDGOV_FUZZ_EXAMPLES (default 15), so the suite stays fast; the number of
requests actually sent is printed in the terminal summary ("fuzzed API requests").
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.api import api
from gridgov.accounts.tokens import api_token_create
from gridgov.cases import routing
from gridgov.common import clock
from gridgov.integrations.open311 import services as open311
from tests.cases.factories import MONDAY_10
from tests.factories import Personas
from tests.probe_stats import count

EXAMPLES = int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "15"))
APP = get_wsgi_application()
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=list(HealthCheck),
)

api_schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
api_schema.app = APP
# The coverage phase alone sends hundreds of boundary requests per operation: too slow for every
# run of the suite. Explicit examples and random (positive and negative) fuzzing remain.
api_schema.config.phases.coverage.enabled = False

OPEN311_PARAMS = [
    {"name": "fmt", "in": "path", "required": True, "schema": {"type": "string", "enum": ["json", "xml"]}},
    {"name": "jurisdiction_id", "in": "query", "required": False, "schema": {"type": "string"}},
]
OPEN311 = {
    "openapi": "3.0.3",
    "info": {"title": "gridgov Open311 GeoReport v2", "version": "2"},
    "paths": {
        "/open311/v2/discovery.{fmt}": {
            "get": {"parameters": OPEN311_PARAMS, "responses": {"200": {"description": "ok"}}}
        },
        "/open311/v2/services.{fmt}": {
            "get": {"parameters": OPEN311_PARAMS, "responses": {"200": {"description": "ok"}}}
        },
        "/open311/v2/services/{code}.{fmt}": {
            "get": {
                "parameters": [
                    *OPEN311_PARAMS,
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/open311/v2/requests.{fmt}": {
            "get": {
                "parameters": [
                    *OPEN311_PARAMS,
                    *(
                        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in ("service_request_id", "service_code", "start_date", "end_date", "status")
                    ),
                ],
                "responses": {"200": {"description": "ok"}},
            },
            "post": {
                "parameters": OPEN311_PARAMS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "api_key": {"type": "string", "enum": ["__KEY__"]},
                                    "service_code": {"type": "string"},
                                    "lat": {"type": "string"},
                                    "long": {"type": "string"},
                                    "address_string": {"type": "string"},
                                    "address_id": {"type": "string"},
                                    "description": {"type": "string"},
                                    "email": {"type": "string"},
                                    "device_id": {"type": "string"},
                                    "account_id": {"type": "string"},
                                    "first_name": {"type": "string"},
                                    "last_name": {"type": "string"},
                                    "phone": {"type": "string"},
                                    "media_url": {"type": "string"},
                                    "attribute[ADDR]": {"type": "string"},
                                },
                                "required": ["api_key"],
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "created"}},
            },
        },
        "/open311/v2/requests/{number}.{fmt}": {
            "get": {
                "parameters": [
                    *OPEN311_PARAMS,
                    {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/open311/v2/tokens/{token_id}.{fmt}": {
            "get": {
                "parameters": [
                    *OPEN311_PARAMS,
                    {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}
open311_schema = schemathesis.openapi.from_dict(OPEN311)
open311_schema.app = APP
open311_schema.config.phases.coverage.enabled = False


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: a request through the WSGI handler must not close the
    connection holding the test's transaction (on PostgreSQL that ends the test's database)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_p(personas, settings, tmp_path) -> Iterator[Personas]:
    """The personas (generated ids and numbers rarely hit a record anyway; the access tests
    cover existing records)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    routing.reset_classifier()
    with clock.frozen(MONDAY_10):
        yield personas


@pytest.fixture
def token(fuzz_p) -> str:
    return api_token_create(actor=fuzz_p.district_operator, name="fuzz").raw


@pytest.fixture
def open311_key(fuzz_p) -> str:
    return open311.open311_key_create(actor=fuzz_p.admin, name="fuzz", jurisdiction=fuzz_p.tree.district).raw


def _no_5xx(case, response) -> None:
    count("fuzzed API requests")
    count(f"fuzzed API requests answered {response.status_code // 100}xx")
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}\n"
        f"query={case.query} body={case.body!r}\n{response.text[:2000]}"
    )


@api_schema.parametrize()
@FUZZ
def test_api_v1_answers_no_5xx_to_generated_input(case, token):
    with clock.frozen(MONDAY_10):
        response = case.call(headers={"Authorization": f"Bearer {token}"})
    _no_5xx(case, response)


@open311_schema.parametrize()
@FUZZ
def test_open311_answers_no_5xx_to_generated_input(case, open311_key):
    if isinstance(case.body, dict) and case.body.get("api_key") == "__KEY__":
        case.body["api_key"] = open311_key
    with clock.frozen(MONDAY_10):
        response = case.call()
    _no_5xx(case, response)
