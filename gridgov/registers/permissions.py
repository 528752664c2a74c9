"""Who may do what with the registers. Every rule is also bounded by the viewer's jurisdiction
(`Scope`): a role only ever acts on rows whose `region_path` its scope covers.

People (实有人口, households, addresses)
    read (masked): grid workers and grid leaders (their grid), centre operators (their level),
    department liaisons (the police officer attached to a grid needs the roll), mediators (to
    find the parties of a dispute), leaders and admins (oversight).
    Micro-grid volunteers and department handlers do not read the population register: the first
    are volunteers who only report, the second act on cases, not on the roll.
    write: grid workers, grid leaders, centre operators. Archive (归档, closing a record for good):
    grid leaders and centre operators only.

Reveal of ID and phone numbers
    Grid workers, grid leaders, centre operators and department liaisons — the people who must
    knock on the door or call — with a stated reason; every reveal and every unmasked export is
    written to the audit log. Leaders, admins and mediators never see full numbers: oversight
    and configuration do not need them.

Special-group membership (刑满释放, 社区矫正, 严重精神障碍, 吸毒, 艾滋病危险, 重点青少年)
    individual membership: grid workers and grid leaders in their own grid (they visit), centre
    operators at their level (they dispatch and follow up), department liaisons (police and justice
    officers attached to the grid). Everybody else — leaders, mediators, admins — sees only
    aggregate counts, and the person pages they can open show no group tags at all.

Places, organisations, schools, lines, governance bodies
    read: every role with a jurisdiction (they hold no personal data beyond business contacts);
    write: the register writers above. Visit frequencies (VisitRule): admins.
"""

from __future__ import annotations

from gridgov.accounts.models import Role
from gridgov.accounts.scope import Scope

PEOPLE_READERS = {
    Role.GRID_WORKER,
    Role.GRID_LEADER,
    Role.CENTER_OPERATOR,
    Role.DEPARTMENT_LIAISON,
    Role.MEDIATOR,
    Role.LEADER,
    Role.ADMIN,
}
WRITERS = {Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTER_OPERATOR}
ARCHIVERS = {Role.GRID_LEADER, Role.CENTER_OPERATOR}
REVEALERS = {Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTER_OPERATOR, Role.DEPARTMENT_LIAISON}
GROUP_VIEWERS = {Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTER_OPERATOR, Role.DEPARTMENT_LIAISON}
GROUP_COUNT_VIEWERS = GROUP_VIEWERS | {Role.LEADER, Role.ADMIN}
VISITORS = {Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTER_OPERATOR, Role.DEPARTMENT_LIAISON}
CONFIGURERS = {Role.ADMIN}


def _has(scope: Scope, roles: set[Role]) -> bool:
    return not scope.is_empty and scope.has_role(*roles)


def can_read_people(scope: Scope) -> bool:
    return _has(scope, PEOPLE_READERS)


def can_write(scope: Scope) -> bool:
    return _has(scope, WRITERS)


def can_archive(scope: Scope) -> bool:
    return _has(scope, ARCHIVERS)


def can_reveal(scope: Scope) -> bool:
    return _has(scope, REVEALERS)


def can_see_groups(scope: Scope) -> bool:
    return _has(scope, GROUP_VIEWERS)


def can_see_group_counts(scope: Scope) -> bool:
    return _has(scope, GROUP_COUNT_VIEWERS)


def can_visit(scope: Scope) -> bool:
    return _has(scope, VISITORS)


def can_read_places(scope: Scope) -> bool:
    return not scope.is_empty


def can_configure(scope: Scope) -> bool:
    return _has(scope, CONFIGURERS)
