from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gridgov.common.errors import ValidationFailed
from gridgov.regions.divisions import DATA_DIR, import_district
from gridgov.regions.models import Kind, Level, Region

pytestmark = pytest.mark.django_db

XIAOSHAN = DATA_DIR / "330109"


def official_villages() -> list[dict[str, str]]:
    with (XIAOSHAN / "villages.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_xiaoshan_import_yields_22_towns_and_every_village_with_codes():
    report = import_district("330109")
    district = Region.objects.get(code="330109")
    assert district.name == "萧山区"
    streets = Region.objects.filter(parent=district)
    towns = streets.filter(is_town_like=False)
    assert towns.count() == 22
    assert set(towns.values_list("kind", flat=True)) == {Kind.SUBDISTRICT, Kind.TOWN}
    assert sorted(streets.filter(is_town_like=True).values_list("code", flat=True)) == [
        "330109401",
        "330109403",
        "330109501",
        "330109503",
        "330109505",
    ]
    assert Region.objects.get(code="330109001").name == "城厢街道"
    villages = official_villages()
    assert len(villages) == 585
    imported = dict(Region.objects.filter(level=Level.COMMUNITY).values_list("code", "name"))
    assert imported == {v["code"]: v["name"] for v in villages}
    assert report.town_like == 5
    assert report.created == 1 + 27 + 585


def test_villages_and_communities_are_told_apart_by_code():
    import_district("330109")
    kinds = dict(Region.objects.filter(level=Level.COMMUNITY).values_list("code", "kind"))
    assert kinds["330109001001"] == Kind.RESIDENTS_COMMITTEE  # 陈公桥社区
    village_codes = [c for c in kinds if 200 <= int(c[9:]) < 400]
    assert village_codes and all(kinds[c] == Kind.VILLAGE for c in village_codes)


def test_reimport_is_idempotent_and_refreshes_names():
    import_district("330109")
    Region.objects.filter(code="330109001").update(name="旧名")
    report = import_district("330109")
    assert report.created == 0
    assert report.updated == 1
    assert Region.objects.get(code="330109001").name == "城厢街道"
    assert Region.objects.count() == 613


def _copy_tables(tmp_path: Path) -> Path:
    for name in ("areas", "streets", "villages"):
        (tmp_path / f"{name}.csv").write_text((XIAOSHAN / f"{name}.csv").read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(tmp_path):
    directory = _copy_tables(tmp_path)
    lines = (directory / "villages.csv").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(lines[4].split(",")[0], "33010900100X", 1)
    lines[7] = lines[7].replace(",330109001,", ",330109999,", 1)
    (directory / "villages.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        import_district("330109", directory)
    rows = exc.value.errors["rows"]
    assert any(r.startswith("villages.csv:5:") for r in rows)
    assert any(r.startswith("villages.csv:8:") and "330109999" in r for r in rows)
    assert Region.objects.count() == 0


def test_the_extract_script_cuts_one_district_from_national_tables(tmp_path):
    from scripts.extract_divisions import extract

    source = tmp_path / "dist"
    source.mkdir()
    (source / "areas.csv").write_text(
        'code,name,cityCode,provinceCode\n110101,"东城区",1101,11\n330109,"萧山区",3301,33\n', encoding="utf-8"
    )
    (source / "streets.csv").write_text(
        'code,name,areaCode,provinceCode,cityCode\n110101001,"东华门街道",110101,11,1101\n330109001,"城厢街道",330109,33,3301\n',
        encoding="utf-8",
    )
    (source / "villages.csv").write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '110101001001,"多福巷社区居委会",110101001,11,1101,110101\n330109001001,"陈公桥社区",330109001,33,3301,330109\n',
        encoding="utf-8",
    )
    counts = extract("330109", tmp_path / "out", source)
    assert counts == {"areas": 1, "streets": 1, "villages": 1}
    report = import_district("330109", tmp_path / "out")
    assert report.created == 3
