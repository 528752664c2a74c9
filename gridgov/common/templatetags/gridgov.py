from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def thousands(value: object) -> str:
    """1234567 → '1,234,567' whatever the active locale (zh-Hans formats carry no grouping)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    return f"{int(number):,}" if number == int(number) else f"{number:,.2f}"


@register.filter
def audit_action_label(action: str) -> str:
    from gridgov.common.audit_selectors import ACTION_LABELS

    return ACTION_LABELS.get(action, "")
