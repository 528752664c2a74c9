"""统一地址库: standard addresses, buildings (with their units and houses), households."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction

from gridgov.common.errors import Conflict, ValidationFailed
from gridgov.regions.models import Region

from .. import codes, permissions
from ..models import Address, Building, House, Household, HouseholdKind, Unit
from ._common import Errors, clean_code, clean_text, require, require_covers, resolve_leaf, scope_of

if TYPE_CHECKING:
    from gridgov.accounts.models import User


def _lock_region(region: Region) -> None:
    # Serialises code allocation inside one micro-grid (next sequence number = max + 1).
    Region.objects.select_for_update().filter(pk=region.pk).first()


def _next_seq(codes_in_use: list[str], prefix: str, width: int) -> str:
    used = [int(c[len(prefix) :]) for c in codes_in_use if c.startswith(prefix) and c[len(prefix) :].isdigit()]
    nxt = (max(used) if used else 0) + 1
    if nxt >= 10**width:
        raise Conflict("编码已用尽，请联系管理员", rule="registers.code_exhausted")
    return f"{prefix}{nxt:0{width}d}"


@transaction.atomic
def address_create(
    *,
    actor: User,
    road: str,
    number: str,
    estate: str = "",
    region_code: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
) -> Address:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能登记地址", "registers.write")
    errors = Errors()
    road = clean_text(errors, "road", road, "街路巷", max_length=60, required=True)
    number = clean_text(errors, "number", number, "门牌号", max_length=20, required=True)
    estate = clean_text(errors, "estate", estate, "小区/单位名称", max_length=80)
    region = errors.run(lambda: resolve_leaf(scope, region_code=region_code, lat=lat, lng=lng))
    errors.raise_if_any("地址信息有误")
    _lock_region(region)
    if Address.objects.filter(region=region, road=road, number=number).exists():
        raise Conflict(f"{road}{number}号已在本微网格登记", field="number", rule="registers.address_once")
    code = _next_seq(list(Address.objects.filter(region=region).values_list("code", flat=True)), region.code, 4)
    return Address.objects.create(
        code=code,
        road=road,
        number=number,
        estate=estate,
        region=region,
        region_path=region.path,
        lat=lat if lat is not None else region.centroid_lat,
        lng=lng if lng is not None else region.centroid_lng,
        created_by=actor,
    )


@transaction.atomic
def building_create(
    *,
    actor: User,
    address: Address,
    name: str,
    use: str = codes.BuildingUse.RESIDENTIAL,
    floors: int = 1,
    unit_count: int = 1,
    houses_per_floor: int = 0,
    manager_name: str = "",
    region_code: str | None = None,
) -> Building:
    """A building at an address, with its units; `houses_per_floor` > 0 also lays out the
    houses (房号 = floor + two-digit index, e.g. 1203) in every unit."""
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能登记楼栋", "registers.write")
    require_covers(scope, address.region_path, "该地址")
    errors = Errors()
    name = clean_text(errors, "name", name, "楼栋名称", max_length=40, required=True)
    use = clean_code(errors, "use", use, "建筑用途", codes.BuildingUse, required=True)
    manager_name = clean_text(errors, "manager_name", manager_name, "楼栋长", max_length=30)
    if not 1 <= int(floors) <= 200:
        errors.add("floors", "层数应在1到200之间")
    if not 1 <= int(unit_count) <= 30:
        errors.add("unit_count", "单元数应在1到30之间")
    if not 0 <= int(houses_per_floor) <= 40:
        errors.add("houses_per_floor", "每层户数应在0到40之间")
    region = address.region
    if region_code:
        region = errors.run(lambda: resolve_leaf(scope, region_code=region_code)) or region
    errors.raise_if_any("楼栋信息有误")
    _lock_region(address.region)
    if Building.objects.filter(address=address, name=name).exists():
        raise Conflict(f"{address.full_text}已有{name}", field="name", rule="registers.building_once")
    code = _next_seq(list(address.buildings.values_list("code", flat=True)), address.code, 2)
    building = Building(
        address=address,
        code=code,
        name=name,
        use=use,
        floors=int(floors),
        unit_count=int(unit_count),
        manager_name=manager_name,
        region=region,
        region_path=region.path,
        lat=address.lat,
        lng=address.lng,
        created_by=actor,
    )
    building._history_user = actor  # type: ignore[attr-defined]
    building.save()
    units = Unit.objects.bulk_create([Unit(building=building, number=n) for n in range(1, int(unit_count) + 1)])
    if houses_per_floor:
        House.objects.bulk_create(
            [
                House(
                    building=building,
                    unit=unit,
                    code=house_code(building, unit.number, f"{floor}{i:02d}"),
                    floor=floor,
                    number=f"{floor}{i:02d}",
                    use=use if use != codes.BuildingUse.MIXED else codes.BuildingUse.RESIDENTIAL,
                    region=region,
                    region_path=region.path,
                    lat=building.lat,
                    lng=building.lng,
                    created_by=actor,
                )
                for unit in units
                for floor in range(1, int(floors) + 1)
                for i in range(1, int(houses_per_floor) + 1)
            ]
        )
    return building


def house_code(building: Building, unit_number: int, number: str) -> str:
    return f"{building.code}{unit_number:02d}{number[-4:].rjust(4, '0')}"


def _clean_area(errors: Errors, area: Any) -> Decimal | None:
    if area in (None, ""):
        return None
    try:
        value = Decimal(str(area))
    except InvalidOperation:
        errors.add("area", "建筑面积应为数字")
        return None
    if not Decimal("1") <= value <= Decimal("100000"):
        errors.add("area", "建筑面积应在1到100000平方米之间")
    return value.quantize(Decimal("0.01"))


def _clean_rental(errors: Errors, is_rental: bool, rental_use: str, rental_hazard: str) -> tuple[str, str]:
    if not is_rental:
        if rental_use or rental_hazard:
            errors.add("is_rental", "非出租房屋不填写出租用途和隐患类型")
        return "", ""
    rental_use = clean_code(errors, "rental_use", rental_use, "出租用途", codes.RentalUse, required=True)
    rental_hazard = clean_code(errors, "rental_hazard", rental_hazard or "00", "隐患类型", codes.RentalHazard)
    return rental_use, rental_hazard


@transaction.atomic
def house_create(
    *,
    actor: User,
    building: Building,
    unit_number: int,
    floor: int,
    number: str,
    area: Any = None,
    use: str = codes.BuildingUse.RESIDENTIAL,
    is_rental: bool = False,
    rental_use: str = "",
    rental_hazard: str = "",
) -> House:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能登记房屋", "registers.write")
    require_covers(scope, building.region_path, "该楼栋")
    errors = Errors()
    number = clean_text(errors, "number", number, "房号", max_length=12, required=True)
    if number and not number.isalnum():
        errors.add("number", "房号只能包含数字和字母")
    use = clean_code(errors, "use", use, "房屋用途", codes.BuildingUse, required=True)
    unit = building.units.filter(number=unit_number).first()
    if unit is None:
        errors.add("unit_number", f"{building.name}没有{unit_number}单元")
    if not -5 <= int(floor) <= building.floors:
        errors.add("floor", f"楼层应在-5到{building.floors}之间")
    area_value = _clean_area(errors, area)
    rental_use, rental_hazard = _clean_rental(errors, is_rental, rental_use, rental_hazard)
    errors.raise_if_any("房屋信息有误")
    assert unit is not None
    if House.objects.filter(unit=unit, number=number).exists():
        raise Conflict(f"{unit.number}单元{number}室已登记", field="number", rule="registers.house_once")
    house = House(
        building=building,
        unit=unit,
        code=house_code(building, unit.number, number),
        floor=int(floor),
        number=number,
        area=area_value,
        use=use,
        is_rental=is_rental,
        rental_use=rental_use,
        rental_hazard=rental_hazard,
        region=building.region,
        region_path=building.region_path,
        lat=building.lat,
        lng=building.lng,
        created_by=actor,
    )
    house._history_user = actor  # type: ignore[attr-defined]
    house.save()
    return house


@transaction.atomic
def house_set_rental(
    *, actor: User, house: House, is_rental: bool, rental_use: str = "", rental_hazard: str = ""
) -> House:
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能修改房屋", "registers.write")
    require_covers(scope, house.region_path, "该房屋")
    errors = Errors()
    rental_use, rental_hazard = _clean_rental(errors, is_rental, rental_use, rental_hazard)
    errors.raise_if_any("出租信息有误")
    locked = House.objects.select_for_update().get(pk=house.pk)
    locked.is_rental, locked.rental_use, locked.rental_hazard = is_rental, rental_use, rental_hazard
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save(update_fields=["is_rental", "rental_use", "rental_hazard", "updated_at"])
    return locked


def household_new(*, actor: User, house: House, kind: str, number: str = "") -> Household:
    """Create a household row (caller holds the transaction and has checked scope)."""
    if kind not in HouseholdKind.values:
        raise ValidationFailed(f"未知户类别 {kind!r}", field="kind")
    number = (number or "").strip()
    if len(number) > 20:
        raise ValidationFailed("户号不能超过20个字符", field="household_number")
    existing = list(Household.objects.select_for_update().filter(house=house).values_list("number", flat=True))
    if not number:
        number = _next_seq(existing, "", 2)
    elif number in existing:
        raise Conflict(f"本房屋已有户号 {number}", field="household_number", rule="registers.household_once")
    household = Household(
        house=house,
        number=number,
        kind=kind,
        region=house.region,
        region_path=house.region_path,
        lat=house.lat,
        lng=house.lng,
        created_by=actor,
    )
    household._history_user = actor  # type: ignore[attr-defined]
    household.save()
    return household
