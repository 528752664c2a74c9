"""A timeline note written by an adapter (a repeat sensor alert, an updated 12345 order).

cases.services.case_add_note needs a staff actor who works the case; an adapter has none, so
this writes the same internal (non-public) note row with the adapter's unit label and bumps the
case version the way the case services do, under the case row lock, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F

from gridgov.cases.models import Case, CaseEvent
from gridgov.common import clock


def integration_note(
    *, case: Case, unit: str, text: str, detail: dict[str, Any] | None = None, now: dt.datetime | None = None
) -> CaseEvent:
    now = now or clock.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        event = CaseEvent.objects.create(
            case=locked,
            at=now,
            action="note",
            from_state=locked.state,
            to_state=locked.state,
            actor=None,
            actor_label="",
            unit_label=unit[:150],
            note=text[:2000],
            public_note="",
            is_public=False,
            detail=detail or {},
        )
        Case.objects.filter(pk=locked.pk).update(version=F("version") + 1, updated_at=now)
    return event
