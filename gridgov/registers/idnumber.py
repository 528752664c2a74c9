"""公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence
(odd for men, even for women), one ISO 7064 MOD 11-2 check character.

`parse_id_number` returns the facts the number encodes or raises `ValidationFailed` with the
field name the caller gives, so a form, the API and the importer all report the same message.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass

from gridgov.common.errors import ValidationFailed

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes; 71 台湾, 81 香港, 82 澳门 (residence permits), 83 for 台湾
# residents' permits issued since 2018.
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
EARLIEST_BIRTH = dt.date(1900, 1, 1)
_SHAPE = re.compile(r"^\d{17}[\dX]$")


@dataclass(frozen=True)
class IdFacts:
    number: str
    region_code: str
    birth_date: dt.date
    gender: str  # GB/T 2261.1: "1" male, "2" female


def normalise_id_number(raw: str | None) -> str:
    return (raw or "").strip().replace(" ", "").upper()


def check_character(first17: str) -> str:
    if len(first17) != len(WEIGHTS):
        raise ValueError("17 digits expected")
    return CHECK_CHARS[sum(map(operator.mul, map(int, first17), WEIGHTS)) % 11]


def parse_id_number(raw: str | None, *, field: str = "id_number", today: dt.date | None = None) -> IdFacts:
    number = normalise_id_number(raw)
    if not number:
        raise ValidationFailed("请填写公民身份号码", field=field, rule="gb11643.required")
    if len(number) == 15 and number.isdigit():
        raise ValidationFailed("请使用18位公民身份号码（15位旧号码已停用）", field=field, rule="gb11643.length")
    if not _SHAPE.match(number):
        raise ValidationFailed(
            "公民身份号码应为18位：17位数字加1位校验码（数字或X）", field=field, rule="gb11643.length"
        )
    region = number[:6]
    if region[:2] not in PROVINCES or region[2:4] == "00":
        raise ValidationFailed(
            f"公民身份号码的地址码 {region} 不是有效的行政区划代码", field=field, rule="gb11643.region"
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            f"公民身份号码中的出生日期 {number[6:14]} 不是有效日期", field=field, rule="gb11643.birth_date"
        ) from None
    today = today or dt.date.today()
    if birth < EARLIEST_BIRTH or birth > today:
        raise ValidationFailed(
            f"公民身份号码中的出生日期 {birth:%Y-%m-%d} 不在合理范围内", field=field, rule="gb11643.birth_date"
        )
    expected = check_character(number[:17])
    if number[17] != expected:
        raise ValidationFailed("公民身份号码校验码不正确，请核对后重新输入", field=field, rule="gb11643.checksum")
    return IdFacts(number=number, region_code=region, birth_date=birth, gender="1" if int(number[16]) % 2 else "2")


def make_id_number(region_code: str, birth: dt.date, sequence: int) -> str:
    """A well-formed number for synthetic data (demo, tests): sequence 0–999, parity = gender."""
    first17 = f"{region_code}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_character(first17)


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalise_phone(raw: str | None, *, field: str = "phone") -> str:
    """Mobile (11 digits, 1[3-9]…) or landline with area code ('0571-82345678'); '' if empty."""
    value = (raw or "").strip().replace(" ", "")
    if value.startswith("+86"):
        value = value[3:]
    if not value:
        return ""
    if _MOBILE.match(value):
        return value
    if _LANDLINE.match(value):
        return value
    raise ValidationFailed("联系电话应为11位手机号或带区号的固定电话", field=field, rule="phone.format")


# 统一社会信用代码 (GB 32100-2015): 18 characters from this alphabet, weighted check character.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str | None, *, field: str = "credit_code") -> str:
    value = (raw or "").strip().upper()
    if not value:
        return ""
    if len(value) != 18 or any(c not in _USCC_ALPHABET for c in value):
        raise ValidationFailed(
            "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）", field=field, rule="gb32100.shape"
        )
    if value[17] != uscc_check_character(value[:17]):
        raise ValidationFailed("统一社会信用代码校验码不正确", field=field, rule="gb32100.checksum")
    return value
