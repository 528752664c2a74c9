from __future__ import annotations

import pytest

from gridgov.accounts import services
from gridgov.accounts.models import Role, User
from gridgov.common.errors import PermissionRefused, ValidationFailed
from gridgov.common.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

STRONG = "Qiantang#River9"


def test_admin_creates_a_grid_worker_in_a_grid(personas):
    grid = personas.tree.grids[3]
    user = services.user_create(
        actor=personas.admin,
        username="newbie",
        password=STRONG,
        role=Role.GRID_WORKER,
        display_name="新网格员",
        jurisdiction=grid,
    )
    assert user.check_password(STRONG)
    assert user.jurisdiction == grid
    assert AuditEvent.objects.filter(action="accounts.user_created", target_id=str(user.pk)).exists()


def test_it_refuses_a_grid_worker_seated_at_a_town(personas):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=personas.admin,
            username="x1",
            password=STRONG,
            role=Role.GRID_WORKER,
            jurisdiction=personas.tree.towns[0],
        )
    assert "jurisdiction" in exc.value.errors


def test_it_refuses_users_outside_the_admins_jurisdiction(personas):
    town_admin = User.objects.create(username="townadmin", role=Role.ADMIN, jurisdiction=personas.tree.towns[0])
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=town_admin, username="x2", password=STRONG, role=Role.GRID_WORKER, jurisdiction=personas.tree.grids[5]
        )
    assert exc.value.errors["jurisdiction"] == ["该辖区不在您的管理范围内"]
    assert not User.objects.filter(username="x2").exists()


@pytest.mark.parametrize("weak", ["short1A!", "alllowercaseletters", "1234567890123", "NoDigitsOrSymbols"])
def test_it_refuses_weak_passwords(personas, weak):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=personas.admin,
            username="weakling",
            password=weak,
            role=Role.LEADER,
            jurisdiction=personas.tree.district,
        )
    assert "password" in exc.value.errors


def test_non_admins_cannot_create_users_or_departments(personas):
    with pytest.raises(PermissionRefused):
        services.user_create(
            actor=personas.leader, username="x3", password=STRONG, role=Role.LEADER, jurisdiction=personas.tree.district
        )
    with pytest.raises(PermissionRefused):
        services.department_create(
            actor=personas.town_operator, code="D1", name="d", kind="police", region=personas.tree.district
        )


def test_handlers_need_a_department(personas):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=personas.admin, username="h2", password=STRONG, role=Role.DEPARTMENT_HANDLER)
    assert "department" in exc.value.errors
    handler = services.user_create(
        actor=personas.admin,
        username="h3",
        password=STRONG,
        role=Role.DEPARTMENT_HANDLER,
        department=personas.department,
    )
    assert handler.jurisdiction is None


def test_role_change_is_audited_with_before_and_after(personas):
    services.user_change_role(
        actor=personas.admin,
        user=personas.colleague,
        role=Role.GRID_LEADER,
        jurisdiction=personas.tree.grids[1],
        department=None,
    )
    event = AuditEvent.objects.get(action="accounts.permission_changed")
    assert event.detail["before"]["role"] == Role.GRID_WORKER
    assert event.detail["after"]["role"] == Role.GRID_LEADER
    with pytest.raises(RuntimeError):
        event.save()


def test_admin_screens_create_users_and_refuse_others(personas, client_for):
    admin = client_for(personas.admin)
    response = admin.post(
        "/accounts/users/",
        {
            "username": "viaui",
            "display_name": "界面新建",
            "role": Role.CENTER_OPERATOR,
            "jurisdiction": personas.tree.towns[1].code,
            "password": STRONG,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="viaui").jurisdiction == personas.tree.towns[1]
    bad = admin.post(
        "/accounts/users/",
        {
            "username": "viaui2",
            "display_name": "x",
            "role": Role.GRID_WORKER,
            "jurisdiction": "999",
            "password": STRONG,
        },
    )
    assert bad.status_code == 400
    assert "区域代码不存在" in bad.content.decode()
    assert client_for(personas.leader).get("/accounts/users/").status_code == 403
    assert client_for(personas.leader).get("/accounts/departments/").status_code == 403


def test_admin_creates_a_department_via_the_screen(personas, client_for):
    response = client_for(personas.admin).post(
        "/accounts/departments/",
        {"code": "330109-XF", "name": "消防大队", "kind": "fire", "region": personas.tree.district.code},
    )
    assert response.status_code == 302
    assert personas.tree.district.departments.filter(code="330109-XF").exists()


def test_user_list_is_scoped(personas):
    from gridgov.accounts.scope import Scope
    from gridgov.accounts.selectors import user_list

    town_admin = User.objects.create(username="townadmin", role=Role.ADMIN, jurisdiction=personas.tree.towns[1])
    names = set(user_list(scope=Scope.for_user(town_admin)).values_list("username", flat=True))
    assert "tina" in names and "townadmin" in names
    assert "alice" not in names and "olga" not in names


def test_login_logout_and_password_change(personas, client):
    assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    assert AuditEvent.objects.filter(action="auth.login_failed").exists()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=personas.grid_worker).exists()
    mismatch = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password": STRONG, "new_password2": "other"}
    )
    assert mismatch.status_code == 400
    wrong_old = client.post(
        "/accounts/password/", {"old_password": "nope", "new_password": STRONG, "new_password2": STRONG}
    )
    assert "原密码不正确" in wrong_old.content.decode()
    ok = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password": STRONG, "new_password2": STRONG})
    assert ok.status_code == 302
    personas.grid_worker.refresh_from_db()
    assert personas.grid_worker.check_password(STRONG)
    assert client.get("/").status_code == 200  # session survives the change
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_deactivated_user_loses_access(personas, client_for):
    c = client_for(personas.colleague)
    services.user_set_active(actor=personas.admin, user=personas.colleague, active=False)
    assert c.get("/regions/").status_code == 302
