"""Keeping the command-centre rollups current.

Every case action appends a `CaseEvent` in the action's transaction (gridgov.cases.services); a
post_save receiver on `CaseEvent` updates `RegionDayStat` and `LiveCase` inside that same
transaction, so a rolled-back action leaves no trace in the rollups and a committed one is
visible at once. The cases app knows nothing of this (signals, not calls).

Bulk loaders that bypass the services (the demo data, imports, `gridgov synth`) must run
`manage.py dashboard_rebuild` afterwards; the rebuild derives the same rows from the timeline and
the case table, and is also the repair tool after any doubt.

Counting rules (the same in the receiver and the rebuild):
- reported: "report" and "settle" events, on the local day of the event;
- closed: "close" and "approve_settle" events; on time when the case's feedback came by its
  completion deadline (the `closed_on_time` rule of gridgov.cases.sla); settled_on_spot for
  "approve_settle";
- rated / satisfied: "rate" events, satisfied when the score ≥ CASE_SATISFIED_MIN.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import F, IntegerField, Q, Value, When
from django.db.models.signals import post_save
from django.utils import timezone

from gridgov.cases import fastsave
from gridgov.cases.models import FINAL_STATES, Case, CaseEvent, Urgency
from gridgov.regions.models import Region

from .models import COUNTERS, LiveCase, RegionDayStat

MAX_DEPTH = 3  # district, town, village, grid
REPORT_ACTIONS = ("report", "settle")
CLOSE_ACTIONS = ("close", "approve_settle")
URGENT = (Urgency.URGENT, Urgency.CRITICAL)


def ancestor_paths(path: str) -> list[tuple[str, int]]:
    codes = [c for c in path.strip("/").split("/") if c]
    return [("/" + "/".join(codes[: d + 1]) + "/", d) for d in range(min(len(codes), MAX_DEPTH + 1))]


def _satisfied_min() -> int:
    return int(str(settings.GRIDGOV["CASE_SATISFIED_MIN"]))


def _on_time(case: Case) -> bool:
    return case.handle_deadline is None or (case.handled_at is not None and case.handled_at <= case.handle_deadline)


def deltas(*, action: str, to_state: str, urgency: str, on_time: bool, score: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    if action in REPORT_ACTIONS:
        out["reported"] = 1
        if urgency in URGENT:
            out["urgent"] = 1
    elif action in CLOSE_ACTIONS and to_state == "closed":
        out["closed"] = 1
        if on_time:
            out["closed_on_time"] = 1
        if action == "approve_settle":
            out["settled_on_spot"] = 1
    elif action == "rate" and isinstance(score, int):
        out["rated"] = 1
        if score >= _satisfied_min():
            out["satisfied"] = 1
    return out


def deltas_for(event: CaseEvent, case: Case) -> dict[str, int]:
    return deltas(
        action=event.action,
        to_state=event.to_state,
        urgency=case.urgency,
        on_time=_on_time(case),
        score=(event.detail or {}).get("score"),
    )


def bump(path: str, day: dt.date, counts: dict[str, int]) -> None:
    """Add `counts` to the day rows of `path` and its ancestors in one statement:
    `INSERT … ON CONFLICT (region_path, day) DO UPDATE SET n = n + excluded.n` (PostgreSQL and
    SQLite alike). The rows are locked top-down (district first), always in the same order, so two
    transactions never deadlock on them; the district's row of today is every report's hot row,
    and the receiver writes it as the action's last statement so it is held only until commit."""
    if not counts:
        return
    rows = ancestor_paths(path)
    table = connection.ops.quote_name(RegionDayStat._meta.db_table)
    columns = ["region_path", "depth", "day", *COUNTERS]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    increments = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS if counts.get(c))
    params: list[Any] = []
    day_value = connection.ops.adapt_datefield_value(day)
    for p, depth in rows:
        params.extend([p, depth, day_value, *(counts.get(c, 0) for c in COUNTERS)])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "
        f"ON CONFLICT (region_path, day) DO UPDATE SET {increments}"
    )
    fastsave.execute(sql, params)  # a prepared statement on PostgreSQL (one per shape)


def live_values(case: Case) -> dict[str, Any]:
    """The `LiveCase` row of an open case, by attribute name."""
    return {
        "case_id": case.pk,
        "number": case.number,
        "region_path": case.region_path,
        "category": case.category.name if case.category_id else "",
        "state": case.state,
        "urgency": case.urgency,
        "source": case.source,
        "summary": (case.description or "")[:80],
        "lat": case.lat,
        "lng": case.lng,
        "reported_at": case.reported_at,
        "deadline": case.deadline,
        "warn_at": case.warn_at,
        "supervised": case.supervised,
    }


def live_row(case: Case) -> LiveCase:
    return LiveCase(**live_values(case))


def sync_live(case: Case) -> None:
    """One statement: delete the row of a case that reached a final state, else upsert it."""
    if case.state in FINAL_STATES:
        LiveCase.objects.filter(case_id=case.pk).delete()
        return
    fastsave.upsert_values(LiveCase, live_values(case), conflict=["case"])


def _case_of(event: CaseEvent) -> Case:
    """The case as the action left it. The services pass the very object they changed (with its
    category loaded) to the event, so it is used as is; anything else is read again."""
    cached = event._state.fields_cache.get("case")
    if isinstance(cached, Case) and cached.pk == event.case_id and Case.category.is_cached(cached):  # type: ignore[attr-defined]
        return cached
    return Case.objects.select_related("category").get(pk=event.case_id)


def apply_event(event: CaseEvent) -> None:
    case = _case_of(event)
    # The live row first, the shared day rows last: they are held from here to commit.
    sync_live(case)
    bump(case.region_path, timezone.localdate(event.at), deltas_for(event, case))


def _on_case_event(sender: Any, instance: CaseEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not created:
        return
    apply_event(instance)


def connect() -> None:
    post_save.connect(_on_case_event, sender=CaseEvent, dispatch_uid="dashboard.rollups.case_event")


# --- rebuild -----------------------------------------------------------------------------------------------


@transaction.atomic
def rebuild(*, root: Region) -> tuple[int, int]:
    """Recompute every rollup row under `root` from the timeline and the case table: one pass
    over the counted events (report, close, rate), summed per region level and local day."""
    RegionDayStat.objects.filter(region_path__startswith=root.path).delete()
    LiveCase.objects.filter(region_path__startswith=root.path).delete()
    on_time = CaseWhen(
        When(
            Q(case__handle_deadline__isnull=True)
            | Q(case__handled_at__isnull=False, case__handled_at__lte=F("case__handle_deadline")),
            then=Value(1),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    events = (
        CaseEvent.objects.filter(case__region_path__startswith=root.path)
        .filter(Q(action__in=REPORT_ACTIONS) | Q(action__in=CLOSE_ACTIONS, to_state="closed") | Q(action="rate"))
        .annotate(on_time=on_time)
        .values_list("case__region_path", "at", "action", "to_state", "case__urgency", "on_time", "detail__score")
        .order_by()
    )
    tz = timezone.get_current_timezone()
    sums: dict[tuple[str, int, dt.date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for path, at, action, to_state, urgency, is_on_time, score in events.iterator(chunk_size=5000):
        counts = deltas(action=action, to_state=to_state, urgency=urgency, on_time=bool(is_on_time), score=score)
        if not counts:
            continue
        day = at.astimezone(tz).date()
        for p, depth in ancestor_paths(path):
            if depth < root.depth:
                continue
            row = sums[(p, depth, day)]
            for k, v in counts.items():
                row[k] += v
    RegionDayStat.objects.bulk_create(
        (RegionDayStat(region_path=p, depth=depth, day=day, **c) for (p, depth, day), c in sums.items()),
        batch_size=5000,
    )
    live = 0
    batch: list[LiveCase] = []
    open_cases = (
        Case.objects.filter(region_path__startswith=root.path)
        .exclude(state__in=[str(s) for s in FINAL_STATES])
        .select_related("category")
        .order_by("id")
    )
    for case in open_cases.iterator(2000):
        batch.append(live_row(case))
        if len(batch) >= 2000:
            LiveCase.objects.bulk_create(batch)
            live += len(batch)
            batch = []
    LiveCase.objects.bulk_create(batch)
    live += len(batch)
    return len(sums), live
