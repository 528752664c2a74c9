from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from gridgov.registers import services
from gridgov.registers.codes import PersonStatus
from gridgov.registers.models import Household, Person, PersonEvent
from tests.registers.factories import bad_checksum, id_number, make_house, make_person, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(personas):
    return make_house(personas.grid_worker, personas.tree.microgrids[0])


def test_grid_worker_registers_a_household_with_its_people_in_her_grid(personas, house):
    household = services.household_register(
        actor=personas.grid_worker,
        house=house,
        kind="registered",
        members=[
            member("王建国", relation="02"),
            member("李秀英", relation="10", id_number=id_number(dt.date(1987, 3, 2), female=True)),
            member("王子涵", relation="20", id_number=id_number(dt.date(2012, 9, 1)), phone=""),
        ],
    )
    people = list(household.members.order_by("id"))
    assert [p.name for p in people] == ["王建国", "李秀英", "王子涵"]
    assert household.head == people[0]
    assert all(p.status == PersonStatus.ACTIVE and p.region_path == house.region_path for p in people)
    assert people[1].gender == "2" and people[1].birth_date == dt.date(1987, 3, 2)  # derived from the ID number
    assert PersonEvent.objects.filter(person__in=people, action="register").count() == 3


def test_household_errors_come_back_per_member_and_nothing_is_written(personas, house):
    with pytest.raises(ValidationFailed) as exc:
        services.household_register(
            actor=personas.grid_worker,
            house=house,
            members=[member("甲", relation="02"), member("乙", relation="10", id_number=bad_checksum())],
        )
    assert "members.1.id_number" in exc.value.errors
    assert Person.objects.count() == 0 and Household.objects.count() == 0


def test_a_household_needs_exactly_one_head(personas, house):
    with pytest.raises(ValidationFailed) as exc:
        services.household_register(actor=personas.grid_worker, house=house, members=[member("甲", relation="10")])
    assert "members" in exc.value.errors


def test_the_same_id_number_is_never_registered_twice(personas, house):
    number = id_number()
    make_person(personas.grid_worker, house, id_number=number)
    with pytest.raises(Conflict) as exc:
        make_person(personas.grid_worker, house, name="另一人", id_number=number.lower())
    assert exc.value.rule == "registers.person_once"
    # …not even from the next grid, nor twice inside one household form
    other_house = make_house(personas.colleague, personas.tree.microgrids[2])
    with pytest.raises(Conflict):
        make_person(personas.colleague, other_house, id_number=number)
    twin = id_number()
    with pytest.raises(ValidationFailed) as exc2:
        services.household_register(
            actor=personas.grid_worker,
            house=house,
            members=[member("甲", relation="02", id_number=twin), member("乙", relation="10", id_number=twin)],
        )
    assert "members.1.id_number" in exc2.value.errors
    assert Person.objects.count() == 1


def test_move_out_then_registering_elsewhere_moves_the_same_record_in(personas, house):
    person = make_person(personas.grid_worker, house)
    moved = services.person_move_out(actor=personas.grid_worker, person=person, moved_out_to="杭州市西湖区")
    assert moved.status == PersonStatus.MOVED_OUT and moved.moved_out_on is not None and moved.household is None
    other_house = make_house(personas.colleague, personas.tree.microgrids[2])
    again = make_person(personas.colleague, other_house, id_number=person.id_number)
    assert again.pk == person.pk and again.status == PersonStatus.ACTIVE
    assert again.region_path == other_house.region_path
    assert Person.objects.count() == 1
    assert list(PersonEvent.objects.filter(person=person).order_by("id").values_list("action", flat=True)) == [
        "register",
        "move_out",
        "move_in",
    ]


def test_lifecycle_follows_the_transition_table(personas, house):
    person = make_person(personas.grid_worker, house)
    with pytest.raises(Conflict):
        services.person_move_in(actor=personas.grid_worker, person=person, house=house)
    with pytest.raises(PermissionRefused):  # only grid leaders and centre operators archive
        services.person_archive(actor=personas.grid_worker, person=person)
    with pytest.raises(Conflict):  # an active person is not archived
        services.person_archive(actor=personas.grid_leader, person=person)
    cancelled = services.person_cancel(actor=personas.grid_worker, person=person, cancel_reason="death")
    assert cancelled.status == PersonStatus.CANCELLED
    archived = services.person_archive(actor=personas.grid_leader, person=person, reason="注销满一年")
    assert archived.status == PersonStatus.ARCHIVED and archived.archived_at is not None
    with pytest.raises(Conflict):
        services.person_update(actor=personas.grid_worker, person=person, changes={"occupation": "教师"})
    assert person.history.count() >= 3  # django-simple-history keeps every saved version


def test_a_move_out_needs_a_destination_and_a_sane_date(personas, house):
    person = make_person(personas.grid_worker, house)
    with pytest.raises(ValidationFailed) as exc:
        services.person_move_out(
            actor=personas.grid_worker, person=person, moved_out_to="", moved_out_on=dt.date(2999, 1, 1)
        )
    assert {"moved_out_to", "moved_out_on"} <= set(exc.value.errors)
    person.refresh_from_db()
    assert person.status == PersonStatus.ACTIVE


def test_writes_outside_the_jurisdiction_are_refused(personas, house):
    person = make_person(personas.grid_worker, house)
    for actor in (personas.colleague, personas.outsider, personas.other_town_operator):
        with pytest.raises(PermissionRefused):
            services.person_move_out(actor=actor, person=person, moved_out_to="外地")
        with pytest.raises(PermissionRefused):
            make_person(actor, house)
    for actor in (personas.leader, personas.microgrid_worker, personas.handler, personas.mediator):
        with pytest.raises(PermissionRefused):
            services.person_move_out(actor=actor, person=person, moved_out_to="外地")
    # the town operator covers the grid
    services.person_move_out(actor=personas.town_operator, person=person, moved_out_to="外地")


def test_foreign_residents_need_a_passport_and_a_nationality(personas, house):
    with pytest.raises(ValidationFailed) as exc:
        services.person_register(
            actor=personas.grid_worker,
            house=house,
            data={"name": "John Smith", "population_type": "foreign", "doc_type": "111", "id_number": id_number()},
        )
    assert {"doc_type", "nationality"} <= set(exc.value.errors)
    person = services.person_register(
        actor=personas.grid_worker,
        house=house,
        data={
            "name": "约翰·史密斯",
            "foreign_name": "John Smith",
            "population_type": "foreign",
            "doc_type": "414",
            "id_number": "e12345678",
            "nationality": "usa",
            "gender": "1",
            "birth_date": "1980-05-05",
            "visit_purpose": "02",
        },
    )
    assert person.id_number == "E12345678" and person.nationality == "USA"


def test_id_and_phone_are_sealed_at_rest_with_hash_and_mask_beside_them(personas, house):
    person = make_person(personas.grid_worker, house, phone="13912345678")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone, id_masked, phone_masked FROM registers_person WHERE id = %s", [person.pk]
        )
        raw_id, raw_phone, id_masked, phone_masked = cursor.fetchone()
    assert person.id_number not in raw_id and raw_id.startswith("g1.")
    assert "13912345678" not in raw_phone
    assert id_masked == person.id_number[:6] + "********" + person.id_number[-4:]
    assert phone_masked == "139****5678"
    assert services.find_by_id_number(person.id_number.lower()) == person
    with pytest.raises(TypeError):
        Person.objects.filter(id_number=person.id_number).exists()
