"""Special groups with their own fields, visit obligations, and the due/overdue list."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from gridgov.registers import selectors, services
from gridgov.registers.models import GroupMembership, VisitRule
from tests.registers.factories import make_house, make_person

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def person(personas):
    house = make_house(personas.grid_worker, personas.tree.microgrids[0])
    return make_person(personas.grid_worker, house, name="李强")


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "PNG")
    return SimpleUploadedFile("visit.png", out.getvalue(), content_type="image/png")


def test_group_fields_are_validated_against_their_code_tables(personas, person):
    with pytest.raises(ValidationFailed) as exc:
        services.group_add(
            actor=personas.grid_worker,
            person=person,
            kind="released",
            attention_level="09",
            details={"crime_category": "77", "release_date": "not a date", "colour": "blue"},
        )
    assert {"attention_level", "details.crime_category", "details.release_date", "details.colour"} <= set(
        exc.value.errors
    )
    assert not GroupMembership.objects.exists()


def test_high_attention_means_a_weekly_visit_and_a_visit_moves_the_due_date(personas, person):
    with clock.frozen(T0):
        m = services.group_add(
            actor=personas.grid_worker,
            person=person,
            kind="released",
            attention_level="01",
            risk_code="01",
            details={"crime_category": "05", "release_date": "2025-12-01"},
            helper_ids=[personas.grid_worker.pk],
        )
    assert m.next_visit_due == dt.date(2026, 3, 9)
    scope = Scope.for_user(personas.grid_worker)
    assert list(selectors.visits_due(scope=scope, status="overdue", as_of=dt.date(2026, 3, 10))) == [m]
    assert list(selectors.visits_due(scope=scope, status="overdue", as_of=dt.date(2026, 3, 9))) == []
    assert list(selectors.visits_due(scope=scope, status="due", as_of=dt.date(2026, 3, 7))) == [m]
    with clock.frozen(T0 + dt.timedelta(days=8)):
        visit = services.visit_record(
            actor=personas.grid_worker, person=person, findings="本人在家，情绪稳定", photos=[png()]
        )
    m.refresh_from_db()
    assert visit.membership == m and visit.photos.count() == 1
    assert m.next_visit_due == dt.date(2026, 3, 17)
    assert list(selectors.visits_due(scope=scope, status="overdue", as_of=dt.date(2026, 3, 12))) == []


def test_visit_frequencies_are_configurable_and_reschedule_members(personas, person):
    person.birth_date = dt.date(2010, 1, 1)
    person.save(update_fields=["birth_date"])
    with clock.frozen(T0):
        m = services.group_add(
            actor=personas.grid_worker, person=person, kind="youth", attention_level="02", details={"youth_type": "01"}
        )
    assert m.next_visit_due == dt.date(2026, 4, 1)  # default: 30 days
    with pytest.raises(PermissionRefused):
        services.visit_rule_set(actor=personas.grid_worker, kind="youth", attention_level="02", interval_days=10)
    with pytest.raises(ValidationFailed):
        services.visit_rule_set(actor=personas.admin, kind="youth", attention_level="02", interval_days=0)
    services.visit_rule_set(actor=personas.admin, kind="youth", attention_level="02", interval_days=10)
    m.refresh_from_db()
    assert m.next_visit_due == dt.date(2026, 3, 12)
    assert VisitRule.objects.get().interval_days == 10


def test_the_due_list_is_per_grid_and_refused_to_roles_without_group_access(personas, person, client_for):
    services.group_add(
        actor=personas.grid_worker, person=person, kind="drug", attention_level="01", details={"control_status": "01"}
    )
    assert (
        client_for(personas.grid_worker).get("/api/v1/registers/visits/due?status=all").json()[0]["person"]["name"]
        == "李强"
    )
    assert client_for(personas.colleague).get("/api/v1/registers/visits/due?status=all").json() == []
    assert client_for(personas.leader).get("/api/v1/registers/visits/due").status_code == 403
    page = client_for(personas.grid_worker).get("/registers/visits/due/?status=all")
    assert page.status_code == 200 and "李强" in page.content.decode()


def test_memberships_end_with_a_reason_and_on_cancellation(personas, person):
    m = services.group_add(
        actor=personas.grid_worker, person=person, kind="hiv", attention_level="03", details={"infection_route": "99"}
    )
    with pytest.raises(ValidationFailed):
        services.group_add(
            actor=personas.grid_worker,
            person=person,
            kind="hiv",
            attention_level="03",
            details={"infection_route": "99"},
        )
    services.person_cancel(actor=personas.grid_worker, person=person, cancel_reason="death")
    m.refresh_from_db()
    assert m.ended_on is not None and m.next_visit_due is None
    with pytest.raises(Conflict):
        services.group_end(actor=personas.grid_worker, membership=m, reason="再次解除")


def test_visits_need_findings_a_sane_time_and_a_real_image(personas, person):
    with pytest.raises(ValidationFailed) as exc:
        services.visit_record(
            actor=personas.grid_worker,
            person=person,
            findings="",
            visited_at=clock.now() + dt.timedelta(days=1),
            photos=[SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")],
        )
    assert {"findings", "visited_at", "photos.0"} <= set(exc.value.errors)
    with pytest.raises(PermissionRefused):
        services.visit_record(actor=personas.colleague, person=person, findings="越界走访")
    with pytest.raises(PermissionRefused):
        services.visit_record(actor=personas.leader, person=person, findings="领导走访")


def test_places_get_an_inspection_cycle_and_a_school_sees_its_surroundings(personas, client_for):
    region = personas.tree.microgrids[0]
    lat, lng = region.centroid_lat, region.centroid_lng
    place = services.place_create(
        actor=personas.grid_worker,
        data={
            "kind": "internet_cafe",
            "name": "星空网咖",
            "address": "人民路3号",
            "risk_level": "2",
            "lat": lat + 0.001,
            "lng": lng,
        },
    )
    assert place.inspection_cycle_days == 15 and place.region == region
    school = services.school_create(
        actor=personas.grid_worker,
        data={"name": "城厢小学", "school_type": "primary", "address": "人民路1号", "lat": lat, "lng": lng},
    )
    body = client_for(personas.grid_worker).get(f"/api/v1/registers/schools/{school.pk}").json()
    assert body["surroundings"][0]["name"] == "星空网咖" and 100 <= body["surroundings"][0]["metres"] <= 120
    r = client_for(personas.grid_worker).post(
        "/api/v1/registers/organisations",
        {"kind": "enterprise", "name": "某公司", "address": "x", "credit_code": "91110000802100433C"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "credit_code" in r.json()["errors"]
    r = client_for(personas.colleague).patch(
        f"/api/v1/registers/places/{place.pk}", {"name": "改名"}, content_type="application/json"
    )
    assert r.status_code == 404
