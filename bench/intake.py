"""Case intake through the HTTP API against a trivial Django view on the same server.

Starts the server `make run` uses (`gridgov serve`: granian, gridgov/common/serving.py) on a free
local port over the DATABASE_URL database (filled by `gridgov synth`), then a second process that keeps
`--concurrency` keep-alive connections busy, POSTing reports to /api/v1/cases as grid workers
(API tokens, form-encoded, points at micro-grid centroids all over the city) for `--seconds`; the
baseline is GET /healthz (one SELECT 1) with the same client, same server, same run.

The client (`--http-client lean`, the default) is one process driving every connection from one
`selectors` loop with the requests built beforehand: it spends a few tens of µs per request, so
on a 2-core machine shared with the server it takes as little as possible from what it measures.
`--http-client threads` is the earlier one (a thread and an `http.client` connection each, ~5×
the CPU per request) for comparison with older figures.

Before the server starts, one report is made in-process (Django's test client, outside any
transaction, as under the server) and the statements it sends counted ("round trips per report",
BEGIN and COMMIT included).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/intake.py

The new cases stay in the database (they are real reports); re-run synth for a clean slate.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, free_port, load, pct, setup_django


def client(
    port: int, path: str, method: str, bodies: list[bytes], headers: dict[str, str], seconds: float, threads: int
) -> dict:
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        i = k
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)] if bodies else None
            hdrs = dict(headers)
            if headers.get("Authorization") == "per-thread":
                hdrs["Authorization"] = TOKENS[k % len(TOKENS)]
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
            if resp.status >= 300:
                with lock:
                    errors.append(f"{resp.status} {data[:200]!r}")
            i += threads
        with lock:
            lat.extend(mine)

    start = time.perf_counter()
    cpu0 = machine_cpu()
    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.perf_counter() - start
    busy, steal = (b - a for a, b in zip(cpu0, machine_cpu(), strict=True))
    return {
        "cpu_ms": busy * 1000 / max(len(lat), 1),
        "cores": busy / took,
        "steal": steal / took,
        "n": len(lat),
        "rps": len(lat) / took,
        "p50": pct(lat, 50) * 1000,
        "p99": pct(lat, 99) * 1000,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def lean_client(port: int, requests: list[list[bytes]], seconds: float, conns: int) -> dict:
    """`conns` keep-alive connections driven from one selectors loop; connection k sends the
    pre-built requests of `requests[k % len(requests)]` in turn. Responses are read by their
    Content-Length (the server always sends it for these endpoints)."""
    sel = selectors.DefaultSelector()
    lat: list[float] = []
    errors: list[str] = []

    class Conn:
        def __init__(self, k: int) -> None:
            self.k = k
            self.reqs = requests[k % len(requests)]
            self.i = 0
            self.open()

        def open(self) -> None:
            self.sock = socket.create_connection(("127.0.0.1", port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.setblocking(False)
            sel.register(self.sock, selectors.EVENT_READ, self)

        def send(self) -> None:
            self.buf = b""
            self.t0 = time.perf_counter()
            self.sock.sendall(self.reqs[self.i % len(self.reqs)])
            self.i += 1

        def reopen(self) -> None:
            sel.unregister(self.sock)
            self.sock.close()
            self.open()

    stop = time.perf_counter() + seconds
    pool = [Conn(k) for k in range(conns)]
    cpu0 = machine_cpu()
    for c in pool:
        c.send()
    start = time.perf_counter()
    live = len(pool)
    while live:
        for key, _ in sel.select(timeout=30):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as exc:
                chunk = b""
                errors.append(f"{type(exc).__name__}: {exc}")
            if not chunk:
                errors.append("connection closed")
                c.reopen()
                if time.perf_counter() < stop:
                    c.send()
                else:
                    sel.unregister(c.sock)
                    live -= 1
                continue
            c.buf += chunk
            head_end = c.buf.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = c.buf[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(c.buf) < head_end + 4 + length:
                continue
            lat.append(time.perf_counter() - c.t0)
            status = int(head.split(" ", 2)[1])
            if status >= 300:
                errors.append(f"{status} {c.buf[head_end + 4 : head_end + 204]!r}")
            if time.perf_counter() < stop:
                c.send()
            else:
                sel.unregister(c.sock)
                c.sock.close()
                live -= 1
    took = time.perf_counter() - start
    busy, steal = (b - a for a, b in zip(cpu0, machine_cpu(), strict=True))
    return {
        "cpu_ms": busy * 1000 / max(len(lat), 1),
        "cores": busy / took,
        "steal": steal / took,
        "n": len(lat),
        "rps": len(lat) / took,
        "p50": pct(lat, 50) * 1000,
        "p99": pct(lat, 99) * 1000,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def machine_cpu() -> tuple[float, float]:
    """Seconds of CPU the whole machine spent busy (user, nice, system, irq, softirq) and stolen
    by the hypervisor, from /proc/stat (0 where there is none)."""
    try:
        with Path("/proc/stat").open() as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / hz, steal / hz


def built(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def round_trips(token: str, body: str) -> tuple[int, list[str]]:
    """SQL statements of one report made in-process outside any transaction (the production path)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=token)
    client.post("/api/v1/cases", body, content_type="application/x-www-form-urlencoded")  # warm caches, token
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/v1/cases", body, content_type="application/x-www-form-urlencoded")
    if response.status_code != 201:
        sys.exit(f"in-process report failed: {response.status_code} {response.content[:300]!r}")
    return len(ctx.captured_queries), [q["sql"][:90] for q in ctx.captured_queries]


TOKENS: list[str] = []
BENCH_TOKEN_NAME = "bench intake"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--workers", type=int, default=0, help="server processes (default: GRIDGOV_WORKERS)")
    parser.add_argument("--threads", type=int, default=0, help="threads per process (default: GRIDGOV_THREADS)")
    parser.add_argument("--http-client", choices=["lean", "threads"], default="lean")
    parser.add_argument("--client", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client and args.http_client == "lean":
        spec = json.loads(Path(args.client).read_text())
        bodies = [b.encode() for b in spec["bodies"]]
        form = "application/x-www-form-urlencoded"
        per_conn = [
            [
                built("POST", "/api/v1/cases", {"Authorization": tok, "Content-Type": form}, body)
                for body in bodies[k :: len(spec["tokens"])]
            ]
            for k, tok in enumerate(spec["tokens"])
        ]
        out = {
            "healthz": lean_client(spec["port"], [[built("GET", "/healthz", {})]], args.seconds, args.concurrency),
            "intake": lean_client(spec["port"], per_conn, args.seconds, args.concurrency),
        }
        print(json.dumps(out))
        return
    if args.client:
        spec = json.loads(Path(args.client).read_text())
        TOKENS.extend(spec["tokens"])
        bodies = [b.encode() for b in spec["bodies"]]
        out = {
            "healthz": client(spec["port"], "/healthz", "GET", [], {}, args.seconds, args.concurrency),
            "intake": client(
                spec["port"],
                "/api/v1/cases",
                "POST",
                bodies,
                {"Authorization": "per-thread", "Content-Type": "application/x-www-form-urlencoded"},
                args.seconds,
                args.concurrency,
            ),
        }
        print(json.dumps(out))
        return

    setup_django()
    from gridgov.accounts.models import APIToken, Role, User
    from gridgov.accounts.tokens import api_token_create
    from gridgov.cases.models import Case, CaseCategory
    from gridgov.regions.models import Level, Region

    rng = random.Random(7)
    workers = list(User.objects.filter(role=Role.GRID_WORKER).order_by("id")[:64])
    if not workers:
        sys.exit("no grid workers: run `gridgov synth` first")
    # Tokens of earlier runs go first (a user may hold 20 active tokens).
    APIToken.objects.filter(name=BENCH_TOKEN_NAME).delete()
    tokens = ["Bearer " + api_token_create(actor=w, name=BENCH_TOKEN_NAME, expires_in_days=1).raw for w in workers]
    cats = list(CaseCategory.objects.filter(parent__isnull=False, is_active=True).values_list("code", flat=True))
    points = list(Region.objects.filter(level=Level.MICROGRID).values_list("centroid_lat", "centroid_lng")[:20000])
    rng.shuffle(points)
    bodies = [
        urllib.parse.urlencode(
            {"category": rng.choice(cats), "description": f"压测上报：道路破损需要修复 {i}", "lat": lat, "lng": lng}
        )
        for i, (lat, lng) in enumerate(points[:5000])
    ]
    statements, sqls = round_trips(tokens[0], bodies[-1])
    port = free_port()
    env = {
        **os.environ,
        "GRIDGOV_DB_POOL": os.environ.get("GRIDGOV_DB_POOL", "1"),
        "GRIDGOV_ACCESS_LOG": "off",
    }
    cmd = [sys.executable, str(ROOT / "manage.py"), "serve", "--bind", f"127.0.0.1:{port}"]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    before = Case.objects.count()
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        spec = Path(f"/tmp/gridgov-intake-{port}.json")
        spec.write_text(json.dumps({"port": port, "tokens": tokens, "bodies": bodies}))
        # warm-up: every worker builds its spatial index on its first report (60,000 polygons at
        # city scale: ~15 s per worker on a loaded 2-core machine)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--client",
                str(spec),
                "--seconds",
                str(args.warmup),
                "--concurrency",
                str(args.concurrency),
                "--http-client",
                args.http_client,
            ],
            check=True,
            capture_output=True,
        )
        print(f"{load()}; {Case.objects.count() - before:,} cases from the warm-up")
        res = subprocess.run(
            [
                sys.executable,
                __file__,
                "--client",
                str(spec),
                "--seconds",
                str(args.seconds),
                "--concurrency",
                str(args.concurrency),
                "--http-client",
                args.http_client,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        out = json.loads(res.stdout)
        spec.unlink()
    finally:
        server.terminate()
        server.wait(timeout=30)
        APIToken.objects.filter(name=BENCH_TOKEN_NAME).delete()
    h, i = out["healthz"], out["intake"]
    print(f"concurrency {args.concurrency} ({args.http_client} client), {args.seconds:.0f} s each; ", end="")
    print(f"cases in the database: {before:,}; {load()}")
    print(f"round trips per report: {statements} (statements sent, BEGIN and COMMIT included)")
    if os.environ.get("GRIDGOV_BENCH_SQL"):
        print("\n".join("  " + q for q in sqls))
    print(f"{'endpoint':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'CPU ms/req':>12}{'cores':>7}")
    for label, r in (("GET /healthz (baseline)", h), ("POST /api/v1/cases (intake)", i)):
        print(
            f"{label:<34}{r['rps']:>10,.0f}{r['p50']:>10.1f}{r['p99']:>10.1f}{r['errors']:>8}"
            f"{r.get('cpu_ms', 0):>12.2f}{r.get('cores', 0):>7.2f}"
        )
    print(f"intake / baseline throughput: {i['rps'] / h['rps']:.2f}")
    print(
        "CPU ms/req: the whole machine's busy CPU (server, PostgreSQL, this client) per answer; "
        f"cores: how many of {os.cpu_count()} it kept busy; stolen by the hypervisor: "
        f"{h.get('steal', 0):.2f} and {i.get('steal', 0):.2f} cores"
    )
    if i["first_error"]:
        print("first error:", i["first_error"])


if __name__ == "__main__":
    main()
