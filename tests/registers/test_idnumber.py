from __future__ import annotations

import datetime as dt

import pytest

from gridgov.common.errors import ValidationFailed
from gridgov.registers.idnumber import (
    check_character,
    make_id_number,
    normalise_credit_code,
    normalise_phone,
    parse_id_number,
)

TODAY = dt.date(2026, 5, 1)


def test_a_valid_number_yields_birth_date_gender_and_region():
    number = make_id_number("330109", dt.date(1990, 2, 28), 123)
    facts = parse_id_number(number, today=TODAY)
    assert facts.birth_date == dt.date(1990, 2, 28)
    assert facts.gender == "1"  # odd sequence digit: male
    assert facts.region_code == "330109"


def test_the_published_gb11643_example_validates():
    # The worked example in GB 11643-1999 Annex A: 11010519491231002X.
    assert parse_id_number("11010519491231002x", today=TODAY).number == "11010519491231002X"
    assert check_character("11010519491231002") == "X"


def test_a_wrong_check_character_is_refused():
    good = make_id_number("330109", dt.date(1990, 1, 1), 10)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(bad, today=TODAY)
    assert exc.value.rule == "gb11643.checksum"
    assert "id_number" in exc.value.errors


@pytest.mark.parametrize("birth", ["19900230", "19901301", "18991231", "20300101"])
def test_an_impossible_or_out_of_range_birth_date_is_refused(birth):
    first17 = f"330109{birth}012"
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(first17 + check_character(first17), today=TODAY)
    assert exc.value.rule == "gb11643.birth_date"


@pytest.mark.parametrize("region", ["990109", "330009"])
def test_an_unknown_region_prefix_is_refused(region):
    first17 = f"{region}19900101012"
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(first17 + check_character(first17), today=TODAY)
    assert exc.value.rule == "gb11643.region"


@pytest.mark.parametrize("raw", ["", "12345", "330109900101123", "33010919900101012A"])
def test_malformed_numbers_are_refused(raw):
    with pytest.raises(ValidationFailed):
        parse_id_number(raw, today=TODAY)


def test_phone_numbers_normalise_or_are_refused():
    assert normalise_phone(" +86 138 1234 5678 ") == "13812345678"
    assert normalise_phone("0571-82345678") == "0571-82345678"
    assert normalise_phone("") == ""
    with pytest.raises(ValidationFailed):
        normalise_phone("12345")


def test_credit_codes_are_checked_with_gb32100():
    # Two codes published as examples of GB 32100-2015 codes.
    assert normalise_credit_code("91350100m000100y43") == "91350100M000100Y43"
    assert normalise_credit_code("91110000802100433B") == "91110000802100433B"
    with pytest.raises(ValidationFailed) as exc:
        normalise_credit_code("91110000802100433C")
    assert exc.value.rule == "gb32100.checksum"
    with pytest.raises(ValidationFailed) as exc:
        normalise_credit_code("9111000080210043IO")
    assert exc.value.rule == "gb32100.shape"
