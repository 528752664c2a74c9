"""Register data for tests, built through the services (so tests exercise the real paths)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from gridgov.accounts.models import User
from gridgov.regions.models import Region
from gridgov.registers import services
from gridgov.registers.idnumber import make_id_number
from gridgov.registers.models import House, Person

_seq = itertools.count(1)


def id_number(birth: dt.date = dt.date(1985, 6, 15), *, female: bool = False, region: str = "330109") -> str:
    n = next(_seq) * 2 % 1000
    return make_id_number(region, birth, n + (0 if female else 1))


def bad_checksum(number: str | None = None) -> str:
    number = number or id_number()
    return number[:17] + ("0" if number[17] != "0" else "1")


def make_house(actor: User, region: Region, *, road: str = "人民路", number: str | None = None) -> House:
    address = services.address_create(actor=actor, road=road, number=number or str(next(_seq)), region_code=region.code)
    building = services.building_create(
        actor=actor, address=address, name="1幢", floors=3, unit_count=1, houses_per_floor=2
    )
    return building.houses.order_by("code").first()  # type: ignore[return-value]


def member(name: str = "张三", *, relation: str = "02", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "id_number": id_number(),
        "population_type": "registered",
        "relation": relation,
        "phone": "13812345678",
    }
    data.update(extra)
    return data


def make_person(actor: User, house: House, **extra: Any) -> Person:
    data = member(**extra)
    data.pop("relation", None)
    return services.person_register(actor=actor, house=house, data=data)
