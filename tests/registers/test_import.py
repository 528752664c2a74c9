"""xlsx import: row-numbered error reports, all-or-nothing, never a duplicate person."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from gridgov.common.models import AuditEvent
from gridgov.registers import spreadsheets
from gridgov.registers.models import Household, Person, Place
from tests.registers.factories import bad_checksum, id_number, make_house, make_person

pytestmark = pytest.mark.django_db


def workbook(register: str, rows: list[dict[str, str]]) -> bytes:
    headers = [c.header for c in spreadsheets.columns_for(register)]
    keys = [c.key for c in spreadsheets.columns_for(register)]
    wb = Workbook()
    ws = wb.active
    ws.append([h + "*" if c.required else h for h, c in zip(headers, spreadsheets.columns_for(register), strict=True)])
    for row in rows:
        ws.append([row.get(k, "") for k in keys])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def houses(personas):
    first = make_house(personas.grid_worker, personas.tree.microgrids[0])
    second = first.building.houses.exclude(pk=first.pk).order_by("code").first()
    return first, second


def test_the_template_lists_every_column_and_a_guide(personas, client_for):
    r = client_for(personas.grid_worker).get("/api/v1/registers/templates/people.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in wb.worksheets[0][1]][:5] == ["房屋编码*", "户号", "户类别", "与户主关系*", "姓名*"]
    assert wb.worksheets[1].title == "填写说明"


def test_a_good_file_registers_households_with_their_people(personas, houses, client_for):
    h1, h2 = houses
    content = workbook(
        "people",
        [
            {
                "house_code": h1.code,
                "household_number": "1",
                "relation": "02 户主",
                "name": "甲",
                "id_number": id_number(),
                "population_type": "户籍人口",
            },
            {
                "house_code": h1.code,
                "household_number": "1",
                "relation": "配偶",
                "name": "乙",
                "id_number": id_number(),
                "population_type": "registered",
            },
            {
                "house_code": h2.code,
                "relation": "02",
                "name": "丙",
                "id_number": id_number(),
                "population_type": "流动人口",
                "inflow_reason": "01 务工",
            },
        ],
    )
    r = client_for(personas.grid_worker).post("/api/v1/registers/import/people", {"file": io.BytesIO(content)})
    assert r.status_code == 200, r.json()
    assert r.json()["created"] == 3
    assert Household.objects.count() == 2 and Person.objects.count() == 3
    assert Household.objects.get(house=h1).members.count() == 2
    assert AuditEvent.objects.filter(action="registers.imported").count() == 1


def test_a_bad_file_returns_row_numbered_errors_and_writes_nothing(personas, houses, client_for):
    h1, h2 = houses
    registered = make_person(personas.grid_worker, h2)
    outside = make_house(personas.colleague, personas.tree.microgrids[2])
    content = workbook(
        "people",
        [
            {
                "house_code": h1.code,
                "relation": "02",
                "name": "好人",
                "id_number": id_number(),
                "population_type": "registered",
            },
            {
                "house_code": h1.code,
                "household_number": "9",
                "relation": "02",
                "name": "坏校验码",
                "id_number": bad_checksum(),
                "population_type": "registered",
            },
            {
                "house_code": h2.code,
                "household_number": "5",
                "relation": "02",
                "name": "重复",
                "id_number": registered.id_number,
                "population_type": "registered",
            },
            {
                "house_code": outside.code,
                "relation": "02",
                "name": "越界",
                "id_number": id_number(),
                "population_type": "registered",
            },
            {
                "house_code": h2.code,
                "household_number": "7",
                "relation": "02",
                "name": "日期",
                "id_number": "33010919900230" + "0011",
                "population_type": "registered",
            },
        ],
    )
    before = (Person.objects.count(), Household.objects.count())
    r = client_for(personas.grid_worker).post("/api/v1/registers/import/people", {"file": io.BytesIO(content)})
    assert r.status_code == 400
    report = r.json()
    assert report["ok"] is False and report["created"] == 0
    by_row = {(e["row"], e["column"]) for e in report["errors"]}
    assert (3, "证件号码") in by_row  # bad checksum
    assert (4, "证件号码") in by_row  # already registered
    assert (5, "房屋编码") in by_row  # outside the jurisdiction
    assert (6, "证件号码") in by_row  # impossible birth date
    assert not any(row == 2 for row, _ in by_row)  # the good row had nothing wrong…
    assert (Person.objects.count(), Household.objects.count()) == before  # …and still was not written
    assert not AuditEvent.objects.filter(action="registers.imported").exists()


def test_the_same_person_twice_in_one_file_is_refused(personas, houses, client_for):
    h1, h2 = houses
    twin = id_number()
    content = workbook(
        "people",
        [
            {"house_code": h1.code, "relation": "02", "name": "甲", "id_number": twin, "population_type": "registered"},
            {"house_code": h2.code, "relation": "02", "name": "甲", "id_number": twin, "population_type": "registered"},
        ],
    )
    r = client_for(personas.grid_worker).post("/api/v1/registers/import/people", {"file": io.BytesIO(content)})
    assert r.status_code == 400 and r.json()["errors"][0]["row"] == 3
    assert Person.objects.count() == 0


def test_a_file_with_wrong_headers_or_not_xlsx_is_a_field_error(personas, client_for):
    c = client_for(personas.grid_worker)
    r = c.post("/api/v1/registers/import/people", {"file": io.BytesIO(b"not a workbook")})
    assert r.status_code == 400 and "file" in r.json()["errors"]
    wb = Workbook()
    wb.active.append(["姓名", "身份证"])
    out = io.BytesIO()
    wb.save(out)
    r = c.post("/api/v1/registers/import/people", {"file": io.BytesIO(out.getvalue())})
    assert r.status_code == 400 and r.json()["rule"] == "registers.import_header"


def test_places_import_all_or_nothing_through_the_screen(personas, client_for):
    region = personas.tree.microgrids[0].code
    good = {"region_code": region, "kind": "restaurant", "name": "面馆", "address": "人民路1号", "risk_level": "3"}
    bad = {"region_code": region, "kind": "nonsense", "name": "", "address": "人民路2号", "risk_level": "3"}
    c = client_for(personas.grid_worker)
    r = c.post("/registers/import/places/", {"file": io.BytesIO(workbook("places", [good, bad]))})
    assert r.status_code == 400 and "第" not in r.content.decode()[:0]
    assert Place.objects.count() == 0
    r = c.post("/registers/import/places/", {"file": io.BytesIO(workbook("places", [good]))})
    assert r.status_code == 200 and Place.objects.count() == 1
    assert Place.objects.get().next_inspection_due is not None
