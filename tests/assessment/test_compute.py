"""Indicator formulas on constructed data, minimum samples, thresholds, reproducibility and freezing."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.assessment import services
from gridgov.assessment.models import EntryState, ProcessEntry, RegionScore
from gridgov.cases import sla
from gridgov.cases.models import Case, State
from gridgov.common import clock
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from tests.assessment.factories import AS_OF, OCT, at, make_case, scheme

pytestmark = pytest.mark.django_db


def approve(s, village, value: float, district_operator) -> ProcessEntry:
    ind = s.indicators.get(code="P1")
    return ProcessEntry.objects.create(
        indicator=ind, region=village, region_path=village.path, month=OCT, self_value=value, evidence="巡逻记录齐全",
        state=EntryState.APPROVED, reviewed_value=value, submitted_by=district_operator, submitted_at=AS_OF,
        reviewed_by=district_operator, reviewed_at=AS_OF - dt.timedelta(days=1),
    )  # fmt: skip


@pytest.fixture
def month(personas):
    """Village 1 (town 1): 4 on time, 1 late, 1 open overdue, 1 open within its limit, 1 rejected,
    2 public-order cases; P1 approved at 80. Village 2 (town 1): 3 on time, P1 at 50. Village 3
    (town 2): a single on-time case and nothing else."""
    t = personas.tree
    m1, m2, m3 = t.microgrids[0], t.microgrids[4], t.microgrids[8]
    for day in (2, 3, 5, 6):
        make_case(m1, reported=at(day))
    make_case(m1, reported=at(7), handled_at=at(7) + dt.timedelta(days=9), closed_at=at(7) + dt.timedelta(days=9))
    make_case(m1, reported=at(20), state=State.HANDLING, handle_deadline=at(25))
    make_case(m1, reported=at(30), state=State.HANDLING, handle_deadline=AS_OF + dt.timedelta(days=3))
    make_case(m1, reported=at(8), state=State.REJECTED, handle_deadline=None)
    make_case(m1, reported=at(9), code="0401", state=State.REPORTED, handle_deadline=None)
    make_case(m1, reported=at(10), code="0402", state=State.REPORTED, handle_deadline=None)
    make_case(m1, reported=dt.datetime(2026, 9, 30, 23, tzinfo=AS_OF.tzinfo))  # September: outside the window
    for day in (4, 11, 12):
        make_case(m2, reported=at(day))
    make_case(m3, reported=at(15))
    s = scheme(t.district)
    approve(s, t.communities[0], 80, personas.district_operator)
    approve(s, t.communities[1], 50, personas.district_operator)
    return s


def lines(assessment, region) -> dict[str, object]:
    score = RegionScore.objects.get(assessment=assessment, region=region)
    return {ln.indicator_code: ln for ln in score.indicator_scores.all()}


def test_on_time_completion_rate_uses_the_sla_formula_and_keeps_exactly_the_counted_rows(personas, month):
    t = personas.tree
    result = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF)
    a1 = lines(result.assessment, t.communities[0])["A1"]
    assert (a1.numerator, a1.denominator) == (4, 6)
    assert a1.value == pytest.approx(66.67)
    assert a1.score == pytest.approx(50 * (66.67 - 50) / 50, abs=0.01)
    # The same numbers as the KPI screen's formula over the same cases.
    qs = Case.objects.filter(
        region_path__startswith=t.communities[0].path, reported_at__gte=at(1, 0), reported_at__lt=AS_OF
    )
    rates = sla.case_rates(qs=qs, now=AS_OF)
    assert (rates.closed_on_time, rates.handle_due) == (4, 6)
    counted = set(a1.records["ids"])
    assert counted == set(qs.filter(sla._aggregates(AS_OF)["handle_due"].filter).values_list("id", flat=True))
    assert set(a1.records["numerator_ids"]) == set(
        qs.filter(sla._aggregates(AS_OF)["closed_on_time"].filter).values_list("id", flat=True)
    )
    assert not Case.objects.filter(pk__in=counted, state=State.REJECTED).exists()


def test_count_indicator_scores_lower_is_better_linearly(personas, month):
    result = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF)
    a2 = lines(result.assessment, personas.tree.communities[0])["A2"]
    assert a2.value == 2 and a2.score == pytest.approx(15.0)  # 30 × (2 − 4) / (0 − 4)
    assert services.score_value(0, weight=30, full_at=0, zero_at=4) == 30
    assert services.score_value(9, weight=30, full_at=0, zero_at=4) == 0


def test_village_total_is_the_share_of_attainable_marks(personas, month):
    result = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF)
    score = RegionScore.objects.get(assessment=result.assessment, region=personas.tree.communities[0])
    assert score.total == pytest.approx(round(16.67 + 15 + 16, 2), abs=0.02)
    assert score.ranked and score.rank == 2


def test_town_figures_are_the_sums_of_their_villages(personas, month):
    result = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF)
    town = lines(result.assessment, personas.tree.towns[0])
    assert (town["A1"].numerator, town["A1"].denominator) == (7, 9)
    assert town["P1"].value == pytest.approx(65.0)  # mean of 80 and 50


def test_one_case_does_not_top_the_ranking(personas, month):
    t = personas.tree
    result = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF)
    lone = RegionScore.objects.get(assessment=result.assessment, region=t.communities[2])
    a1 = lines(result.assessment, t.communities[2])["A1"]
    assert a1.neutral and a1.value == 100.0 and "不足" in a1.note
    # Neutral: the average A1 score of the villages that could be scored on it (16.67 and 50).
    peers = [lines(result.assessment, v)["A1"].score for v in (t.communities[0], t.communities[1])]
    assert a1.score == pytest.approx(sum(peers) / 2, abs=0.01)
    assert lone.total == pytest.approx(a1.score + 30, abs=0.01)
    assert not lone.ranked and lone.rank is None and lone.list_colour == ""
    top = RegionScore.objects.get(assessment=result.assessment, level="community", rank=1)
    assert top.region == t.communities[1]


def test_lists_follow_the_configured_thresholds(personas, month):
    t = personas.tree
    month.red_min_score, month.red_top_n, month.yellow_below, month.black_below = 85, 1, 50, 20
    month.save()
    a = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment
    colours = dict(RegionScore.objects.filter(assessment=a, level="community").values_list("region", "list_colour"))
    assert colours[t.communities[1].pk] == "red"  # 90 ≥ 85 and first
    assert colours[t.communities[0].pk] == "yellow"  # 47.67 < 50
    month.black_below = 48
    month.save()
    a = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment
    assert RegionScore.objects.get(assessment=a, region=t.communities[0]).list_colour == "black"
    assert a.rules["black_below"] == 48


def test_recomputing_a_draft_is_reproducible(personas, month):
    first = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment.digest
    with clock.frozen(AS_OF + dt.timedelta(days=40)):
        again = services.assessment_compute(actor=None, scheme=month, month=OCT).assessment
    assert again.digest == first and again.as_of == AS_OF  # a past month is judged at its end
    Case.objects.filter(region_path__startswith=personas.tree.communities[1].path).update(
        handled_at=at(28), handle_deadline=at(20)
    )
    changed = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment.digest
    assert changed != first


def test_published_results_are_frozen(personas, month):
    t = personas.tree
    a = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment
    services.assessment_publish(actor=personas.district_operator, assessment=a)
    before = list(RegionScore.objects.filter(assessment=a).order_by("id").values_list("total", "rank", "list_colour"))
    Case.objects.filter(region_path__startswith=t.communities[0].path).update(state=State.REJECTED)
    month.indicators.filter(code="A1").update(weight=10)
    with pytest.raises(Conflict):
        services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF)
    with pytest.raises(Conflict):
        services.process_entry_submit(
            actor=personas.town_operator, indicator=month.indicators.get(code="P1"), village=t.communities[0],
            month=OCT, value=100, evidence="补充材料一份",
        )  # fmt: skip
    after = list(RegionScore.objects.filter(assessment=a).order_by("id").values_list("total", "rank", "list_colour"))
    assert after == before
    assert lines(a, t.communities[0])["A1"].weight == 50


def test_publishing_waits_for_pending_reviews(personas, month):
    t = personas.tree
    ProcessEntry.objects.filter(region=t.communities[1]).update(state=EntryState.SUBMITTED)
    a = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment
    with pytest.raises(Conflict) as exc:
        services.assessment_publish(actor=personas.district_operator, assessment=a)
    assert exc.value.rule == "assessment.pending_review"


def test_only_the_district_centre_computes_and_publishes(personas, month):
    for who in (personas.town_operator, personas.leader, personas.grid_worker):
        with pytest.raises(PermissionRefused):
            services.assessment_compute(actor=who, scheme=month, month=OCT, as_of=AS_OF)
    with pytest.raises(ValidationFailed):
        services.assessment_compute(actor=personas.district_operator, scheme=month, month=dt.date(2026, 10, 5))


def test_grid_worker_scores_count_reports_and_grid_quality(personas, month):
    t = personas.tree
    Case.objects.filter(region_path__startswith=t.grids[0].path).update(reporter=personas.grid_worker)
    a = services.assessment_compute(actor=None, scheme=month, month=OCT, as_of=AS_OF).assessment
    w = a.worker_scores.get(user=personas.grid_worker)
    assert w.reports == 9  # October only; rejected reports do not count
    assert w.on_time_rate == pytest.approx(66.67)
    assert w.ranked and w.rank is not None
    assert set(w.records["reports"]) <= set(Case.objects.values_list("id", flat=True))
