"""The campaign through the UI: create, start, assign, inspect, rectify, sign off; overdue in red;
PDF sheets; xlsx; the worker's day, the visit form's location check, patrols and the API."""

from __future__ import annotations

import datetime as dt

from gridgov.common import clock
from gridgov.fieldwork.models import Campaign, Hazard, HazardState, PatrolCheckin
from gridgov.registers.models import Visit
from tests.cases.factories import IN_GRID_1, IN_GRID_2, TZ, photo
from tests.fieldwork.factories import TODAY, hazard_in, make_place


def test_a_campaign_goes_through_the_screens_to_a_signed_off_hazard(personas, client_for):
    p = personas
    place = make_place(p.tree.microgrids[0], name="平安出租房")
    op = client_for(p.town_operator)
    r = op.post(
        "/fieldwork/campaigns/new/",
        {
            "name": "出租房消防整治",
            "starts_on": "2026-11-20",
            "ends_on": "2026-12-31",
            "scope_regions": [p.tree.towns[0].code],
            "target_place_kinds": ["rental"],
            "checklist": "电动车入户充电\n疏散通道畅通",
        },
    )
    campaign = Campaign.objects.get()
    assert r.status_code == 302 and r.url == f"/fieldwork/campaigns/{campaign.pk}/"
    assert op.post(f"/fieldwork/campaigns/{campaign.pk}/act/start/").status_code == 302
    assert op.post(f"/fieldwork/campaigns/{campaign.pk}/act/generate/", {"due_on": "2026-11-30"}).status_code == 302
    inspection = campaign.inspections.get(place=place)
    items = list(campaign.items.order_by("seq"))
    worker = client_for(p.grid_worker)
    assert "平安出租房" in worker.get("/fieldwork/").content.decode()
    r = worker.post(
        f"/fieldwork/inspections/{inspection.pk}/",
        {
            f"item_{items[0].pk}": "fail",
            f"note_{items[0].pk}": "楼道内电动车充电",
            f"hazard_{items[0].pk}": "on",
            f"level_{items[0].pk}": "general",
            f"item_{items[1].pk}": "pass",
            "photos": [photo()],
        },
    )
    assert r.status_code == 302
    hazard = Hazard.objects.get()
    assert hazard.photos.count() == 1
    r = op.post(
        f"/fieldwork/hazards/{hazard.pk}/act/assign/",
        {
            "target": "消除隐患",
            "measures": "清理充电线",
            "responsible": "房东",
            "deadline": "2026-11-25",
            "version": hazard.version,
        },
    )
    assert r.status_code == 302
    with clock.frozen(dt.datetime(2026, 11, 27, 10, 0, tzinfo=TZ)):
        # Fresh sign-ins: the sessions of Monday have idled out by Friday.
        op, worker = client_for(p.town_operator), client_for(p.grid_worker)
        page = op.get(f"/fieldwork/campaigns/{campaign.pk}/").content.decode()
        assert 'class="overdue"' in page and "逾期" in page
        listing = op.get("/fieldwork/hazards/?overdue=1").content.decode()
        assert hazard.number in listing and 'class="overdue"' in listing
        assert (
            worker.post(f"/fieldwork/hazards/{hazard.pk}/act/report/", {"rectification": "已清理"}).status_code == 302
        )
        assert op.post(f"/fieldwork/hazards/{hazard.pk}/act/sign_off/", {"note": "复查合格"}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.SIGNED_OFF
    pdf = op.get(f"/fieldwork/hazards/{hazard.pk}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    area = op.get(f"/fieldwork/campaigns/{campaign.pk}/area-sheet.pdf?region={p.tree.communities[0].code}")
    assert area.status_code == 200 and area.content.startswith(b"%PDF")
    xlsx = op.get(f"/fieldwork/campaigns/{campaign.pk}/hazards.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_screen_refusals_are_4xx_with_messages(personas, client_for):
    p = personas
    hazard = hazard_in(p, HazardState.FOUND)
    worker = client_for(p.grid_worker)
    r = worker.post(
        f"/fieldwork/hazards/{hazard.pk}/act/assign/",
        {"target": "x", "measures": "y", "responsible": "z", "deadline": "2026-12-01"},
    )
    assert r.status_code == 403 and "不能办理" in r.content.decode()
    op = client_for(p.town_operator)
    r = op.post(f"/fieldwork/hazards/{hazard.pk}/act/assign/", {"deadline": "not-a-date"})
    assert r.status_code == 400
    r = op.post(f"/fieldwork/hazards/{hazard.pk}/act/assign/", {"deadline": "2026-12-01"})
    assert r.status_code == 400 and "请填写整改目标" in r.content.decode()
    assert client_for(p.other_town_operator).get(f"/fieldwork/hazards/{hazard.pk}/").status_code == 404
    assert client_for(p.grid_worker).get("/fieldwork/campaigns/new/").status_code == 403


def test_visit_form_checks_the_location_against_the_grid(personas, client_for):
    p = personas
    place = make_place(p.tree.microgrids[0])
    c = client_for(p.grid_worker)
    base = {"place": place.pk, "findings": "消防通道畅通", "kind": "inspection", "outcome": "normal"}
    r = c.post("/fieldwork/visit/new/", {**base, "lat": IN_GRID_2[0], "lng": IN_GRID_2[1]})
    assert (
        r.status_code == 400
        and "不在您的网格内" in r.content.decode()
        and 'name="confirm_outside"' in r.content.decode()
    )
    r = c.post("/fieldwork/visit/new/", {**base, "lat": 10.0, "lng": 10.0})
    assert r.status_code == 400 and "不在本平台辖区内" in r.content.decode()
    r = c.post(
        "/fieldwork/visit/new/",
        {**base, "lat": IN_GRID_2[0], "lng": IN_GRID_2[1], "confirm_outside": "on", "outside_reason": "陪同检查"},
    )
    assert r.status_code == 302
    r = c.post("/fieldwork/visit/new/", {**base, "lat": IN_GRID_1[0], "lng": IN_GRID_1[1], "photos": [photo()]})
    assert r.status_code == 302
    visits = list(Visit.objects.order_by("id"))
    assert [v.fieldwork_location.status for v in visits] == ["outside", "inside"]
    assert visits[1].photos.count() == 1
    place.refresh_from_db()
    assert place.last_inspected_on == TODAY
    bad = c.post(
        "/fieldwork/visit/new/", {**base, "lat": IN_GRID_1[0], "lng": IN_GRID_1[1], "photos": [_not_an_image()]}
    )
    assert bad.status_code == 400 and Visit.objects.count() == 2
    # One tap from the finding to a case at the visit's place.
    r = c.post(
        f"/fieldwork/visits/{visits[1].pk}/", {"category": _category("0301"), "description": "楼道堆放杂物堵塞消防通道"}
    )
    assert r.status_code == 302 and r.url.startswith("/cases/")


def _not_an_image():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")


def _category(code):
    from gridgov.cases.models import CaseCategory

    return CaseCategory.objects.get(code=code).pk


def test_patrol_check_ins_and_counts(personas, client_for):
    p = personas
    c = client_for(p.grid_worker)
    assert c.post("/fieldwork/patrol/", {"op": "start"}).status_code == 302
    assert c.post("/fieldwork/patrol/", {"op": "start"}).status_code == 409
    assert c.post("/fieldwork/patrol/", {"op": "checkin", "lat": IN_GRID_1[0], "lng": IN_GRID_1[1]}).status_code == 302
    r = c.post(
        "/fieldwork/patrol/",
        {"op": "checkin", "lat": IN_GRID_2[0], "lng": IN_GRID_2[1], "has_issue": "on", "note": "路灯不亮"},
    )
    checkin = PatrolCheckin.objects.order_by("-id").first()
    assert r.status_code == 302 and r.url == f"/fieldwork/checkins/{checkin.pk}/" and not checkin.inside_grid
    assert c.post("/fieldwork/patrol/", {"op": "end", "summary": "巡查正常"}).status_code == 302
    api = c.get("/api/v1/fieldwork/counts", {"start": "2026-11-01", "end": "2026-11-30", "by": "month"}).json()
    assert api == [
        {
            "user_id": p.grid_worker.pk,
            "label": p.grid_worker.label,
            "period": "2026-11-01",
            "visits": 0,
            "patrols": 1,
            "checkins": 2,
            "finding_cases": 0,
        }
    ]
    assert c.get("/fieldwork/counts/?by=day").status_code == 200
    assert (
        client_for(p.outsider).get("/api/v1/fieldwork/counts", {"start": "2026-11-01", "end": "2026-11-30"}).json()
        == []
    )


def test_api_hazard_actions_and_refusals(personas, client_for):
    p = personas
    hazard = hazard_in(p, HazardState.FOUND)
    op = client_for(p.town_operator)
    url = f"/api/v1/fieldwork/hazards/{hazard.pk}/assign"
    r = op.post(
        url, {"target": "", "measures": "", "responsible": "", "deadline": None}, content_type="application/json"
    )
    assert r.status_code == 400 and set(r.json()["errors"]) == {"target", "measures", "responsible", "deadline"}
    body = {"target": "t", "measures": "m", "responsible": "r", "deadline": "2026-11-30"}
    assert client_for(p.grid_worker).post(url, body, content_type="application/json").status_code == 403
    assert client_for(p.outsider).post(url, body, content_type="application/json").status_code == 404
    r = op.post(url, body, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "rectifying"
    assert op.post(url, body, content_type="application/json").status_code == 409
    listing = op.get("/api/v1/fieldwork/hazards").json()
    assert listing["total"] == 1
    progress = op.get(f"/api/v1/fieldwork/campaigns/{hazard.campaign_id}/progress").json()
    assert progress["whole"]["hazards"] == 1 and progress["whole"]["rectifying"] == 1
