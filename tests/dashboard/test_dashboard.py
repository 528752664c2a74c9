"""Rollups kept current by the case services, equal to a rebuild and to the raw-case figures; the
command centre for district, town and village, each seeing only its own."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.cases import routing, services
from gridgov.cases.models import Case, State
from gridgov.common import clock
from gridgov.dashboard import rollups, selectors
from gridgov.dashboard.models import LiveCase, RegionDayStat
from tests.cases.factories import IN_GRID_1, IN_GRID_2, IN_TOWN_2, MONDAY_10, drive, report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    routing.reset_classifier()
    with clock.frozen(MONDAY_10):
        yield


@pytest.fixture
def cases(personas):
    p = personas
    a = report(p)
    b = report(p, at=IN_GRID_2, description="路灯不亮已经三天了")
    c = report(p, at=IN_TOWN_2, actor=p.other_town_operator, source="hotline_12345", description="噪声扰民严重")
    drive(p, a, State.CLOSED)
    services.case_rate(actor=p.grid_worker, case=Case.objects.get(pk=a.pk), score=5)
    drive(p, b, State.HANDLING)
    return a, b, c


def snapshot() -> list[tuple]:
    return sorted(
        RegionDayStat.objects.values_list(
            "region_path", "depth", "day", "shard", "reported", "closed", "closed_on_time", "rated", "satisfied"
        )
    )


def test_every_case_action_updates_the_rollups_like_a_rebuild(personas, cases):
    district = personas.tree.district
    live_ids = set(LiveCase.objects.values_list("case_id", flat=True))
    assert live_ids == set(
        Case.objects.exclude(state__in=["closed", "rejected", "merged"]).values_list("id", flat=True)
    )
    kept = snapshot()
    district_today = [row[4:] for row in kept if row[:3] == ("/330109/", 0, MONDAY_10.date())]
    assert [sum(col) for col in zip(*district_today, strict=True)] == [3, 1, 1, 1, 1]
    live_rows = list(LiveCase.objects.order_by("case_id").values())
    rollups.rebuild(root=district)
    assert snapshot() == kept
    # Every column of the live rows the actions wrote, as the rebuild writes them from the cases.
    assert list(LiveCase.objects.order_by("case_id").values()) == live_rows
    assert {row["case_id"] for row in live_rows} == live_ids


def test_rollup_figures_equal_raw_case_figures(personas, cases):
    t = personas.tree
    for region in (t.district, t.towns[0], t.towns[1], t.communities[0], t.grids[0]):
        for now in (MONDAY_10, MONDAY_10 + dt.timedelta(days=6)):
            assert selectors.figures(region=region, now=now) == selectors.figures_from_cases(region=region, now=now)


def test_a_case_reopened_by_a_dissatisfied_rating_counts_once_on_its_last_close(personas, cases):
    p, district = personas, personas.tree.district
    before = selectors.figures(region=district, now=MONDAY_10)
    c = drive(p, report(p, description="垃圾桶满溢无人清理"), State.CLOSED)  # closed on Monday
    tuesday, thursday = MONDAY_10 + dt.timedelta(days=1), MONDAY_10 + dt.timedelta(days=3)
    with clock.frozen(tuesday):
        c = services.case_rate(actor=p.grid_worker, case=Case.objects.get(pk=c.pk), score=1)
    assert c.state == State.HANDLING
    monday = RegionDayStat.objects.filter(region_path="/330109/", day=MONDAY_10.date())
    assert sum(r.closed for r in monday) == 1  # the fixture's first case only; this one's close is taken back
    with clock.frozen(thursday):
        c = services.case_handle(actor=p.handler, case=Case.objects.get(pk=c.pk), result="二次清运完毕")
        op = p.village_operator
        c = services.case_close(actor=op, case=services.case_verify(actor=op, case=c))
        c = services.case_rate(actor=p.grid_worker, case=Case.objects.get(pk=c.pk), score=5)
    after = selectors.figures(region=district, now=thursday)
    assert after.month_closed == before.month_closed + 1
    assert after.month_rated == before.month_rated + 1 and after.month_satisfied == before.month_satisfied + 1
    assert after.today_closed == 1
    assert after == selectors.figures_from_cases(region=district, now=thursday)
    kept = snapshot()
    rollups.rebuild(root=district)
    assert snapshot() == kept


def test_a_second_dissatisfied_rating_takes_the_close_back_and_keeps_the_rating(personas, cases):
    p, district = personas, personas.tree.district
    c = drive(p, report(p, description="垃圾桶满溢无人清理"), State.CLOSED)
    c = services.case_rate(actor=p.grid_worker, case=c, score=1)  # reopened, same day
    c = services.case_handle(actor=p.handler, case=c, result="二次清运完毕")
    c = services.case_close(actor=p.village_operator, case=services.case_verify(actor=p.village_operator, case=c))
    c = services.case_rate(actor=p.grid_worker, case=Case.objects.get(pk=c.pk), score=2)
    assert c.state == State.SUPERVISING
    figures = selectors.figures(region=district, now=MONDAY_10)
    assert figures == selectors.figures_from_cases(region=district, now=MONDAY_10)
    assert figures.month_closed == 1 and figures.month_rated == 2  # the fixture's case, and this one's 2
    kept = snapshot()
    rollups.rebuild(root=district)
    assert snapshot() == kept


def test_overdue_cases_turn_the_area_red_without_any_event(personas, cases):
    t = personas.tree
    later = MONDAY_10 + dt.timedelta(days=30)
    assert selectors.figures(region=t.district, now=MONDAY_10).red == 0
    late = selectors.figures(region=t.district, now=later)
    assert late.red == 2 and late.level == "red"
    kids = {c.region.code: c for c in selectors.children(region=t.district, now=later)}
    assert kids[t.towns[0].code].red == 1 and kids[t.towns[1].code].red == 1


def test_district_town_and_village_each_see_their_own(personas, cases, client_for):
    p, t = personas, personas.tree
    district = client_for(p.leader).get("/dashboard/")
    assert district.status_code == 200
    body = district.content.decode()
    assert t.towns[0].name in body and t.towns[1].name in body
    town = client_for(p.town_operator).get("/dashboard/").content.decode()
    assert t.communities[0].name in town and t.towns[1].name not in town
    village = client_for(p.village_operator).get("/dashboard/")
    assert village.status_code == 200 and t.grids[0].name in village.content.decode()
    # Drill-down stays inside the jurisdiction.
    assert client_for(p.leader).get(f"/dashboard/?region={t.communities[0].code}").status_code == 200
    assert client_for(p.town_operator).get(f"/dashboard/?region={t.towns[1].code}").status_code == 404
    assert client_for(p.village_operator).get(f"/dashboard/?region={t.district.code}").status_code == 404
    assert client_for(p.town_operator).get("/dashboard/?region=nope").status_code == 404
    assert client_for(p.outsider).get("/dashboard/").status_code == 403
    assert client_for(p.handler).get("/dashboard/").status_code == 403


def test_api_and_live_partial_are_scoped(personas, cases, client_for):
    p, t = personas, personas.tree
    data = client_for(p.town_operator).get("/api/v1/dashboard/summary").json()
    assert data["region"]["code"] == t.towns[0].code
    assert data["figures"]["month_reported"] == 2
    assert {c["code"] for c in data["children"]} == {t.communities[0].code, t.communities[1].code}
    markers = client_for(p.town_operator).get("/api/v1/dashboard/markers").json()["markers"]
    assert len(markers) == 1 and markers[0]["lat"] == pytest.approx(IN_GRID_2[0])
    assert client_for(p.town_operator).get(f"/api/v1/dashboard/summary?region={t.towns[1].code}").status_code == 404
    assert client_for(p.outsider).get("/api/v1/dashboard/summary").status_code == 403
    live = client_for(p.village_operator).get("/dashboard/live/")
    assert live.status_code == 200 and 'hx-trigger="every 15s"' in live.content.decode()
    assert IN_GRID_1  # the first case lies in the village operator's village


def test_big_screen_and_queries_stay_flat(personas, cases, client_for, django_assert_max_num_queries):
    c = client_for(personas.leader)
    assert c.get("/dashboard/?mode=screen").status_code == 200
    with django_assert_max_num_queries(30):
        assert c.get("/dashboard/").status_code == 200
    with django_assert_max_num_queries(12):
        assert c.get("/api/v1/dashboard/summary").status_code == 200
