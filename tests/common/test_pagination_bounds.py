"""Regression (issue 9, found by schemathesis on PostgreSQL): ?page=2**70 on any paginated API list
was a 500 ("bigint out of range" for the OFFSET). A page past the end is an empty page."""

from __future__ import annotations

import pytest

from gridgov.common.pagination import MAX_PAGE, paginate
from gridgov.regions.models import Region

HUGE = str(2**70)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/cases", "/api/v1/registers/people", "/api/v1/registers/visits/due", "/api/v1/mediation/disputes"],
)
def test_a_huge_page_number_is_an_empty_page_not_a_500(personas, client_for, url):
    response = client_for(personas.district_operator).get(url, {"page": HUGE})
    assert response.status_code == 200, response.content[:300]


def test_paginate_clamps_the_page(tree):
    page = paginate(Region.objects.order_by("pk"), page=2**70, page_size=10)
    assert page.page == MAX_PAGE and page.items == []
