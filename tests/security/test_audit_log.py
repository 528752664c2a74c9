from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.audit_selectors import audit_events
from gridgov.common.models import AuditEvent

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 3, day, hour, 0))


@pytest.fixture
def events(personas):
    t = personas.tree
    with clock.frozen(at(2)):
        audit_record(actor=personas.town_operator, action="cases.dispatched", target=t.grids[0])
    with clock.frozen(at(3)):
        audit_record(actor=personas.other_town_operator, action="cases.dispatched", target=t.grids[5])
    with clock.frozen(at(4)):
        audit_record(
            actor=personas.grid_worker, action="registers.revealed", target=t.microgrids[0], reason="入户走访核实"
        )
    with clock.frozen(at(5)):
        audit_record(actor=None, action="auth.login_failed", detail={"username": "ghost"})
    return personas


def test_a_town_admin_sees_their_town_only(events):
    town_admin = User.objects.create(username="tadmin", role=Role.ADMIN, jurisdiction=events.tree.towns[0])
    actions = list(audit_events(scope=Scope.for_user(town_admin)).values_list("action", "actor_label"))
    assert ("cases.dispatched", "tom") in actions and ("registers.revealed", "alice") in actions
    assert ("cases.dispatched", "tina") not in actions
    assert not any(a == "auth.login_failed" for a, _ in actions)


def test_district_viewers_also_see_events_tied_to_no_place(events):
    actions = set(audit_events(scope=Scope.for_user(events.leader)).values_list("action", flat=True))
    assert "auth.login_failed" in actions
    assert audit_events(scope=Scope.for_user(events.outsider)).count() == 0


def test_only_admins_and_leaders_open_the_screen(events, client_for):
    assert client_for(events.admin).get("/audit/").status_code == 200
    assert client_for(events.leader).get("/audit/").status_code == 200
    for persona in (events.grid_worker, events.town_operator, events.handler):
        assert client_for(persona).get("/audit/").status_code == 403
        assert client_for(persona).get("/audit/export.xlsx").status_code == 403
    assert client_for(events.admin).get("/audit/").status_code == 200


def test_filters_by_actor_action_target_and_dates(events, client_for):
    c = client_for(events.admin)

    def labels(**params):
        response = c.get("/audit/", params)
        assert response.status_code == 200
        return [e.action for e in response.context["page"].items]

    assert labels(actor="alice") == ["registers.revealed"]
    assert labels(action="cases.") == ["cases.dispatched", "cases.dispatched"]
    assert labels(target=events.tree.microgrids[0].name) == ["registers.revealed"]
    assert labels(target="ghost") == ["auth.login_failed"]
    assert labels(date_from="2026-03-03", date_to="2026-03-04") == ["registers.revealed", "cases.dispatched"]


def test_bad_filters_are_a_400_with_a_message(events, client_for):
    c = client_for(events.admin)
    response = c.get("/audit/", {"date_from": "2026-13-45"})
    assert response.status_code == 400
    response = c.get("/audit/", {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert response.status_code == 400 and "结束日期不能早于开始日期" in response.content.decode()
    assert c.get("/audit/", {"page": "abc"}).status_code == 200
    assert c.get("/audit/export.xlsx", {"date_to": "yesterday"}).status_code == 400


def test_the_list_is_paginated(personas, client_for):
    for i in range(120):
        audit_record(actor=personas.admin, action="test.bulk", detail={"i": i})
    c = client_for(personas.admin)
    page = c.get("/audit/", {"action": "test.bulk", "page": 3}).context["page"]
    assert page.total == 120 and page.pages == 3 and len(page.items) == 20


def test_export_writes_the_search_to_xlsx_and_is_itself_audited(events, client_for):
    c = client_for(events.leader)
    response = c.get("/audit/export.xlsx", {"action": "cases."})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("时间", "操作人", "操作")
    assert sorted(r[1] for r in rows[1:]) == ["tina", "tom"]
    export = AuditEvent.objects.get(action="audit.exported")
    assert export.actor == events.leader and export.detail == {"filters": {"action": "cases."}, "rows": 2}


def test_export_refuses_oversized_searches(events, client_for, monkeypatch):
    monkeypatch.setattr("gridgov.common.audit_views.EXPORT_MAX_ROWS", 2)
    response = client_for(events.admin).get("/audit/export.xlsx")
    assert response.status_code == 400 and "超过单次导出上限" in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_rows_cannot_be_edited_or_deleted_through_the_model(events):
    event = AuditEvent.objects.first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_configuration_changes_in_django_admin_are_audited(personas, client):
    superuser = User.objects.create_superuser(
        username="super", password="x", role=Role.ADMIN, jurisdiction=personas.tree.district
    )
    client.force_login(superuser)
    response = client.post("/admin/auth/group/add/", {"name": "值班长"})
    assert response.status_code == 302
    added = AuditEvent.objects.get(action="admin.config_added")
    assert added.actor == superuser and added.target_label == "值班长" and added.detail["model"] == "auth.group"
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="值班长")
    client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "值班组长"})
    assert AuditEvent.objects.filter(action="admin.config_changed", target_id=str(group.pk)).exists()
    Group.objects.create(name="临时组")
    client.post(
        "/admin/auth/group/",
        {
            "action": "delete_selected",
            "_selected_action": list(Group.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert AuditEvent.objects.filter(action="admin.config_deleted").count() == 2


def test_failed_logins_of_known_accounts_are_placed_in_their_jurisdiction(personas, client):
    client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.region_path == personas.grid_worker.jurisdiction.path
    town_admin = User.objects.create(username="tadmin", role=Role.ADMIN, jurisdiction=personas.tree.towns[0])
    assert audit_events(scope=Scope.for_user(town_admin), action="auth.login_failed").count() == 1
