"""Queue and list pages, and the command centre, at the scale of the DATABASE_URL database
(filled by `gridgov synth --scale city`), p50/p95/p99 through Django's test client (the full
middleware, template and API stack, in process, no network).

- every work queue of a district centre, a town centre, a department and a leader, as the
  server-rendered page (/cases/?queue=…) and the API (/api/v1/cases?queue=…); the people list
  (/registers/people/) of a town operator and a district leader;
- the command centre (/dashboard/, /api/v1/dashboard/summary) of every district, and the same
  summary figures from the rollups vs computed from the raw case rows (bench/dashboard.py's
  `rollup_summary` / `raw_summary`, the baseline) in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load, pct, setup_django

# bench/dashboard.py points Django at BENCH_DATABASE_URL when it is imported: the same database.
os.environ["BENCH_DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
setup_django()

import dashboard as dashboard_bench  # noqa: E402
from django.test import Client  # noqa: E402

from gridgov.accounts.models import Role, User  # noqa: E402
from gridgov.accounts.scope import Scope  # noqa: E402
from gridgov.cases import selectors  # noqa: E402
from gridgov.cases.models import Case  # noqa: E402
from gridgov.common import clock  # noqa: E402
from gridgov.regions.models import Level, Region  # noqa: E402


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def row(label: str, ms: list[float]) -> tuple[str, float, float, float]:
    print(f"  {label:<58}{pct(ms, 50):>9.1f}{pct(ms, 95):>9.1f}{pct(ms, 99):>9.1f}")
    return label, pct(ms, 50), pct(ms, 95), pct(ms, 99)


def get(client: Client, url: str) -> Callable[[], Any]:
    def go() -> Any:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        return r

    return go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    n = args.requests
    district = Region.objects.filter(level=Level.DISTRICT).order_by("code").first()
    assert district is not None, "empty database: run gridgov synth"
    town = Region.objects.filter(parent=district).order_by("code").first()
    users = {
        "district centre": User.objects.get(username=f"op-{district.code}"),
        "town centre": User.objects.get(username=f"op-{town.code}"),
        "department": User.objects.filter(role=Role.DEPARTMENT_HANDLER, department__region=district).order_by("id")[0],
        "leader": User.objects.get(username=f"leader-{district.code}"),
    }
    print(
        f"{Case.objects.count():,} cases, {Region.objects.filter(level=Level.MICROGRID).count():,} micro-grids; {load()}"
    )
    print(f"  {'page (ms)':<58}{'p50':>9}{'p95':>9}{'p99':>9}")
    results = []
    for who, user in users.items():
        c = Client()
        c.force_login(user)
        for q in selectors.queues_for(Scope.for_user(user)):
            for url in (f"/cases/?queue={q.key}", f"/api/v1/cases?queue={q.key}"):
                get(c, url)()
                results.append(row(f"{who}: {url}", timed(get(c, url), n)))
    for who in ("town centre", "leader"):
        c = Client()
        c.force_login(users[who])
        for url in ("/registers/people/", "/api/v1/registers/people"):
            get(c, url)()
            results.append(row(f"{who}: {url}", timed(get(c, url), n)))

    print("\ncommand centre, per district (leader):")
    now = clock.now()
    ratios = []
    for d in Region.objects.filter(level=Level.DISTRICT).order_by("code"):
        c = Client()
        c.force_login(User.objects.get(username=f"leader-{d.code}"))
        for url in ("/dashboard/", "/api/v1/dashboard/summary"):
            get(c, url)()
            results.append(row(f"{d.code}: {url}", timed(get(c, url), n)))
        fast = timed(lambda d=d: dashboard_bench.rollup_summary(d, now), n)
        slow = timed(lambda d=d: dashboard_bench.raw_summary(d, now), max(3, n // 5))
        row(f"{d.code}: summary figures from rollups", fast)
        row(f"{d.code}: same figures from raw cases (baseline)", slow)
        ratios.append(pct(slow, 50) / pct(fast, 50))
    worst = max(results, key=lambda r: r[2])
    print(f"\nslowest page by p95: {worst[0]}  p95 {worst[2]:.1f} ms")
    print(f"rollups vs raw rows (p50 ratio per district): {', '.join(f'{r:.0f}x' for r in ratios)}")
    print(load())


if __name__ == "__main__":
    main()
