"""paginate(count_limit=…): big lists stop counting at the limit and say so."""

from __future__ import annotations

import pytest

from gridgov.cases.models import CaseCounter
from gridgov.common.pagination import paginate

pytestmark = pytest.mark.django_db


def test_counting_stops_at_the_limit_and_says_so():
    CaseCounter.objects.bulk_create([CaseCounter(key=f"k{i:03d}") for i in range(25)])
    qs = CaseCounter.objects.order_by("key")
    exact = paginate(qs, page=1, page_size=5)
    assert (exact.total, exact.total_capped, exact.pages) == (25, False, 5)
    capped = paginate(qs, page=1, page_size=5, count_limit=10)
    assert capped.total_capped and capped.total == 10 and capped.has_next
    assert [c.key for c in capped.items] == ["k000", "k001", "k002", "k003", "k004"]
    # pages past the limit still load and still offer a next page
    far = paginate(qs, page=4, page_size=5, count_limit=10)
    assert far.items[0].key == "k015" and far.has_next
    under = paginate(qs, page=1, page_size=5, count_limit=100)
    assert (under.total, under.total_capped) == (25, False)


def test_a_count_in_list_order_gives_the_same_totals():
    CaseCounter.objects.bulk_create([CaseCounter(key=f"k{i:03d}") for i in range(25)])
    qs = CaseCounter.objects.order_by("-key")
    for limit in (10, 25, 100):
        plain = paginate(qs, page=2, page_size=5, count_limit=limit)
        in_order = paginate(qs, page=2, page_size=5, count_limit=limit, count_in_order=True)
        assert (in_order.total, in_order.total_capped) == (plain.total, plain.total_capped)
        assert (
            [c.key for c in in_order.items] == [c.key for c in plain.items] == [f"k{i:03d}" for i in range(19, 14, -1)]
        )
