"""Dates at the ends of the calendar are field errors, not 500s (a day's bounds overflow there)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "end", "field"), [("2026-01-01", "9999-12-31", "end"), ("0001-01-01", "2026-01-31", "start")]
)
def test_worker_counts_refuse_dates_at_the_ends_of_the_calendar(personas, client_for, start, end, field):
    response = client_for(personas.grid_leader).get("/api/v1/fieldwork/counts", {"start": start, "end": end})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_mediation_rates_refuse_a_year_9999_end(personas, client_for):
    response = client_for(personas.mediator).get("/api/v1/mediation/rates", {"end": "9999-12-31"})
    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_audit_search_marks_a_year_9999_date_as_a_field_error(personas, client_for):
    response = client_for(personas.admin).get("/audit/", {"date_to": "9999-12-31"})
    assert response.status_code == 400
    assert "日期应在 1900-01-01 至 2999-12-31 之间" in response.content.decode()


def test_hazard_list_refuses_a_campaign_id_beyond_any_database_id(personas, client_for):
    response = client_for(personas.grid_leader).get("/api/v1/fieldwork/hazards", {"campaign": 2**70})
    assert response.status_code == 422
    assert "campaign" in response.json()["errors"]
