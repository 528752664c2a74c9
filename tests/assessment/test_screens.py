"""Who sees which scores, the drill-down, process self-assessment and review, and the reports."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from gridgov.assessment import services
from gridgov.assessment.models import EntryState, ProcessEntry
from gridgov.common import clock
from gridgov.common.errors import PermissionRefused, ValidationFailed
from tests.assessment.factories import AS_OF, OCT, at, make_case, scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(personas):
    t = personas.tree
    for i, micro in enumerate((t.microgrids[0], t.microgrids[4], t.microgrids[8], t.microgrids[12])):
        for day in range(1, 5 + i):
            make_case(micro, reported=at(day))
    s = scheme(t.district, min_scored_share=0.5)
    a = services.assessment_compute(actor=None, scheme=s, month=OCT, as_of=AS_OF).assessment
    return services.assessment_publish(actor=None, assessment=a)


def test_town_sees_only_its_own_villages(personas, published, client_for):
    t = personas.tree
    c = client_for(personas.town_operator)
    page = c.get(f"/assessment/{published.pk}/?level=community").content.decode()
    assert t.communities[0].name in page and t.communities[1].name in page
    assert t.communities[2].name not in page and t.communities[3].name not in page
    assert c.get(f"/assessment/{published.pk}/region/{t.communities[0].code}/").status_code == 200
    assert c.get(f"/assessment/{published.pk}/region/{t.communities[2].code}/").status_code == 404
    assert c.get(f"/assessment/{published.pk}/region/{t.communities[2].code}/A1/").status_code == 404


def test_village_sees_itself_and_its_district_rank(personas, published, client_for):
    t = personas.tree
    c = client_for(personas.village_operator)
    page = c.get(f"/assessment/{published.pk}/?level=community").content.decode()
    assert t.communities[0].name in page and t.communities[1].name not in page
    assert c.get(f"/assessment/{published.pk}/region/{t.towns[0].code}/").status_code == 404


def test_outsider_sees_no_assessment(personas, published, client_for):
    c = client_for(personas.outsider)
    assert c.get(f"/assessment/{published.pk}/").status_code == 404


def test_drill_down_lists_exactly_the_counted_cases(personas, published, client_for):
    t = personas.tree
    c = client_for(personas.leader)
    score = published.region_scores.get(region=t.communities[0]).indicator_scores.get(indicator_code="A1")
    page = c.get(f"/assessment/{published.pk}/region/{t.communities[0].code}/A1/").content.decode()
    numbers = list(
        __import__("gridgov.cases.models", fromlist=["Case"]).Case.objects.filter(pk__in=score.records["ids"])
        .values_list("number", flat=True)
    )  # fmt: skip
    assert len(numbers) == score.denominator == 4
    assert all(n in page for n in numbers)
    other = published.region_scores.get(region=t.communities[1]).indicator_scores.get(indicator_code="A1")
    assert not set(other.records["ids"]) & set(score.records["ids"])


def test_drafts_are_for_the_district_centre_only(personas, client_for):
    t = personas.tree
    make_case(t.microgrids[0], reported=at(3))
    s = scheme(t.district)
    draft = services.assessment_compute(actor=None, scheme=s, month=OCT, as_of=AS_OF).assessment
    assert client_for(personas.leader).get(f"/assessment/{draft.pk}/").status_code == 403
    assert client_for(personas.district_operator).get(f"/assessment/{draft.pk}/").status_code == 200


def test_compute_screen_refuses_a_bad_month_with_a_field_message(personas, client_for):
    scheme(personas.tree.district)
    c = client_for(personas.district_operator)
    r = c.post("/assessment/compute/", {"month": "2026-13"})
    assert r.status_code == 400
    r = c.post("/assessment/compute/", {"month": "2026-10"})
    assert r.status_code == 302
    assert client_for(personas.town_operator).post("/assessment/compute/", {"month": "2026-10"}).status_code == 403


def test_town_self_assesses_its_village_and_the_district_reviews(personas, client_for, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    t = personas.tree
    s = scheme(t.district)
    p1 = s.indicators.get(code="P1")
    with clock.frozen(AS_OF):
        c = client_for(personas.town_operator)
        bad = c.post(
            "/assessment/process/?month=2026-10",
            {"region": t.communities[0].code, "indicator": p1.pk, "value": "150", "evidence": "短"},
        )
        assert bad.status_code == 400
        body = bad.content.decode()
        assert "完成度应为 0–100" in body and "至少 5 个字" in body
        from django.core.files.uploadedfile import SimpleUploadedFile

        ok = c.post(
            "/assessment/process/?month=2026-10",
            {"region": t.communities[0].code, "indicator": p1.pk, "value": "90", "evidence": "巡逻 20 次，记录齐全",
             "attachments": [SimpleUploadedFile("巡逻台账.pdf", b"%PDF-1.4 test", content_type="application/pdf")]},
        )  # fmt: skip
        assert ok.status_code == 302
        entry = ProcessEntry.objects.get(region=t.communities[0], indicator=p1)
        assert entry.state == EntryState.SUBMITTED and entry.attachments.count() == 1
        with pytest.raises(PermissionRefused):
            services.process_entry_submit(
                actor=personas.village_operator, indicator=p1, village=t.communities[0], month=OCT, value=100,
                evidence="自己给自己打分",
            )  # fmt: skip
        with pytest.raises(PermissionRefused):
            services.process_entry_submit(
                actor=personas.town_operator, indicator=p1, village=t.communities[2], month=OCT, value=100,
                evidence="别的镇的村",
            )  # fmt: skip
        with pytest.raises(PermissionRefused):
            services.process_entry_review(actor=personas.town_operator, entry=entry, approve=True)
        with pytest.raises(ValidationFailed):
            services.process_entry_review(actor=personas.district_operator, entry=entry, approve=False, note="")
        r = client_for(personas.district_operator).post(
            f"/assessment/process/{entry.pk}/review/", {"decision": "approve", "value": "85", "note": "台账缺两次"}
        )
        assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED and entry.reviewed_value == 85
    a = services.assessment_compute(actor=None, scheme=s, month=OCT, as_of=AS_OF).assessment
    line = a.region_scores.get(region=t.communities[0]).indicator_scores.get(indicator_code="P1")
    assert line.value == 85 and line.score == pytest.approx(17.0)


def test_reports_as_xlsx_and_pdf(personas, published, client_for):
    c = client_for(personas.town_operator)
    r = c.get(f"/assessment/{published.pk}/report/?format=xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["概况", "指标明细", "排名"]
    names = [row[1].value for row in wb["排名"].iter_rows(min_row=2)]
    assert personas.tree.communities[0].name in names and personas.tree.communities[2].name not in names
    pdf = c.get(f"/assessment/{published.pk}/report/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert c.get(f"/assessment/{published.pk}/report/?format=doc").status_code == 400
    assert (
        c.get(f"/assessment/{published.pk}/report/?format=pdf&region={personas.tree.towns[1].code}").status_code == 404
    )
