"""Hostile input beyond the fuzzers: script in every free-text field comes out escaped on every page
that shows it; forms refuse a POST without the CSRF token in every app; uploads are judged by
their content (images: format, bytes and pixels; evidence documents: their leading bytes).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gridgov.cases import services as case_services
from gridgov.cases.models import CaseCategory
from gridgov.common import clock
from gridgov.common.errors import ValidationFailed
from gridgov.fieldwork import services as field_services
from gridgov.fieldwork.services import ItemResult
from gridgov.mediation import services as mediation_services
from gridgov.mediation.services import PartyIn
from gridgov.registers import services as register_services
from gridgov.registers.models import Place, VisitPhoto
from tests.cases.factories import IN_GRID_1, MONDAY_10, photo
from tests.registers.factories import id_number, make_house

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"
ESCAPED = "&lt;script&gt;"


@pytest.fixture(autouse=True)
def _monday(settings, tmp_path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(MONDAY_10):
        yield


def _assert_escaped(response, where: str) -> None:
    assert response.status_code == 200, (where, response.status_code)
    html = response.content.decode()
    assert "<script>alert" not in html, where
    assert "<img src=x onerror" not in html, where
    assert ESCAPED in html, f"{where}: the injected text is not shown at all"


def test_script_in_every_free_text_field_is_escaped_on_the_pages_that_show_it(personas, client_for):
    p = personas
    case = case_services.case_report(
        actor=p.grid_worker,
        category=CaseCategory.objects.get(code="0502"),
        description=f"描述{XSS}",
        address=f"地址{XSS}",
        reporter_name=f"姓名{XSS}"[:50],
        reporter_phone="13911112222",
        lat=IN_GRID_1[0],
        lng=IN_GRID_1[1],
    )
    case_services.case_add_note(actor=p.village_operator, case=case, text=f"备注{XSS}")
    case = case_services.case_accept(actor=p.village_operator, case=case, note=f"受理{XSS}")
    case = case_services.case_dispatch(actor=p.village_operator, case=case, department=p.department, note=f"派遣{XSS}")
    case = case_services.case_sign(actor=p.handler, case=case)
    case = case_services.case_handle(
        actor=p.handler, case=case, result=f"结果{XSS}", public_reply=f"答复{XSS}", photos=[photo()]
    )
    house = make_house(p.grid_worker, p.tree.microgrids[0], road=f"路{XSS}"[:40])
    person = register_services.person_register(
        actor=p.grid_worker,
        house=house,
        data={
            "name": "赵六",
            "id_number": id_number(),
            "population_type": "registered",
            "workplace": f"单位{XSS}"[:80],
            "occupation": f"职业{XSS}"[:40],
            "note": f"备注{XSS}",
        },
    )
    place = Place.objects.create(
        region=p.tree.microgrids[0], region_path=p.tree.microgrids[0].path, kind="rental", name=f"场所{XSS}"
    )
    mediation_services.centre_create(actor=p.admin, region=p.tree.towns[0])
    dispute = mediation_services.dispute_register(
        actor=p.town_operator,
        title=f"纠纷{XSS}"[:100],
        kind="0201",
        description=f"经过{XSS}",
        region=p.tree.microgrids[0],
        parties=[
            PartyIn(role="applicant", name="张三丰", id_number=id_number(), phone="13812345678", address=f"住址{XSS}"),
            PartyIn(role="respondent", name="李四", phone="13987654321"),
        ],
    )
    campaign = field_services.campaign_start(
        actor=p.town_operator,
        campaign=field_services.campaign_create(
            actor=p.town_operator,
            name=f"整治{XSS}"[:100],
            starts_on=dt.date(2026, 11, 16),
            ends_on=dt.date(2026, 12, 31),
            scope_regions=[p.tree.towns[0]],
            checklist=[f"检查项{XSS}"],
            target_place_kinds=["rental"],
        ),
    )
    inspection = field_services.inspection_assign(
        actor=p.town_operator, campaign=campaign, place=place, assignee=p.grid_worker, due_on=dt.date(2026, 11, 30)
    )
    item = campaign.items.get()
    (hazard,) = field_services.inspection_record(
        actor=p.grid_worker, inspection=inspection, results={item.pk: ItemResult(passed=False, note=f"问题{XSS}")}
    )

    staff = client_for(p.village_operator)
    for url in (
        f"/cases/{case.number}/",
        "/cases/?queue=all",
        f"/registers/people/{person.pk}/",
        f"/registers/houses/{house.pk}/",
        f"/registers/e/places/{place.pk}/",
        f"/mediation/d/{dispute.number}/",
        "/mediation/",
        f"/fieldwork/hazards/{hazard.pk}/",
        f"/fieldwork/campaigns/{campaign.pk}/",
    ):
        _assert_escaped(staff.get(url), url)
    _assert_escaped(client_for(p.handler).get(f"/cases/{case.number}/"), "handler case page")
    _assert_escaped(Client().get(f"/track/{case.tracking_code}/"), "citizen tracking page")
    _assert_escaped(client_for(p.leader).get("/dashboard/"), "command centre feed")


# --- CSRF ---------------------------------------------------------------------------------------------


def _forms(p) -> list[tuple[object, str, dict]]:
    """(who, url, fields) of a representative form of every app."""
    return [
        (None, "/accounts/login/", {"username": "alice", "password": "Test#Passw0rd"}),
        (p.grid_worker, "/accounts/tokens/", {"name": "csrf"}),
        (p.grid_worker, "/cases/new/", {"category": "1", "description": "垃圾堆放"}),
        (None, "/report/", {"category": "1", "description": "垃圾堆放"}),
        (p.grid_worker, "/registers/addresses/", {"road": "人民路", "number": "1"}),
        (p.grid_worker, "/fieldwork/visit/new/", {"findings": "正常"}),
        (p.town_operator, "/fieldwork/campaigns/new/", {"name": "整治"}),
        (p.town_operator, "/mediation/new/", {"title": "纠纷"}),
        (p.admin, "/integrations/", {"name": "key"}),
        (p.admin, "/assessment/compute/", {"month": "2026-10"}),
        (p.admin, "/accounts/users/1/active/", {}),
        (None, "/i18n/setlang/", {"language": "en"}),
    ]


def test_forms_of_every_app_refuse_a_post_without_the_csrf_token(personas):
    refused = []
    for who, url, fields in _forms(personas):
        c = Client(enforce_csrf_checks=True)
        if who is not None:
            c.force_login(who)
        response = c.post(url, fields)
        refused.append((url, response.status_code))
        assert response.status_code == 403, (url, response.status_code)
        assert b"CSRF" in response.content or "跨站" in response.content.decode(), url


def test_the_same_post_with_the_token_gets_past_the_check(personas):
    c = Client(enforce_csrf_checks=True)
    c.force_login(personas.grid_worker)
    c.get("/accounts/tokens/")
    token = c.cookies["csrftoken"].value
    response = c.post("/accounts/tokens/", {"name": "with token", "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)


def test_api_session_writes_need_the_csrf_token(personas):
    c = Client(enforce_csrf_checks=True)
    c.force_login(personas.grid_worker)
    response = c.post("/api/v1/cases/suggest-category", {"description": "垃圾"}, content_type="application/json")
    assert response.status_code in (401, 403)


# --- uploads ------------------------------------------------------------------------------------------


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, 0).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (200, 150), (10, 200, 30))
    exif = Image.Exif()
    exif[0x8825] = {2: (30.0, 5.0, 0.0), 4: (120.0, 10.0, 0.0)}  # GPSInfo
    exif[0x0110] = "PhoneModel-X"
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


HOSTILE_UPLOADS = {
    "html named .jpg": (b"<html><script>alert(1)</script></html>", "p.jpg"),
    "pdf named .png": (b"%PDF-1.4\n1 0 obj<<>>endobj", "p.png"),
    "gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "p.gif"),
    "decompression bomb": (_png((12_000, 12_000)), "bomb.png"),
    "truncated jpeg": (photo().read()[:200], "cut.jpg"),
    "empty": (b"", "empty.jpg"),
}


@pytest.mark.parametrize("kind", list(HOSTILE_UPLOADS))
def test_visit_photos_are_judged_by_content(personas, kind):
    content, name = HOSTILE_UPLOADS[kind]
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    person = register_services.person_register(
        actor=personas.grid_worker,
        house=house,
        data={"name": "赵六", "id_number": id_number(), "population_type": "registered"},
    )
    with pytest.raises(ValidationFailed) as exc:
        register_services.visit_record(
            actor=personas.grid_worker,
            person=person,
            findings="情况正常",
            photos=[SimpleUploadedFile(name, content, content_type="image/jpeg")],
        )
    assert "photos.0" in exc.value.errors
    assert not VisitPhoto.objects.exists()


def test_visit_photos_are_re_encoded_without_their_gps_metadata(personas):
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    person = register_services.person_register(
        actor=personas.grid_worker,
        house=house,
        data={"name": "赵六", "id_number": id_number(), "population_type": "registered"},
    )
    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)
    visit = register_services.visit_record(
        actor=personas.grid_worker,
        person=person,
        findings="情况正常",
        photos=[SimpleUploadedFile("v.jpg", raw, content_type="image/jpeg")],
    )
    stored = visit.photos.get()
    with stored.image.open("rb") as f:
        img = Image.open(io.BytesIO(f.read()))
        assert img.format == "JPEG"
        assert not img.getexif().get(0x8825)
        assert b"PhoneModel-X" not in stored.image.open("rb").read()


@pytest.mark.parametrize("kind", list(HOSTILE_UPLOADS))
def test_case_photos_through_the_api_are_judged_by_content(personas, client_for, kind):
    content, name = HOSTILE_UPLOADS[kind]
    response = client_for(personas.grid_worker).post(
        "/api/v1/cases",
        {
            "category": "0502",
            "description": "小区门口垃圾堆放多日",
            "lat": IN_GRID_1[0],
            "lng": IN_GRID_1[1],
            "photos": SimpleUploadedFile(name, content, content_type="image/jpeg"),
        },
    )
    assert response.status_code in (400, 422), response.content
    assert "photos" in response.json().get("errors", {}), response.json()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("台账.pdf", b"<html><script>alert(1)</script></html>"),
        ("照片.jpg", b"%PDF-1.4 not a jpeg"),
        ("表格.xlsx", b"MZ\x90\x00 an executable"),
        ("说明.txt", b"\x00\x01\x02binary"),
    ],
)
def test_assessment_evidence_must_match_its_type(name, content):
    from gridgov.assessment.services import _clean_evidence

    with pytest.raises(ValidationFailed) as exc:
        _clean_evidence([SimpleUploadedFile(name, content)])
    assert "attachments" in exc.value.errors


def test_assessment_evidence_of_the_right_kind_is_accepted():
    from gridgov.assessment.services import _clean_evidence

    files = [
        SimpleUploadedFile("台账.pdf", b"%PDF-1.4 test"),
        SimpleUploadedFile("照片.jpg", photo().read()),
        SimpleUploadedFile("说明.txt", "巡逻记录：正常".encode()),
    ]
    assert len(_clean_evidence(files)) == 3
