"""Masking of personal data for lists, API output and exports.

Masked forms keep enough to recognise a record (region prefix, last digits) and nothing that
identifies a person on its own.
"""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """18-digit resident ID → '330109********1234' (region code and last four kept)."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """Mobile '13812345678' → '138****5678'; other numbers keep their last four digits."""
    if not value:
        return ""
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(value: str | None) -> str:
    """'张三丰' → '张*丰', '李四' → '李*'; keeps the family name a caller would greet."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
