"""Intake's fast path behaves like the slow one: the compact 201 answer (and the full record on
request), configuration caches that follow every edit at once, case numbers drawn last, and a
tracking-code collision retried."""

from __future__ import annotations

import pytest
from django.test import Client

from gridgov.accounts.models import Role, User
from gridgov.accounts.tokens import api_token_create
from gridgov.cases import numbering, services
from gridgov.cases.models import Case, CaseCategory, CaseEvent, State
from gridgov.dashboard.models import LiveCase
from gridgov.regions.models import Region
from tests.cases.factories import IN_COMMUNITY_2, IN_GRID_1, report

pytestmark = pytest.mark.django_db

BODY = {"category": "0502", "description": "小区门口垃圾堆放多日", "lat": IN_GRID_1[0], "lng": IN_GRID_1[1]}


def token_client(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(actor=user, name="feed").raw)


def test_report_answers_201_with_number_tracking_code_state_deadline_and_place(personas):
    r = token_client(personas.grid_worker).post("/api/v1/cases", BODY)
    assert r.status_code == 201, r.content
    body = r.json()
    case = Case.objects.get(number=body["number"])
    assert body == {
        "id": case.pk,
        "number": case.number,
        "tracking_code": case.tracking_code,
        "state": "reported",
        "state_label": "待受理",
        "reported_at": case.reported_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deadline": case.deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region_code": case.region.code,
        "region_name": case.region.name,
        "center_code": personas.tree.communities[0].code,
        "lat": IN_GRID_1[0],
        "lng": IN_GRID_1[1],
        "address": "",
    }
    assert "Preference-Applied" not in r.headers
    # The body is rendered without pydantic: it must still be exactly the documented schema.
    from gridgov.cases.api import CaseCreatedOut

    assert CaseCreatedOut.model_validate(body).model_dump(mode="json") == body


def test_prefer_return_representation_answers_the_full_record_like_get(personas):
    client = token_client(personas.grid_worker)
    r = client.post("/api/v1/cases", BODY, HTTP_PREFER="return=representation")
    assert r.status_code == 201 and r.headers["Preference-Applied"] == "return=representation"
    full = client.get(f"/api/v1/cases/{r.json()['number']}").json()
    assert r.json() == full
    assert [e["action"] for e in full["timeline"]] == ["report"] and full["allowed_actions"]


def test_report_schema_is_documented(personas, client_for):
    spec = client_for(personas.admin).get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/cases"]["post"]
    ref = op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/CaseCreatedOut")
    assert "Prefer: return=representation" in op["description"]


def test_refusals_are_unchanged_on_the_fast_path(personas):
    client = token_client(personas.grid_worker)
    r = client.post("/api/v1/cases", {**BODY, "category": "05"})
    assert r.status_code == 400 and r.json()["errors"]["category"] == ["请选择具体的小类"]
    r = client.post("/api/v1/cases", {**BODY, "category": "9998"})
    assert r.status_code == 400 and "category" in r.json()["errors"]
    r = client.post("/api/v1/cases", {**BODY, "lat": 10.0, "lng": 10.0})
    assert r.status_code == 400 and r.json()["errors"]["location"] == ["该位置不在本平台辖区的任何网格内"]
    r = token_client(personas.leader).post("/api/v1/cases", BODY)
    assert r.status_code == 403 and r.json()["rule"] == "cases.report.role"
    assert not Case.objects.exists()


# --- the caches follow every edit -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["save", "queryset_update"])
def test_a_category_switched_off_is_refused_at_the_next_report(personas, how):
    client = token_client(personas.grid_worker)
    assert client.post("/api/v1/cases", BODY).status_code == 201  # the catalogue is now cached
    cat = CaseCategory.objects.get(code="0502")
    if how == "save":
        cat.is_active = False
        cat.save()
    else:
        CaseCategory.objects.filter(pk=cat.pk).update(is_active=False)  # no signal: the trigger sees it
    r = client.post("/api/v1/cases", BODY)
    assert r.status_code == 400 and r.json()["errors"]["category"] == ["事件类别不存在或已停用"]
    CaseCategory.objects.filter(pk=cat.pk).update(is_active=True)
    assert client.post("/api/v1/cases", BODY).status_code == 201


def test_a_new_sub_category_makes_its_parent_a_non_leaf_at_once(personas):
    client = token_client(personas.grid_worker)
    leaf = CaseCategory.objects.get(code="0502")
    assert client.post("/api/v1/cases", BODY).status_code == 201
    CaseCategory.objects.create(code="050201", name="更细的类别", parent=leaf)
    r = client.post("/api/v1/cases", BODY)
    assert r.status_code == 400 and r.json()["errors"]["category"] == ["请选择具体的小类"]


def test_centre_staffing_changes_route_the_next_report(personas):
    client = token_client(personas.grid_worker)
    village, town = personas.tree.communities[0], personas.tree.towns[0]
    assert client.post("/api/v1/cases", BODY).json()["center_code"] == village.code
    User.objects.filter(role=Role.CENTER_OPERATOR, jurisdiction=village).update(is_active=False)
    assert client.post("/api/v1/cases", BODY).json()["center_code"] == town.code
    operator = User.objects.get(pk=personas.village_operator.pk)
    operator.is_active = True
    operator.save()
    assert client.post("/api/v1/cases", BODY).json()["center_code"] == village.code


def test_a_renamed_grid_shows_its_new_name_at_once(personas):
    client = token_client(personas.grid_worker)
    code = client.post("/api/v1/cases", BODY).json()["region_code"]
    Region.objects.filter(code=code).update(name="改名后的微网格")
    assert client.post("/api/v1/cases", BODY).json()["region_name"] == "改名后的微网格"


def test_a_revoked_token_or_deactivated_owner_is_refused_at_the_next_request(personas):
    issued = api_token_create(actor=personas.grid_worker, name="feed")
    client = Client(HTTP_AUTHORIZATION="Bearer " + issued.raw)
    assert client.post("/api/v1/cases", BODY).status_code == 201
    User.objects.filter(pk=personas.grid_worker.pk).update(is_active=False)
    assert client.post("/api/v1/cases", BODY).status_code == 401
    User.objects.filter(pk=personas.grid_worker.pk).update(is_active=True)
    assert client.post("/api/v1/cases", BODY).status_code == 201
    services_token = type(issued.token).objects.get(pk=issued.token.pk)
    from gridgov.accounts.tokens import api_token_revoke

    api_token_revoke(actor=personas.grid_worker, token_id=services_token.pk)
    assert client.post("/api/v1/cases", BODY).status_code == 401


def test_a_new_webhook_subscription_gets_the_next_report(personas):
    from gridgov.integrations.models import OutboxMessage, WebhookSubscription

    client = token_client(personas.grid_worker)
    assert client.post("/api/v1/cases", BODY).status_code == 201
    WebhookSubscription.objects.create(
        name="all",
        url="https://example.invalid/hook",
        secret_sealed="x",
        jurisdiction=personas.tree.district,
        created_at=personas.grid_worker.date_joined,
    )
    number = client.post("/api/v1/cases", BODY).json()["number"]
    row = OutboxMessage.objects.get()
    assert row.event_name == "case.report" and row.payload["case"]["number"] == number


# --- numbers, rollups, timeline --------------------------------------------------------------------


def test_numbers_increase_per_district_and_day_and_continue_after_loaded_ones(personas):
    from gridgov.cases.models import CaseCounter

    day = services.sla_local_date(services.clock.now())
    # A loader (gridgov synth, the demo) wrote 40 numbers of today through the counter.
    CaseCounter.objects.update_or_create(key=numbering.day_key("330109", day), defaults={"value": 40})
    numbers = [report(personas).number for _ in range(3)]
    seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert all(n.startswith(f"330109-{day:%Y%m%d}-") for n in numbers)
    assert seqs == sorted(set(seqs)) and seqs[0] > 40


def test_every_report_leaves_its_timeline_row_live_row_and_day_counts(personas):
    from gridgov.dashboard.models import RegionDayStat

    cases = [
        report(personas),
        report(personas, at=IN_COMMUNITY_2, actor=personas.town_operator, source="hotline_12345", address="人民路1号"),
    ]
    assert CaseEvent.objects.filter(action="report").count() == 2
    assert set(LiveCase.objects.values_list("number", flat=True)) == {c.number for c in cases}
    district = RegionDayStat.objects.filter(region_path=personas.tree.district.path)
    assert sum(r.reported for r in district) == 2 and {r.depth for r in district} == {0}


def test_a_tracking_code_collision_is_drawn_again(personas, monkeypatch):
    first = report(personas)
    codes = iter([first.tracking_code, "ZZZZZZZZZZ"])
    monkeypatch.setattr(services, "new_tracking_code", lambda: next(codes))
    second = report(personas)
    assert second.tracking_code == "ZZZZZZZZZZ" and second.state == State.REPORTED
    assert Case.objects.count() == 2


def test_fast_insert_writes_the_same_row_and_signals_as_save(personas):
    from django.db.models.signals import post_save
    from django.forms.models import model_to_dict

    from gridgov.cases import fastsave

    template = report(personas)
    seen: list[tuple[bool, int]] = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((created, instance.pk))

    post_save.connect(receiver, sender=Case, dispatch_uid="test.fastsave")
    try:
        rows = []
        for n, write in enumerate([lambda c: c.save(force_insert=True), fastsave.insert]):
            case = Case.objects.get(pk=template.pk)
            case.pk = None
            case._state.adding = True
            case.number, case.tracking_code = f"X-{n}", f"TRACK{n}"
            write(case)
            assert case.pk and not case._state.adding
            rows.append(Case.objects.get(pk=case.pk))
    finally:
        post_save.disconnect(dispatch_uid="test.fastsave", sender=Case)
    assert [created for created, _ in seen] == [True, True] and [pk for _, pk in seen] == [r.pk for r in rows]
    skip = {"id", "number", "tracking_code", "created_at", "updated_at"}
    a, b = ({k: v for k, v in model_to_dict(r).items() if k not in skip} for r in rows)
    assert a == b
    assert all(r.created_at and r.updated_at for r in rows)


def test_routing_rules_and_sla_policies_are_cached_until_edited(personas):
    from gridgov.cases import routing, sla
    from gridgov.cases.models import RoutingRule, SlaPolicy
    from tests.cases.factories import category

    cat = category("0502")
    rule = RoutingRule.objects.create(category=cat, department=personas.department, auto_dispatch=True)
    path = report(personas).region_path
    assert routing.route_for(category=cat, region_path=path).rule_id == rule.pk
    RoutingRule.objects.filter(pk=rule.pk).update(is_active=False)
    assert routing.route_for(category=cat, region_path=path) is None
    case = services.case_accept(actor=personas.village_operator, case=report(personas))
    assert case.state == State.ACCEPTED  # no auto-dispatch by the switched-off rule
    before = sla.limits_for(cat.pk, cat.parent_id, "normal")
    SlaPolicy.objects.filter(category=cat.parent, urgency="normal").update(handle_limit=before.handle_value + 7)
    assert sla.limits_for(cat.pk, cat.parent_id, "normal").handle_value == before.handle_value + 7


def test_intake_statements_are_prepared_on_postgresql(personas):
    """The hot path binds on the server and PostgreSQL prepares its statements (fastsave.py);
    Django's own queries stay client-bound and unprepared."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL feature")
    for _ in range(3):
        report(personas)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name LIKE '_pg3_%%'")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(s.startswith('INSERT INTO "cases_case" ') for s in prepared)
    assert any(s.startswith('INSERT INTO "cases_caseevent" ') for s in prepared)
    assert any(s.startswith('INSERT INTO "dashboard_livecase" ') for s in prepared)
    assert not any("cases_casecategory" in s for s in prepared)
