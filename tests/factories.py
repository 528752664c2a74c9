"""Factories and a small synthetic region tree for tests.

The tree (`build_tree`) is two towns × two communities × two grids × two micro-grids, laid out as
nested squares so containment and sibling checks are exact and points are easy to reason about:
each level halves the parent's square along one axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import factory
from django.contrib.auth.hashers import make_password

from gridgov.accounts.models import Department, DepartmentKind, Duty, Role, TeamMembership, User
from gridgov.regions.models import DEPTH_OF, Kind, Level, Region
from gridgov.regions.services import bump_region_version

PASSWORD = "Test#Passw0rd"
_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(make_password(PASSWORD))
    return _HASH[0]


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def make_region(
    code: str, name: str, level: str, parent: Region | None, box: tuple[float, float, float, float] | None, **extra: Any
) -> Region:
    kind = {
        Level.DISTRICT: Kind.DISTRICT,
        Level.STREET: Kind.SUBDISTRICT,
        Level.COMMUNITY: Kind.RESIDENTS_COMMITTEE,
        Level.GRID: Kind.GRID,
        Level.MICROGRID: Kind.MICROGRID,
    }[level]
    polygon = square(*box) if box else None
    return Region.objects.create(
        code=code,
        name=name,
        level=level,
        kind=extra.pop("kind", kind),
        parent=parent,
        path=f"{parent.path if parent else '/'}{code}/",
        depth=DEPTH_OF[level],
        polygon=polygon,
        centroid_lat=(box[1] + box[3]) / 2 if box else None,
        centroid_lng=(box[0] + box[2]) / 2 if box else None,
        **extra,
    )


@dataclass
class Tree:
    district: Region
    towns: list[Region] = field(default_factory=list)
    communities: list[Region] = field(default_factory=list)
    grids: list[Region] = field(default_factory=list)
    microgrids: list[Region] = field(default_factory=list)
    other_district: Region | None = None

    def by_code(self, code: str) -> Region:
        return Region.objects.get(code=code)


def build_tree(district_code: str = "330109") -> Tree:
    """District box lng 120.0–120.8, lat 30.0–30.4. Town i takes the west/east half; community j
    the south/north half of the town; grid k the west/east half; micro-grid m the south/north."""
    d = make_region(
        district_code, "测试区", Level.DISTRICT, None, (120.0, 30.0, 120.8, 30.4), households=1600, population=4000
    )
    tree = Tree(district=d)
    for i in range(2):
        tx0 = 120.0 + 0.4 * i
        town = make_region(
            f"{district_code}{i + 1:03d}", f"第{i + 1}街道", Level.STREET, d, (tx0, 30.0, tx0 + 0.4, 30.4)
        )
        tree.towns.append(town)
        for j in range(2):
            cy0 = 30.0 + 0.2 * j
            comm = make_region(
                f"{town.code}{j + 1:03d}",
                f"{town.name}{j + 1}社区",
                Level.COMMUNITY,
                town,
                (tx0, cy0, tx0 + 0.4, cy0 + 0.2),
            )
            tree.communities.append(comm)
            for k in range(2):
                gx0 = tx0 + 0.2 * k
                grid = make_region(
                    f"{comm.code}{k + 1:03d}",
                    f"{comm.name}第{k + 1}网格",
                    Level.GRID,
                    comm,
                    (gx0, cy0, gx0 + 0.2, cy0 + 0.2),
                )
                tree.grids.append(grid)
                for m in range(2):
                    my0 = cy0 + 0.1 * m
                    micro = make_region(
                        f"{grid.code}{m + 1:03d}",
                        f"{grid.name}{m + 1}号微网格",
                        Level.MICROGRID,
                        grid,
                        (gx0, my0, gx0 + 0.2, my0 + 0.1),
                        households=50,
                        population=125,
                    )
                    tree.microgrids.append(micro)
    tree.other_district = make_region("330110", "邻区", Level.DISTRICT, None, (121.0, 30.0, 121.4, 30.4))
    bump_region_version()
    return tree


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"DEP{n:04d}")
    name = factory.Sequence(lambda n: f"测试部门{n}")
    kind = DepartmentKind.URBAN_MANAGEMENT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")
    role = Role.GRID_WORKER
    password = factory.LazyFunction(password_hash)


@dataclass
class Personas:
    """The named people every permission test talks about."""

    tree: Tree
    grid_worker: User  # grid 1 of community 1 of town 1
    colleague: User  # grid worker in the next grid (same community)
    grid_leader: User
    microgrid_worker: User
    village_operator: User  # community 1 of town 1
    town_operator: User  # town 1
    other_town_operator: User  # town 2
    district_operator: User
    department: Department
    handler: User  # department handler, district-wide department
    leader: User  # district leader
    mediator: User
    admin: User
    outsider: User  # grid worker of the neighbouring district


def build_personas(tree: Tree | None = None) -> Personas:
    tree = tree or build_tree()
    g1, g2 = tree.grids[0], tree.grids[1]
    department = DepartmentFactory(region=tree.district, name="区城管局", kind=DepartmentKind.URBAN_MANAGEMENT)
    other = make_region("330110001", "邻区街道", Level.STREET, tree.other_district, (121.0, 30.0, 121.4, 30.4))
    other_comm = make_region("330110001001", "邻区社区", Level.COMMUNITY, other, (121.0, 30.0, 121.4, 30.4))
    other_grid = make_region("330110001001001", "邻区网格", Level.GRID, other_comm, (121.0, 30.0, 121.4, 30.4))
    p = Personas(
        tree=tree,
        grid_worker=UserFactory(username="alice", display_name="网格员甲", role=Role.GRID_WORKER, jurisdiction=g1),
        colleague=UserFactory(username="bob", display_name="网格员乙", role=Role.GRID_WORKER, jurisdiction=g2),
        grid_leader=UserFactory(username="gloria", display_name="网格长", role=Role.GRID_LEADER, jurisdiction=g1),
        microgrid_worker=UserFactory(username="mike", role=Role.MICROGRID_WORKER, jurisdiction=tree.microgrids[0]),
        village_operator=UserFactory(username="vera", role=Role.CENTER_OPERATOR, jurisdiction=tree.communities[0]),
        town_operator=UserFactory(username="tom", role=Role.CENTER_OPERATOR, jurisdiction=tree.towns[0]),
        other_town_operator=UserFactory(username="tina", role=Role.CENTER_OPERATOR, jurisdiction=tree.towns[1]),
        district_operator=UserFactory(username="dora", role=Role.CENTER_OPERATOR, jurisdiction=tree.district),
        department=department,
        handler=UserFactory(username="hank", role=Role.DEPARTMENT_HANDLER, department=department),
        leader=UserFactory(username="leo", role=Role.LEADER, jurisdiction=tree.district),
        mediator=UserFactory(username="mia", role=Role.MEDIATOR, jurisdiction=tree.towns[0]),
        admin=UserFactory(username="root", role=Role.ADMIN, jurisdiction=tree.district),
        outsider=UserFactory(username="olga", role=Role.GRID_WORKER, jurisdiction=other_grid),
    )
    TeamMembership.objects.create(region=g1, user=p.grid_worker, duty=Duty.FULL_TIME)
    TeamMembership.objects.create(region=g1, user=p.grid_leader, duty=Duty.GRID_LEADER)
    TeamMembership.objects.create(region=g2, user=p.colleague, duty=Duty.FULL_TIME)
    return p
