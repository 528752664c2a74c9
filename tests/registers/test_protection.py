"""Personal data protection: masking everywhere, audited reveals, special groups only for the
roles that need them, refusal outside the jurisdiction."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from openpyxl import load_workbook

from gridgov.common.errors import PermissionRefused, ValidationFailed
from gridgov.common.models import AuditEvent
from gridgov.registers import crypto, services
from gridgov.registers.models import Person
from tests.registers.factories import make_house, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(personas):
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    return make_person(personas.grid_worker, house, name="王建国", phone="13912345678")


def test_lists_and_api_show_only_masked_numbers(personas, person, client_for):
    c = client_for(personas.grid_worker)
    page = c.get("/registers/people/").content.decode()
    assert person.id_masked in page and person.id_number not in page and "13912345678" not in page
    detail = c.get(f"/registers/people/{person.pk}/").content.decode()
    assert person.id_number not in detail and "139****5678" in detail
    body = c.get("/api/v1/registers/people").json()
    assert body["items"][0]["id_number"] == person.id_masked
    assert body["items"][0]["phone"] == "139****5678"
    assert person.id_number not in c.get(f"/api/v1/registers/people/{person.pk}").content.decode()


def test_a_reveal_needs_a_reason_and_is_audited(personas, person, client_for):
    c = client_for(personas.grid_worker)
    r = c.post(f"/api/v1/registers/people/{person.pk}/reveal", {"reason": ""}, content_type="application/json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    assert not AuditEvent.objects.filter(action="registers.person_revealed").exists()
    r = c.post(
        f"/api/v1/registers/people/{person.pk}/reveal", {"reason": "上门核实身份"}, content_type="application/json"
    )
    assert r.status_code == 200
    assert r.json() == {"id_number": person.id_number, "phone": "13912345678"}
    event = AuditEvent.objects.get(action="registers.person_revealed")
    assert event.actor == personas.grid_worker and event.reason == "上门核实身份"
    assert event.target_id == str(person.pk) and event.detail == {"fields": ["id_number", "phone"]}
    assert event.region_path == person.region_path


def test_the_reveal_screen_works_with_htmx_and_logs(personas, person, client_for):
    c = client_for(personas.grid_leader)
    r = c.post(f"/registers/people/{person.pk}/reveal/", {"reason": "电话联系走访"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and person.id_number in r.content.decode()
    assert AuditEvent.objects.filter(action="registers.person_revealed", actor=personas.grid_leader).count() == 1


@pytest.mark.parametrize("who", ["leader", "admin", "mediator"])
def test_oversight_roles_read_masked_but_cannot_reveal(personas, person, who):
    actor = getattr(personas, who)
    with pytest.raises(PermissionRefused):
        services.person_reveal(actor=actor, person=person, fields=["id_number"], reason="想看看号码")
    assert not AuditEvent.objects.filter(action="registers.person_revealed").exists()


def test_people_outside_the_jurisdiction_are_not_found(personas, person, client_for):
    for who in ("colleague", "outsider", "other_town_operator"):
        c = client_for(getattr(personas, who))
        assert c.get(f"/api/v1/registers/people/{person.pk}").status_code == 404
        assert c.get(f"/registers/people/{person.pk}/").status_code == 404
        r = c.post(
            f"/api/v1/registers/people/{person.pk}/reveal", {"reason": "核实身份信息"}, content_type="application/json"
        )
        assert r.status_code == 404
        assert c.get("/api/v1/registers/people").json()["total"] == 0
    with pytest.raises(PermissionRefused):
        services.person_reveal(actor=personas.colleague, person=person, fields=["phone"], reason="核实身份信息")
    assert not AuditEvent.objects.filter(action="registers.person_revealed").exists()


def test_roles_without_the_population_register_are_refused(personas, person, client_for):
    for who in ("handler", "microgrid_worker"):
        c = client_for(getattr(personas, who))
        assert c.get("/api/v1/registers/people").status_code == 403
        assert c.get("/registers/people/").status_code == 403


def test_special_groups_are_visible_only_to_roles_that_need_them(personas, person, client_for):
    services.group_add(
        actor=personas.grid_worker,
        person=person,
        kind="mental",
        attention_level="01",
        risk_code="04",
        details={"diagnosis": "01"},
    )
    worker = client_for(personas.grid_worker).get(f"/api/v1/registers/people/{person.pk}").json()
    assert worker["groups"][0]["kind"] == "mental"
    for who in ("leader", "mediator", "admin"):
        c = client_for(getattr(personas, who))
        body = c.get(f"/api/v1/registers/people/{person.pk}").json()
        assert body["groups"] is None
        assert "严重精神障碍" not in c.get(f"/registers/people/{person.pk}/").content.decode()
        assert c.get("/api/v1/registers/groups").status_code == 403
        assert c.get("/api/v1/registers/people?group=mental").status_code == 403
    # leaders see the aggregate, not the names
    summary = client_for(personas.leader).get("/api/v1/registers/groups/summary").json()
    mental = next(row for row in summary if row["kind"] == "mental")
    assert mental["total"] == 1 and mental["by_level"]["高"] == 1


def test_exports_are_masked_scoped_and_audited(personas, person, client_for):
    other_house = make_house(personas.colleague, personas.tree.microgrids[2])
    make_person(personas.colleague, other_house, name="隔壁网格")
    c = client_for(personas.grid_worker)
    r = c.post("/registers/export/people/", {})
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == "王建国"
    assert rows[1][4] == person.id_masked and rows[1][5] == "139****5678"
    event = AuditEvent.objects.get(action="registers.exported")
    assert event.detail["rows"] == 1 and event.detail["masked"] is True and event.actor == personas.grid_worker


def test_unmasked_export_needs_the_right_role_and_a_reason(personas, person, client_for):
    c = client_for(personas.grid_worker)
    r = c.post("/api/v1/registers/export/people", {"reveal": True, "reason": ""}, content_type="application/json")
    assert r.status_code == 400
    r = c.post(
        "/api/v1/registers/export/people", {"reveal": True, "reason": "报送派出所核对"}, content_type="application/json"
    )
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][4] == person.id_number
    assert AuditEvent.objects.get(action="registers.exported_unmasked").reason == "报送派出所核对"
    leader = client_for(personas.leader)
    r = leader.post(
        "/api/v1/registers/export/people", {"reveal": True, "reason": "领导查看"}, content_type="application/json"
    )
    assert r.status_code == 403


def test_the_data_key_rotates_every_row_and_lookups_follow(personas, person):
    old_key = crypto.current_key_id()
    old_secret = settings.GRIDGOV_DATA_KEY
    with override_settings(GRIDGOV_DATA_KEY="a-brand-new-secret-for-tests", GRIDGOV_DATA_KEYS_PREVIOUS=[old_secret]):
        # before rotation: the old token still opens and lookups try both keys
        assert Person.objects.get(pk=person.pk).id_number == person.id_number
        assert services.find_by_id_number(person.id_number) == person
        call_command("rotate_data_key", stdout=io.StringIO())
        new_key = crypto.current_key_id()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, id_hash FROM registers_person WHERE id = %s", [person.pk])
            token, id_hash = cursor.fetchone()
        assert crypto.token_key_id(token) == new_key != old_key
        assert id_hash == crypto.lookup_hash(person.id_number, kind="id")
    with override_settings(GRIDGOV_DATA_KEY="a-brand-new-secret-for-tests", GRIDGOV_DATA_KEYS_PREVIOUS=[]):
        fresh = Person.objects.get(pk=person.pk)  # opens without the old key
        assert fresh.id_number == person.id_number and fresh.phone == "13912345678"
        assert services.find_by_id_number(person.id_number) == person
        with pytest.raises(ValidationFailed):
            services.person_reveal(actor=personas.grid_worker, person=fresh, fields=["id_number"], reason="")
