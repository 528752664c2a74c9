"""Who may do what in field work. Every rule is also bounded by the viewer's jurisdiction.

Visits and patrols: grid workers and grid leaders in their own grid (and department liaisons
attached to it, who visit too). Campaigns: centre operators organise them at their level (create,
assign inspections, re-inspect, sign off); the inspection is recorded by whoever it is assigned to
— a worker, or any handler of the assigned unit — or by a centre operator covering it. Leaders
and admins read.
"""

from __future__ import annotations

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.common.errors import PermissionRefused
from gridgov.regions.models import Level

FIELD_ROLES = {Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON}
INSPECTOR_ROLES = {Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON}
ORGANISER_ROLES = {Role.CENTER_OPERATOR}


def scope_of(actor: User) -> Scope:
    if not actor.is_active:
        raise PermissionRefused("账号已停用", rule="accounts.inactive")
    return Scope.for_user(actor)


def require_role(actor: User, roles: set[Role] | set[str], what: str, rule: str) -> Scope:
    scope = scope_of(actor)
    if actor.role not in {str(r) for r in roles} or scope.is_empty:
        raise PermissionRefused(f"{actor.get_role_display()}不能{what}", rule=rule)
    return scope


def require_covers(scope: Scope, path: str, what: str, rule: str) -> None:
    if not scope.covers(path):
        raise PermissionRefused(f"{what}不在您的辖区内", rule=rule)


def is_field_worker(actor: User) -> bool:
    return (
        actor.role in FIELD_ROLES
        and actor.jurisdiction is not None
        and actor.jurisdiction.level in (Level.GRID, Level.MICROGRID)
    )
