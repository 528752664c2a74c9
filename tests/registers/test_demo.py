"""The demo loader on the small test tree: bulk paths write rows the ORM reads back correctly
(sealed identifiers open, hashes find, masks match), and a second run adds nothing."""

from __future__ import annotations

import pytest

from gridgov.common.masking import mask_id_number
from gridgov.registers import demo, services
from gridgov.registers.idnumber import parse_id_number
from gridgov.registers.models import GroupMembership, Household, Person, Place, Visit

pytestmark = pytest.mark.django_db


def test_demo_town_is_populated_consistently_and_idempotently(personas):
    demo.load(log=lambda _m: None)
    town = personas.tree.towns[0]
    people = Person.objects.filter(region_path__startswith=town.path)
    assert people.count() == sum(m.population for m in personas.tree.microgrids[:8])
    assert Household.objects.filter(head__isnull=True).count() == 0
    sample = people.order_by("?")[:20]
    for p in sample:
        if p.doc_type == "111":
            assert parse_id_number(p.id_number).birth_date == p.birth_date
        assert p.id_masked == mask_id_number(p.id_number)
        assert services.find_by_id_number(p.id_number) == p
    assert GroupMembership.objects.exists() or people.count() < 300
    assert Place.objects.filter(next_inspection_due__isnull=False).exists()
    counts = (Person.objects.count(), Household.objects.count(), Visit.objects.count())
    demo.load(log=lambda _m: None)
    assert (Person.objects.count(), Household.objects.count(), Visit.objects.count()) == counts
