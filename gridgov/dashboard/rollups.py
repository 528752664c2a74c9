"""Keeping the command-centre rollups current.

Every case action appends a `CaseEvent` in the action's transaction (gridgov.cases.services); a
post_save receiver on `CaseEvent` updates `RegionDayStat` and `LiveCase` inside that same
transaction, so a rolled-back action leaves no trace in the rollups and a committed one is
visible at once. The cases app knows nothing of this (signals, not calls).

Bulk loaders that bypass the services (the demo data, imports, `gridgov synth`) must run
`manage.py dashboard_rebuild` afterwards; the rebuild derives the same rows from the case table,
and is also the repair tool after any doubt.

Counting rules: the day rows count what the case table says (`selectors.figures_from_cases`), so
a case counts once however often it went round the loop:
- reported: on the local day of the report ("report" and "settle" events);
- closed: a case that is closed, on the local day of its close ("close", "approve_settle",
  "mediation_close"); on time when its feedback came by its completion deadline; settled on the
  spot when it was. A dissatisfied rating that reopens a closed case takes its close back from the
  day it was counted on (the rating records that close in its detail, `reopened`), so a case
  closed, reopened and closed again counts once, on the day of its last close;
- rated / satisfied: a rating that stands ("rate" events that leave the score on the case; the
  first dissatisfied one is cleared by the reopen), satisfied when the score ≥ CASE_SATISFIED_MIN.
The receiver applies these per event; the rebuild reads them straight off the case table.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Value, When
from django.db.models.signals import post_save
from django.utils import timezone

from gridgov.cases import fastsave, sla
from gridgov.cases.models import FINAL_STATES, Case, CaseEvent, Urgency
from gridgov.regions.models import Region

from .models import COUNTERS, SHARDED_DEPTH, SHARDS, LiveCase, RegionDayStat

MAX_DEPTH = 3  # district, town, village, grid
REPORT_ACTIONS = ("report", "settle")
CLOSE_ACTIONS = ("close", "approve_settle", "mediation_close")
URGENT = (Urgency.URGENT, Urgency.CRITICAL)


def shard_of(tracking_code: str) -> int:
    """The shard of a case's district and town day rows: fixed per case (a reopen takes its close
    back from the row it was added to), spread evenly (tracking codes are random)."""
    return zlib.crc32(tracking_code.encode()) % SHARDS


def ancestor_paths(path: str) -> list[tuple[str, int]]:
    codes = [c for c in path.strip("/").split("/") if c]
    return [("/" + "/".join(codes[: d + 1]) + "/", d) for d in range(min(len(codes), MAX_DEPTH + 1))]


def _satisfied_min() -> int:
    return int(str(settings.GRIDGOV["CASE_SATISFIED_MIN"]))


def closed_counts(*, on_time: bool, settled_on_spot: bool) -> dict[str, int]:
    """What one closed case adds to the day of its close."""
    out = {"closed": 1}
    if on_time:
        out["closed_on_time"] = 1
    if settled_on_spot:
        out["settled_on_spot"] = 1
    return out


def rated_counts(score: int) -> dict[str, int]:
    return {"rated": 1, "satisfied": 1} if score >= _satisfied_min() else {"rated": 1}


def deltas_for(event: CaseEvent, case: Case) -> list[tuple[dt.date, dict[str, int]]]:
    """(local day, counter deltas) for one event, as the case stands after it; the day of the
    event first unless a reopen takes back an earlier day's close (that day comes first then, so
    every transaction locks day rows in date order)."""
    day = timezone.localdate(event.at)
    out: dict[str, int] = {}
    earlier: list[tuple[dt.date, dict[str, int]]] = []
    if event.action in REPORT_ACTIONS:
        out["reported"] = 1
        if case.urgency in URGENT:
            out["urgent"] = 1
    elif event.action in CLOSE_ACTIONS and event.to_state == "closed":
        out.update(closed_counts(on_time=sla.handled_on_time(case), settled_on_spot=case.settled_on_spot))
    elif event.action == "rate":
        detail = event.detail or {}
        score = detail.get("score")
        if isinstance(score, int) and case.satisfaction is not None:
            out.update(rated_counts(score))
        reopened = detail.get("reopened")
        if event.from_state == "closed" and event.to_state != "closed" and isinstance(reopened, dict):
            at = dt.datetime.fromisoformat(reopened["closed_at"])
            undo = closed_counts(on_time=bool(reopened.get("on_time")), settled_on_spot=bool(reopened.get("settled")))
            undo = {k: -v for k, v in undo.items()}
            undo_day = timezone.localdate(at)
            if undo_day == day:
                for k, v in undo.items():
                    out[k] = out.get(k, 0) + v
            else:
                earlier.append((undo_day, undo))
    return [*earlier, (day, {k: v for k, v in out.items() if v})]


def bump(path: str, day: dt.date, counts: dict[str, int], *, shard: int = 0) -> None:
    """Add `counts` to the day rows of `path` and its ancestors in one statement:
    `INSERT … ON CONFLICT (region_path, day, shard) DO UPDATE SET n = n + excluded.n` (PostgreSQL
    and SQLite alike); the district and town rows are those of `shard` (models.SHARDS). The rows
    are locked top-down (district first), always in the same order, so two transactions never
    deadlock on them; the receiver writes them as the action's last statement so they are held
    only until commit.

    Negative counts (a reopen taking a close back) go through an UPDATE of the existing rows
    first: the counters are never negative (a CHECK), and an INSERT's proposed row is checked
    before its conflict is seen."""
    table = connection.ops.quote_name(RegionDayStat._meta.db_table)
    rows = [(p, depth, shard if depth < SHARDED_DEPTH else 0) for p, depth in ancestor_paths(path)]
    day_value = connection.ops.adapt_datefield_value(day)
    minus = {c: -n for c, n in counts.items() if n < 0}
    counts = {c: n for c, n in counts.items() if n > 0}
    if minus:
        sets = ", ".join(f"{c} = {c} - %s" for c in minus)
        which = " OR ".join(["(region_path = %s AND shard = %s)"] * len(rows))
        fastsave.execute(
            f"UPDATE {table} SET {sets} WHERE day = %s AND ({which})",
            [*minus.values(), day_value, *(v for p, _, s in rows for v in (p, s))],
        )
    if not counts:
        return
    columns = ["region_path", "depth", "day", "shard", *COUNTERS]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    increments = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS if counts.get(c))
    params: list[Any] = []
    for p, depth, s in rows:
        params.extend([p, depth, day_value, s, *(counts.get(c, 0) for c in COUNTERS)])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "
        f"ON CONFLICT (region_path, day, shard) DO UPDATE SET {increments}"
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
    for day, counts in deltas_for(event, case):
        bump(case.region_path, day, counts, shard=shard_of(case.tracking_code))


def _on_case_event(sender: Any, instance: CaseEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not created:
        return
    apply_event(instance)


def connect() -> None:
    post_save.connect(_on_case_event, sender=CaseEvent, dispatch_uid="dashboard.rollups.case_event")


# --- rebuild -----------------------------------------------------------------------------------------------


@transaction.atomic
def rebuild(*, root: Region) -> tuple[int, int]:
    """Recompute every rollup row under `root` from the case table: one pass over its cases
    (reported, closed and rated as each case stands), summed per region level and local day."""
    RegionDayStat.objects.filter(region_path__startswith=root.path).delete()
    LiveCase.objects.filter(region_path__startswith=root.path).delete()
    on_time = CaseWhen(When(sla.handled_on_time_q(), then=Value(1)), default=Value(0), output_field=IntegerField())
    rows = (
        Case.objects.filter(region_path__startswith=root.path)
        .annotate(on_time=on_time)
        .values_list(
            "tracking_code",
            "region_path",
            "reported_at",
            "urgency",
            "state",
            "closed_at",
            "on_time",
            "settled_on_spot",
            "rated_at",
            "satisfaction",
        )
        .order_by()
    )
    tz = timezone.get_current_timezone()
    sums: dict[tuple[str, int, dt.date, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    reported, urgent = {"reported": 1}, {"reported": 1, "urgent": 1}
    ancestors: dict[str, list[tuple[str, int]]] = {}  # per region_path: its rows at or below the root

    def add(rows: list[tuple[str, int]], shard: int, at: dt.datetime, counts: dict[str, int]) -> None:
        day = at.astimezone(tz).date()
        for p, depth in rows:
            row = sums[(p, depth, day, shard if depth < SHARDED_DEPTH else 0)]
            for k, v in counts.items():
                row[k] += v

    for code, path, reported_at, urgency, state, closed_at, is_on_time, settled, rated_at, score in rows.iterator(
        chunk_size=5000
    ):
        up = ancestors.get(path)
        if up is None:
            up = ancestors[path] = [(p, d) for p, d in ancestor_paths(path) if d >= root.depth]
        shard = shard_of(code)
        add(up, shard, reported_at, urgent if urgency in URGENT else reported)
        if state == "closed" and closed_at is not None:
            add(up, shard, closed_at, closed_counts(on_time=bool(is_on_time), settled_on_spot=settled))
        if score is not None and rated_at is not None:
            add(up, shard, rated_at, rated_counts(score))
    RegionDayStat.objects.bulk_create(
        (
            RegionDayStat(region_path=p, depth=depth, day=day, shard=shard, **c)
            for (p, depth, day, shard), c in sums.items()
        ),
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
