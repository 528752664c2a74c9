"""Bounds for dates that users type into filters and reports.

A date field accepts anything from 0001-01-01 to 9999-12-31, but a day's bounds (its midnight in
Asia/Shanghai, the next midnight) overflow at both ends, and no register or case of a governance
platform lies outside these years. Filters check their dates here and answer a field error.
"""

from __future__ import annotations

import datetime as dt

from .errors import ValidationFailed

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


def in_range(day: dt.date | None) -> bool:
    return day is None or EARLIEST <= day <= LATEST


def check_day(day: dt.date | None, *, field: str, label: str = "日期") -> dt.date | None:
    """`day` unchanged, or a 400 naming `field` when it lies outside EARLIEST..LATEST."""
    if not in_range(day):
        raise ValidationFailed(f"{label}应在 {EARLIEST} 至 {LATEST} 之间", field=field)
    return day
