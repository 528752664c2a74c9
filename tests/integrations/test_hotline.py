"""12345 / 110 work orders: signed webhook, idempotent re-delivery, xlsx import (all or nothing,
row-numbered report), and status/reply push-back after commit."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import Workbook

from gridgov.accounts.scope import Scope
from gridgov.cases import selectors as case_selectors
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseEvent, Source, State
from gridgov.integrations import channels, security
from gridgov.integrations.hotline_12345.clients import InMemoryHotlineClient
from gridgov.integrations.hotline_12345.services import orders_import_xlsx
from gridgov.integrations.models import ExternalOrder, ExternalSystem, OutboxMessage, OutboxStatus
from tests.cases.factories import IN_GRID_1, IN_TOWN_2, drive
from tests.factories import Personas
from tests.integrations.helpers import signed_post

SECRET = "whsec_test_12345_secret"
URL = "/integrations/hotline/xs-12345/orders"


@pytest.fixture
def channel(p: Personas):
    return channels.hotline_channel_create(
        actor=p.admin,
        code="xs-12345",
        name="萧山 12345",
        system=ExternalSystem.HOTLINE_12345,
        jurisdiction=p.tree.towns[0],
        secret=SECRET,
    ).obj


def order(**kw: object) -> dict[str, object]:
    data: dict[str, object] = {
        "order_no": "GD20261123000123",
        "title": "小区门口垃圾",
        "content": "小区门口垃圾堆放三天无人清运，气味很大",
        "category_code": "0502",
        "lat": IN_GRID_1[0],
        "lng": IN_GRID_1[1],
        "address": "测试路 1 号",
        "caller_name": "王五",
        "caller_phone": "13900001111",
    }
    data.update(kw)
    return data


def test_signed_order_creates_a_case_in_the_centres_queue(p: Personas, channel) -> None:
    r = signed_post(URL, SECRET, order())
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["result"] == "created" and body["order_no"] == "GD20261123000123"
    case = Case.objects.get(number=body["case_number"])
    assert case.source == Source.HOTLINE_12345 and case.category.code == "0502"
    assert case.description.startswith("【12345 工单 GD20261123000123】小区门口垃圾")
    assert case.reporter_name == "王五"
    assert case in case_selectors.case_queue(scope=Scope.for_user(p.village_operator), queue="to_accept")


def test_redelivery_is_idempotent_and_a_changed_order_adds_a_note(p: Personas, channel) -> None:
    first = signed_post(URL, SECRET, order()).json()
    again = signed_post(URL, SECRET, order())
    assert again.status_code == 200 and again.json()["result"] == "unchanged"
    assert again.json()["case_number"] == first["case_number"]
    assert Case.objects.count() == 1 and ExternalOrder.objects.get().deliveries == 2
    changed = signed_post(URL, SECRET, order(content="小区门口垃圾堆放三天无人清运，市民再次来电催办"))
    assert changed.json()["result"] == "updated" and Case.objects.count() == 1
    note = CaseEvent.objects.filter(case__number=first["case_number"], action="note").get()
    assert not note.is_public and "催办" in note.note and note.unit_label == "12345 政务服务热线"


@pytest.mark.parametrize(
    ("headers", "rule"),
    [
        ({"X-Gridgov-Signature": "sha256=" + "0" * 64}, "webhook.signature.mismatch"),
        ({"X-Gridgov-Timestamp": "1"}, "webhook.signature.mismatch"),
    ],
)
def test_bad_signature_is_refused(p: Personas, channel, headers: dict[str, str], rule: str) -> None:
    r = signed_post(URL, SECRET, order(), **headers)
    assert r.status_code == 401 and r.json()["rule"] == rule
    assert not Case.objects.exists()


def test_wrong_secret_missing_headers_and_replay_are_refused(p: Personas, channel) -> None:
    assert signed_post(URL, "whsec_other", order()).status_code == 401
    r = Client().post(URL, data=json.dumps(order()), content_type="application/json")
    assert r.status_code == 401 and r.json()["rule"] == "webhook.signature.missing"
    body = json.dumps(order()).encode()
    old = 1_700_000_000  # long before the frozen clock
    r = Client().post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_GRIDGOV_TIMESTAMP=str(old),
        HTTP_X_GRIDGOV_SIGNATURE=security.sign(SECRET, body, old),
    )
    assert r.status_code == 401 and r.json()["rule"] == "webhook.timestamp.stale"
    assert signed_post("/integrations/hotline/nope/orders", SECRET, order()).status_code == 404
    assert not Case.objects.exists()


def test_invalid_orders_are_400_and_outside_jurisdiction_403(p: Personas, channel) -> None:
    r = signed_post(URL, SECRET, order(order_no="", content="短"))
    assert r.status_code == 400 and set(r.json()["errors"]) == {"order_no", "content"}
    r = signed_post(URL, SECRET, order(lat=None, lng=None))
    assert r.status_code == 400 and "location" in r.json()["errors"]
    r = signed_post(URL, SECRET, order(lat=IN_TOWN_2[0], lng=IN_TOWN_2[1]))
    assert r.status_code == 403
    r = signed_post(URL, SECRET, order(category_code="05"))
    assert r.status_code == 400 and "category_code" in r.json()["errors"]
    r = signed_post(URL, SECRET, ["not", "an", "object"])
    assert r.status_code == 400
    assert not Case.objects.exists() and not ExternalOrder.objects.exists()


def test_order_without_our_category_code_is_classified(p: Personas, channel) -> None:
    r = signed_post(URL, SECRET, order(category_code="", category="城市管理/噪声", content="晚上工地施工噪音扰民严重"))
    assert r.status_code == 201
    assert Case.objects.get().category.code == "0701"


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["工单编号", "标题", "诉求内容", "事件类别编码", "纬度", "经度", "网格编码", "来电人", "来电号码"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_import_is_idempotent(p: Personas, channel) -> None:
    grid = p.tree.grids[1].code
    content = _xlsx(
        [
            ["GD-1", "垃圾", "小区门口垃圾堆放多日", "0502", 30.05, 120.10, None, "赵六", "13700000000"],
            ["GD-2", "路灯", "路灯晚上不亮已经一周", "0803", None, None, grid, None, None],
        ]
    )
    report = orders_import_xlsx(channel=channel, content=content)
    assert report.ok and report.created == 2
    again = orders_import_xlsx(channel=channel, content=content)
    assert again.ok and again.created == 0 and again.unchanged == 2
    assert Case.objects.count() == 2
    # The same order by webhook after the import is a re-delivery too.
    r = signed_post(URL, SECRET, {"order_no": "GD-1", "content": "小区门口垃圾堆放多日", "lat": 30.05, "lng": 120.1})
    assert r.status_code == 200 and Case.objects.count() == 2


def test_xlsx_import_is_all_or_nothing_with_row_numbers(p: Personas, channel) -> None:
    content = _xlsx(
        [
            ["GD-1", "垃圾", "小区门口垃圾堆放多日", "0502", 30.05, 120.10, None, None, None],
            ["GD-2", "", "短", "0502", 30.05, 120.10, None, None, None],
            ["GD-3", "", "路灯晚上不亮已经一周", "0803", None, None, None, None, None],
            ["GD-1", "", "重复的工单编号一行", "0502", 30.05, 120.10, None, None, None],
        ]
    )
    report = orders_import_xlsx(channel=channel, content=content)
    assert not report.ok and report.created == 0
    assert [e.row for e in report.errors] == [3, 4, 5]
    assert "诉求内容" in report.errors[0].messages[0] and "第 2 行" in report.errors[2].messages[0]
    assert not Case.objects.exists() and not ExternalOrder.objects.exists()


def test_import_screen_for_centre_operators(p: Personas, channel, client_for) -> None:
    url = f"/integrations/hotline/{channel.code}/import/"
    assert client_for(p.grid_worker).get(url).status_code == 403
    assert client_for(p.other_town_operator).get(url).status_code == 403
    c = client_for(p.town_operator)
    assert c.get(url).status_code == 200
    upload = io.BytesIO(_xlsx([["GD-9", "", "小区门口垃圾堆放多日", "0502", 30.05, 120.10, None, None, None]]))
    upload.name = "orders.xlsx"
    r = c.post(url, {"file": upload})
    assert r.status_code == 200 and "新建 1 件" in r.content.decode()
    bad = io.BytesIO(b"not a spreadsheet")
    bad.name = "x.xlsx"
    r = c.post(url, {"file": bad})
    assert r.status_code == 400 and "xlsx" in r.content.decode()


def test_state_changes_push_status_and_public_reply_after_commit(
    p: Personas, channel, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        number = signed_post(URL, SECRET, order()).json()["case_number"]
    assert InMemoryHotlineClient.sent == []  # the report itself is not pushed back
    case = Case.objects.get(number=number)
    with django_capture_on_commit_callbacks(execute=True):
        case = drive(p, case, State.HANDLING)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_services.case_handle(
            actor=p.handler, case=case, result="内部：已安排环卫车清运（张师傅）", public_reply="垃圾已清运完毕"
        )
    pushed = [payload for code, payload in InMemoryHotlineClient.sent]
    assert [x["status"] for x in pushed] == ["accepted", "dispatched", "handling", "handled"]
    last = pushed[-1]
    assert last["order_no"] == "GD20261123000123" and last["system"] == "12345"
    assert last["reply"] == "垃圾已清运完毕"
    assert "张师傅" not in json.dumps(pushed, ensure_ascii=False)
    assert ExternalOrder.objects.get().last_pushed_state == "handled"
    assert OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 4


def test_push_back_is_not_sent_inside_a_rolled_back_transaction(p: Personas, channel) -> None:
    number = signed_post(URL, SECRET, order()).json()["case_number"]
    case = Case.objects.get(number=number)
    # Without a commit no callback runs: the outbox row exists but nothing has been sent.
    case_services.case_accept(actor=p.village_operator, case=case)
    assert InMemoryHotlineClient.sent == []
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING
