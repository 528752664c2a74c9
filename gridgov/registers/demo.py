"""Demo registers: one town (城厢街道, 330109001) populated at the density its regions declare —
every micro-grid gets addresses, buildings, houses, households and people (valid synthetic ID
numbers, sealed like real ones), plus special groups with visit obligations, places,
organisations, schools, line-protection segments and governance bodies.

Bulk paths only (bulk_create in large batches, hashes and masks computed in the loop, encryption
inside the insert), so the loader stays well under a minute on SQLite. Idempotent: a town that
already has people is left alone.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone

from gridgov.accounts.demo import person_name
from gridgov.accounts.models import Role, TeamMembership, User
from gridgov.common import clock
from gridgov.common.masking import mask_id_number, mask_phone
from gridgov.regions.models import Level, Region

from . import codes, crypto
from .codes import AttentionLevel, GroupKind, PersonStatus, PopulationType
from .groups import DEFAULT_INTERVALS
from .idnumber import check_character, uscc_check_character
from .models import (
    Address,
    Building,
    GovernanceOrg,
    GroupMembership,
    House,
    Household,
    HouseholdKind,
    LineSegment,
    Organisation,
    Person,
    Place,
    School,
    Team,
    Unit,
    Visit,
)
from .services.entities import DEFAULT_CYCLE

TOWN_SUFFIX = "001"  # 城厢街道
SEED = 20260501
BATCH = 5000

ROADS = [
    "人民路",
    "市心中路",
    "城河街",
    "北干山南路",
    "萧绍路",
    "工人路",
    "体育路",
    "文化路",
    "育才路",
    "西河路",
    "江寺路",
    "山阴路",
    "南门江路",
    "回澜路",
    "潘水路",
    "崇化路",
    "高桥路",
    "湘湖路",
    "拱秀路",
    "燕子河路",
]
ESTATES = ["花园", "新村", "小区", "苑", "公寓", "家园", "华庭", "雅苑"]
# Address codes of the places floating residents come from (GB/T 2260): 安徽临泉, 河南郸城,
# 贵州威宁, 四川邻水, 江西鄱阳, 湖南邵东, 江苏沭阳, 浙江淳安, 云南镇雄, 广西陆川.
ORIGINS = ["341221", "411625", "522427", "511623", "361128", "430521", "321322", "330127", "530627", "450922"]
# Xiaoshan's own codes: 330109 since 2001, 330121 for people registered before.
LOCAL = ["330109", "330121"]
FOREIGN = [
    ("KOR", "Kim Minjun", "金敏俊"),
    ("JPN", "Sato Haruto", "佐藤阳翔"),
    ("USA", "Emily Johnson", "艾米丽"),
    ("DEU", "Lukas Müller", "卢卡斯"),
]
# Prevalence per person in the population (national registers: 严重精神障碍 about 4‰ detected).
GROUP_RATES = {
    GroupKind.MENTAL: 0.0035,
    GroupKind.RELEASED: 0.0012,
    GroupKind.CORRECTION: 0.0005,
    GroupKind.DRUG: 0.0009,
    GroupKind.HIV: 0.0002,
    GroupKind.YOUTH: 0.0020,
}


ID_CONTEXT = Person._meta.get_field("id_number").context  # type: ignore[union-attr]
PHONE_CONTEXT = Person._meta.get_field("phone").context  # type: ignore[union-attr]


@dataclass
class HouseRow:
    id: int
    is_rental: bool
    region_id: int
    region_path: str
    lat: float | None
    lng: float | None


@dataclass
class PersonRow:
    id_hash: str
    birth_date: dt.date
    population_type: str
    region_id: int
    region_path: str
    lat: float | None
    lng: float | None


def fast_insert(model: type[Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT … VALUES through executemany, bypassing per-field ORM preparation (the cost that
    dominates a bulk_create of hundreds of thousands of wide rows). Values are adapted with the
    backend's own converters, so SQLite and PostgreSQL get what the ORM would have written;
    NOT NULL columns not listed get their field default."""
    ops = connection.ops
    fields: list[Any] = [model._meta.get_field(n.removesuffix("_id") if n.endswith("_id") else n) for n in columns]
    converters: list[Callable[[Any], Any] | None] = [_converter(f) for f in fields]
    listed = {f.name for f in fields}
    defaults: list[Any] = [
        f
        for f in model._meta.concrete_fields
        if f.name not in listed and not f.primary_key and not f.null and f.get_default() is not None
    ]
    constants = tuple(f.get_db_prep_save(f.get_default(), connection) for f in defaults)
    db_columns = [str(f.column) for f in [*fields, *defaults]]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(c) for c in db_columns),
        ", ".join(["%s"] * len(db_columns)),
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is the PostgreSQL bulk path: one stream instead of a statement per row.
            copy_sql = "COPY {} ({}) FROM STDIN".format(
                ops.quote_name(model._meta.db_table), ", ".join(ops.quote_name(c) for c in db_columns)
            )
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(
                        tuple(v if c is None or v is None else c(v) for v, c in zip(row, converters, strict=True))
                        + constants
                    )
            return
        for start in range(0, len(rows), 20_000):
            chunk = [
                tuple(v if conv is None or v is None else conv(v) for v, conv in zip(row, converters, strict=True))
                + constants
                for row in rows[start : start + 20_000]
            ]
            cursor.executemany(sql, chunk)


def _converter(f: Any) -> Callable[[Any], Any] | None:
    ops = connection.ops
    internal = f.get_internal_type()
    if internal == "DateTimeField":
        # Loaders stamp thousands of rows with the same instant: adapt each distinct value once.
        cache: dict[Any, Any] = {}

        def adapt(v: Any) -> Any:
            if v not in cache:
                cache[v] = ops.adapt_datetimefield_value(v)
            return cache[v]

        return adapt
    if internal == "DateField":
        return ops.adapt_datefield_value  # type: ignore[no-any-return]
    if internal == "DecimalField":
        return lambda v: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
    return None


def load(log: Callable[[str], None] = print, *, town_code: str | None = None) -> None:
    district_code = str(settings.GRIDGOV["DISTRICT_CODE"])
    town = Region.objects.filter(code=town_code or f"{district_code}{TOWN_SUFFIX}").first()
    if town is None:
        log("registers: demo town not found, nothing loaded")
        return
    if Person.objects.filter(region_path__startswith=town.path).exists():
        log(f"registers: {town.name} already loaded")
        return
    if connection.vendor == "sqlite":
        # The hash indexes take keys in random order; with SQLite's default 2 MB page cache
        # every insert misses. A larger cache for this connection keeps the load fast.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
    with transaction.atomic():
        Loader(town, log).run()


def _phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + str(rng.randint(0, 9)) + f"{rng.randint(0, 99_999_999):08d}"


class Loader:
    def __init__(self, town: Region, log: Callable[[str], None]) -> None:
        self.town = town
        self.log = log
        self.rng = random.Random(f"{SEED}:{town.code}")
        self.today = clock.today()
        self.used_ids: set[str] = set()
        self.counts: dict[str, int] = {}

    def run(self) -> None:
        started = time.monotonic()
        leaves = self._leaves()
        houses_by_leaf = self._address_registry(leaves)
        self.log(f"registers: address registry {time.monotonic() - started:.1f}s")
        self._people(leaves, houses_by_leaf)
        self.log(f"registers: people {time.monotonic() - started:.1f}s")
        self._groups()
        self._places(leaves)
        self._organisations(leaves)
        self._schools(leaves)
        self._governance()
        self.log("registers: " + ", ".join(f"{k} {v:,}" for k, v in self.counts.items()))

    def _leaves(self) -> list[Region]:
        regions = list(
            Region.objects.filter(path__startswith=self.town.path, level__in=[Level.GRID, Level.MICROGRID]).order_by(
                "path"
            )
        )
        parents = {r.parent_id for r in regions if r.level == Level.MICROGRID}
        return [r for r in regions if r.level == Level.MICROGRID or r.id not in parents]

    # --- address registry ----------------------------------------------------------------------
    def _address_registry(self, leaves: list[Region]) -> dict[int, list[HouseRow]]:
        rng = self.rng
        addresses: list[Address] = []
        plan: list[tuple[Address, int, int, int, int]] = []  # address, buildings, floors, units, per floor
        for leaf in leaves:
            target = max(leaf.households, 8)
            high_rise = rng.random() < 0.25
            floors, units, per = (
                (rng.choice([11, 18, 24]), 2, 2) if high_rise else (rng.choice([4, 5, 6, 7]), rng.choice([1, 2, 3]), 2)
            )
            per_building = floors * units * per
            n_buildings = max(1, math.ceil(target * 1.06 / per_building))
            road = rng.choice(ROADS)
            lat, lng = leaf.centroid_lat or 30.16, leaf.centroid_lng or 120.27
            address = Address(
                code=f"{leaf.code}0001",
                road=road,
                number=str(rng.randint(1, 399)),
                estate=f"{leaf.name[:2]}{rng.choice(ESTATES)}" if leaf.level == Level.MICROGRID else "",
                region=leaf,
                region_path=leaf.path,
                lat=lat,
                lng=lng,
            )
            addresses.append(address)
            plan.append((address, n_buildings, floors, units, per))
        Address.objects.bulk_create(addresses, batch_size=BATCH)
        buildings: list[Building] = []
        for address, n, floors, units, _per in plan:
            for seq in range(1, n + 1):
                buildings.append(
                    Building(
                        address=address,
                        code=f"{address.code}{seq:02d}",
                        name=f"{seq}幢",
                        use=codes.BuildingUse.RESIDENTIAL if rng.random() > 0.08 else codes.BuildingUse.MIXED,
                        floors=floors,
                        unit_count=units,
                        manager_name=person_name(rng),
                        region_id=address.region_id,
                        region_path=address.region_path,
                        lat=(address.lat or 0) + rng.uniform(-0.0004, 0.0004),
                        lng=(address.lng or 0) + rng.uniform(-0.0004, 0.0004),
                    )
                )
        Building.objects.bulk_create(buildings, batch_size=BATCH)
        per_of = {id(a): per for a, _n, _f, _u, per in plan}
        unit_rows = [Unit(building=b, number=u) for b in buildings for u in range(1, b.unit_count + 1)]
        Unit.objects.bulk_create(unit_rows, batch_size=BATCH)
        units_by_building: dict[int, list[Unit]] = {}
        for unit in unit_rows:
            units_by_building.setdefault(unit.building_id, []).append(unit)
        now = timezone.now()
        house_rows: list[tuple[Any, ...]] = []
        for b in buildings:
            per = per_of[id(b.address)]
            for unit in units_by_building[b.pk]:
                for floor in range(1, b.floors + 1):
                    for i in range(1, per + 1):
                        number = f"{floor}{i:02d}"
                        rental = rng.random() < 0.12
                        hazard = (
                            (codes.RentalHazard.FIRE if rng.random() < 0.1 else codes.RentalHazard.NONE)
                            if rental
                            else ""
                        )
                        house_rows.append(
                            (
                                f"{b.code}{unit.number:02d}{number.rjust(4, '0')}",
                                b.pk,
                                unit.pk,
                                floor,
                                number,
                                Decimal(rng.choice([48, 65, 78, 89, 96, 110, 128, 140])),
                                codes.BuildingUse.RESIDENTIAL,
                                rental,
                                codes.RentalUse.HOUSING if rental else "",
                                hazard,
                                b.region_id,
                                b.region_path,
                                b.lat,
                                b.lng,
                                now,
                                now,
                            )
                        )
        fast_insert(
            House,
            [
                "code",
                "building_id",
                "unit_id",
                "floor",
                "number",
                "area",
                "use",
                "is_rental",
                "rental_use",
                "rental_hazard",
                "region_id",
                "region_path",
                "lat",
                "lng",
                "created_at",
                "updated_at",
            ],
            house_rows,
        )
        ids = dict(House.objects.filter(region_path__startswith=self.town.path).values_list("code", "id"))
        self.buildings = buildings
        by_leaf: dict[int, list[HouseRow]] = {}
        for row in house_rows:
            by_leaf.setdefault(row[10], []).append(HouseRow(ids[row[0]], row[7], row[10], row[11], row[12], row[13]))
        self.counts |= {"addresses": len(addresses), "buildings": len(buildings), "houses": len(house_rows)}
        return by_leaf

    # --- people --------------------------------------------------------------------------------
    def _id(self, region: str, birth: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + check_character(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def _birth(self, lo: int, hi: int) -> dt.date:
        age_days = self.rng.randint(lo * 365 + 1, hi * 365 + 300)
        return self.today - dt.timedelta(days=age_days)

    def _people(self, leaves: list[Region], houses_by_leaf: dict[int, list[HouseRow]]) -> None:
        rng = self.rng
        now = timezone.now()
        household_rows: list[tuple[Any, ...]] = []
        families: list[tuple[HouseRow, list[dict[str, Any]]]] = []
        for leaf in leaves:
            houses = houses_by_leaf.get(leaf.id, [])
            rng.shuffle(houses)
            n_households = min(len(houses), max(leaf.households, 1))
            remaining = max(leaf.population, n_households)
            for i, house in enumerate(houses[:n_households]):
                left = n_households - i
                if left == 1:
                    size = remaining
                else:
                    size = max(1, min(6, round(rng.gauss(remaining / left, 1.0)), remaining - (left - 1)))
                remaining -= size
                if house.is_rental:
                    kind = HouseholdKind.RESIDENT
                else:
                    kind = HouseholdKind.REGISTERED if rng.random() < 0.7 else HouseholdKind.RESIDENT
                household_rows.append(
                    (house.id, "01", kind, True, house.region_id, house.region_path, house.lat, house.lng, now, now)
                )
                floating = house.is_rental or (kind == HouseholdKind.RESIDENT and rng.random() < 0.6)
                families.append((house, self._family(size, floating=floating)))
        fast_insert(
            Household,
            [
                "house_id",
                "number",
                "kind",
                "is_active",
                "region_id",
                "region_path",
                "lat",
                "lng",
                "created_at",
                "updated_at",
            ],
            household_rows,
        )
        household_of = dict(
            Household.objects.filter(region_path__startswith=self.town.path).values_list("house_id", "id")
        )
        person_rows: list[tuple[Any, ...]] = []
        self.people: list[PersonRow] = []
        sealer = crypto.BatchSealer()
        for house, family in families:
            for m in family:
                number, phone = m["id_number"], m["phone"]
                id_hash = sealer.hash(number, kind="id")
                person_rows.append(
                    (
                        m["name"],
                        m["gender"],
                        m["birth_date"],
                        "01",
                        m["doc_type"],
                        sealer.encrypt(number, context=ID_CONTEXT),
                        id_hash,
                        mask_id_number(number),
                        sealer.encrypt(phone, context=PHONE_CONTEXT),
                        sealer.hash(phone, kind="phone"),
                        mask_phone(phone),
                        m["population_type"],
                        PersonStatus.ACTIVE,
                        house.id,
                        household_of[house.id],
                        m["relation"],
                        m["origin_code"],
                        m["occupation"],
                        m.get("hukou_consistency", ""),
                        m.get("inflow_reason", ""),
                        m.get("permit_type", ""),
                        m.get("residence_type", ""),
                        m.get("foreign_name", ""),
                        m.get("nationality", ""),
                        m.get("visit_purpose", ""),
                        m["moved_in_on"],
                        house.region_id,
                        house.region_path,
                        house.lat,
                        house.lng,
                        now,
                        now,
                    )
                )
                self.people.append(
                    PersonRow(
                        id_hash,
                        m["birth_date"],
                        m["population_type"],
                        house.region_id,
                        house.region_path,
                        house.lat,
                        house.lng,
                    )
                )
        fast_insert(
            Person,
            [
                "name",
                "gender",
                "birth_date",
                "ethnicity",
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
                "household_id",
                "relation",
                "origin_code",
                "occupation",
                "hukou_consistency",
                "inflow_reason",
                "permit_type",
                "residence_type",
                "foreign_name",
                "nationality",
                "visit_purpose",
                "moved_in_on",
                "region_id",
                "region_path",
                "lat",
                "lng",
                "created_at",
                "updated_at",
            ],
            person_rows,
        )
        head = Person.objects.filter(household=OuterRef("pk"), relation=codes.Relation.HEAD).values("pk")[:1]
        Household.objects.filter(region_path__startswith=self.town.path).update(head=Subquery(head))
        self.counts |= {"households": len(household_rows), "people": len(person_rows)}

    def _family(self, size: int, *, floating: bool) -> list[dict[str, Any]]:
        rng = self.rng
        out: list[dict[str, Any]] = []
        surname_source = person_name(rng)
        ptype = PopulationType.FLOATING if floating else PopulationType.REGISTERED
        region = rng.choice(ORIGINS) if floating else rng.choice(LOCAL)
        roles: list[tuple[str, int, int]] = [(codes.Relation.HEAD, 28, 75)]
        if size >= 2:
            roles.append((codes.Relation.SPOUSE, 26, 72))
        for _ in range(size - len(roles)):
            roles.append(
                rng.choice(
                    [
                        (codes.Relation.SON, 1, 30),
                        (codes.Relation.DAUGHTER, 1, 30),
                        (codes.Relation.PARENT, 55, 90),
                        (codes.Relation.GRANDCHILD, 0, 12),
                    ]
                )
            )
        head_male = rng.random() < 0.75
        for relation, lo, hi in roles:
            male = (
                head_male
                if relation == codes.Relation.HEAD
                else (not head_male if relation == codes.Relation.SPOUSE else rng.random() < 0.5)
            )
            if relation == codes.Relation.SON:
                male = True
            elif relation == codes.Relation.DAUGHTER:
                male = False
            birth = self._birth(lo, hi)
            if relation == codes.Relation.HEAD:
                name = surname_source
            elif relation in (codes.Relation.SON, codes.Relation.DAUGHTER, codes.Relation.GRANDCHILD):
                name = surname_source[0] + person_name(rng)[1:]
            else:
                name = person_name(rng)
            number = self._id(region, birth, male)
            foreign = floating and relation == codes.Relation.HEAD and rng.random() < 0.004
            entry: dict[str, Any] = {
                "name": name,
                "gender": "1" if male else "2",
                "birth_date": birth,
                "doc_type": codes.DocumentType.RESIDENT_ID,
                "id_number": number,
                "population_type": ptype,
                "relation": relation,
                "origin_code": region,
                "phone": _phone(rng)
                if birth < self.today - dt.timedelta(days=16 * 365) and rng.random() < 0.85
                else "",
                "moved_in_on": self.today - dt.timedelta(days=rng.randint(30, 365 * (3 if floating else 20))),
                "occupation": _occupation(rng, (self.today - birth).days // 365, floating),
            }
            if floating:
                entry |= {
                    "inflow_reason": rng.choice(["01", "01", "01", "03", "06", "08"]),
                    "permit_type": codes.PermitType.RESIDENCE if rng.random() < 0.7 else "",
                    "residence_type": rng.choice(["02", "02", "05", "04"]),
                }
            else:
                entry["hukou_consistency"] = "01" if rng.random() < 0.9 else "02"
            if foreign:
                nat, latin, chinese = rng.choice(FOREIGN)
                entry |= {
                    "name": chinese,
                    "foreign_name": latin,
                    "nationality": nat,
                    "population_type": PopulationType.FOREIGN,
                    "doc_type": codes.DocumentType.PASSPORT,
                    "id_number": f"{nat[0]}{rng.randint(10_000_000, 99_999_999)}",
                    "visit_purpose": rng.choice(["01", "02", "03"]),
                    "origin_code": "",
                    "inflow_reason": "",
                    "permit_type": "",
                    "residence_type": "",
                }
            out.append(entry)
        return out

    # --- special groups and visits -------------------------------------------------------------
    def _groups(self) -> None:
        rng = self.rng
        workers: dict[str, list[int]] = {}
        for tm in TeamMembership.objects.filter(
            region__path__startswith=self.town.path, user__role=Role.GRID_WORKER
        ).select_related("region"):
            workers.setdefault(tm.region.path, []).append(tm.user_id)
        fallback = (
            User.objects.filter(role=Role.GRID_WORKER, jurisdiction__path__startswith=self.town.path)
            .values_list("pk", flat=True)
            .first()
        )
        memberships: list[GroupMembership] = []
        visits: list[Visit] = []
        helper_links: list[tuple[int, int]] = []
        now = clock.now()
        adults = [p for p in self.people if p.population_type != PopulationType.FOREIGN]
        for kind, rate in GROUP_RATES.items():
            if kind == GroupKind.YOUTH:
                pool = [p for p in adults if 6 * 365 <= (self.today - p.birth_date).days <= 25 * 365]
            else:
                pool = [p for p in adults if (self.today - p.birth_date).days >= 18 * 365]
            for person in rng.sample(pool, min(len(pool), round(len(self.people) * rate))):
                level = rng.choices(
                    [AttentionLevel.HIGH, AttentionLevel.MEDIUM, AttentionLevel.LOW], weights=[2, 3, 5]
                )[0]
                interval = DEFAULT_INTERVALS[kind][level]
                started = self.today - dt.timedelta(days=rng.randint(60, 900))
                # Most obligations are met; some are a few days late, as in any real grid.
                lateness = rng.random()
                last_visit = now - dt.timedelta(
                    days=rng.randint(0, interval - 1) if lateness < 0.8 else interval + rng.randint(1, 20),
                    hours=rng.randint(0, 8),
                )
                grid_path = "/".join(person.region_path.split("/")[:-2]) + "/"
                team = workers.get(person.region_path) or workers.get(grid_path)
                visitor = team[0] if team else fallback
                m = GroupMembership(
                    person_id=person.id_hash,
                    kind=kind,
                    attention_level=level,
                    risk_code=_risk(kind, level, rng),
                    details=_details(kind, rng, self.today),
                    started_on=started,
                    region_path=person.region_path,
                    last_visit_at=last_visit,
                    next_visit_due=timezone.localdate(last_visit) + dt.timedelta(days=interval),
                    helper_note=rng.choice(["片区民警", "司法所工作人员", "社区医生", "家属", ""]),
                )
                memberships.append(m)
                if visitor:
                    helper_links.append((len(memberships) - 1, visitor))
                    visits.append(
                        Visit(
                            visitor_id=visitor,
                            visited_at=last_visit,
                            kind=codes.VisitKind.HELP if kind != GroupKind.MENTAL else codes.VisitKind.FOLLOW_UP,
                            outcome=rng.choice(
                                [codes.VisitOutcome.NORMAL] * 6
                                + [codes.VisitOutcome.ATTENTION, codes.VisitOutcome.NOT_MET]
                            ),
                            findings=rng.choice(
                                [
                                    "本人在家，情绪稳定，生活正常。",
                                    "与家属交谈，近况良好，按时服药。",
                                    "已落实就业，思想稳定。",
                                    "本人外出务工，电话联系正常。",
                                    "家中有困难，已反映社区协调帮扶。",
                                ]
                            ),
                            person_id=person.id_hash,
                            region_id=person.region_id,
                            region_path=person.region_path,
                            lat=person.lat,
                            lng=person.lng,
                        )
                    )
        hashes = {m.person_id for m in memberships}
        pk_of = dict(Person.objects.filter(id_hash__in=hashes).values_list("id_hash", "id"))
        for m in memberships:
            m.person_id = pk_of[m.person_id]  # type: ignore[index]
        for v in visits:
            v.person_id = pk_of[v.person_id]  # type: ignore[index]
        GroupMembership.objects.bulk_create(memberships, batch_size=BATCH)
        through = GroupMembership.helpers.through
        through.objects.bulk_create(
            [through(groupmembership_id=memberships[i].pk, user_id=u) for i, u in helper_links], batch_size=BATCH
        )
        Visit.objects.bulk_create(visits, batch_size=BATCH)
        Person.objects.filter(pk__in=[m.person_id for m in memberships]).update(is_key_focus=True)
        self.counts |= {"special-group members": len(memberships), "visits": len(visits)}

    # --- places, organisations, schools, lines, governance -------------------------------------
    def _near(self, leaf: Region) -> tuple[float, float]:
        return (leaf.centroid_lat or 30.16) + self.rng.uniform(-0.0006, 0.0006), (
            leaf.centroid_lng or 120.27
        ) + self.rng.uniform(-0.0006, 0.0006)

    def _places(self, leaves: list[Region]) -> None:
        rng = self.rng
        places: list[Place] = []
        kinds = [
            (codes.PlaceKind.RESTAURANT, 0.35, ["面馆", "小吃店", "酒家", "餐厅", "火锅店"], codes.RiskLevel.GENERAL),
            (codes.PlaceKind.SMALL_PREMISES, 0.30, ["便利店", "理发店", "五金店", "服装店"], codes.RiskLevel.GENERAL),
            (codes.PlaceKind.HOTEL, 0.04, ["宾馆", "快捷酒店"], codes.RiskLevel.HIGH),
            (codes.PlaceKind.INTERNET_CAFE, 0.02, ["网咖"], codes.RiskLevel.HIGH),
            (codes.PlaceKind.ENTERTAINMENT, 0.02, ["KTV", "足浴店"], codes.RiskLevel.HIGH),
            (codes.PlaceKind.MARKET, 0.015, ["农贸市场"], codes.RiskLevel.HIGH),
            (codes.PlaceKind.ELDERLY_CARE, 0.01, ["居家养老服务中心"], codes.RiskLevel.HIGH),
            (codes.PlaceKind.FUEL_STATION, 0.004, ["加油站"], codes.RiskLevel.MAJOR),
            (codes.PlaceKind.HAZARDOUS_CHEMICALS, 0.003, ["化工贸易有限公司"], codes.RiskLevel.MAJOR),
            (codes.PlaceKind.CONSTRUCTION, 0.01, ["项目工地"], codes.RiskLevel.HIGH),
            (codes.PlaceKind.LOGISTICS, 0.02, ["快递驿站"], codes.RiskLevel.GENERAL),
            (codes.PlaceKind.RENTAL, 0.08, ["出租房（群租）"], codes.RiskLevel.HIGH),
        ]
        for leaf in leaves:
            for kind, rate, names, risk in kinds:
                for _ in range(int(rate) + (1 if rng.random() < rate % 1 else 0)):
                    lat, lng = self._near(leaf)
                    cycle = DEFAULT_CYCLE[risk]
                    last = self.today - dt.timedelta(days=rng.randint(0, cycle + 10))
                    places.append(
                        Place(
                            kind=kind,
                            name=f"{rng.choice(ROADS)[:2]}{rng.choice(names)}",
                            address=f"{rng.choice(ROADS)}{rng.randint(1, 399)}号",
                            risk_level=risk,
                            inspection_cycle_days=cycle,
                            last_inspected_on=last,
                            next_inspection_due=last + dt.timedelta(days=cycle),
                            contact_name=person_name(rng),
                            contact_phone=_phone(rng),
                            rental_use=codes.RentalUse.DORMITORY if kind == codes.PlaceKind.RENTAL else "",
                            rental_hazard=rng.choice([codes.RentalHazard.FIRE, codes.RentalHazard.NONE])
                            if kind == codes.PlaceKind.RENTAL
                            else "",
                            occupants=rng.randint(2, 40),
                            region_id=leaf.id,
                            region_path=leaf.path,
                            lat=lat,
                            lng=lng,
                        )
                    )
        for b in self.buildings:
            if b.floors >= 10 and b.name == "1幢":
                last = self.today - dt.timedelta(days=rng.randint(0, 40))
                places.append(
                    Place(
                        kind=codes.PlaceKind.HIGH_RISE,
                        name=f"{b.address.estate or b.address.road}{b.name}",
                        address=b.address.full_text,
                        building=b,
                        risk_level=codes.RiskLevel.HIGH,
                        inspection_cycle_days=30,
                        last_inspected_on=last,
                        next_inspection_due=last + dt.timedelta(days=30),
                        contact_name=b.manager_name,
                        region_id=b.region_id,
                        region_path=b.region_path,
                        lat=b.lat,
                        lng=b.lng,
                    )
                )
        Place.objects.bulk_create(places, batch_size=BATCH)
        self.counts["places"] = len(places)

    def _organisations(self, leaves: list[Region]) -> None:
        rng = self.rng
        orgs: list[Organisation] = []
        suffixes = [
            "贸易有限公司",
            "科技有限公司",
            "服饰有限公司",
            "建材经营部",
            "汽车配件有限公司",
            "餐饮管理有限公司",
        ]
        socials = [
            ("志愿者协会", codes.SocialOrgType.ASSOCIATION),
            ("社会工作服务中心", codes.SocialOrgType.NON_ENTERPRISE),
            ("慈善基金会", codes.SocialOrgType.FOUNDATION),
        ]
        seen: set[str] = set()
        for leaf in leaves:
            for _ in range(rng.choice([0, 1, 1, 2])):
                lat, lng = self._near(leaf)
                while True:
                    body = f"913301{rng.randint(0, 99_999_999_999):011d}"[:17]
                    if body not in seen:
                        seen.add(body)
                        break
                orgs.append(
                    Organisation(
                        kind=codes.OrganisationKind.ENTERPRISE,
                        name=f"杭州{rng.choice(ROADS)[:2]}{rng.choice(suffixes)}",
                        credit_code=body + uscc_check_character(body),
                        category=rng.choice(["01", "01", "03", "02"]),
                        registration_type=rng.choice(["170", "150", "150", "160"]),
                        holding="210",
                        address=f"{rng.choice(ROADS)}{rng.randint(1, 399)}号",
                        legal_rep_name=person_name(rng),
                        contact_phone=f"0571-8{rng.randint(0, 9_999_999):07d}",
                        employees=rng.randint(3, 300),
                        security_hazard=rng.choice(["00"] * 8 + ["02", "04"]),
                        region_id=leaf.id,
                        region_path=leaf.path,
                        lat=lat,
                        lng=lng,
                    )
                )
            if rng.random() < 0.06:
                name, kind = rng.choice(socials)
                lat, lng = self._near(leaf)
                orgs.append(
                    Organisation(
                        kind=codes.OrganisationKind.SOCIAL,
                        name=f"萧山区{leaf.name[:3]}{name}",
                        social_org_type=kind,
                        address=f"{rng.choice(ROADS)}{rng.randint(1, 399)}号",
                        legal_rep_name=person_name(rng),
                        employees=rng.randint(2, 30),
                        region_id=leaf.id,
                        region_path=leaf.path,
                        lat=lat,
                        lng=lng,
                    )
                )
        Organisation.objects.bulk_create(orgs, batch_size=BATCH)
        self.counts["organisations"] = len(orgs)

    def _schools(self, leaves: list[Region]) -> None:
        rng = self.rng
        dedicated = list(
            Region.objects.filter(path__startswith=self.town.path, level=Level.GRID, dedicated_kind="学校")
        )
        picks = [*dedicated, *rng.sample(leaves, min(len(leaves), 18))]
        schools = []
        kinds = [
            (codes.SchoolType.KINDERGARTEN, "幼儿园", 300),
            (codes.SchoolType.PRIMARY, "小学", 1500),
            (codes.SchoolType.JUNIOR, "初级中学", 1200),
            (codes.SchoolType.SENIOR, "高级中学", 2000),
        ]
        for i, region in enumerate(picks):
            leaf = region if region in leaves else next((x for x in leaves if x.path.startswith(region.path)), region)
            kind, suffix, size = kinds[i % len(kinds)]
            lat, lng = self._near(leaf)
            schools.append(
                School(
                    name=f"萧山区{region.name[:3].rstrip('社区')}{suffix}",
                    school_type=kind,
                    address=f"{rng.choice(ROADS)}{rng.randint(1, 399)}号",
                    students=int(size * rng.uniform(0.6, 1.3)),
                    staff=int(size * rng.uniform(0.06, 0.1)),
                    principal_name=person_name(rng),
                    security_chief=person_name(rng),
                    contact_phone=f"0571-8{rng.randint(0, 9_999_999):07d}",
                    guards=rng.randint(2, 8),
                    has_police_room=rng.random() < 0.6,
                    has_alarm_link=rng.random() < 0.9,
                    region_id=leaf.id,
                    region_path=leaf.path,
                    lat=lat,
                    lng=lng,
                )
            )
        School.objects.bulk_create(schools, batch_size=BATCH)
        self.counts["schools"] = len(schools)

    def _governance(self) -> None:
        rng = self.rng
        communities = list(Region.objects.filter(parent=self.town).order_by("code"))
        town_centre = GovernanceOrg.objects.create(
            name=f"{self.town.name}社会治理中心",
            institution_type=codes.InstitutionType.CENTER,
            level=codes.InstitutionLevel.TOWN,
            address="萧山区城厢街道人民路",
            head_name=person_name(rng),
            contact_phone="0571-82621001",
            member_units="综治办、司法所、派出所、信访办、城管中队、市场监管所",
            region=self.town,
            region_path=self.town.path,
            lat=self.town.centroid_lat,
            lng=self.town.centroid_lng,
        )
        centres = [
            GovernanceOrg(
                name=f"{c.name}综治中心",
                institution_type=codes.InstitutionType.CENTER,
                level=codes.InstitutionLevel.VILLAGE,
                address=f"{c.name}居委会",
                head_name=person_name(rng),
                contact_phone=f"0571-8{rng.randint(0, 9_999_999):07d}",
                region=c,
                region_path=c.path,
                lat=c.centroid_lat,
                lng=c.centroid_lng,
            )
            for c in communities
        ]
        GovernanceOrg.objects.bulk_create(centres, batch_size=BATCH)
        teams = [
            Team(
                name=f"{self.town.name}专职巡防队",
                team_type=codes.TeamType.FULL_TIME_PATROL,
                organisation=town_centre,
                leader_name=person_name(rng),
                member_count=48,
                duties="街面巡逻、重点部位守护、护路护线",
                region=self.town,
                region_path=self.town.path,
                lat=self.town.centroid_lat,
                lng=self.town.centroid_lng,
            )
        ]
        teams += [
            Team(
                name=f"{c.name}平安志愿者队",
                team_type=codes.TeamType.VOLUNTEERS,
                organisation=centre,
                leader_name=person_name(rng),
                member_count=rng.randint(15, 80),
                duties="邻里守望、夜间巡逻、矛盾纠纷排查",
                region=c,
                region_path=c.path,
                lat=c.centroid_lat,
                lng=c.centroid_lng,
            )
            for c, centre in zip(communities, centres, strict=True)
        ]
        Team.objects.bulk_create(teams, batch_size=BATCH)
        lines = [
            (codes.LineKind.RAILWAY, "杭甬铁路", "萧山站以东 K3+200—K5+800", 2.6),
            (codes.LineKind.HIGH_SPEED_RAIL, "杭甬高铁", "城厢段", 3.1),
            (codes.LineKind.HIGHWAY, "G104国道", "城厢段", 4.2),
            (codes.LineKind.HIGHWAY, "市心路", "人民路—萧绍路", 2.0),
            (codes.LineKind.POWER, "220kV萧城线", "#12—#31塔", 5.4),
            (codes.LineKind.OIL_GAS, "城区天然气主干管", "城河街—工人路", 3.3),
            (codes.LineKind.TELECOM, "城区通信主干光缆", "体育路段", 1.8),
        ]
        segments = []
        for i, (kind, name, section, km) in enumerate(lines):
            c = communities[(i * 5) % len(communities)]
            lat, lng = c.centroid_lat or 30.16, c.centroid_lng or 120.27
            segments.append(
                LineSegment(
                    kind=kind,
                    name=name,
                    section=section,
                    length_km=km,
                    team=teams[0],
                    responsible_unit=f"{self.town.name}综治办",
                    risk_level=rng.choice([codes.RiskLevel.HIGH, codes.RiskLevel.GENERAL]),
                    geometry={
                        "type": "LineString",
                        "coordinates": [[lng - 0.01, lat - 0.004], [lng + 0.01, lat + 0.004]],
                    },
                    last_patrolled_on=self.today - dt.timedelta(days=rng.randint(0, 14)),
                    region=c,
                    region_path=c.path,
                    lat=lat,
                    lng=lng,
                )
            )
        LineSegment.objects.bulk_create(segments, batch_size=BATCH)
        self.counts |= {"governance bodies": len(centres) + 1, "teams": len(teams), "line segments": len(segments)}


def _occupation(rng: random.Random, age: int, floating: bool) -> str:
    if age < 6:
        return ""
    if age < 19:
        return "学生"
    if age >= 60:
        return "退休" if rng.random() < 0.8 else ""
    return rng.choice(
        ["务工", "务工", "个体经营", "工人"] if floating else ["职员", "个体经营", "工人", "教师", "职员", ""]
    )


def _risk(kind: str, level: str, rng: random.Random) -> str:
    if kind == GroupKind.RELEASED:
        return "01" if level == AttentionLevel.HIGH else "02"
    if kind == GroupKind.MENTAL:
        if level == AttentionLevel.HIGH:
            return rng.choice(["04", "05"])
        return rng.choice(["02", "03"]) if level == AttentionLevel.MEDIUM else "01"
    return ""


def _details(kind: str, rng: random.Random, today: dt.date) -> dict[str, Any]:
    ago = lambda lo, hi: (today - dt.timedelta(days=rng.randint(lo, hi))).isoformat()  # noqa: E731
    if kind == GroupKind.RELEASED:
        return {
            "crime_category": rng.choice(["05", "06", "04", "02"]),
            "sentence": f"{rng.randint(1, 8)}年",
            "release_date": ago(100, 1500),
            "handover": rng.choice(["03", "05", "06"]),
            "placement": rng.choice(["06", "05", "07", "99"]),
            "is_recidivist": rng.random() < 0.1,
        }
    if kind == GroupKind.CORRECTION:
        start = today - dt.timedelta(days=rng.randint(30, 500))
        return {
            "correction_category": rng.choice(["02", "02", "03", "04"]),
            "crime": rng.choice(["危险驾驶罪", "盗窃罪", "诈骗罪", "故意伤害罪"]),
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=rng.choice([365, 540, 730]))).isoformat(),
            "receive_mode": "01",
            "has_team": True,
            "lost_supervision": False,
        }
    if kind == GroupKind.MENTAL:
        return {
            "diagnosis": rng.choice(["01", "01", "04", "07", "99"]),
            "treatment": rng.choice(["02", "02", "01", "03"]),
            "incident_history": rng.random() < 0.08,
            "guardian_name": person_name(rng),
            "subsistence": rng.random() < 0.3,
        }
    if kind == GroupKind.DRUG:
        return {
            "control_status": rng.choice(["01", "01", "05", "06"]),
            "first_found": ago(400, 4000),
            "criminal_record": rng.random() < 0.3,
        }
    if kind == GroupKind.HIV:
        return {"infection_route": rng.choice(["01", "02", "03", "99"]), "admission": rng.choice(["02", "02", "00"])}
    return {
        "youth_type": rng.choice(["01", "02", "05", "04"]),
        "family_situation": rng.choice(["02", "03", "01", "99"]),
        "guardian_name": person_name(rng),
        "help_measure": rng.choice(["02", "03", "04"]),
        "offended": False,
    }
