"""走访率: visits made against the visit obligations of the special groups (registers)."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.assessment import indicators
from gridgov.registers.models import GroupMembership, VisitRule
from gridgov.registers.services import care
from tests.assessment.factories import AS_OF, TZ, at
from tests.registers.factories import make_house, make_person

pytestmark = pytest.mark.django_db


def test_visits_are_counted_against_what_the_interval_requires(personas):
    p, t = personas, personas.tree
    house = make_house(p.grid_worker, t.microgrids[0])
    person = make_person(p.grid_worker, house)
    VisitRule.objects.update_or_create(kind="released", attention_level="01", defaults={"interval_days": 10})
    GroupMembership.objects.create(
        person=person, kind="released", attention_level="01", started_on=dt.date(2026, 9, 1),
        region_path=person.region_path,
    )  # fmt: skip
    for day in (5, 15, 16, 17, 18, 19):  # six visits, but only four were owed
        care.visit_record(actor=p.grid_worker, person=person, findings="走访正常，无异常情况", visited_at=at(day))
    care.visit_record(
        actor=p.grid_worker, person=person, findings="九月的走访", visited_at=dt.datetime(2026, 9, 20, tzinfo=TZ)
    )
    ctx = indicators.Context(root_path=t.district.path, start=at(1, 0), end=AS_OF, as_of=AS_OF)
    measure = indicators.get("visits.obligation_rate").compute(ctx, {})[t.communities[0].path]
    assert (measure.numerator, measure.denominator) == (4, 4)  # ceil(31 / 10) owed, extra visits do not carry
    half = indicators.Context(root_path=t.district.path, start=at(1, 0), end=AS_OF, as_of=at(10, 12))
    early = indicators.get("visits.obligation_rate").compute(half, {})[t.communities[0].path]
    assert (early.numerator, early.denominator) == (1, 1)  # 10 days elapsed → 1 owed, 1 made
