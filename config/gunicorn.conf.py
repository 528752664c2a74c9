"""gunicorn settings for gridgov (`make run`, production: `gunicorn -c config/gunicorn.conf.py`).

Every value can be overridden by the usual GUNICORN_* / command-line options; the defaults follow
the machine:

- workers: one per CPU plus one (Django requests are mostly CPU in Python; PostgreSQL runs beside
  them on the same cores in a single-machine install), threads: 4 per worker so a request waiting
  on the database or a photo upload does not hold a whole process;
- keep-alive: a reverse proxy (nginx) reuses its upstream connections, so 5 s, not gunicorn's 2 s;
- max-requests with jitter: each worker is recycled after ~2,000 requests so a slow leak never
  grows without bound, and the jitter keeps the workers from restarting all at once;
- preload: the app (and its imports) load once in the master; workers fork from it.

With GRIDGOV_DB_POOL=1 each worker holds a psycopg pool (config/settings.py); keep
workers × GRIDGOV_DB_POOL_MAX under PostgreSQL's max_connections (100 by default).

Warm caches before forking (GRIDGOV_WARM_CACHES, on by default): the master, which has the app
preloaded, builds the point → micro-grid index (an STRtree over every leaf polygon: ~15 s for a
city of 62,000 micro-grids on a loaded machine), imports the URLconf (every view module, ~1 s)
and fills the intake caches (categories, centres, region
rows: gridgov.cases.config) once; every worker, including one recycled after max_requests, starts
with them and rebuilds only if their version token moved meanwhile. The master's database
connection (and pool) is closed before the first fork.

Measured for intake (bench/intake.py, district dataset, load 8–10 from other work on the same two
cores): 3 workers × 4 threads and 2 × 4 gave the same throughput, more processes with fewer
threads less; gthread threads overlap a request's database round trips, processes its Python.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GRIDGOV_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GRIDGOV_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GRIDGOV_THREADS", 4))
worker_class = "gthread"
keepalive = int(os.environ.get("GRIDGOV_KEEPALIVE", 5))
timeout = int(os.environ.get("GRIDGOV_TIMEOUT", 60))
graceful_timeout = 30
max_requests = int(os.environ.get("GRIDGOV_MAX_REQUESTS", 2000))
max_requests_jitter = int(os.environ.get("GRIDGOV_MAX_REQUESTS_JITTER", 200))
preload_app = True
accesslog = os.environ.get("GRIDGOV_ACCESS_LOG", "-")
wsgi_app = "config.wsgi:application"


def when_ready(server: object) -> None:
    """In the master, after the app is loaded and before any worker is forked."""
    if os.environ.get("GRIDGOV_WARM_CACHES", "1").strip().lower() not in {"1", "true", "yes", "on"}:
        return
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view module (~1 s), otherwise each worker's first request
    try:
        from gridgov.cases import config
        from gridgov.regions.spatial import get_locator

        snap = config.snapshot()
        get_locator(version=snap.token("locator") or "")
        snap.regions([])  # the region table
    except Exception as exc:  # noqa: BLE001 — a cold start is slower, never fatal (e.g. not migrated yet)
        server.log.warning("cache warm-up skipped: %s", exc)  # type: ignore[attr-defined]
    finally:
        for conn in connections.all(initialized_only=True):
            conn.close()
            # A pool's threads do not survive fork: close it; each worker opens its own.
            if conn.alias in getattr(conn, "_connection_pools", {}):
                conn.close_pool()  # type: ignore[attr-defined]
