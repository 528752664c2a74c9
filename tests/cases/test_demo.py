from __future__ import annotations

import pytest

from gridgov.cases import demo
from gridgov.cases.models import Case, CaseEvent
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_demo_cases_span_the_states_with_timelines_and_top_up_idempotently(personas):
    DepartmentFactory(code="330109-CG", region=personas.tree.district, name="城管局")
    demo.load(log=lambda m: None, target=300)
    assert Case.objects.count() == 300
    states = set(Case.objects.values_list("state", flat=True))
    assert {"closed", "reported"} <= states and len(states) >= 5
    assert not Case.objects.exclude(pk__in=CaseEvent.objects.values("case_id")).exists()
    assert Case.objects.filter(state="closed", closed_at__isnull=True).count() == 0
    demo.load(log=lambda m: None, target=300)
    assert Case.objects.count() == 300
