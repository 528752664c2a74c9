"""Open311 GeoReport v2: every endpoint in JSON and XML, the error list, api_key refusal, the
spec's form-encoded POST landing in the centre's queue, and no personal data in any answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from gridgov.accounts.scope import Scope
from gridgov.cases import selectors as case_selectors
from gridgov.cases.models import Case, Source, State
from gridgov.integrations.models import Open311Request, ResponseMode
from gridgov.integrations.open311 import services as open311
from tests.cases.factories import IN_GRID_1, IN_TOWN_2, drive, report
from tests.factories import Personas

BASE = "/open311/v2"


def make_key(p: Personas, **kw: object) -> str:
    kw.setdefault("jurisdiction", p.tree.towns[0])
    issued = open311.open311_key_create(actor=p.admin, name="随手拍 App", **kw)  # type: ignore[arg-type]
    return issued.raw


def xml_of(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert "}" not in root.tag  # no namespace
    return root


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def post(client: Client, fmt: str = "json", **fields: str):
    return client.post(f"{BASE}/requests.{fmt}", data=fields)  # form-encoded, as the spec says


# --- services ---------------------------------------------------------------------------------------


def test_service_list_json_maps_public_leaf_categories(db: None) -> None:
    services = json_of(Client().get(f"{BASE}/services.json"))
    codes = {s["service_code"] for s in services}
    assert "0502" in codes and "0704" in codes
    assert not codes & {"05", "0101", "0401", "0901", "1001"}  # main categories and private ones
    garbage = next(s for s in services if s["service_code"] == "0502")
    assert garbage == {
        "service_code": "0502",
        "service_name": "暴露垃圾",
        "description": "市容环境 / 暴露垃圾",
        "metadata": False,
        "type": "realtime",
        "keywords": garbage["keywords"],
        "group": "市容环境",
    }
    assert next(s for s in services if s["service_code"] == "0701")["metadata"] is True


def test_service_list_xml(db: None) -> None:
    root = xml_of(Client().get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    first = root.find("service")
    assert first is not None
    assert [c.tag for c in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    noise = next(s for s in root.findall("service") if s.findtext("service_code") == "0701")
    assert noise.findtext("metadata") == "true" and noise.findtext("type") == "realtime"


def test_service_definition_json_and_xml(db: None) -> None:
    d = json_of(Client().get(f"{BASE}/services/0701.json"))
    assert d["service_code"] == "0701"
    period = d["attributes"][0]
    assert period["code"] == "period" and period["datatype"] == "singlevaluelist"
    assert period["required"] is True and period["variable"] is True and period["order"] == 1
    assert {"key": "night", "name": "夜间（22–6 时）"} in period["values"]
    root = xml_of(Client().get(f"{BASE}/services/0701.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "0701"
    attr = root.find("attributes/attribute")
    assert attr is not None and attr.findtext("code") == "period" and attr.findtext("required") == "true"
    assert [v.findtext("key") for v in attr.findall("values/value")] == ["day", "night", "all_day"]


@pytest.mark.parametrize("code", ["9876", "05", "0901"])
def test_unknown_main_or_private_service_code_is_404(db: None, code: str) -> None:
    r = Client().get(f"{BASE}/services/{code}.json")
    assert r.status_code == 404
    [error] = json_of(r)
    assert error["code"] == 404 and code in error["description"]
    r = Client().get(f"{BASE}/services/{code}.xml")
    assert r.status_code == 404
    root = xml_of(r)
    assert root.tag == "errors" and root.findtext("error/code") == "404"


# --- POST ------------------------------------------------------------------------------------------------


def test_form_encoded_post_creates_a_case_in_the_centres_queue(p: Personas) -> None:
    key = make_key(p)
    r = post(
        Client(),
        api_key=key,
        service_code="0701",
        lat=str(IN_GRID_1[0]),
        long=str(IN_GRID_1[1]),
        description="工地夜间施工噪声很大",
        **{"attribute[period]": "night", "attribute[source]": "construction"},
        email="zhang@example.cn",
        first_name="三",
        last_name="张",
        phone="+86 138 1234 5678",
        media_url="https://img.example.cn/a.jpg",
        device_id="dev-1",
        account_id="acct-7",
    )
    assert r.status_code == 200, r.content
    [answer] = json_of(r)
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] == "acct-7"
    case = Case.objects.get(number=answer["service_request_id"])
    assert case.source == Source.CITIZEN and case.state == State.REPORTED
    assert case.category.code == "0701"
    assert case.reporter_name == "张三" and case.reporter_phone == "13812345678"
    assert "【噪声出现的时段】夜间（22–6 时）" in case.description and "【噪声来源】施工" in case.description
    queue = case_selectors.case_queue(scope=Scope.for_user(p.village_operator), queue="to_accept")
    assert case in queue
    sub = Open311Request.objects.get(case=case)
    assert sub.email == "zhang@example.cn" and sub.attributes == {"period": "night", "source": "construction"}


def test_post_xml_answer_and_token_mode(p: Personas) -> None:
    key = make_key(p, response_mode=ResponseMode.TOKEN)
    r = post(Client(), "xml", api_key=key, service_code="0502", lat="30.05", long="120.10", description="垃圾堆放多日")
    assert r.status_code == 200, r.content
    root = xml_of(r)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None and request.find("service_request_id") is None
    token = request.findtext("token")
    assert token
    number = Open311Request.objects.get(token=token).case.number
    for fmt in ("json", "xml"):
        r = Client().get(f"{BASE}/tokens/{token}.{fmt}")
        assert r.status_code == 200
        if fmt == "json":
            assert json_of(r) == [{"service_request_id": number, "token": token}]
        else:
            assert xml_of(r).findtext("request/service_request_id") == number
    assert Client().get(f"{BASE}/tokens/nope.json").status_code == 404


@pytest.mark.parametrize("api_key", [None, "", "o311_wrong"])
def test_post_without_a_valid_api_key_is_403_and_writes_nothing(p: Personas, api_key: str | None) -> None:
    fields = {"service_code": "0502", "lat": "30.05", "long": "120.10", "description": "垃圾堆放多日"}
    if api_key is not None:
        fields["api_key"] = api_key
    r = post(Client(), **fields)
    assert r.status_code == 403
    [error] = json_of(r)
    assert error["code"] == 403 and "api_key" in error["description"]
    r = post(Client(), "xml", **fields)
    assert r.status_code == 403 and xml_of(r).findtext("error/code") == "403"
    assert not Case.objects.exists()


def test_revoked_key_is_refused(p: Personas) -> None:
    key = make_key(p)
    open311.open311_key_revoke(actor=p.admin, key=open311.open311_key_authenticate(key))
    r = post(Client(), api_key=key, service_code="0502", lat="30.05", long="120.10")
    assert r.status_code == 403


def test_location_outside_the_keys_jurisdiction_is_refused(p: Personas) -> None:
    key = make_key(p)  # town 1
    r = post(Client(), api_key=key, service_code="0502", lat=str(IN_TOWN_2[0]), long=str(IN_TOWN_2[1]))
    assert r.status_code == 403
    assert "jurisdiction" in json_of(r)[0]["description"]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({"service_code": "0502"}, 400, "location is required"),
        ({"service_code": "0502", "lat": "30.05"}, 400, "both"),
        ({"service_code": "0502", "lat": "north", "long": "120.1"}, 400, "lat"),
        ({"service_code": "0502", "lat": "10", "long": "10"}, 400, "not inside any grid"),
        ({"lat": "30.05", "long": "120.10"}, 400, "service_code is required"),
        ({"service_code": "7777", "lat": "30.05", "long": "120.10"}, 404, "service_code"),
        ({"service_code": "0701", "lat": "30.05", "long": "120.10"}, 400, "attribute[period] is required"),
        (
            {"service_code": "0701", "lat": "30.05", "long": "120.10", "attribute[period]": "noon"},
            400,
            "must be one of",
        ),
        (
            {"service_code": "0502", "lat": "30.05", "long": "120.10", "attribute[colour]": "red"},
            400,
            "not defined",
        ),
        ({"service_code": "0502", "lat": "30.05", "long": "120.10", "description": "<b>垃圾</b>"}, 400, "HTML"),
        ({"service_code": "0502", "lat": "30.05", "long": "120.10", "description": "垃" * 4001}, 400, "4000"),
        ({"service_code": "0502", "lat": "30.05", "long": "120.10", "media_url": "javascript:x"}, 400, "media_url"),
        ({"service_code": "0502", "lat": "30.05", "long": "120.10", "email": "nope"}, 400, "email"),
        ({"service_code": "0502", "address_id": "999"}, 400, "address_id"),
        ({"service_code": "0502", "address_string": "某某路 1 号"}, 400, "address_string"),
        ({"service_code": "0502", "lat": "30.05", "long": "120.10", "jurisdiction_id": "x.gov"}, 404, "jurisdiction"),
    ],
)
def test_bad_posts_answer_the_error_list_and_write_nothing(
    p: Personas, fields: dict[str, str], status: int, needle: str
) -> None:
    r = post(Client(), api_key=make_key(p), **fields)
    assert r.status_code == status, r.content
    errors = json_of(r)
    assert errors[0]["code"] == status
    assert needle in errors[0]["description"]
    assert not Case.objects.exists() and not Open311Request.objects.exists()


def test_address_id_and_address_string_locate_by_grid(p: Personas) -> None:
    key = make_key(p)
    micro = p.tree.microgrids[0]
    r = post(Client(), api_key=key, service_code="0502", address_id=micro.code, description="垃圾堆放多日")
    assert r.status_code == 200, r.content
    assert Case.objects.get(number=json_of(r)[0]["service_request_id"]).region == micro
    grid = p.tree.grids[1]
    r = post(Client(), api_key=key, service_code="0502", address_string=f"{grid.name}东门口", description="垃圾堆放")
    assert r.status_code == 200, r.content
    assert Case.objects.get(number=json_of(r)[0]["service_request_id"]).region_path.startswith(grid.path)


def test_json_body_is_refused_with_400(p: Personas) -> None:
    r = Client().post(f"{BASE}/requests.json", data='{"service_code": "0502"}', content_type="application/json")
    assert r.status_code == 400 and "x-www-form-urlencoded" in json_of(r)[0]["description"]


# --- GET requests ----------------------------------------------------------------------------------------------


@pytest.fixture
def cases(p: Personas) -> dict[str, Case]:
    open_case = report(p, description="小区门口垃圾堆放，联系人电话13812345678")
    closed = drive(p, report(p, description="垃圾站满溢无人清运"), State.CLOSED)
    private = report(p, code="0901", description="精神障碍患者张某情绪激动")
    return {"open": open_case, "closed": closed, "private": private}


def test_requests_list_json_with_statuses_and_no_personal_data(p: Personas, cases: dict[str, Case]) -> None:
    rows = json_of(Client().get(f"{BASE}/requests.json"))
    by_id = {r["service_request_id"]: r for r in rows}
    assert set(by_id) == {cases["open"].number, cases["closed"].number}  # the 0901 alert is private
    o, c = by_id[cases["open"].number], by_id[cases["closed"].number]
    assert o["status"] == "open" and o["status_notes"].startswith("待受理（reported）")
    assert c["status"] == "closed" and c["status_notes"].startswith("已结案（closed）")
    assert c["updated_datetime"] == "2026-11-23T10:00:00+08:00" and c["expected_datetime"] is None
    assert o["requested_datetime"] == "2026-11-23T10:00:00+08:00"
    assert o["service_code"] == "0502" and o["service_name"] == "暴露垃圾"
    assert o["lat"] == pytest.approx(30.05) and o["long"] == pytest.approx(120.10)
    assert o["address_id"] == cases["open"].region.code and o["zipcode"] is None
    assert "13812345678" not in o["description"] and "138****5678" in o["description"]
    body = json.dumps(rows, ensure_ascii=False)
    for secret in ("网格员甲", "alice", "hank", "已清运完毕", cases["open"].tracking_code, "张某"):
        assert secret not in body
    assert c["agency_responsible"] == p.department.name


def test_requests_list_xml(p: Personas, cases: dict[str, Case]) -> None:
    root = xml_of(Client().get(f"{BASE}/requests.xml", {"status": "closed"}))
    assert root.tag == "service_requests"
    [req] = root.findall("request")
    assert req.findtext("service_request_id") == cases["closed"].number
    assert req.findtext("status") == "closed"
    tags = [c.tag for c in req]
    for tag in (
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "requested_datetime",
        "updated_datetime",
        "address",
        "address_id",
        "lat",
        "long",
        "media_url",
    ):
        assert tag in tags
    assert req.findtext("requested_datetime") == "2026-11-23T10:00:00+08:00"


def test_requests_filters(p: Personas, cases: dict[str, Case]) -> None:
    c = Client()
    get = lambda **q: {r["service_request_id"] for r in json_of(c.get(f"{BASE}/requests.json", q))}  # noqa: E731
    assert get(status="open") == {cases["open"].number}
    assert get(status="open,closed") == {cases["open"].number, cases["closed"].number}
    assert get(service_code="0503") == set()
    assert get(start_date="2026-11-24T00:00:00+08:00") == set()
    assert get(start_date="2026-11-01T00:00:00Z", end_date="2026-11-30T00:00:00Z") == {
        cases["open"].number,
        cases["closed"].number,
    }
    # service_request_id overrides every other argument
    assert get(service_request_id=cases["closed"].number, status="open", start_date="2020-01-01") == {
        cases["closed"].number
    }
    assert get(service_request_id=cases["private"].number) == set()
    assert get(jurisdiction_id=p.tree.towns[1].code) == set()
    assert get(jurisdiction_id=p.tree.towns[0].code) == {cases["open"].number, cases["closed"].number}


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-40"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-11-20T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, "after"),
        ({"status": "pending"}, "status"),
    ],
)
def test_bad_request_queries_are_400(tree, query: dict[str, str], needle: str) -> None:
    for fmt in ("json", "xml"):
        r = Client().get(f"{BASE}/requests.{fmt}", query)
        assert r.status_code == 400
        if fmt == "json":
            assert needle in json_of(r)[0]["description"]
        else:
            assert xml_of(r).findtext("error/code") == "400"


def test_single_request_json_xml_and_404(p: Personas, cases: dict[str, Case]) -> None:
    number = cases["open"].number
    [one] = json_of(Client().get(f"{BASE}/requests/{number}.json"))
    assert one["service_request_id"] == number
    root = xml_of(Client().get(f"{BASE}/requests/{number}.xml"))
    assert root.findtext("request/service_request_id") == number
    for missing in ("330109-20200101-000001", cases["private"].number):
        r = Client().get(f"{BASE}/requests/{missing}.json")
        assert r.status_code == 404 and json_of(r)[0]["code"] == 404
        assert xml_of(Client().get(f"{BASE}/requests/{missing}.xml")).tag == "errors"


def test_discovery_json_and_xml(db: None) -> None:
    d = json_of(Client().get(f"{BASE}/discovery.json"))
    assert set(d) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = d["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"] and endpoint["type"] == "production"
    root = xml_of(Client().get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_unknown_jurisdiction_and_resources(db: None, tree) -> None:
    r = Client().get(f"{BASE}/services.json", {"jurisdiction_id": "nowhere.gov"})
    assert r.status_code == 404 and "jurisdiction_id" in json_of(r)[0]["description"]
    assert Client().get(f"{BASE}/services.json", {"jurisdiction_id": "330109"}).status_code == 200
    assert Client().get(f"{BASE}/services.csv").status_code == 404
    assert Client().get(f"{BASE}/nothing.json").status_code == 404
    r = Client().delete(f"{BASE}/services.json")
    assert r.status_code == 405 and r["Allow"] == "GET, HEAD"


def test_xml_output_survives_control_characters(p: Personas) -> None:
    case = report(p, description="垃圾堆放\x0b多日\x01无人清运")
    root = xml_of(Client().get(f"{BASE}/requests/{case.number}.xml"))
    assert root.findtext("request/description") == "垃圾堆放多日无人清运"
