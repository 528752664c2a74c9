"""Command-centre response time from the rollups, against computing the same figures from raw cases.

Builds a throwaway database (a temp SQLite file, or the PostgreSQL database named by
BENCH_DATABASE_URL — it is flushed), loads the demo district (regions, accounts, 3,000 demo cases),
rebuilds the rollups and measures:

- the /dashboard/ page and the /api/v1/dashboard/summary JSON through Django's test client, as the
  district centre's operator
  (p50/p95 over N requests);
- the summary's figures (key figures, child-region warning levels, 30-day trend) from the rollups
  vs the same figures computed from the case table, in the same process (the ratio).

Then it adds synthetic cases with bulk_create (default 200,000: a year of a large district, in
realistic states; `gridgov synth` of the performance issue will replace this) with their timeline
rows, rebuilds the rollups and measures again at that scale.

    .venv/bin/python bench/dashboard.py [--requests 50] [--city-cases 200000]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/dashboard.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_tmp = tempfile.mkdtemp(prefix="gridgov-bench-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{_tmp}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["GRIDGOV_REQUIRE_2FA"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.db.models.functions import Substr, TruncDate  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from gridgov.accounts.models import User  # noqa: E402
from gridgov.cases.models import FINAL_STATES, Case, CaseCategory, CaseEvent, State  # noqa: E402
from gridgov.common import clock  # noqa: E402
from gridgov.dashboard import rollups, selectors  # noqa: E402
from gridgov.regions.models import Level, Region  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[k]


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    fn()  # warm caches (templates, spatial index, query plans)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def raw_summary(region: Region, now: dt.datetime) -> dict[str, Any]:
    """The summary's figures straight from the case table: key figures, each child's open/red/
    yellow counts and month reported/closed, and a 30-day reported/closed trend."""
    figures = selectors.figures_from_cases(region=region, now=now)
    kids = list(Region.objects.filter(parent=region))
    n = len(kids[0].path) if kids else len(region.path)
    final = [str(s) for s in FINAL_STATES]
    base = Case.objects.filter(region_path__startswith=region.path)
    month0 = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    children = list(
        base.annotate(prefix=Substr("region_path", 1, n))
        .values("prefix")
        .annotate(
            open=Count("id", filter=~Q(state__in=final)),
            red=Count("id", filter=~Q(state__in=final) & Q(deadline__lt=now)),
            yellow=Count("id", filter=~Q(state__in=final) & Q(deadline__gte=now, warn_at__lte=now)),
            month_reported=Count("id", filter=Q(reported_at__gte=month0)),
            month_closed=Count("id", filter=Q(state="closed", closed_at__gte=month0)),
        )
        .order_by()
    )
    first = now - dt.timedelta(days=30)
    tz = timezone.get_current_timezone()
    trend = list(
        base.filter(reported_at__gte=first)
        .annotate(day=TruncDate("reported_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    ) + list(
        base.filter(state="closed", closed_at__gte=first)
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {"figures": figures, "children": children, "trend": trend}


def rollup_summary(region: Region, now: dt.datetime) -> dict[str, Any]:
    return {
        "figures": selectors.figures(region=region, now=now),
        "children": selectors.children(region=region, now=now),
        "trend": selectors.trend(region=region, now=now),
    }


def measure(label: str, requests: int) -> None:
    district = Region.objects.get(level=Level.DISTRICT, code="330109")
    # The district centre's operator (the demo leader would first need a TOTP code).
    viewer = User.objects.get(username="district_op")
    client = Client()
    client.force_login(viewer)
    now = clock.now()
    cases = Case.objects.count()
    live = selectors.figures(region=district, now=now).open
    assert client.get("/dashboard/").status_code == 200
    page = timed(lambda: client.get("/dashboard/"), requests)
    api = timed(lambda: client.get("/api/v1/dashboard/summary"), requests)
    fast = timed(lambda: rollup_summary(district, now), requests)
    slow = timed(lambda: raw_summary(district, now), max(5, requests // 5))
    a = selectors.figures(region=district, now=now)
    b = selectors.figures_from_cases(region=district, now=now)
    # Closures are counted as close events by the rollups and as cases still closed by the raw
    # query, so a case reopened after a dissatisfied rating differs; everything else is equal.
    same = ("today_reported", "month_reported", "open", "red", "yellow", "supervised")
    assert all(getattr(a, k) == getattr(b, k) for k in same), (a, b)
    print(f"\n== {label}: {cases:,} cases ({live:,} open), {connection.vendor}")
    print(f"  /dashboard/ page            p50 {percentile(page, 0.5):7.1f} ms   p95 {percentile(page, 0.95):7.1f} ms")
    print(f"  /api/v1/dashboard/summary   p50 {percentile(api, 0.5):7.1f} ms   p95 {percentile(api, 0.95):7.1f} ms")
    print(f"  summary figures, rollups    p50 {percentile(fast, 0.5):7.1f} ms   p95 {percentile(fast, 0.95):7.1f} ms")
    print(f"  same figures from raw cases p50 {percentile(slow, 0.5):7.1f} ms   p95 {percentile(slow, 0.95):7.1f} ms")
    print(f"  ratio raw / rollups (p50)   {statistics.median(slow) / statistics.median(fast):7.1f}×")


def synthesise(total: int, seed: int = 8) -> None:
    """Cases over the last 365 days across the district's micro-grids with their report/close
    timeline rows: ~95% of older cases closed, recent ones open in every step."""
    rng = random.Random(seed)
    now = clock.now()
    micro = list(Region.objects.filter(level=Level.MICROGRID).values_list("id", "path", "centroid_lat", "centroid_lng"))
    centre_of = {r.path: r.id for r in Region.objects.filter(level=Level.COMMUNITY)}
    cats = list(CaseCategory.objects.filter(parent__isnull=False).values_list("id", flat=True))
    open_states = [State.REPORTED, State.ACCEPTED, State.DISPATCHED, State.HANDLING, State.HANDLED]
    batch: list[Case] = []
    made = 0
    started = time.monotonic()

    def flush() -> None:
        Case.objects.bulk_create(batch, batch_size=2000)
        ids = list(
            Case.objects.filter(number__in=[c.number for c in batch]).values_list("id", "reported_at", "closed_at")
        )
        events = []
        for cid, reported, closed in ids:
            events.append(CaseEvent(case_id=cid, at=reported, action="report", from_state="", to_state="reported"))
            if closed:
                events.append(
                    CaseEvent(case_id=cid, at=closed, action="close", from_state="verified", to_state="closed")
                )
        CaseEvent.objects.bulk_create(events, batch_size=4000)
        batch.clear()

    for i in range(total):
        mid, path, lat, lng = micro[rng.randrange(len(micro))]
        age = rng.random() ** 1.3 * 365
        reported = now - dt.timedelta(days=age, minutes=rng.randrange(600))
        deadline = reported + dt.timedelta(days=rng.choice((1, 3, 5, 10)))
        closed = (age > 12 and rng.random() < 0.97) or (age > 2 and rng.random() < 0.6)
        handled = reported + dt.timedelta(hours=rng.uniform(2, 24 * 12))
        codes = path.strip("/").split("/")
        village = "/" + "/".join(codes[:3]) + "/"
        state = State.CLOSED if closed and handled < now else rng.choice(open_states)
        batch.append(
            Case(
                number=f"SYN-{i:09d}",
                tracking_code=f"S{i:09d}",
                source="grid_worker",
                category_id=rng.choice(cats),
                description="合成案件",
                lat=(lat or 30.1) + rng.uniform(-0.002, 0.002),
                lng=(lng or 120.3) + rng.uniform(-0.002, 0.002),
                region_id=mid,
                region_path=path,
                center_id=centre_of.get(village, mid),
                state=state,
                reported_at=reported,
                handled_at=handled if state == State.CLOSED else None,
                closed_at=handled + dt.timedelta(hours=1) if state == State.CLOSED else None,
                handle_deadline=deadline,
                deadline=None if state == State.CLOSED else deadline,
                warn_at=None if state == State.CLOSED else deadline - dt.timedelta(hours=6),
                satisfaction=rng.choice((None, 5, 5, 4, 3, 2)) if state == State.CLOSED else None,
            )
        )
        if len(batch) >= 10000:
            flush()
            made = i + 1
            print(f"  … {made:,} synthetic cases ({time.monotonic() - started:.0f}s)", flush=True)
    if batch:
        flush()
    print(f"  synthetic cases written in {time.monotonic() - started:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--city-cases", type=int, default=200_000)
    args = parser.parse_args()
    print(f"database: {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if os.environ.get("BENCH_DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)
    from gridgov.accounts import demo as accounts_demo
    from gridgov.cases import demo as cases_demo
    from gridgov.regions import demo as regions_demo

    t = time.monotonic()
    for loader in (regions_demo.load, accounts_demo.load, cases_demo.load):
        loader(log=lambda msg: None)
    print(f"demo district loaded in {time.monotonic() - t:.0f}s")
    district = Region.objects.get(level=Level.DISTRICT)
    t = time.monotonic()
    days, live = rollups.rebuild(root=district)
    print(f"rollups rebuilt in {time.monotonic() - t:.1f}s ({days:,} day rows, {live:,} open cases)")
    measure("demo scale", args.requests)
    if args.city_cases > 0:
        synthesise(args.city_cases)
        t = time.monotonic()
        days, live = rollups.rebuild(root=district)
        print(f"rollups rebuilt in {time.monotonic() - t:.1f}s ({days:,} day rows, {live:,} open cases)")
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        measure(f"synthetic scale (+{args.city_cases:,})", args.requests)


if __name__ == "__main__":
    main()
