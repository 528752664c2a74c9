"""The screens a grid worker walks through: register a household with its people in her grid,
move one out, see who is due a visit."""

from __future__ import annotations

import pytest

from gridgov.registers import services
from gridgov.registers.codes import PersonStatus
from gridgov.registers.models import Household, Person
from tests.registers.factories import bad_checksum, id_number

pytestmark = pytest.mark.django_db


def member_post(prefix: int, **fields: str) -> dict[str, str]:
    return {f"m-{prefix}-{k}": v for k, v in fields.items()}


def test_grid_worker_registers_a_household_moves_one_out_and_sees_due_visits(personas, client_for):
    c = client_for(personas.grid_worker)
    region = personas.tree.microgrids[0].code
    r = c.post("/registers/addresses/", {"road": "人民路", "number": "88", "estate": "人民花园", "region_code": region})
    assert r.status_code == 302
    address_url = r["Location"]
    r = c.post(address_url, {"name": "1幢", "use": "01", "floors": "6", "unit_count": "2", "houses_per_floor": "2"})
    assert r.status_code == 302
    building_page = c.get(r["Location"])
    assert building_page.status_code == 200 and "101" in building_page.content.decode()
    house = Person._meta.get_field("house").related_model.objects.order_by("code").first()
    form_url = f"/registers/houses/{house.pk}/household/new/"
    assert c.get(form_url).status_code == 200
    data = {
        "kind": "registered",
        "number": "",
        "m-TOTAL_FORMS": "3",
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "20",
    }
    common = {"doc_type": "111", "ethnicity": "01", "population_type": "registered"}
    data |= member_post(0, name="王建国", id_number=id_number(), relation="02", phone="13812345678", **common)
    data |= member_post(1, name="李秀英", id_number=bad_checksum(), relation="10", **common)
    data |= member_post(2, doc_type="111", ethnicity="01", population_type="registered")  # an untouched row
    r = c.post(form_url, data)
    assert r.status_code == 400 and "校验码" in r.content.decode()
    assert Person.objects.count() == 0
    data |= member_post(1, name="李秀英", id_number=id_number(female=True), relation="10", **common)
    r = c.post(form_url, data)
    assert r.status_code == 302, [x for x in r.content.decode().splitlines() if "error" in x]
    household = Household.objects.get()
    assert household.members.count() == 2 and household.head.name == "王建国"
    assert "王建国" in c.get(r["Location"]).content.decode()

    son = household.members.get(name="李秀英")
    r = c.post(f"/registers/people/{son.pk}/move_out/", {"moved_out_to": "杭州市上城区", "reason": "购房迁出"})
    assert r.status_code == 302
    son.refresh_from_db()
    assert son.status == PersonStatus.MOVED_OUT
    detail = c.get(f"/registers/people/{son.pk}/").content.decode()
    assert "迁出" in detail and "杭州市上城区" in detail

    head = household.members.get(name="王建国")
    r = c.post(
        f"/registers/people/{head.pk}/groups/new/",
        {
            "kind": "released",
            "attention_level": "01",
            "risk_code": "01",
            "d_crime_category": "05",
            "d_release_date": "2025-10-01",
        },
    )
    assert r.status_code == 302
    due = c.get("/registers/visits/due/?status=all").content.decode()
    assert "王建国" in due and "刑满释放人员" in due
    r = c.post(
        f"/registers/visits/new/?person={head.pk}", {"kind": "help", "outcome": "normal", "findings": "在家，情绪稳定"}
    )
    assert r.status_code == 302
    assert "在家，情绪稳定" in c.get(f"/registers/people/{head.pk}/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/registers/",
        "/registers/people/",
        "/registers/addresses/",
        "/registers/visits/due/",
        "/registers/groups/",
        "/registers/visit-rules/",
    ]
    + [f"/registers/e/{k}/" for k in ("places", "organisations", "schools", "lines", "governance", "teams")]
    + ["/registers/e/places/new/", "/registers/import/people/"],
)
def test_every_list_screen_renders_for_a_grid_worker(personas, client_for, url):
    assert client_for(personas.grid_worker).get(url).status_code == 200


def test_leaders_get_aggregates_and_handlers_only_places(personas, client_for):
    leader = client_for(personas.leader)
    assert leader.get("/registers/").status_code == 200
    assert leader.get("/registers/groups/").status_code == 200
    assert leader.get("/registers/visits/due/").status_code == 403
    handler = client_for(personas.handler)
    assert handler.get("/registers/e/places/").status_code == 200
    assert handler.get("/registers/people/").status_code == 403
    assert handler.get("/registers/e/places/new/").status_code == 403


def test_entity_forms_show_field_errors_and_save(personas, client_for):
    c = client_for(personas.grid_worker)
    region = personas.tree.microgrids[0].code
    r = c.post(
        "/registers/e/places/new/",
        {
            "kind": "rental",
            "name": "出租房",
            "address": "人民路9号",
            "risk_level": "2",
            "inspection_cycle_days": "15",
            "occupants": "0",
            "is_active": "on",
            "region_code": region,
        },
    )
    assert r.status_code == 400 and "出租用途" in r.content.decode()
    r = c.post(
        "/registers/e/places/new/",
        {
            "kind": "rental",
            "name": "出租房",
            "address": "人民路9号",
            "risk_level": "2",
            "inspection_cycle_days": "15",
            "occupants": "6",
            "rental_use": "01",
            "is_active": "on",
            "region_code": region,
        },
    )
    assert r.status_code == 302
    detail = c.get(r["Location"])
    assert "出租房" in detail.content.decode()
    outside = personas.tree.microgrids[2].code
    r = c.post(
        "/registers/e/schools/new/",
        {
            "name": "越界学校",
            "school_type": "primary",
            "address": "x",
            "students": "1",
            "staff": "1",
            "guards": "1",
            "region_code": outside,
        },
    )
    assert r.status_code in (400, 403)
    assert not services.ENTITIES["schools"].model.objects.exists()
