"""关联事件: linking cases to register subjects, refusals outside the jurisdiction, duplicates,
unlinking, and what the person, place and case pages show."""

from __future__ import annotations

import pytest

from gridgov.cases import routing
from gridgov.cases.models import CaseEvent
from gridgov.common import clock
from gridgov.common.errors import NotFound, PermissionRefused, ValidationFailed
from gridgov.registers import services
from gridgov.registers.models import CaseLink
from tests.cases.factories import IN_GRID_2, MONDAY_10, report
from tests.registers.factories import make_house, make_person


@pytest.fixture(autouse=True)
def _monday_morning(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    routing.reset_classifier()
    with clock.frozen(MONDAY_10):
        yield


@pytest.fixture
def person(personas):
    return make_person(
        personas.grid_worker, make_house(personas.grid_worker, personas.tree.microgrids[0]), name="王小明"
    )


def test_linking_a_case_to_a_person_lists_it_and_traces_it_on_the_case(personas, person, client_for):
    case = report(personas)
    version = case.version
    link = services.case_link_subject(actor=personas.grid_worker, case=case, subject=person, note="当事人")
    assert link.person == person and link.region_path == person.region_path
    event = CaseEvent.objects.get(case=case, action="link_subject")
    assert not event.is_public and event.actor == personas.grid_worker
    assert "王*明" in event.note and "王小明" not in event.note
    case.refresh_from_db()
    assert case.version == version + 1

    page = client_for(personas.grid_worker).get(f"/registers/people/{person.pk}/")
    assert page.status_code == 200
    assert case.number in page.content.decode() and f"/cases/{case.number}/" in page.content.decode()

    detail = client_for(personas.grid_worker).get(f"/cases/{case.number}/").content.decode()
    assert "关联对象" in detail and "王*明" in detail and f"/registers/people/{person.pk}/" in detail


def test_the_case_page_shows_masked_names_without_register_links_to_viewers_outside_the_register(
    personas, person, client_for
):
    case = report(personas)
    services.case_link_subject(actor=personas.grid_worker, case=case, subject=person)
    # The department handler works the case but does not read the population register.
    from gridgov.cases import services as case_services

    op = personas.village_operator
    case = case_services.case_accept(actor=op, case=case)
    case = case_services.case_dispatch(actor=op, case=case, department=personas.department)
    html = client_for(personas.handler).get(f"/cases/{case.number}/").content.decode()
    assert "王*明" in html and f"/registers/people/{person.pk}/" not in html


def test_the_link_form_on_the_person_page_links_by_number_and_rejects_unknown_numbers(personas, person, client_for):
    case = report(personas)
    c = client_for(personas.grid_worker)
    bad = c.post(f"/registers/people/{person.pk}/", {"number": "NOPE-1"})
    assert bad.status_code == 400 and "不存在或不在您的辖区" in bad.content.decode()
    ok = c.post(f"/registers/people/{person.pk}/", {"number": case.number})
    assert ok.status_code == 302
    assert CaseLink.objects.filter(case=case, person=person).exists()


def test_a_case_outside_the_jurisdiction_is_refused_like_an_unknown_one(personas, person, client_for):
    other = report(personas, at=IN_GRID_2, actor=personas.colleague)
    with pytest.raises(ValidationFailed) as exc:
        services.case_link_subject(actor=personas.grid_worker, case=other, subject=person)
    assert exc.value.rule == "registers.case_link.case_scope" and "number" in exc.value.errors
    page = client_for(personas.grid_worker).post(f"/registers/people/{person.pk}/", {"number": other.number})
    assert page.status_code == 400 and "不存在或不在您的辖区" in page.content.decode()
    assert not CaseLink.objects.exists()


def test_a_person_outside_the_jurisdiction_is_refused(personas):
    stranger = make_person(personas.colleague, make_house(personas.colleague, personas.tree.microgrids[2]))
    case = report(personas)
    with pytest.raises(NotFound):
        services.case_link_subject(actor=personas.grid_worker, case=case, subject=stranger)
    assert not CaseLink.objects.exists()


def test_roles_that_do_not_write_the_registers_cannot_link(personas, person):
    case = report(personas)
    with pytest.raises(PermissionRefused):
        services.case_link_subject(actor=personas.leader, case=case, subject=person)


def test_linking_the_same_case_twice_is_refused(personas, person):
    case = report(personas)
    services.case_link_subject(actor=personas.grid_worker, case=case, subject=person)
    with pytest.raises(ValidationFailed) as exc:
        services.case_link_subject(actor=personas.grid_worker, case=case, subject=person)
    assert exc.value.rule == "registers.case_link.duplicate" and "已与该实有人口关联" in exc.value.message
    assert CaseLink.objects.count() == 1


def test_unlinking_removes_the_link_and_traces_it(personas, person, client_for):
    case = report(personas)
    link = services.case_link_subject(actor=personas.grid_worker, case=case, subject=person)
    # Bob (next grid) cannot unlink what he cannot see.
    with pytest.raises(NotFound):
        services.case_unlink_subject(actor=personas.colleague, link_id=link.pk)
    r = client_for(personas.grid_worker).post(
        f"/registers/case-links/{link.pk}/unlink/", {"next": f"/registers/people/{person.pk}/"}
    )
    assert r.status_code == 302 and r["Location"] == f"/registers/people/{person.pk}/"
    assert not CaseLink.objects.exists()
    assert CaseEvent.objects.filter(case=case, action="unlink_subject", is_public=False).count() == 1


def test_places_carry_the_same_card(personas, client_for):
    place = services.place_create(
        actor=personas.grid_worker,
        data={"kind": "internet_cafe", "name": "幸福网吧", "address": "人民路1号", "lat": 30.05, "lng": 120.10},
    )
    case = report(personas)
    c = client_for(personas.grid_worker)
    assert c.post(f"/registers/e/places/{place.pk}/", {"number": case.number}).status_code == 302
    page = c.get(f"/registers/e/places/{place.pk}/").content.decode()
    assert case.number in page
    assert "幸福网吧" in c.get(f"/cases/{case.number}/").content.decode()
