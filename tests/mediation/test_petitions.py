"""Petitions: intake through the case loop with their own time limits, and repeat detection."""

from __future__ import annotations

import pytest

from gridgov.accounts.scope import Scope
from gridgov.cases import sla
from gridgov.common.errors import PermissionRefused, ValidationFailed
from gridgov.mediation import selectors, services
from tests.registers.factories import id_number

ID = id_number()


def petition(p, *, actor=None, name="王大伟", phone="13900001111", subject="小区违建长期未拆除", **kw):
    kw.setdefault("matter", "1101")
    kw.setdefault("channel", "visit")
    return services.petition_register(
        actor=actor or p.village_operator,
        subject=subject,
        content=kw.pop("content", "小区内有业主私自搭建阳光房，多次反映无果，要求依法拆除。"),
        petitioner_name=name,
        phone=phone,
        region=kw.pop("region", p.tree.microgrids[0]),
        address=kw.pop("address", "人民路8号"),
        **kw,
    )


def test_a_petition_becomes_a_case_on_the_petition_time_limits(personas):
    pet = petition(personas)
    case = pet.case
    assert case.category.code == "1101" and case.description.startswith("【信访】")
    limits = sla.limits_for(case.category_id, case.category.parent_id, case.urgency)
    assert (limits.sign_value, limits.sign_unit, limits.handle_value, limits.handle_unit) == (
        3,
        "work_days",
        1440,
        "hours",
    )
    assert pet.phone_masked == "139****1111" and pet.number.startswith("XF2026-")
    assert not pet.is_repeat


def test_same_person_same_subject_is_a_repeat_linked_to_the_first(personas):
    p = personas
    first = petition(p, id_number=ID)
    second = petition(p, id_number=ID, phone="13700002222", subject="要求拆除小区违建")  # new phone: matched by ID
    third = petition(p, subject="小区违建未拆除，再次反映")  # no ID: matched by name + phone
    other = petition(p, subject="物业费收取不合理", matter="1101")
    assert (second.first, second.repeat_no) == (first, 1)
    assert (third.first, third.repeat_no) == (first, 2)
    assert other.first is None
    assert third.case.description.startswith("【重复信访·第3次】")
    history = selectors.petition_history(scope=Scope.for_user(p.village_operator), petition=third)
    assert [x.pk for x in history.same_subject] == [first.pk, second.pk]
    assert [x.pk for x in history.other_subjects] == [other.pk]
    counts = selectors.petition_counts(scope=Scope.for_user(p.village_operator))
    assert (counts["total"], counts["repeat"]) == (4, 2)


def test_a_different_person_is_not_a_repeat(personas):
    petition(personas)
    assert petition(personas, name="李小红", phone="13600003333").first is None


def test_repeat_detection_sees_petitions_outside_the_viewer_and_hides_them(personas):
    p = personas
    petition(p, actor=p.other_town_operator, region=p.tree.microgrids[-1], id_number=ID)
    mine = petition(p, id_number=ID)
    assert mine.is_repeat
    history = selectors.petition_history(scope=Scope.for_user(p.village_operator), petition=mine)
    assert history.same_subject == [] and history.hidden == 1


def test_intake_refusals(personas):
    p = personas
    with pytest.raises(PermissionRefused):
        petition(p, actor=p.grid_worker)
    with pytest.raises(ValidationFailed) as exc:
        services.petition_register(
            actor=p.village_operator,
            channel="fax",
            matter="9999",
            subject="",
            content="",
            petitioner_name="",
            phone="12",
            id_number="123",
            region=p.tree.towns[0],
            address="",
            people_count=0,
        )
    assert {
        "channel",
        "matter",
        "subject",
        "content",
        "petitioner_name",
        "phone",
        "id_number",
        "region",
        "address",
        "people_count",
    } <= set(exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        petition(p, actor=p.village_operator, region=p.tree.microgrids[-1])
    assert "region" in exc.value.errors


def test_subject_similarity():
    assert services.same_subject("小区违建长期未拆除", "要求拆除小区违建")
    assert not services.same_subject("小区违建长期未拆除", "物业费收取不合理")
