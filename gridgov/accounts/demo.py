"""Demo accounts: departments, one user per role (documented in README), a team per grid."""

from __future__ import annotations

import random
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from gridgov.regions.models import Level, Region

from .models import Department, DepartmentKind, Duty, Role, TeamMembership, User

DEMO_PASSWORD = "Gridgov#2026"
# The demo's admins and leaders must pass two-factor authentication like real ones. Their
# authenticator secret is published in README.md, so anyone can add it to an authenticator app
# (or compute a code with pyotp) — FOR THE DEMO ONLY; real accounts enrol their own phone.
DEMO_TOTP_SECRET = "GRIDGOVDEMOKEYFORTOTPTWOFACTOR23"
DEMO_TOTP_USERS = ("admin", "leader", "town_leader")

DISTRICT_DEPARTMENTS: list[tuple[str, str, str]] = [
    ("GA", "萧山区公安分局", DepartmentKind.POLICE),
    ("CG", "萧山区综合行政执法局（城管）", DepartmentKind.URBAN_MANAGEMENT),
    ("SZ", "萧山区市政园林中心", DepartmentKind.MUNICIPAL),
    ("ZJ", "萧山区住房和城乡建设局", DepartmentKind.HOUSING),
    ("XF", "萧山区消防救援大队", DepartmentKind.FIRE),
    ("SCJG", "萧山区市场监督管理局", DepartmentKind.MARKET),
    ("YJ", "萧山区应急管理局", DepartmentKind.EMERGENCY),
    ("HB", "杭州市生态环境局萧山分局", DepartmentKind.ENVIRONMENT),
    ("JT", "萧山区交通运输局", DepartmentKind.TRANSPORT),
    ("MZ", "萧山区民政局", DepartmentKind.CIVIL_AFFAIRS),
    ("SF", "萧山区司法局", DepartmentKind.JUSTICE),
    ("WJ", "萧山区卫生健康局", DepartmentKind.HEALTH),
    ("JY", "萧山区教育局", DepartmentKind.EDUCATION),
    ("SL", "萧山区林业水利局", DepartmentKind.WATER),
    ("RS", "萧山区人力资源和社会保障局", DepartmentKind.HUMAN_RESOURCES),
    ("XZ", "萧山区信访局", DepartmentKind.PETITION),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国建华志强海燕雪梅晓东晓燕春梅红梅丹丹佳怡子涵浩然宇轩欣怡梓涵雨萱俊杰文博天佑"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load(log: Callable[[str], None] = print) -> None:
    district = Region.objects.get(code=settings.GRIDGOV["DISTRICT_CODE"])
    with transaction.atomic():
        departments = _departments(district)
        users = _role_users(district, departments)
        teams = _teams(district)
        devices = _demo_devices()
    log(
        f"accounts: {len(departments)} departments, {users} role users, {teams} team members, "
        f"{devices} demo 2FA devices added"
    )


def _departments(district: Region) -> dict[str, Department]:
    out: dict[str, Department] = {}
    for suffix, name, kind in DISTRICT_DEPARTMENTS:
        code = f"{district.code}-{suffix}"
        out[suffix], _ = Department.objects.get_or_create(
            code=code,
            defaults={"name": name, "kind": kind, "region": district, "phone": "0571-8" + code[-3:].rjust(7, "2")[-7:]},
        )
    # A town-level squadron: towns dispatch small city-appearance cases to their own team.
    town = Region.objects.get(code=f"{district.code}001")
    out["CG-001"], _ = Department.objects.get_or_create(
        code=f"{town.code}-CG",
        defaults={"name": f"{town.name}综合行政执法中队", "kind": DepartmentKind.URBAN_MANAGEMENT, "region": town},
    )
    return out


# username, display name, role, region code (relative to the district) or department key, duty
ROLE_USERS: list[tuple[str, str, str, str, str]] = [
    ("admin", "系统管理员", Role.ADMIN, "", ""),
    ("leader", "区领导（演示）", Role.LEADER, "", ""),
    ("district_op", "区综治中心坐席", Role.CENTER_OPERATOR, "", ""),
    ("town_op", "城厢街道综治中心坐席", Role.CENTER_OPERATOR, "001", ""),
    ("town_leader", "城厢街道领导", Role.LEADER, "001", ""),
    ("village_op", "陈公桥社区综治中心坐席", Role.CENTER_OPERATOR, "001001", ""),
    ("grid_leader", "陈公桥社区第1网格网格长", Role.GRID_LEADER, "001001001", Duty.GRID_LEADER),
    ("grid_worker", "陈公桥社区第1网格网格员", Role.GRID_WORKER, "001001001", Duty.FULL_TIME),
    ("grid_worker2", "陈公桥社区第2网格网格员", Role.GRID_WORKER, "001001002", Duty.FULL_TIME),
    ("microgrid_worker", "1号微网格微网格员", Role.MICROGRID_WORKER, "001001001001", Duty.MICROGRID_WORKER),
    ("dept_liaison", "派出所联管民警", Role.DEPARTMENT_LIAISON, "001001001", Duty.DEPARTMENT_LIAISON),
    ("mediator", "城厢街道调解员", Role.MEDIATOR, "001", ""),
    ("handler_police", "公安分局处置员", Role.DEPARTMENT_HANDLER, "@GA", ""),
    ("handler_cg", "城管局处置员", Role.DEPARTMENT_HANDLER, "@CG", ""),
    ("handler_town_cg", "城厢执法中队处置员", Role.DEPARTMENT_HANDLER, "@CG-001", ""),
]


def _role_users(district: Region, departments: dict[str, Department]) -> int:
    password = make_password(DEMO_PASSWORD)
    created = 0
    for username, display, role, where, duty in ROLE_USERS:
        if User.objects.filter(username=username).exists():
            continue
        department = departments[where[1:]] if where.startswith("@") else None
        region = None if department else Region.objects.get(code=district.code + where)
        user = User.objects.create(
            username=username,
            display_name=display,
            role=role,
            jurisdiction=region,
            department=department,
            password=password,
            phone=f"1380000{created:04d}",
        )
        if duty and region is not None:
            TeamMembership.objects.get_or_create(region=region, user=user, defaults={"duty": duty})
        created += 1
    return created


def _demo_devices() -> int:
    from .models import TOTPDevice
    from .twofactor import totp_install_fixed

    added = 0
    for user in User.objects.filter(username__in=DEMO_TOTP_USERS):
        if not TOTPDevice.objects.filter(user=user).exists():
            totp_install_fixed(user=user, secret=DEMO_TOTP_SECRET)
            added += 1
    return added


def _teams(district: Region) -> int:
    """A 1+2 team for every grid (leader, full-time, part-time), named deterministically. All team
    accounts share the demo password hash, so any of them can log in for a walk-through."""
    rng = random.Random(f"teams:{district.code}")
    password = make_password(DEMO_PASSWORD)
    staffed = set(
        TeamMembership.objects.filter(region__path__startswith=district.path).values_list("region_id", flat=True)
    )
    grids = [
        g
        for g in Region.objects.filter(path__startswith=district.path, level=Level.GRID).order_by("code")
        if g.id not in staffed
    ]
    duties = [
        (Duty.GRID_LEADER, Role.GRID_LEADER, "gl"),
        (Duty.FULL_TIME, Role.GRID_WORKER, "gw"),
        (Duty.PART_TIME, Role.GRID_WORKER, "pw"),
    ]
    users = [
        User(
            username=f"{prefix}{grid.code}",
            display_name=person_name(rng),
            role=role,
            jurisdiction=grid,
            password=password,
        )
        for grid in grids
        for _duty, role, prefix in duties
    ]
    User.objects.bulk_create(users, batch_size=1000, ignore_conflicts=True)
    by_name = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "id"))
    memberships = [
        TeamMembership(region=grid, user_id=by_name[f"{prefix}{grid.code}"], duty=duty)
        for grid in grids
        for duty, _role, prefix in duties
        if f"{prefix}{grid.code}" in by_name
    ]
    TeamMembership.objects.bulk_create(memberships, batch_size=1000, ignore_conflicts=True)
    return len(memberships)
