"""A report outside any transaction on PostgreSQL is one statement (fastsave.one_statement): the
case, its timeline row, its live row and the day rows in one round trip, the number drawn inside
it — and the same rows as the ordinary path writes. Whatever needs an answer from the database
midway (photos, a webhook subscription, the day's first number) goes the ordinary way, with
nothing half-written. Real transactions, so PostgreSQL only."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridgov.accounts.models import Role
from gridgov.cases import fastsave, numbering, services
from gridgov.cases.models import Case, CaseEvent
from gridgov.common import clock
from gridgov.dashboard import rollups
from gridgov.dashboard.models import LiveCase, RegionDayStat
from gridgov.integrations.models import OutboxMessage, WebhookSubscription
from tests.cases.factories import IN_GRID_1, MONDAY_10, photo, report
from tests.factories import build_personas

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SKIPPED = ("id", "number", "tracking_code", "description", "created_at", "updated_at", "reported_at")


@pytest.fixture
def p(tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("one statement is the PostgreSQL path (SQLite has one writer at a time anyway)")
    settings.MEDIA_ROOT = tmp_path / "media"
    numbering.forget_started()
    with clock.frozen(MONDAY_10):
        yield build_personas()


def post(client: Client, description: str, **extra: object) -> dict:
    data = {"category": "0502", "description": description, "lat": IN_GRID_1[0], "lng": IN_GRID_1[1], **extra}
    response = client.post("/api/v1/cases", data)
    assert response.status_code == 201, response.content
    return response.json()


def statements(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] or "" for q in ctx.captured_queries]


def test_a_report_is_one_statement_with_the_rows_the_ordinary_path_writes(p):
    client = Client()
    client.force_login(p.grid_worker)
    first = post(client, "第一件：当天第一个号走普通路径")  # the day's base row, seen by this process
    with CaptureQueriesContext(connection) as ctx:
        second = post(client, "第二件：一条语句写完")
    sent = statements(ctx)
    writes = [s for s in sent if not s.startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith('WITH m0 AS (INSERT INTO "cases_case"')
    assert not any(s in ("BEGIN", "COMMIT") for s in sent)
    assert int(second["number"].rsplit("-", 1)[1]) == int(first["number"].rsplit("-", 1)[1]) + 1

    one = Case.objects.get(number=second["number"])
    ordinary = Case.objects.get(number=first["number"])
    assert one.pk == second["id"] and one.tracking_code == second["tracking_code"]
    for field in Case._meta.concrete_fields:
        if field.attname not in SKIPPED:
            assert getattr(one, field.attname) == getattr(ordinary, field.attname), field.attname
    (event,) = CaseEvent.objects.filter(case=one)
    (model,) = CaseEvent.objects.filter(case=ordinary)
    assert (event.action, event.to_state, event.actor_id, event.detail, event.public_note) == (
        model.action,
        model.to_state,
        model.actor_id,
        model.detail,
        model.public_note,
    )
    live = LiveCase.objects.get(case_id=one.pk)
    assert live.number == one.number and live.state == "reported"
    # The rows the actions wrote are the rows a rebuild derives from the cases.
    kept = sorted(RegionDayStat.objects.values_list("region_path", "day", "shard", "reported"))
    live_rows = list(LiveCase.objects.order_by("case_id").values())
    rollups.rebuild(root=p.tree.district)
    assert sorted(RegionDayStat.objects.values_list("region_path", "day", "shard", "reported")) == kept
    assert list(LiveCase.objects.order_by("case_id").values()) == live_rows
    district = RegionDayStat.objects.filter(region_path=p.tree.district.path)
    assert sum(r.reported for r in district) == 2


def test_photos_and_a_webhook_subscription_take_the_ordinary_path_in_full(p):
    report(p, description="当天第一件，取得当日基数")
    WebhookSubscription.objects.create(
        name="区大数据局",
        url="https://example.invalid/hook",
        secret_sealed="x",
        jurisdiction=p.tree.district,
        created_at=MONDAY_10,
    )
    client = Client()
    client.force_login(p.grid_worker)
    with CaptureQueriesContext(connection) as ctx:
        made = post(client, "订阅了推送的上报")
    assert not any(s.startswith("WITH m0") for s in statements(ctx))
    case = Case.objects.get(number=made["number"])
    assert OutboxMessage.objects.filter(case=case, event_name="case.report").count() == 1
    assert LiveCase.objects.filter(case_id=case.pk).exists()

    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/api/v1/cases",
            {
                "category": "0502",
                "description": "带照片的上报",
                "lat": IN_GRID_1[0],
                "lng": IN_GRID_1[1],
                "photos": photo(),
            },
        )
    assert response.status_code == 201
    assert not any(s.startswith("WITH m0") for s in statements(ctx))
    assert Case.objects.get(number=response.json()["number"]).photos.count() == 1


def test_a_block_that_needs_an_answer_sends_nothing(p):
    report(p, description="一件在办案件，有它的在办行")
    before = (Case.objects.count(), CaseEvent.objects.count(), LiveCase.objects.count())
    with pytest.raises(fastsave.BatchUnsupported), fastsave.one_statement():
        fastsave.execute("DELETE FROM dashboard_livecase", [])
        assert Case.objects.count() == before[0]  # reads go out as they come
        LiveCase.objects.filter(case_id=0).delete()  # a write cannot wait for the end
    with pytest.raises(fastsave.BatchUnsupported), fastsave.one_statement():
        fastsave.fetchone("SELECT 1")
    assert LiveCase.objects.count() == before[2] == 1 and Case.objects.count() == before[0]
    with pytest.raises(fastsave.BatchUnsupported), transaction.atomic(), fastsave.one_statement():
        pass  # inside a transaction it would not be one


def test_the_days_first_number_and_a_taken_tracking_code_fall_back_or_retry(p, monkeypatch):
    numbering.forget_started()
    calls = []
    real = services._case_report_in_one_statement

    def spy(args):
        calls.append("one")
        return real(args)

    monkeypatch.setattr(services, "_case_report_in_one_statement", spy)
    first = report(p, description="当天第一件")  # refused inside (no base row seen): the ordinary path
    assert calls == ["one"] and first.number.startswith("330109-20261123-")
    codes = iter([first.tracking_code, "ZZZZZZZZZZ"])
    monkeypatch.setattr(services, "new_tracking_code", lambda: next(codes))
    second = report(p, description="查询码撞上了，重抽")
    assert second.tracking_code == "ZZZZZZZZZZ" and calls == ["one", "one", "one"]
    assert Case.objects.filter(tracking_code=first.tracking_code).count() == 1
    assert CaseEvent.objects.filter(case=second).count() == 1


def test_refusals_still_come_before_anything_is_sent(p):
    client = Client()
    client.force_login(p.leader)
    assert p.leader.role == Role.LEADER
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/v1/cases", {"category": "0502", "description": "领导不能上报", "lat": 30.05})
    assert response.status_code in (400, 403, 422)
    assert not any(s.startswith("WITH m0") for s in statements(ctx))
    assert Case.objects.count() == 0


def test_the_setting_turns_it_off(p, settings):
    report(p, description="当天第一件，取得当日基数")
    settings.GRIDGOV = {**settings.GRIDGOV, "CASE_INTAKE_ONE_STATEMENT": False}
    with CaptureQueriesContext(connection) as ctx:
        made = report(p, description="关掉之后走普通路径")
    sent = statements(ctx)
    assert "BEGIN" in sent and not any(s.startswith("WITH m0") for s in sent)
    assert LiveCase.objects.filter(case_id=made.pk).exists()
