"""A timeline note written by an adapter (a repeat sensor alert, an updated 12345 order).

cases.services.case_add_note needs a staff actor who works the case; an adapter has none, so it
goes through cases.services.case_add_system_note, which writes the internal note row with the
adapter's unit label and bumps the case version under the case row lock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.services import case_add_system_note


def integration_note(
    *, case: Case, unit: str, text: str, detail: dict[str, Any] | None = None, now: dt.datetime | None = None
) -> CaseEvent:
    return case_add_system_note(case=case, unit=unit, text=text, detail=detail, now=now)
