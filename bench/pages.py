"""Queue and list pages, and the command centre, at the scale of the DATABASE_URL database
(filled by `gridgov synth --scale city`), p50/p95/p99 through Django's test client (the full
middleware, template and API stack, in process, no network).

- every work queue of a district centre, a town centre, a department and a leader, as the
  server-rendered page (/cases/?queue=…, with every tab's count) and the API
  (/api/v1/cases?queue=…); the people list (/registers/people/) of a town operator, a district
  leader and the operator of the last town of the last district (the far end of the
  table and of its indexes);
- the command centre (/dashboard/, /api/v1/dashboard/summary) of every district, and the same
  summary figures from the rollups vs computed from the raw case rows (bench/dashboard.py's
  `rollup_summary` / `raw_summary`, the baseline) in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/pages.py

Before/after a change, in the same run: `--against DIR` (a checkout of the code to compare, e.g.
`git worktree add /tmp/before HEAD~1` or `git archive HEAD | tar -x -C /tmp/before`) times every
queue and people page in two worker processes (bench/_page_worker.py), DIR's code and this
checkout's, taking turns request by request on the same database (or `--against-database`, a
copy without the change's migrations), and prints both with the ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
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


def pages(users: dict[str, User], sections: set[str]) -> list[tuple[str, str, str]]:
    """(who, username, url) of every page to time."""
    out = []
    if "queues" in sections:
        for who in ("district centre", "town centre", "department", "leader"):
            user = users[who]
            for q in selectors.queues_for(Scope.for_user(user)):
                for url in (f"/cases/?queue={q.key}", f"/api/v1/cases?queue={q.key}"):
                    out.append((who, user.username, url))
    if "people" in sections:
        for who in ("town centre", "leader", "far town centre"):
            for url in ("/registers/people/", "/api/v1/registers/people"):
                out.append((who, users[who].username, url))
    return out


class Worker:
    """bench/_page_worker.py on the checkout at `root`."""

    def __init__(self, root: Path, database_url: str | None = None) -> None:
        worker = Path(__file__).resolve().parent / "_page_worker.py"
        env = {**os.environ, "DATABASE_URL": database_url} if database_url else None
        self.proc = subprocess.Popen(
            [sys.executable, str(worker), str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def get(self, url: str) -> float:
        ms, status = self.ask(f"get {url}").split()
        assert status == "200", (url, status)
        return float(ms)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def compare(todo: list[tuple[str, str, str]], against: Path, n: int, against_database: str | None = None) -> None:
    """Every page timed by the checkout at `against` (before) and this one (after), in turns."""
    here = Path(__file__).resolve().parent.parent
    before, after = Worker(against, against_database), Worker(here)
    print(f"  before: {against}{f' on {against_database}' if against_database else ''}\n  after:  {here}")
    print(f"  {'page (ms)':<52}{'p50 before':>11}{'after':>8}{'p95 before':>11}{'after':>8}{'p95 ratio':>10}")
    user = None
    for who, username, url in todo:
        if username != user:
            user = username
            assert before.ask(f"user {username}") == after.ask(f"user {username}") == "ok"
            print(f"  {load()}")
        before.get(url), after.get(url)  # warm both
        b, a = [], []
        for i in range(n):  # alternate who goes first
            first, second = (before, after) if i % 2 == 0 else (after, before)
            t1, t2 = first.get(url), second.get(url)
            b.append(t1 if first is before else t2)
            a.append(t2 if first is before else t1)
        label = f"{who}: {url}"
        print(
            f"  {label:<52}{pct(b, 50):>11.1f}{pct(a, 50):>8.1f}{pct(b, 95):>11.1f}{pct(a, 95):>8.1f}"
            f"{pct(a, 95) / pct(b, 95):>9.2f}x"
        )
    before.close()
    after.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--sections",
        default="queues,people,dashboard",
        help="comma-separated: queues (case work queues), people (people lists), dashboard (command centre)",
    )
    parser.add_argument(
        "--against", type=Path, help="a checkout to compare with, request by request (queues and people only)"
    )
    parser.add_argument(
        "--against-database",
        help="DATABASE_URL for --against (a copy without this change's indexes: createdb -T …); default: the same",
    )
    args = parser.parse_args()
    n = args.requests
    sections = set(args.sections.split(","))
    district = Region.objects.filter(level=Level.DISTRICT).order_by("code").first()
    assert district is not None, "empty database: run gridgov synth"
    town = Region.objects.filter(parent=district).order_by("code").first()
    far_town = Region.objects.filter(level=Level.STREET).order_by("-path").first()
    assert town is not None and far_town is not None
    users = {
        "district centre": User.objects.get(username=f"op-{district.code}"),
        "town centre": User.objects.get(username=f"op-{town.code}"),
        "department": User.objects.filter(role=Role.DEPARTMENT_HANDLER, department__region=district).order_by("id")[0],
        "leader": User.objects.get(username=f"leader-{district.code}"),
        "far town centre": User.objects.get(username=f"op-{far_town.code}"),
    }
    print(
        f"{Case.objects.count():,} cases, {Region.objects.filter(level=Level.MICROGRID).count():,} micro-grids; {load()}"
    )
    todo = pages(users, sections)
    if args.against:
        compare(todo, args.against.resolve(), n, args.against_database)
        print(load())
        return
    print(f"  {'page (ms)':<58}{'p50':>9}{'p95':>9}{'p99':>9}")
    results = []
    clients: dict[str, Client] = {}
    for who, _username, url in todo:
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(users[who])
            print(f"  {load()}")
        get(clients[who], url)()
        results.append(row(f"{who}: {url}", timed(get(clients[who], url), n)))
    if "dashboard" in sections:
        command_centre(results, n)
    worst = max(results, key=lambda r: r[2])
    print(f"\nslowest page by p95: {worst[0]}  p95 {worst[2]:.1f} ms")
    print(load())


def command_centre(results: list[tuple[str, float, float, float]], n: int) -> None:
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
    print(f"rollups vs raw rows (p50 ratio per district): {', '.join(f'{r:.0f}x' for r in ratios)}")


if __name__ == "__main__":
    main()
