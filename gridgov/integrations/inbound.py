"""Shared plumbing of the signed JSON webhooks that come in (12345/110 orders, sensor alerts):
size limit, signature check against the channel's secret, JSON parsing, and domain errors turned
into {"detail", "code", "errors", "rule"} with the right 4xx status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse

from gridgov.common.errors import DomainError, ValidationFailed

from . import security
from .conf import conf


def json_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def handle(
    request: HttpRequest, *, secret: Callable[[], str | None], process: Callable[[Any], tuple[dict[str, Any], int]]
) -> JsonResponse:
    if request.method != "POST":
        response = json_response({"detail": "只接受 POST", "code": "method_not_allowed"}, status=405)
        response["Allow"] = "POST"
        return response
    length = int(request.headers.get("Content-Length") or 0)
    if length > int(conf("WEBHOOK_MAX_BODY_BYTES")):
        return json_response({"detail": "请求体过大", "code": "too_large"}, status=413)
    key = secret()
    if key is None:
        return json_response({"detail": "接入不存在或已停用", "code": "not_found"}, status=404)
    try:
        security.verify_request(key, request)
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValidationFailed("请求体不是 UTF-8 JSON", rule="webhook.json") from None
        body, status = process(data)
    except DomainError as exc:
        return json_response(exc.as_dict(), status=exc.status)
    return json_response(body, status=status)
