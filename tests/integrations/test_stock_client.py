"""A stock Open311 client against a live HTTP server: only urllib and xml.etree, as a typical
GeoReport v2 client is written — discover, list services, read a definition, post a request in
the spec's form encoding, read it back — over real HTTP on 127.0.0.1.

The server runs the whole Django stack in a thread that borrows the test's database connection,
so it sees the test's rows inside the test transaction: no transactional test, no flush of the
data the migrations wrote (pytest-django's live_server would need both)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connections

from gridgov.accounts.scope import Scope
from gridgov.cases import selectors as case_selectors
from gridgov.cases.models import Case
from gridgov.integrations.open311 import services as open311
from tests.factories import Personas


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def live_url(db: None) -> Iterator[str]:
    conn = connections["default"]
    conn.inc_thread_sharing()
    # A request's end would close a connection that is inside a transaction: not this one.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app = WSGIHandler()

    def shared(environ: dict[str, Any], start_response: Any) -> Any:
        connections["default"] = conn
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, shared, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        conn.dec_thread_sharing()


class GeoReportClient:
    def __init__(self, endpoint: str, api_key: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key

    def _get(self, path: str, **params: str) -> ET.Element:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.endpoint}/{path}{query}", timeout=10) as r:
            assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
            return ET.fromstring(r.read())

    def discovery(self) -> ET.Element:
        return self._get("discovery.xml")

    def services(self) -> list[dict[str, str | None]]:
        return [{c.tag: c.text for c in s} for s in self._get("services.xml").findall("service")]

    def definition(self, code: str) -> ET.Element:
        return self._get(f"services/{code}.xml")

    def requests(self, **params: str) -> list[dict[str, str | None]]:
        return [{c.tag: c.text for c in r} for r in self._get("requests.xml", **params).findall("request")]

    def request(self, number: str) -> dict[str, str | None]:
        [one] = [{c.tag: c.text for c in r} for r in self._get(f"requests/{number}.xml").findall("request")]
        return one

    def post(self, **fields: str) -> dict[str, object]:
        body = urllib.parse.urlencode({"api_key": self.api_key or "", **fields}).encode("utf-8")
        req = urllib.request.Request(
            f"{self.endpoint}/requests.json",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())[0]


def test_stock_client_discovers_lists_posts_and_reads(personas: Personas, live_url: str) -> None:
    p = personas
    key = open311.open311_key_create(actor=p.admin, name="第三方随手拍", jurisdiction=p.tree.district).raw
    client = GeoReportClient(f"{live_url}/open311/v2", api_key=key)

    endpoint = client.discovery().find("endpoints/endpoint")
    assert endpoint is not None and endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == f"{live_url}/open311/v2"

    services = client.services()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["0802"]["metadata"] == "true" and by_code["0502"]["metadata"] == "false"
    attr = client.definition("0802").find("attributes/attribute")
    assert attr is not None and attr.findtext("code") == "hazard" and attr.findtext("required") == "true"

    answer = client.post(
        service_code="0802",
        lat="30.05",
        long="120.10",
        address_string="测试路与测试街交叉口",
        description="井盖缺失，夜间有人险些踩空",
        **{"attribute[hazard]": "missing"},
        first_name="明",
        last_name="李",
        phone="13600001234",
        email="li@example.cn",
    )
    number = str(answer["service_request_id"])
    case = Case.objects.get(number=number)
    assert case in case_selectors.case_queue(scope=Scope.for_user(p.village_operator), queue="to_accept")

    listed = client.requests(service_code="0802", status="open")
    assert [r["service_request_id"] for r in listed] == [number]
    one = client.request(number)
    assert one["status"] == "open" and one["service_code"] == "0802"
    assert one["description"] is not None and "【井盖情况】缺失" in one["description"]
    for value in one.values():
        assert value is None or not any(s in value for s in ("李明", "13600001234", "li@example.cn"))

    with pytest.raises(urllib.error.HTTPError) as exc:
        GeoReportClient(f"{live_url}/open311/v2", api_key="o311_nope").post(
            service_code="0502", lat="30.05", long="120.10"
        )
    assert exc.value.code == 403
    assert json.loads(exc.value.read())[0]["code"] == 403
