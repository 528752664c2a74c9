"""POST /integrations/sensors/<code>/alerts: one IoT / video-analysis alert as signed JSON.

Body: {"device_id", "type", "lat", "lng", "alert_id"?, "occurred_at"?, "description"?,
"snapshot_url"?, "level"?}. Answers 201 {"result": "created"} for a new case, 200 with "joined"
(a repeat inside the de-duplication window) or "duplicate" (the same alert_id again).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from gridgov.common import clock

from .. import security
from ..channels import SENSOR_SECRET_CONTEXT
from ..inbound import handle
from ..models import SensorFeed
from .services import alert_receive, parse_alert


@csrf_exempt
def alert_webhook(request: HttpRequest, code: str) -> JsonResponse:
    feed = SensorFeed.objects.select_related("jurisdiction").filter(code=code, is_active=True).first()

    def secret() -> str | None:
        return security.unseal(feed.secret_sealed, context=SENSOR_SECRET_CONTEXT) if feed else None

    def process(data: Any) -> tuple[dict[str, Any], int]:
        assert feed is not None
        result = alert_receive(feed=feed, alert=parse_alert(data, now=clock.now()))
        body = {"result": result.result, "case_number": result.case.number, "alert": result.alert.pk}
        return body, 201 if result.result == "created" else 200

    return handle(request, secret=secret, process=process)
