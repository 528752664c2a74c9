"""`gridgov synth`: a deterministic dataset of a district or a whole city, written through bulk
paths (COPY on PostgreSQL, executemany on SQLite) and never through the services.

What is written, per scale (defaults; `--people` / `--cases` scale the two big tables):

| scale    | districts | micro-grids | residents  | cases a year |
|----------|-----------|-------------|------------|--------------|
| district | 1 (萧山)   | ~12,400     | 600,000    | 150,000      |
| city     | 5         | ~60,000     | 10,000,000 | 2,000,000    |

- regions with polygons (`gridgov.regions.generator`), the spatial-index token bumped;
- accounts: per district a leader, a centre operator and ten departments with a handler each,
  a centre operator per town, a grid worker per grid (one shared password hash);
- registers: standard addresses, buildings, units and houses for the residents, the residents
  themselves (ID and phone numbers sealed and hashed with `registers.crypto.BatchSealer`, masked
  with `common.masking`), two key places per micro-grid;
- cases over the year before `--until`, in realistic states (most closed, the last weeks' still
  open in every step, some overdue), categories, sources and urgencies, with an abbreviated
  timeline (report / close / rate / reject / merge events), lead-department assignments and the
  case-number counters; then the command-centre rollups are rebuilt from them.

Left out (no bench reads them): households, register history rows and person events, photos,
intermediate case events (accept, dispatch, sign, handle, verify).

Determinism: every random draw comes from generators seeded by `--seed`; timestamps are laid out
backwards from `--until` (default: today 00:00 local), so the same arguments give the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from gridgov.accounts.models import Department, DepartmentKind, Role, User
from gridgov.cases.models import (
    Case,
    CaseAssignment,
    CaseCategory,
    CaseCounter,
    CaseEvent,
    Source,
    State,
    Urgency,
)
from gridgov.common.masking import mask_id_number, mask_phone
from gridgov.regions.generator import DEFAULT_SEED, Plan, walk
from gridgov.regions.geometry import to_geojson
from gridgov.regions.models import DEPTH_OF, Kind, Level, Region
from gridgov.regions.services import bump_region_version
from gridgov.registers import codes
from gridgov.registers.crypto import BatchSealer
from gridgov.registers.idnumber import make_id_number
from gridgov.registers.models import Address, Building, House, Person, Place, Unit

from .regions import districts_for, plan_all
from .writer import BulkWriter, Timer, deferred_constraints, is_postgres, next_id, reset_sequences

SCALES: dict[str, dict[str, int]] = {
    "district": {"people": 600_000, "cases": 150_000},
    "city": {"people": 10_000_000, "cases": 2_000_000},
}
SYNTH_PASSWORD = "gridgov-synth-2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志海燕雪梅晓东春红丹佳怡子涵浩然宇轩欣梓雨萱俊博天佑"
ROADS = [
    "人民路",
    "建设路",
    "市心路",
    "金城路",
    "通惠路",
    "育才路",
    "工人路",
    "山阴路",
    "萧绍路",
    "博学路",
    "湘湖路",
    "风情大道",
]
# Where floating residents' ID numbers come from (安徽, 河南, 江西, 四川, 贵州, 湖南 prefectures).
ORIGINS = ["340102", "340202", "410102", "410302", "360102", "360402", "510104", "520102", "430102", "330281"]
DEPARTMENT_KINDS = [
    DepartmentKind.URBAN_MANAGEMENT,
    DepartmentKind.MARKET,
    DepartmentKind.HOUSING,
    DepartmentKind.FIRE,
    DepartmentKind.ENVIRONMENT,
    DepartmentKind.TRANSPORT,
    DepartmentKind.CIVIL_AFFAIRS,
    DepartmentKind.JUSTICE,
    DepartmentKind.WATER,
    DepartmentKind.POLICE,
]
SOURCE_WEIGHTS = {
    Source.GRID_WORKER: 45,
    Source.HOTLINE_12345: 25,
    Source.CITIZEN: 10,
    Source.MICROGRID_WORKER: 8,
    Source.SENSOR: 4,
    Source.POLICE_110: 3,
    Source.ONLINE_OPINION: 2,
    Source.DEPARTMENT: 2,
    Source.INSPECTION: 1,
}
# Share of each state among the still-open cases (12345 practice: most open work sits with the
# handling departments).
OPEN_MIX = {
    State.REPORTED: 10,
    State.ACCEPTED: 8,
    State.DISPATCHED: 14,
    State.HANDLING: 42,
    State.HANDLED: 10,
    State.VERIFIED: 5,
    State.SETTLE_PENDING: 4,
    State.SUPERVISING: 7,
}


class SynthError(Exception):
    pass


@dataclass
class Leaf:
    id: int
    code: str
    path: str
    district: int  # index into the district list
    town_id: int
    grid_id: int
    lat: float
    lng: float
    population: int


@dataclass
class World:
    district_ids: list[int] = field(default_factory=list)
    district_codes: list[str] = field(default_factory=list)
    leaves: list[Leaf] = field(default_factory=list)
    grid_worker: dict[int, int] = field(default_factory=dict)  # grid id → user id
    departments: list[list[tuple[int, int]]] = field(default_factory=list)  # per district: (dept id, handler id)
    microgrids: int = 0


def synthesize(
    *,
    scale: str,
    people: int | None = None,
    cases: int | None = None,
    seed: int = DEFAULT_SEED,
    until: dt.date | None = None,
    processes: int = 2,
    log: Callable[[str], None] = print,
) -> Timer:
    if scale not in SCALES:
        raise SynthError(f"unknown scale {scale!r}")
    if Region.objects.exists():
        raise SynthError("the database already holds regions: synth writes into an empty (migrated) database")
    n_people = SCALES[scale]["people"] if people is None else people
    n_cases = SCALES[scale]["cases"] if cases is None else cases
    tz = timezone.get_current_timezone()
    until_date = until or timezone.localdate()
    end = dt.datetime.combine(until_date, dt.time(), tzinfo=tz)
    timer = Timer(log)
    log(
        f"synth {scale}: {n_people:,} residents, {n_cases:,} cases until {until_date}, seed {seed}, {connection.vendor}"
    )
    started = time.perf_counter()

    specs = districts_for(scale)
    t0 = time.perf_counter()
    plans = plan_all(specs, seed, processes=processes)
    log(f"  planned {len(plans)} district(s) in {time.perf_counter() - t0:.1f} s")
    world = World()
    with transaction.atomic():
        _regions(plans, world, timer)
        bump_region_version()
    with transaction.atomic():
        _accounts(world, timer, seed)
    with transaction.atomic():
        _people(world, n_people, seed, end, timer, processes)
    with transaction.atomic():
        _places(world, seed, end, timer)
    with transaction.atomic():
        _cases(world, n_cases, seed, end, timer, processes)
    with transaction.atomic():
        from gridgov.dashboard.rollups import rebuild

        with timer.table("rollups (rebuild)") as count:
            for district_id in world.district_ids:
                days, live = rebuild(root=Region.objects.get(pk=district_id))
                count[0] += days + live
    t0 = time.perf_counter()
    _analyze()
    log(f"  {'analyze':<28}{'':>12}      {time.perf_counter() - t0:>8.1f} s")
    log(f"synth done in {time.perf_counter() - started:.0f} s; {world.microgrids:,} micro-grids")
    return timer


def _analyze() -> None:
    with connection.cursor() as cursor:
        if is_postgres():
            # VACUUM also sets the visibility map, so counts can be index-only scans.
            if connection.in_atomic_block:
                cursor.execute("ANALYZE")
            else:
                cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


# --- regions ---------------------------------------------------------------------------------------


def _regions(plans: list[Plan], world: World, timer: Timer) -> None:
    now = timezone.now()
    cols = [
        "id",
        "code",
        "name",
        "level",
        "kind",
        "parent_id",
        "path",
        "depth",
        "is_town_like",
        "dedicated_kind",
        "polygon",
        "centroid_lat",
        "centroid_lng",
        "households",
        "population",
    ]
    writer = BulkWriter(Region, cols, now=now)
    next_pk = next_id(Region)
    ids: dict[str, int] = {}
    paths: dict[str, str] = {}
    rows: list[tuple[Any, ...]] = []
    for d_index, plan in enumerate(plans):
        town_of: dict[str, int] = {}
        for p in walk(plan):
            pk = next_pk
            next_pk += 1
            ids[p.code] = pk
            parent_path = paths[p.parent_code] if p.parent_code else "/"
            path = f"{parent_path}{p.code}/"
            paths[p.code] = path
            geom = p.geometry
            point = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
            rows.append(
                (
                    pk,
                    p.code,
                    p.name,
                    p.level,
                    p.kind,
                    ids[p.parent_code] if p.parent_code else None,
                    path,
                    DEPTH_OF[p.level],
                    p.kind == Kind.TOWN_LIKE,
                    p.dedicated_kind,
                    json.dumps(to_geojson(geom)),
                    round(point.y, 6),
                    round(point.x, 6),
                    p.households,
                    p.population,
                )
            )
            if p.level == Level.DISTRICT:
                world.district_ids.append(pk)
                world.district_codes.append(p.code)
            elif p.level == Level.STREET:
                town_of[p.code] = pk
            if p.level == Level.MICROGRID or (p.level == Level.GRID and not p.children):
                town_code = p.code[:9]
                grid_code = p.code[:15]
                world.leaves.append(
                    Leaf(
                        pk,
                        p.code,
                        path,
                        d_index,
                        town_of[town_code],
                        ids[grid_code],
                        round(point.y, 6),
                        round(point.x, 6),
                        p.population,
                    )
                )
                world.microgrids += p.level == Level.MICROGRID
    with timer.table("regions") as count:
        count[0] = writer.write(rows)
    reset_sequences(Region)


# --- accounts --------------------------------------------------------------------------------------


def _accounts(world: World, timer: Timer, seed: int) -> None:
    password = make_password(SYNTH_PASSWORD)
    rng = random.Random(f"{seed}:accounts")
    with timer.table("departments") as count:
        depts: list[Department] = []
        for code, district_id in zip(world.district_codes, world.district_ids, strict=True):
            for kind in DEPARTMENT_KINDS:
                depts.append(
                    Department(
                        code=f"{code}-{kind}",
                        name=f"{code}{DepartmentKind(kind).label}",
                        kind=kind,
                        region_id=district_id,
                    )
                )
        Department.objects.bulk_create(depts, batch_size=1000)
        count[0] = len(depts)
    depts = list(Department.objects.filter(code__in=[d.code for d in depts]).order_by("id"))

    users: list[User] = []

    def user(username: str, role: str, **kw: Any) -> None:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        users.append(User(username=username, password=password, role=role, display_name=name, **kw))

    for code, district_id in zip(world.district_codes, world.district_ids, strict=True):
        user(f"leader-{code}", Role.LEADER, jurisdiction_id=district_id)
        user(f"op-{code}", Role.CENTER_OPERATOR, jurisdiction_id=district_id)
    for town_id, town_code in Region.objects.filter(level=Level.STREET).values_list("id", "code"):
        user(f"op-{town_code}", Role.CENTER_OPERATOR, jurisdiction_id=town_id)
    for d in depts:
        user(f"dept-{d.code}", Role.DEPARTMENT_HANDLER, department_id=d.pk)
    grids = sorted({leaf.grid_id for leaf in world.leaves})
    grid_codes = dict(Region.objects.filter(level=Level.GRID).values_list("id", "code"))
    for grid_id in grids:
        user(f"gw-{grid_codes[grid_id]}", Role.GRID_WORKER, jurisdiction_id=grid_id)
    with timer.table("users") as count:
        User.objects.bulk_create(users, batch_size=2000)
        count[0] = len(users)
    by_name = dict(User.objects.values_list("username", "id"))
    for grid_id in grids:
        world.grid_worker[grid_id] = by_name[f"gw-{grid_codes[grid_id]}"]
    by_district: dict[int, list[tuple[int, int]]] = {d: [] for d in world.district_ids}
    for d in depts:
        by_district[d.region_id].append((d.pk, by_name[f"dept-{d.code}"]))
    world.departments = [by_district[d] for d in world.district_ids]


# --- registers ---------------------------------------------------------------------------------------


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` over `weights` proportionally, exactly (largest remainders)."""
    s = sum(weights) or 1
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[:rest]:
        out[i] += 1
    return out


HOUSES_PER_BUILDING = 24


def _people(world: World, n_people: int, seed: int, end: dt.datetime, timer: Timer, processes: int) -> None:
    """Residents in houses: ~2.6 per house, 24 houses per building (one unit), one standard
    address per building."""
    now = timezone.now()
    per_leaf = _allocate(n_people, [leaf.population for leaf in world.leaves])
    address_w = BulkWriter(Address, ["id", "region_id", "region_path", "lat", "lng", "code", "road", "number"], now=now)
    building_w = BulkWriter(
        Building,
        ["id", "region_id", "region_path", "lat", "lng", "address_id", "code", "name", "floors", "unit_count"],
        now=now,
    )
    unit_w = BulkWriter(Unit, ["id", "building_id", "number"], now=now)
    house_w = BulkWriter(
        House,
        ["id", "region_id", "region_path", "lat", "lng", "building_id", "unit_id", "code", "floor", "number"],
        now=now,
    )
    plan: list[tuple[Leaf, int, int, int]] = []  # leaf, residents, houses, buildings
    for leaf, residents in zip(world.leaves, per_leaf, strict=True):
        n_houses = math.ceil(residents / 2.6) if residents else 0
        plan.append((leaf, residents, n_houses, math.ceil(n_houses / HOUSES_PER_BUILDING)))
    first_building = next_id(Building)
    first_house = next_id(House)
    first_address, first_unit = next_id(Address), next_id(Unit)

    def addresses() -> Iterator[tuple[Any, ...]]:
        b = 0
        for leaf, _r, _h, nb in plan:
            for k in range(nb):
                road = ROADS[(leaf.id + k) % len(ROADS)]
                yield (
                    first_address + b,
                    leaf.id,
                    leaf.path,
                    leaf.lat,
                    leaf.lng,
                    f"{leaf.code}{k + 1:03d}",
                    road,
                    str(leaf.id % 900 + k + 1),
                )
                b += 1

    def buildings() -> Iterator[tuple[Any, ...]]:
        b = 0
        for leaf, _r, _h, nb in plan:
            for k in range(nb):
                yield (
                    first_building + b,
                    leaf.id,
                    leaf.path,
                    leaf.lat,
                    leaf.lng,
                    first_address + b,
                    f"{leaf.code}{k + 1:03d}01",
                    "1幢",
                    6 if k % 3 else 18,
                    1,
                )
                b += 1

    def units() -> Iterator[tuple[Any, ...]]:
        total = sum(p[3] for p in plan)
        for b in range(total):
            yield (first_unit + b, first_building + b, 1)

    house_at: list[tuple[int, int]] = []  # per leaf: first house id, count

    def houses() -> Iterator[tuple[Any, ...]]:
        h = 0
        b = 0
        for leaf, _r, nh, nb in plan:
            house_at.append((first_house + h, nh))
            for k in range(nh):
                building = k // HOUSES_PER_BUILDING
                floor = (k % HOUSES_PER_BUILDING) // 4 + 1
                number = f"{floor}0{k % 4 + 1}"
                yield (
                    first_house + h,
                    leaf.id,
                    leaf.path,
                    leaf.lat,
                    leaf.lng,
                    first_building + b + building,
                    first_unit + b + building,
                    f"{leaf.code}{building + 1:03d}1{number}",
                    floor,
                    number,
                )
                h += 1
            b += nb

    with deferred_constraints(Address, Building, Unit, House):
        for label, writer, rows in (
            ("addresses", address_w, addresses()),
            ("buildings", building_w, buildings()),
            ("units", unit_w, units()),
            ("houses", house_w, houses()),
        ):
            with timer.table(label) as count:
                count[0] = writer.write(rows)
    reset_sequences(Address, Building, Unit, House)

    person_cols = [
        "region_id",
        "region_path",
        "lat",
        "lng",
        "name",
        "gender",
        "birth_date",
        "doc_type",
        "id_number",
        "id_hash",
        "id_masked",
        "phone",
        "phone_hash",
        "phone_masked",
        "population_type",
        "status",
        "house_id",
        "relation",
        "origin_code",
        "moved_in_on",
        "inflow_reason",
        "residence_type",
    ]
    writer = BulkWriter(Person, person_cols, now=now)
    # Chunks of micro-grids, each with its own seeded generator: the rows do not depend on how
    # many processes make them. `g` numbers residents city-wide and makes their ID numbers unique.
    chunks: list[tuple[int, int, list[tuple[Any, ...]]]] = []
    g = 0
    chunk: list[tuple[Any, ...]] = []
    for (leaf, residents, _nh, _nb), (house0, nh) in zip(plan, house_at, strict=True):
        if residents:
            code = world.district_codes[leaf.district]
            chunk.append((leaf.id, leaf.path, leaf.lat, leaf.lng, code, residents, house0, nh))
        if len(chunk) >= 200:
            chunks.append((len(chunks), g, chunk))
            g += sum(c[5] for c in chunk)
            chunk = []
    if chunk:
        chunks.append((len(chunks), g, chunk))
    _SHARED.update(seed=seed, today=end.date())
    with deferred_constraints(Person), timer.table("people (sealed)") as count:
        count[0] = writer.write(parallel_rows(_person_rows, chunks, processes))


_SHARED: dict[str, Any] = {}


def parallel_rows(
    fn: Callable[[Any], list[tuple[Any, ...]]], tasks: list[Any], processes: int
) -> Iterator[tuple[Any, ...]]:
    for rows in parallel_map(fn, tasks, processes):
        yield from rows


def parallel_map(fn: Callable[[Any], Any], tasks: list[Any], processes: int) -> Iterator[Any]:
    """Results of `fn(task)` for every task, in task order, made by `processes` forked workers (they
    inherit `_SHARED` and the configured settings; they never touch the database) while this
    process writes. At most two tasks per worker are in flight, so memory stays bounded."""
    if processes <= 1:
        for task in tasks:
            yield fn(task)
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
        pending: deque[Future[Any]] = deque()
        it = iter(tasks)
        for task in it:
            pending.append(pool.submit(fn, task))
            if len(pending) >= 2 * processes:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(fn, nxt))
            yield result


def _person_rows(task: tuple[int, int, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    index, g, leaves = task
    seed, today = _SHARED["seed"], _SHARED["today"]
    rng = np.random.default_rng([seed, 7, index])
    sealer = BatchSealer()
    id_ctx = f"{Person._meta.label_lower}.id_number"
    phone_ctx = f"{Person._meta.label_lower}.phone"
    born_from = dt.date(1940, 1, 1)
    surnames, given = SURNAMES, GIVEN
    floating_type, registered_type = str(codes.PopulationType.FLOATING), str(codes.PopulationType.REGISTERED)
    active, resident_id = str(codes.PersonStatus.ACTIVE), str(codes.DocumentType.RESIDENT_ID)
    out: list[tuple[Any, ...]] = []
    for leaf_id, path, lat, lng, district_code, residents, house0, nh in leaves:
        u = rng.random((residents, 6)).tolist()
        for i in range(residents):
            r = u[i]
            floating = r[0] < 0.25
            origin = ORIGINS[int(r[1] * len(ORIGINS))] if floating else district_code
            # g → (birth day, sequence) is one-to-one for g < 29.2 million: unique ID numbers.
            birth = born_from + dt.timedelta(days=(g * 7919) % 29_200)
            if birth >= today:
                birth = born_from
            id_number = make_id_number(origin, birth, g // 29_200 % 1000)
            g += 1
            name = surnames[int(r[2] * len(surnames))] + given[int(r[3] * len(given))]
            if r[4] < 0.6:
                name += given[int(r[4] * 97) % len(given)]
            phone = f"1{3 + int(r[5] * 7)}{(leaf_id * 7919 + i * 104729) % 10**9:09d}" if r[5] < 0.85 else ""
            out.append(
                (
                    leaf_id,
                    path,
                    lat,
                    lng,
                    name,
                    "1" if int(id_number[16]) % 2 else "2",
                    birth,
                    resident_id,
                    sealer.encrypt(id_number, context=id_ctx),
                    sealer.hash(id_number, kind="id"),
                    mask_id_number(id_number),
                    sealer.encrypt(phone, context=phone_ctx),
                    sealer.hash(phone, kind="phone"),
                    mask_phone(phone),
                    floating_type if floating else registered_type,
                    active,
                    house0 + (i % nh),
                    "",
                    origin,
                    today - dt.timedelta(days=int(r[1] * 3650)),
                    "01" if floating else "",
                    "01" if floating else "",
                )
            )
    return out


def _places(world: World, seed: int, end: dt.datetime, timer: Timer) -> None:
    kinds = list(codes.PlaceKind.values)
    rng = random.Random(f"{seed}:places")
    writer = BulkWriter(
        Place,
        [
            "region_id",
            "region_path",
            "lat",
            "lng",
            "kind",
            "name",
            "address",
            "risk_level",
            "inspection_cycle_days",
            "last_inspected_on",
            "next_inspection_due",
        ],
    )
    today = end.date()

    def rows() -> Iterator[tuple[Any, ...]]:
        for leaf in world.leaves:
            for k in range(2):
                kind = kinds[rng.randrange(len(kinds))]
                last = today - dt.timedelta(days=rng.randrange(60))
                cycle = 30
                yield (
                    leaf.id,
                    leaf.path,
                    leaf.lat,
                    leaf.lng,
                    kind,
                    f"{codes.PlaceKind(kind).label}{leaf.code[-6:]}-{k + 1}",
                    f"{ROADS[leaf.id % len(ROADS)]}{leaf.id % 900 + k + 1}号",
                    str(rng.choice("1234") if kind in ("hazchem", "high_rise") else "3"),
                    cycle,
                    last,
                    last + dt.timedelta(days=cycle),
                )

    with deferred_constraints(Place), timer.table("places") as count:
        count[0] = writer.write(rows())


# --- cases -------------------------------------------------------------------------------------------

STAGE: dict[str, int] = {
    State.REPORTED: 0,
    State.ACCEPTED: 1,
    State.SUPERVISING: 1,
    State.DISPATCHED: 2,
    State.HANDLING: 3,
    State.HANDLED: 4,
    State.SETTLE_PENDING: 4,
    State.VERIFIED: 5,
    State.CLOSED: 6,
    State.REJECTED: 0,
    State.MERGED: 0,
}


@dataclass
class _Timeline:
    reported: dt.datetime
    accepted: dt.datetime | None = None
    dispatched: dt.datetime | None = None
    signed: dt.datetime | None = None
    handled: dt.datetime | None = None
    closed: dt.datetime | None = None

    @property
    def last(self) -> dt.datetime:
        return self.closed or self.handled or self.signed or self.dispatched or self.accepted or self.reported

    def clip(self, end: dt.datetime, state: str) -> str:
        """Drop the steps after `end`; the state falls back to the step the case is in then."""
        for attr, before in (
            ("closed", State.VERIFIED),
            ("handled", State.HANDLING),
            ("signed", State.DISPATCHED),
            ("dispatched", State.ACCEPTED),
            ("accepted", State.REPORTED),
        ):
            at = getattr(self, attr)
            if at is not None and at > end:
                setattr(self, attr, None)
                state = before
        if state == State.SUPERVISING and self.accepted is None:
            state = State.REPORTED
        return state


TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_TRACK_MOD = 32**10
_TRACK_MUL = 0x9E3779B97F4A7C15 % _TRACK_MOD | 1  # odd → a bijection modulo 32^10


def tracking_code(i: int) -> str:
    """Distinct for distinct i < 32^10 and not sequential-looking (synthetic data only: live
    cases draw random codes)."""
    v = (i * _TRACK_MUL + 12345) % _TRACK_MOD
    out = []
    for _ in range(10):
        v, r = divmod(v, 32)
        out.append(TRACKING_ALPHABET[r])
    return "".join(out)


def _cases(world: World, n_cases: int, seed: int, end: dt.datetime, timer: Timer, processes: int) -> None:
    if n_cases <= 0 or not world.leaves:
        return
    rng = np.random.default_rng([seed, 11])
    tz = timezone.get_current_timezone()
    leaves = world.leaves
    leaf_weights = np.array([max(leaf.population, 1) for leaf in leaves], dtype=float)
    leaf_idx = rng.choice(len(leaves), size=n_cases, p=leaf_weights / leaf_weights.sum())
    # Report instants: uniform over the year, daytime-heavy (08–20 h carries 85%).
    day_offset = rng.integers(1, 366, size=n_cases)
    daytime = rng.random(n_cases) < 0.85
    seconds = np.where(daytime, rng.integers(8 * 3600, 20 * 3600, n_cases), rng.integers(0, 24 * 3600, n_cases))
    order = np.lexsort((seconds, -day_offset))  # chronological
    leaf_idx, day_offset, seconds = leaf_idx[order], day_offset[order], seconds[order]

    leaf_cats = list(
        CaseCategory.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent")
        .order_by("code")
        .values_list("id", "code", "name")
    )
    cat_w = 1.0 / np.arange(1, len(leaf_cats) + 1) ** 0.8
    cat_idx = rng.choice(len(leaf_cats), size=n_cases, p=cat_w / cat_w.sum())
    sources = list(SOURCE_WEIGHTS)
    src_w = np.array(list(SOURCE_WEIGHTS.values()), dtype=float)
    src_idx = rng.choice(len(sources), size=n_cases, p=src_w / src_w.sum())
    urg = rng.choice(3, size=n_cases, p=[0.9, 0.08, 0.02])
    urgencies = [Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL]
    u = rng.random((n_cases, 8))
    open_states = list(OPEN_MIX)
    open_w = np.array(list(OPEN_MIX.values()), dtype=float)
    open_pick = rng.choice(len(open_states), size=n_cases, p=open_w / open_w.sum())
    handle_hours = rng.lognormal(mean=math.log(30), sigma=0.9, size=n_cases)

    first_case = next_id(Case)
    counters: dict[str, int] = {}
    case_cols = [
        "id",
        "number",
        "tracking_code",
        "source",
        "category_id",
        "urgency",
        "description",
        "address",
        "lat",
        "lng",
        "region_id",
        "region_path",
        "center_id",
        "state",
        "version",
        "reporter_id",
        "reporter_name",
        "reporter_phone",
        "department_id",
        "handler_id",
        "merged_into_id",
        "reported_at",
        "accepted_at",
        "dispatched_at",
        "signed_at",
        "handled_at",
        "closed_at",
        "sign_deadline",
        "handle_deadline",
        "deadline",
        "warn_at",
        "signed_late",
        "result",
        "settled_on_spot",
        "satisfaction",
        "rated_at",
        "supervised",
        "created_at",
        "updated_at",
    ]
    event_cols = [
        "case_id",
        "at",
        "action",
        "from_state",
        "to_state",
        "actor_id",
        "unit_label",
        "public_note",
        "is_public",
        "detail",
    ]
    assign_cols = ["case_id", "department_id", "role", "active", "assigned_at"]

    # Case numbers: the day's sequence per district, in report order (the cases are sorted).
    seqs = np.empty(n_cases, dtype=np.int64)
    for i in range(n_cases):
        leaf = leaves[int(leaf_idx[i])]
        local_day = end.date() - dt.timedelta(days=int(day_offset[i]))
        key = f"{world.district_codes[leaf.district]}-{local_day:%Y%m%d}"
        seqs[i] = counters[key] = counters.get(key, 0) + 1
    _SHARED.update(
        leaves=leaves,
        leaf_idx=leaf_idx,
        day_offset=day_offset,
        seconds=seconds,
        leaf_cats=leaf_cats,
        cat_idx=cat_idx,
        sources=sources,
        src_idx=src_idx,
        urg=urg,
        urgencies=urgencies,
        open_states=open_states,
        open_pick=open_pick,
        handle_hours=handle_hours,
        first_case=first_case,
        end=end,
        tz=tz,
        seqs=seqs,
        world=world,
        u=u,
    )
    events: list[tuple[Any, ...]] = []
    assignments: list[tuple[Any, ...]] = []
    tasks = [(a, min(a + 20_000, n_cases)) for a in range(0, n_cases, 20_000)]

    def rows() -> Iterator[tuple[Any, ...]]:
        for chunk_cases, chunk_events, chunk_assignments in parallel_map(_case_chunk, tasks, processes):
            events.extend(chunk_events)
            assignments.extend(chunk_assignments)
            yield from chunk_cases

    case_w = BulkWriter(Case, case_cols)
    with deferred_constraints(Case), timer.table("cases") as count:
        count[0] = case_w.write(rows())
    with deferred_constraints(CaseEvent), timer.table("case events") as count:
        count[0] = BulkWriter(CaseEvent, event_cols).write(events)
    with deferred_constraints(CaseAssignment), timer.table("case assignments") as count:
        count[0] = BulkWriter(CaseAssignment, assign_cols).write(assignments)
    CaseCounter.objects.bulk_create(
        [CaseCounter(key=k, value=v) for k, v in counters.items()],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["value"],
    )
    reset_sequences(Case, CaseEvent, CaseAssignment)


def _case_chunk(task: tuple[int, int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Case rows [a, b), with their timeline and assignment rows (runs in a worker process)."""
    a, b = task
    sh = _SHARED
    leaves, leaf_idx, day_offset, seconds = sh["leaves"], sh["leaf_idx"], sh["day_offset"], sh["seconds"]
    leaf_cats, cat_idx, sources, src_idx = sh["leaf_cats"], sh["cat_idx"], sh["sources"], sh["src_idx"]
    urg, urgencies, open_states, open_pick = sh["urg"], sh["urgencies"], sh["open_states"], sh["open_pick"]
    handle_hours, first_case, end, tz, seqs = sh["handle_hours"], sh["first_case"], sh["end"], sh["tz"], sh["seqs"]
    world: World = sh["world"]
    u = sh["u"][a:b].tolist()
    midnight = end
    hour = dt.timedelta(hours=1)
    final = {State.CLOSED, State.REJECTED, State.MERGED}
    cases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    assignments: list[tuple[Any, ...]] = []
    details: dict[tuple[str, str], str] = {}
    scores = {n: json.dumps({"score": n}) for n in range(1, 6)}
    state: str
    for i in range(a, b):
        pk = first_case + i
        leaf = leaves[int(leaf_idx[i])]
        reported = midnight - dt.timedelta(days=int(day_offset[i])) + dt.timedelta(seconds=int(seconds[i]))
        age_days = (end - reported).total_seconds() / 86400
        r = u[i - a]
        # Open with a probability falling with age: ~2.5 weeks of open work, a long tail.
        if r[0] < math.exp(-age_days / 6.0) or r[0] < 0.003:
            state = open_states[int(open_pick[i])]
        elif r[1] < 0.025:
            state = State.REJECTED
        elif r[1] < 0.04 and i > 0:
            state = State.MERGED
        else:
            state = State.CLOSED
        source = sources[int(src_idx[i])]
        cat_id, cat_code, cat_name = leaf_cats[int(cat_idx[i])]
        district = leaf.district
        depts = world.departments[district]
        dept_id, handler_id = depts[(int(cat_code) + leaf.id) % len(depts)]
        reporter = world.grid_worker.get(leaf.grid_id) if source == Source.GRID_WORKER else None
        settled = state == State.SETTLE_PENDING or (state == State.CLOSED and r[2] < 0.12)
        t = _Timeline(reported)
        if settled:
            t.handled = reported
            if state == State.CLOSED:
                t.closed = reported + 20 * hour
            if t.closed is not None and t.closed > end:
                t.closed, state = None, State.SETTLE_PENDING
        elif state in (State.REJECTED, State.MERGED):
            t.closed = min(reported + 2 * hour, end)
        else:
            stage = STAGE[state]
            if stage >= 1:
                t.accepted = reported + hour * float(0.2 + r[3])
            if stage >= 2:
                t.dispatched = t.accepted + hour * float(0.3 + r[3])  # type: ignore[operator,assignment]
            if stage >= 3:
                t.signed = t.dispatched + hour * float(0.5 + 6 * r[4])  # type: ignore[operator,assignment]
            if stage >= 4:
                t.handled = t.signed + hour * float(handle_hours[i])  # type: ignore[operator,assignment]
            if stage >= 6:
                t.closed = t.handled + hour * float(2 + 10 * r[5])  # type: ignore[operator,assignment]
            # Nothing happens after the dataset's "now": a step still to come keeps the case open.
            state = t.clip(end, state)
        stage = STAGE[state]
        department = handler = merged_into = None
        sign_deadline = handle_deadline = deadline = warn = None
        signed_late = False
        if t.dispatched is not None:
            sign_deadline = t.dispatched + 4 * hour
            handle_deadline = t.dispatched + dt.timedelta(days=7 if urg[i] == 0 else 2)
            department, handler = dept_id, handler_id
            assignments.append((pk, dept_id, "lead", state not in final, t.dispatched))
            signed_late = t.signed is not None and t.signed > sign_deadline
        if state == State.MERGED:
            merged_into = pk - 1
        if state not in final:
            long_step = state in (State.HANDLING, State.DISPATCHED)
            span = dt.timedelta(days=7 if urg[i] == 0 else 2) if long_step else 4 * hour
            deadline = t.last + span
            warn = deadline - span / 4
        satisfaction = rated = None
        if state == State.CLOSED and r[6] < 0.6:
            satisfaction = 5 if r[7] < 0.7 else 4 if r[7] < 0.92 else 3 if r[7] < 0.97 else 2
            rated = t.closed + 24 * hour  # type: ignore[operator,assignment]
            if rated > end:  # type: ignore[operator,assignment]
                satisfaction = rated = None
        accepted, dispatched, signed, handled, closed = t.accepted, t.dispatched, t.signed, t.handled, t.closed
        result = "现场已化解" if settled else ("已处置完毕" if handled else "")
        local = reported.astimezone(tz)
        key = f"{world.district_codes[district]}-{local:%Y%m%d}"
        seq = int(seqs[i])
        last = closed or rated or handled or signed or dispatched or accepted or reported
        cases.append(
            (
                pk,
                f"{key}-{seq:06d}",
                tracking_code(pk),
                source,
                cat_id,
                urgencies[int(urg[i])],
                f"{cat_name}：{ROADS[leaf.id % len(ROADS)]}附近群众反映，请核实处置。",
                f"{ROADS[leaf.id % len(ROADS)]}{leaf.id % 900 + 1}号附近",
                leaf.lat + (r[3] - 0.5) * 2e-4,
                leaf.lng + (r[4] - 0.5) * 2e-4,
                leaf.id,
                leaf.path,
                world.district_ids[district] if state == State.SUPERVISING else leaf.town_id,
                state,
                1 + stage,
                reporter,
                "" if reporter else "市民",
                "" if reporter else f"139{pk % 10**8:08d}",
                department,
                handler,
                merged_into,
                reported,
                accepted,
                dispatched,
                signed,
                handled,
                closed,
                sign_deadline,
                handle_deadline,
                deadline,
                warn,
                signed_late,
                result,
                settled,
                satisfaction,
                rated,
                state == State.SUPERVISING or (state == State.CLOSED and r[2] > 0.99),
                reported,
                last,
            )
        )
        detail = details.get((source, cat_code))
        if detail is None:
            detail = details[(source, cat_code)] = json.dumps({"source": source, "photos": 0, "category": cat_code})
        events.append(
            (
                pk,
                reported,
                "settle" if settled else "report",
                "",
                State.SETTLE_PENDING if settled else State.REPORTED,
                reporter,
                "",
                "问题已登记",
                True,
                detail,
            )
        )
        if state == State.CLOSED:
            action = "approve_settle" if settled else "close"
            events.append((pk, closed, action, State.VERIFIED, State.CLOSED, None, "", "已结案", True, "{}"))
            if satisfaction is not None:
                events.append(
                    (
                        pk,
                        rated,
                        "rate",
                        State.CLOSED,
                        State.CLOSED,
                        None,
                        "",
                        "",
                        True,
                        scores[satisfaction],
                    )
                )
        elif state in (State.REJECTED, State.MERGED):
            action = "reject" if state == State.REJECTED else "merge"
            events.append((pk, closed, action, State.REPORTED, state, None, "", "", True, "{}"))
    return cases, events, assignments
