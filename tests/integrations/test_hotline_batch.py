"""12345 / 110 orders in batches: each order handled as a single delivery would be, independently,
with a per-order answer; malformed batches refused whole."""

from __future__ import annotations

import pytest

from gridgov.cases.models import Case, CaseEvent, Source
from gridgov.integrations.hotline_12345.services import MAX_BATCH_ORDERS
from gridgov.integrations.models import ExternalOrder
from tests.cases.factories import IN_GRID_1, IN_GRID_2, IN_TOWN_2
from tests.factories import Personas
from tests.integrations.helpers import signed_post
from tests.integrations.test_hotline import SECRET, channel, order  # noqa: F401 — the channel fixture

pytestmark = pytest.mark.django_db

BATCH_URL = "/integrations/hotline/xs-12345/orders/batch"


def test_a_batch_creates_one_case_per_order_like_single_deliveries(p: Personas, channel) -> None:  # noqa: F811
    orders = [order(order_no=f"GD2026112300{i:04d}", lat=(IN_GRID_1, IN_GRID_2)[i % 2][0]) for i in range(6)]
    r = signed_post(BATCH_URL, SECRET, orders)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"], body["refused"]) == (6, 0, 0, 0)
    numbers = [item["case_number"] for item in body["results"]]
    assert [item["index"] for item in body["results"]] == list(range(6))
    assert len(set(numbers)) == 6 and Case.objects.filter(number__in=numbers, source=Source.HOTLINE_12345).count() == 6
    assert ExternalOrder.objects.count() == 6 == CaseEvent.objects.filter(action="report").count()
    single = signed_post("/integrations/hotline/xs-12345/orders", SECRET, order(order_no="GD-SINGLE"))
    by_single = Case.objects.get(number=single.json()["case_number"])
    by_batch = Case.objects.get(number=numbers[0])
    for field in ("category_id", "center_id", "region_id", "state", "deadline", "reporter_name", "address"):
        assert getattr(by_batch, field) == getattr(by_single, field), field
    # The same batch again: every order unchanged, no new case.
    again = signed_post(BATCH_URL, SECRET, orders).json()
    assert again["unchanged"] == 6 and Case.objects.count() == 7


def test_bad_orders_are_refused_one_by_one_and_the_rest_go_through(p: Personas, channel) -> None:  # noqa: F811
    orders = [
        order(order_no="GD-OK-1"),
        order(order_no="GD-BAD", content="短"),
        order(order_no="GD-FAR", lat=IN_TOWN_2[0], lng=IN_TOWN_2[1]),
        order(order_no="GD-OK-1", content="同一工单在同一批里又出现一次"),
        "not an object",
        order(order_no="GD-OK-2"),
    ]
    body = signed_post(BATCH_URL, SECRET, orders).json()
    results = {item["index"]: item for item in body["results"]}
    assert [results[i]["result"] for i in range(6)] == [
        "created",
        "refused",
        "refused",
        "refused",
        "refused",
        "created",
    ]
    assert results[1]["status"] == 400 and "content" in results[1]["error"]["errors"]
    assert results[2]["status"] == 403 and results[2]["error"]["rule"] == "hotline.jurisdiction"
    assert results[3]["error"]["rule"] == "hotline.batch.duplicate"
    assert results[4]["error"]["rule"] == "hotline.order.shape"
    assert body["created"] == 2 and body["refused"] == 4
    assert set(ExternalOrder.objects.values_list("external_id", flat=True)) == {"GD-OK-1", "GD-OK-2"}


@pytest.mark.parametrize(
    ("payload", "rule"),
    [({"order_no": "x"}, "hotline.batch.shape"), ([], "hotline.batch.empty"), (None, "hotline.batch.shape")],
)
def test_malformed_batches_are_400_and_nothing_is_handled(p: Personas, channel, payload, rule) -> None:  # noqa: F811
    r = signed_post(BATCH_URL, SECRET, payload)
    assert r.status_code == 400 and r.json()["rule"] == rule
    assert not Case.objects.exists()


def test_an_oversized_batch_is_refused_whole(p: Personas, channel, settings) -> None:  # noqa: F811
    settings.GRIDGOV = {**settings.GRIDGOV, "WEBHOOK_MAX_BODY_BYTES": 10_000_000}
    r = signed_post(BATCH_URL, SECRET, [order(order_no=f"N{i}") for i in range(MAX_BATCH_ORDERS + 1)])
    assert r.status_code == 400 and r.json()["rule"] == "hotline.batch.size"
    assert not Case.objects.exists()


def test_a_batch_needs_the_channel_signature(p: Personas, channel) -> None:  # noqa: F811
    r = signed_post(BATCH_URL, "whsec_wrong_secret", [order()])
    assert r.status_code in (401, 403)
    assert not Case.objects.exists()
