"""Sensor / video alerts: signed webhook, category mapping, de-duplication by device and window."""

from __future__ import annotations

import pytest

from gridgov.cases.models import Case, CaseEvent, Source, State
from gridgov.common import clock
from gridgov.integrations import channels
from gridgov.integrations.models import AlertOutcome, SensorAlert
from tests.cases.factories import IN_GRID_1, IN_TOWN_2, drive
from tests.factories import Personas
from tests.integrations.conftest import later
from tests.integrations.helpers import signed_post

SECRET = "whsec_test_sensor_secret"
URL = "/integrations/sensors/site-cams/alerts"


@pytest.fixture
def feed(p: Personas):
    return channels.sensor_feed_create(
        actor=p.admin, code="site-cams", name="工地视频分析", jurisdiction=p.tree.towns[0], secret=SECRET
    ).obj


def alert(**kw: object) -> dict[str, object]:
    data: dict[str, object] = {
        "device_id": "CAM-001",
        "type": "dust",
        "lat": IN_GRID_1[0],
        "lng": IN_GRID_1[1],
        "description": "PM10 0.42 mg/m³",
    }
    data.update(kw)
    return data


def test_alert_creates_a_sensor_case(p: Personas, feed) -> None:
    r = signed_post(URL, SECRET, alert(alert_id="A-1", snapshot_url="https://cam.example.cn/s/1.jpg"))
    assert r.status_code == 201, r.content
    case = Case.objects.get(number=r.json()["case_number"])
    assert case.source == Source.SENSOR and case.category.code == "0704"
    assert "扬尘超标" in case.description and "https://cam.example.cn/s/1.jpg" in case.description


@pytest.mark.parametrize(("kind", "code"), [("illegal_construction", "0501"), ("fire_lane_blocked", "0301")])
def test_alert_types_map_to_categories(p: Personas, feed, kind: str, code: str) -> None:
    r = signed_post(URL, SECRET, alert(type=kind))
    assert Case.objects.get(number=r.json()["case_number"]).category.code == code


def test_repeat_alert_within_the_window_joins_the_open_case(p: Personas, feed) -> None:
    first = signed_post(URL, SECRET, alert()).json()
    with clock.frozen(later(20)):
        again = signed_post(URL, SECRET, alert(occurred_at=later(20).isoformat()))
    assert again.status_code == 200 and again.json() == {**again.json(), "result": "joined"}
    assert again.json()["case_number"] == first["case_number"] and Case.objects.count() == 1
    note = CaseEvent.objects.get(case__number=first["case_number"], action="note")
    assert "CAM-001 再次告警" in note.note and not note.is_public
    # The window rolls from the last alert: 45 minutes after the first, 25 after the second.
    with clock.frozen(later(45)):
        third = signed_post(URL, SECRET, alert(occurred_at=later(45).isoformat()))
    assert third.json()["result"] == "joined"
    # Another device, or another type, is another case.
    assert signed_post(URL, SECRET, alert(device_id="CAM-002")).json()["result"] == "created"
    assert signed_post(URL, SECRET, alert(type="illegal_construction")).json()["result"] == "created"
    assert Case.objects.count() == 3
    assert list(SensorAlert.objects.order_by("id").values_list("outcome", flat=True)) == [
        AlertOutcome.CREATED,
        AlertOutcome.JOINED,
        AlertOutcome.JOINED,
        AlertOutcome.CREATED,
        AlertOutcome.CREATED,
    ]


def test_alert_after_the_window_or_after_closing_opens_a_new_case(p: Personas, feed) -> None:
    signed_post(URL, SECRET, alert())
    with clock.frozen(later(31)):
        r = signed_post(URL, SECRET, alert(occurred_at=later(31).isoformat()))
    assert r.json()["result"] == "created"
    case = Case.objects.get(number=r.json()["case_number"])
    drive(p, case, State.CLOSED)
    with clock.frozen(later(40)):
        r = signed_post(URL, SECRET, alert(occurred_at=later(40).isoformat()))
    assert r.json()["result"] == "created" and Case.objects.count() == 3


def test_resent_alert_id_is_a_duplicate(p: Personas, feed) -> None:
    first = signed_post(URL, SECRET, alert(alert_id="A-7")).json()
    again = signed_post(URL, SECRET, alert(alert_id="A-7"))
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    assert again.json()["case_number"] == first["case_number"]
    assert SensorAlert.objects.count() == 1 and not CaseEvent.objects.filter(action="note").exists()


def test_bad_alerts_are_refused(p: Personas, feed) -> None:
    assert signed_post(URL, "whsec_wrong", alert()).status_code == 401
    r = signed_post(URL, SECRET, alert(type="ufo"))
    assert r.status_code == 400 and "ufo" in r.json()["detail"]
    r = signed_post(URL, SECRET, alert(lat="north", device_id=""))
    assert r.status_code == 400 and {"lat", "device_id"} <= set(r.json()["errors"])
    r = signed_post(URL, SECRET, alert(occurred_at="tomorrow"))
    assert r.status_code == 400
    r = signed_post(URL, SECRET, alert(lat=IN_TOWN_2[0], lng=IN_TOWN_2[1]))
    assert r.status_code == 403
    assert not Case.objects.exists()


def test_feed_type_map_overrides_and_is_validated(p: Personas) -> None:
    from gridgov.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        channels.sensor_feed_create(
            actor=p.admin, code="bad", name="x", jurisdiction=p.tree.district, type_map={"dust": "05"}
        )
    channels.sensor_feed_create(
        actor=p.admin,
        code="river",
        name="河道监测",
        jurisdiction=p.tree.district,
        type_map={"water_pollution": "0703"},
        secret=SECRET,
    )
    r = signed_post("/integrations/sensors/river/alerts", SECRET, alert(type="water_pollution"))
    assert r.status_code == 201 and Case.objects.get().category.code == "0703"
