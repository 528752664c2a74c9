"""The batch import of residents: the same rows as registering one household at a time through
the services, every problem of every row at once, nothing written unless all rows are good, and
a worksheet reader that reads what openpyxl reads. Runs on SQLite and on PostgreSQL (COPY)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections import OrderedDict
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from gridgov.accounts.models import User
from gridgov.accounts.scope import Scope
from gridgov.common.audit import audit_record
from gridgov.common.models import AuditEvent
from gridgov.regions.models import Region
from gridgov.registers import crypto, selectors, services, spreadsheets
from gridgov.registers.models import GroupMembership, House, Household, Person, PersonEvent
from gridgov.registers.services import people_batch as batch
from tests.registers.factories import id_number, make_house, make_person, member

pytestmark = pytest.mark.django_db

HOUSEHOLD_KEYS = ("house_code", "household_number", "household_kind")


def workbook(rows: list[dict[str, Any]]) -> bytes:
    cols = spreadsheets.columns_for("people")
    wb = Workbook()
    ws = wb.active
    ws.append([c.header + ("*" if c.required else "") for c in cols])
    for row in rows:
        ws.append([row.get(c.key) for c in cols])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def import_people(actor, rows: list[dict[str, Any]]) -> spreadsheets.ImportReport:
    return spreadsheets.import_workbook(actor=actor, register="people", content=workbook(rows))


def import_one_household_at_a_time(actor, content: bytes) -> None:
    """The import as it was before the batch path: each household through `household_register`,
    each row joining an existing household through `person_register` (the form services)."""
    scope = Scope.for_user(actor)
    _, rows = spreadsheets.read_rows("people", content)
    groups: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
    for _, data in rows:
        groups.setdefault((data["house_code"], data["household_number"]), []).append(data)
    for (code, number), members in groups.items():
        house = selectors.house_by_code(scope=scope, code=code)
        assert house is not None
        people = [{k: v for k, v in d.items() if k not in HOUSEHOLD_KEYS and v != ""} for d in members]
        existing = house.households.filter(number=number).first() if number else None
        if existing is not None:
            for person in people:
                services.person_register(actor=actor, house=house, household=existing, data=person)
        else:
            kind = members[0]["household_kind"] or "resident"
            services.household_register(actor=actor, house=house, kind=kind, number=number, members=people)
    audit_record(
        actor=actor,
        action="registers.imported",
        detail={"register": "people", "rows": len(rows), "created": len(rows)},
        region_path=scope.path or "",
    )


SKIP = {"id", "created_at", "updated_at", "history_id", "history_date"}


def snapshot() -> dict[str, Any]:
    """Everything an import leaves behind, with ids replaced by natural keys (house codes, ID
    numbers, usernames) and wall-clock stamps left out (they differ between any two runs)."""
    people = {p.pk: p for p in Person.objects.select_related("house", "household__house", "region", "created_by")}
    number_of = {pk: p.id_number for pk, p in people.items()}
    households = {h.pk: h for h in Household.objects.select_related("house")}

    def household_key(pk: int | None) -> Any:
        return None if pk is None else (households[pk].house.code, households[pk].number)

    def natural(values: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if k not in SKIP}
        if "house_id" in out:
            out["house_id"] = people_house_code(out["house_id"])
        if "household_id" in out:
            out["household_id"] = household_key(out["household_id"])
        for name in ("head_id", "person_id"):
            if name in out:
                out[name] = number_of.get(out[name])
        if "region_id" in out:
            out["region_id"] = region_codes[out["region_id"]]
        for name in ("created_by_id", "history_user_id", "actor_id"):
            if name in out:
                out[name] = usernames.get(out[name])
        return out

    region_codes = dict(Region.objects.values_list("id", "code"))
    usernames = dict(User.objects.values_list("id", "username"))
    house_codes = dict(House.objects.values_list("id", "code"))

    def people_house_code(pk: int | None) -> str | None:
        return None if pk is None else house_codes[pk]

    person_cols = [f.attname for f in Person._meta.concrete_fields]
    state: dict[str, Any] = {
        "people": {
            p.id_number: natural({c: getattr(p, c) for c in person_cols} | {"id_hash": p.id_hash})
            for p in people.values()
        },
        "households": {
            household_key(pk): natural({f.attname: getattr(h, f.attname) for f in Household._meta.concrete_fields})
            for pk, h in households.items()
        },
        "person_history": sorted(
            (number_of[v["id"]], repr(sorted(natural(v).items())))
            for v in Person.history.model.objects.values()  # type: ignore[attr-defined]
        ),
        "household_history": sorted(
            (repr(household_key(v["id"])), repr(sorted(natural(v).items())))
            for v in Household.history.model.objects.values()  # type: ignore[attr-defined]
        ),
        "events": sorted(
            (number_of[v["person_id"]], repr(sorted(natural({k: x for k, x in v.items() if k != "at"}).items())))
            for v in PersonEvent.objects.values()
        ),
        "memberships": sorted(GroupMembership.objects.values_list("person__name", "region_path")),
        "audit": sorted(AuditEvent.objects.values_list("action", "actor_label", "region_path", "detail")),
        "regions": sorted(Region.objects.values_list("code", "households", "population")),
    }
    assert not PersonEvent.objects.filter(at__isnull=True).exists()
    return state


def state_after(do) -> dict[str, Any]:
    with transaction.atomic():
        do()
        state = snapshot()
        transaction.set_rollback(True)
    return state


@pytest.fixture
def world(personas):
    """Three houses of micro-grid 1; house 1 has household 07 whose head moved out (no head now),
    house 2 has household 08 with a head; a person of micro-grid 2 (on a special-group list) has
    moved out and comes back, to house 3, in the file."""
    actor = personas.grid_worker
    h1 = make_house(actor, personas.tree.microgrids[0])
    h2, h3 = list(h1.building.houses.exclude(pk=h1.pk).order_by("code")[:2])
    left = services.household_register(actor=actor, house=h1, number="07", members=[member("走了", relation="02")])
    services.person_move_out(actor=actor, person=left.head, moved_out_to="外地")
    services.household_register(
        actor=actor, house=h2, number="08", members=[member("老户主", relation="02"), member("老成员", relation="10")]
    )
    elsewhere = make_house(actor, personas.tree.microgrids[1])
    returning = make_person(actor, elsewhere, name="回来的人")
    services.group_add(
        actor=actor,
        person=returning,
        kind="released",
        attention_level="02",
        risk_code="01",
        details={"crime_category": "05", "release_date": "2025-12-01"},
    )
    services.person_move_out(actor=actor, person=returning, moved_out_to="外地")
    return actor, (h1, h2, h3), returning


def test_the_batch_import_leaves_the_same_rows_as_registering_one_household_at_a_time(world):
    actor, (h1, h2, h3), returning = world
    rows = [
        {"house_code": h1.code, "household_number": "1", "relation": "02 户主", "name": "甲", "id_number": id_number(),
         "population_type": "户籍人口", "phone": "13900001111", "hukou_address": "浙江省杭州市", "occupation": "教师",
         "hukou_consistency": "01"},
        {"house_code": h1.code, "household_number": "1", "relation": "配偶", "name": "乙",
         "id_number": id_number(dt.date(1986, 2, 3), female=True), "gender": "2", "birth_date": dt.datetime(1986, 2, 3),
         "ethnicity": "02", "population_type": "registered"},
        {"house_code": h1.code, "household_number": "1", "relation": "20", "name": "丙", "id_number": id_number(dt.date(2015, 5, 5)),
         "population_type": "registered", "moved_in_on": dt.datetime(2026, 1, 5)},
        {"house_code": h2.code, "relation": "02", "name": "流动", "id_number": id_number(region="420102"),
         "population_type": "流动人口", "inflow_reason": "01 务工", "residence_type": "02", "household_kind": "registered",
         "phone": "0571-82345678", "workplace": "某公司"},
        {"house_code": h2.code, "relation": "10", "name": "Smith", "doc_type": "414", "id_number": "E12345678",
         "gender": "1", "birth_date": "1980-07-01", "population_type": "foreign", "nationality": "usa",
         "foreign_name": "John Smith", "household_kind": "registered"},
        {"house_code": h1.code, "household_number": "07", "relation": "02", "name": "新户主", "id_number": id_number(),
         "population_type": "registered"},
        {"house_code": h1.code, "household_number": "07", "relation": "30", "name": "新成员", "id_number": id_number(female=True),
         "population_type": "registered"},
        {"house_code": h2.code, "household_number": "08", "relation": "20", "name": "加入", "id_number": id_number(),
         "population_type": "registered"},
        {"house_code": h3.code, "household_number": "3", "relation": "02", "name": "回来的人", "id_number": returning.id_number,
         "population_type": "registered", "phone": "13700007777"},
        {"house_code": h3.code, "household_number": "3", "relation": "50", "name": "老人", "id_number": id_number(dt.date(1940, 1, 1)),
         "population_type": "registered"},
    ]  # fmt: skip
    content = workbook(rows)

    def batch_import() -> None:
        report = spreadsheets.import_workbook(actor=actor, register="people", content=content)
        assert report.ok and report.created == len(rows), report.as_dict()

    one_by_one = state_after(lambda: import_one_household_at_a_time(actor, content))
    batched = state_after(batch_import)
    for key in one_by_one:  # key by key, so a difference names its table
        if batched[key] != one_by_one[key] and isinstance(batched[key], list):
            only_batch = [x for x in batched[key] if x not in one_by_one[key]]
            only_one = [x for x in one_by_one[key] if x not in batched[key]]
            assert batched[key] == one_by_one[key], (key, only_batch, only_one)
        assert batched[key] == one_by_one[key], key
    # the file did what it says, in both
    assert len(batched["people"]) == Person.objects.count() + len(rows) - 1  # one was moved back in
    came_back = batched["people"][returning.id_number]
    assert came_back["status"] == "active" and came_back["house_id"] == h3.code
    assert batched["households"][(h1.code, "07")]["head_id"] == rows[5]["id_number"]
    assert batched["households"][(h2.code, "09")]["kind"] == "registered"  # numbered after 08


def test_identifiers_are_stored_sealed_hashed_and_masked(personas):
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    number = id_number()
    report = import_people(
        personas.grid_worker,
        [{"house_code": house.code, "relation": "02", "name": "甲", "id_number": number, "population_type": "registered",
          "phone": "13812345678"}],
    )  # fmt: skip
    assert report.ok
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, id_hash, id_masked, phone_masked FROM registers_person")
        stored_id, stored_phone, id_hash, id_masked, phone_masked = cursor.fetchone()
    assert number not in stored_id and stored_id.startswith("g1.")
    assert crypto.decrypt(stored_id, context="registers.person.id_number") == number
    assert crypto.decrypt(stored_phone, context="registers.person.phone") == "13812345678"
    assert id_hash == crypto.lookup_hash(number, kind="id")
    assert id_masked == number[:6] + "********" + number[-4:] and phone_masked == "138****5678"
    assert services.find_by_id_number(number) == Person.objects.get()
    event = AuditEvent.objects.get(action="registers.imported")
    assert event.detail == {"register": "people", "rows": 1, "created": 1}


def test_every_problem_of_every_row_is_reported_and_nothing_is_written(personas):
    actor = personas.grid_worker
    h1 = make_house(actor, personas.tree.microgrids[0])
    h2 = h1.building.houses.exclude(pk=h1.pk).order_by("code").first()
    outside = make_house(personas.colleague, personas.tree.microgrids[2])
    services.household_register(actor=actor, house=h2, number="5", members=[member("户主", relation="02")])
    twin = id_number()
    rows = [
        {"house_code": h1.code, "household_number": "1", "relation": "02", "name": "甲", "id_number": twin, "population_type": "registered"},
        {"house_code": h1.code, "household_number": "2", "relation": "02", "name": "乙", "id_number": twin, "population_type": "registered"},
        {"house_code": h1.code, "household_number": "3", "relation": "10", "name": "没户主", "id_number": id_number(), "population_type": "registered"},
        {"house_code": h1.code, "household_number": "4", "relation": "02", "name": "类别", "id_number": id_number(), "population_type": "registered", "household_kind": "registered"},
        {"house_code": h1.code, "household_number": "4", "relation": "10", "name": "类别2", "id_number": id_number(), "population_type": "registered", "household_kind": "resident"},
        {"house_code": h2.code, "household_number": "5", "relation": "02", "name": "第二个户主", "id_number": id_number(), "population_type": "registered"},
        {"house_code": outside.code, "relation": "02", "name": "越界", "id_number": id_number(), "population_type": "registered"},
        {"house_code": "NOPE", "relation": "02", "name": "无房", "id_number": id_number(), "population_type": "registered"},
        {"relation": "02", "name": "无编码", "id_number": id_number(), "population_type": "registered"},
        {"house_code": h1.code, "household_number": "X" * 21, "relation": "02", "name": "长户号", "id_number": id_number(), "population_type": "registered"},
        {"house_code": h1.code, "household_number": "6", "relation": "02", "name": "", "id_number": "123", "population_type": "外星人", "phone": "12345"},
    ]  # fmt: skip
    before = (Person.objects.count(), Household.objects.count(), PersonEvent.objects.count())
    report = import_people(actor, rows)
    assert not report.ok and report.created == 0
    found = {(e.row, e.column) for e in report.errors}
    assert (3, "证件号码") in found  # the same number as row 2
    assert "第2行" in next(e.message for e in report.errors if e.row == 3)
    assert (4, "") in found  # a new household without a head
    assert (5, "户类别") in found  # one household, two kinds
    assert (7, "与户主关系") in found  # household 5 has its head already
    assert (8, "房屋编码") in found and (9, "房屋编码") in found and (10, "房屋编码") in found
    assert (11, "户号") in found
    assert {(12, "姓名"), (12, "证件号码"), (12, "人口类别"), (12, "联系电话")} <= found
    assert not any(e.row == 2 for e in report.errors)  # the first of the twins was fine…
    after = (Person.objects.count(), Household.objects.count(), PersonEvent.objects.count())
    assert after == before  # …and still nothing was written
    assert not AuditEvent.objects.filter(action="registers.imported").exists()


def test_a_number_registered_while_the_file_was_checked_fails_the_whole_import(personas, monkeypatch):
    actor = personas.grid_worker
    house = make_house(actor, personas.tree.microgrids[0])
    taken = make_person(actor, house)
    monkeypatch.setattr(batch, "_check_duplicates", lambda items, problems: None)  # the race: check passed
    report = import_people(
        actor,
        [
            {"house_code": house.code, "household_number": "9", "relation": "02", "name": "新", "id_number": id_number(), "population_type": "registered"},
            {"house_code": house.code, "household_number": "9", "relation": "10", "name": "抢", "id_number": taken.id_number, "population_type": "registered"},
        ],
    )  # fmt: skip
    assert not report.ok and report.created == 0
    assert report.errors[0].column == "证件号码"
    assert Person.objects.count() == 1 and not Household.objects.filter(number="9").exists()


def test_the_number_of_queries_does_not_grow_with_the_rows(personas):
    actor = personas.grid_worker
    houses = list(make_house(actor, personas.tree.microgrids[0]).building.houses.order_by("code"))

    def rows(n: int) -> list[dict[str, Any]]:
        return [
            {"house_code": houses[i // 2 % len(houses)].code, "household_number": f"N{n}-{i // 2}", "relation": "02" if i % 2 == 0 else "20",
             "name": f"人{i}", "id_number": id_number(), "population_type": "registered", "phone": f"139{i:08d}"}
            for i in range(n)
        ]  # fmt: skip

    counts = []
    for n in (4, 40):
        content = workbook(rows(n))
        with CaptureQueriesContext(connection) as queries:
            report = spreadsheets.import_workbook(actor=actor, register="people", content=content)
        assert report.ok, report.as_dict()
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_file_over_the_row_limit_is_refused(personas, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_PEOPLE_IMPORT_ROWS", 2)
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    rows = [{"house_code": house.code, "relation": "02", "name": f"人{i}", "id_number": id_number(), "population_type": "registered"} for i in range(3)]  # fmt: skip
    with pytest.raises(spreadsheets.ValidationFailed) as refused:
        import_people(personas.grid_worker, rows)
    assert "2行" in refused.value.message
    assert Person.objects.count() == 0


# --- the worksheet reader -------------------------------------------------------------------------
def _trimmed(values: Any) -> list[Any]:
    out = list(values)
    while out and out[-1] is None:
        out.pop()
    return out


def openpyxl_rows(content: bytes) -> list[list[Any]]:
    """Rows as openpyxl's `iter_rows(values_only=True)` gives them, without trailing empty cells."""
    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    out = [_trimmed(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return out


def reader_rows(content: bytes) -> list[list[Any]]:
    """`sheet_rows` laid out the same way (rows without cells are there, empty)."""
    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    rows = dict(spreadsheets.sheet_rows(wb))
    wb.close()
    return [_trimmed(rows.get(n, [])) for n in range(1, max(rows, default=0) + 1)]


def test_the_sheet_reader_reads_what_openpyxl_reads():
    wb = Workbook()
    ws = wb.active
    ws.append(["文本", "整数", "小数", "日期", "日期时间", "布尔", None, "空串", "公式"])
    ws.append(["张三 ", 42, 3.5, dt.date(2020, 2, 29), dt.datetime(2021, 3, 4, 5, 6, 7), True, None, "", "=1+1"])
    ws.append([None, None, None])
    ws.append(["<&>\"'", 1e20, -0.25, None, None, False, "七", None, "x"])
    ws["C7"] = "跳过的行"
    ws["K7"] = 330109199001011234
    out = io.BytesIO()
    wb.save(out)
    content = out.getvalue()
    assert reader_rows(content) == openpyxl_rows(content)


def test_the_sheet_reader_reads_shared_and_rich_strings_as_excel_writes_them():
    content = _excel_style_workbook()
    assert reader_rows(content) == openpyxl_rows(content)
    assert reader_rows(content)[1] == ["房屋A", "加粗普通", "甲", 7]


def _excel_style_workbook() -> bytes:
    """An openpyxl workbook whose sheet is rewritten the way Excel writes one: shared strings,
    a rich-text inline string with a phonetic hint, cells without `r` attributes."""
    wb = Workbook()
    wb.active.append(["placeholder"])
    out = io.BytesIO()
    wb.save(out)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    shared = (
        f'<sst xmlns="{main}" count="3" uniqueCount="3"><si><t>房屋编码</t></si><si><t>房屋A</t></si>'
        "<si><r><t>甲</t></r></si></sst>"
    )
    sheet = (
        f'<worksheet xmlns="{main}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="2"><c t="s"><v>1</v></c><c t="inlineStr"><is><r><rPr><b/></rPr><t>加粗</t></r><r><t>普通</t></r>'
        '<rPh sb="0" eb="1"><t>ふりがな</t></rPh></is></c><c t="s"><v>2</v></c><c><v>7</v></c></row>'
        "</sheetData></worksheet>"
    )
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as z:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                )
            z.writestr(item, data)
        z.writestr("xl/sharedStrings.xml", shared)
    return target.getvalue()


def test_a_worksheet_with_a_dtd_is_not_read(personas):
    content = _excel_style_workbook()
    source = zipfile.ZipFile(io.BytesIO(content))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as z:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + data
            z.writestr(item, data)
    with pytest.raises(spreadsheets.ValidationFailed):
        spreadsheets.read_rows("people", target.getvalue())
