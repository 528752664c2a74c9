from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from gridgov.accounts.models import Role, TeamMembership, User
from gridgov.regions import spatial
from gridgov.regions.models import Level, Region

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]


def test_demo_loads_xiaoshan_with_teams_and_role_users_and_is_idempotent():
    call_command("load_demo", stdout=io.StringIO())
    counts = {level: Region.objects.filter(level=level).count() for level in Level.values}
    assert counts["street"] == 27 and counts["community"] == 585
    assert Region.objects.filter(level="street", is_town_like=False).count() == 22
    assert counts["grid"] > 2000 and counts["microgrid"] > 10000
    assert not Region.objects.filter(level__in=["grid", "microgrid"], polygon__isnull=True).exists()
    grids_without_team = Region.objects.filter(level=Level.GRID).exclude(team__isnull=False).count()
    assert grids_without_team == 0
    assert set(
        User.objects.filter(username__in=["admin", "leader", "grid_worker", "handler_police"]).values_list(
            "role", flat=True
        )
    ) == {
        Role.ADMIN,
        Role.LEADER,
        Role.GRID_WORKER,
        Role.DEPARTMENT_HANDLER,
    }
    assert User.objects.get(username="grid_worker").check_password("Gridgov#2026")
    spatial.reset_cache()
    leaf = spatial.get_locator().locate(30.16, 120.27)
    assert leaf is not None and leaf.code.startswith("330109001")

    before = (Region.objects.count(), User.objects.count(), TeamMembership.objects.count())
    call_command("load_demo", stdout=io.StringIO())
    assert (Region.objects.count(), User.objects.count(), TeamMembership.objects.count()) == before
