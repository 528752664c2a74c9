"""POST /integrations/hotline/<code>/orders: one 12345 / 110 work order as signed JSON.

Body: {"order_no", "content", "title"?, "category_code"? | "category"?, "urgency"?, "lat"+"lng" |
"grid_code", "address"?, "caller_name"?, "caller_phone"?}. Answers 201 {"result": "created", …}
for a new order, 200 with "updated" / "unchanged" for a re-delivery.

POST /integrations/hotline/<code>/orders/batch: a signed JSON array of such orders (at most
services.MAX_BATCH_ORDERS). Each is handled as a single delivery would be, independently; the
answer is 200 {"created", "updated", "unchanged", "refused": counts, "results": [{"index",
"order_no", "result", "case_number"? , "status"? + "error"? (the single delivery's error body)}]}.
A malformed batch (not an array, empty, too long) is 400 and nothing is handled.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .. import security
from ..inbound import handle
from ..models import HotlineChannel
from .clients import SECRET_CONTEXT
from .services import order_upsert, orders_receive, parse_order


@csrf_exempt
def order_webhook(request: HttpRequest, code: str) -> JsonResponse:
    channel = HotlineChannel.objects.select_related("jurisdiction").filter(code=code, is_active=True).first()

    def secret() -> str | None:
        return security.unseal(channel.secret_sealed, context=SECRET_CONTEXT) if channel else None

    def process(data: Any) -> tuple[dict[str, Any], int]:
        assert channel is not None
        result = order_upsert(channel=channel, order=parse_order(data))
        body = {
            "result": result.result,
            "order_no": result.order.external_id,
            "case_number": result.case.number,
            "deliveries": result.order.deliveries,
        }
        return body, 201 if result.result == "created" else 200

    return handle(request, secret=secret, process=process)


@csrf_exempt
def orders_batch_webhook(request: HttpRequest, code: str) -> JsonResponse:
    channel = HotlineChannel.objects.select_related("jurisdiction").filter(code=code, is_active=True).first()

    def secret() -> str | None:
        return security.unseal(channel.secret_sealed, context=SECRET_CONTEXT) if channel else None

    def process(data: Any) -> tuple[dict[str, Any], int]:
        assert channel is not None
        items = orders_receive(channel=channel, items=data)
        counts = {k: sum(1 for i in items if i.result == k) for k in ("created", "updated", "unchanged", "refused")}
        return {**counts, "results": [i.as_dict() for i in items]}, 200

    return handle(request, secret=secret, process=process)
