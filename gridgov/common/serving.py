"""Serving gridgov over HTTP: granian (a WSGI server whose HTTP handling is Rust, outside the GIL)
with the app and its caches loaded once, before the workers are forked.

`gridgov serve` (and `make run`) start it; every setting has an environment variable so a
deployment configures it like the rest of gridgov (README, docs/scaling.md):

- GRIDGOV_BIND (`127.0.0.1:8000`): address and port; `--bind` overrides it;
- GRIDGOV_WORKERS (one per CPU): processes; their Python runs in parallel;
- GRIDGOV_THREADS (4): threads per process that run requests, so a request waiting on the
  database or a slow upload does not hold a whole process (granian reads and writes the sockets
  on its own threads, without the GIL, and keeps idle keep-alive connections off them);
- GRIDGOV_ACCESS_LOG (`-`: standard output; `off`, `0` or `/dev/null`: none; otherwise a file);
- GRIDGOV_WORKER_MAX_RSS (2048 MiB, 0 = never): a worker above it is replaced (checked every
  30 s) so a slow leak never grows without bound; GRIDGOV_WORKER_LIFETIME (seconds, ≥ 60, unset
  = never) replaces workers by age as well;
- GRIDGOV_BACKLOG (1024): the listen queue;
- GRIDGOV_WARM_CACHES (1): build the point → micro-grid index, the URLconf and the intake caches
  in the main process before forking (a city's index takes ~15 s; every worker, and every one that
  replaces it, starts with them and rebuilds only what changed since).

Why granian and not gunicorn (the server until 2026-12): same-run figures on the 2-core benchmark
machine (docs/scaling.md) gave granian 3,911–4,081 `GET /healthz`/s against gunicorn's
1,801–2,602 (~0.4 ms less machine CPU per request) and ~10 % more case intake: gunicorn parses
HTTP and moves every request between its poller and worker threads in Python. Behind a reverse
proxy nothing changes: it speaks plain HTTP/1.1 (and HTTP/2) on the same port.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("gridgov.serving")

ACCESS_LOG_OFF = {"", "0", "off", "no", "false", "none", "/dev/null"}
WSGI_TARGET = "config.wsgi:application"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    threads: int
    access_log: str  # "-" (stdout), "" (none) or a file path
    max_rss_mb: int | None
    lifetime: int | None
    backlog: int
    warm: bool


class ServeError(ValueError):
    pass


def _int_env(env: dict[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ServeError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ServeError(f"{name} must be at least {minimum}, not {value}")
    return value


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ServeError(f"bind must be HOST:PORT, not {bind!r}")
    return host.strip("[]"), int(port)


def options_from_env(env: dict[str, str] | None = None, *, bind: str | None = None) -> ServeOptions:
    """The server's settings from the environment (`bind` from the command line wins)."""
    env = dict(os.environ if env is None else env)
    default_bind = f"{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}"
    host, port = parse_bind(bind or env.get("GRIDGOV_BIND", "") or default_bind)
    access = env.get("GRIDGOV_ACCESS_LOG", "-").strip()
    lifetime = _int_env(env, "GRIDGOV_WORKER_LIFETIME", 0, minimum=0)
    if 0 < lifetime < 60:
        raise ServeError(f"GRIDGOV_WORKER_LIFETIME must be 0 (never) or at least 60 seconds, not {lifetime}")
    max_rss = _int_env(env, "GRIDGOV_WORKER_MAX_RSS", 2048, minimum=0)
    return ServeOptions(
        host=host,
        port=port,
        workers=_int_env(env, "GRIDGOV_WORKERS", os.cpu_count() or 1, minimum=1),
        threads=_int_env(env, "GRIDGOV_THREADS", 4, minimum=1),
        access_log="" if access.lower() in ACCESS_LOG_OFF else access,
        max_rss_mb=max_rss or None,
        lifetime=lifetime or None,
        backlog=_int_env(env, "GRIDGOV_BACKLOG", 1024, minimum=16),
        warm=env.get("GRIDGOV_WARM_CACHES", "1").strip().lower() in {"1", "true", "yes", "on"},
    )


def warm_caches() -> None:
    """In the main process, before any worker is forked: import every view module (~1 s), build
    the point → micro-grid index and fill the intake caches (categories, centres, region rows:
    gridgov.cases.config). Then close the database connections (and pools, whose threads do not
    survive a fork): each worker opens its own."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view module
    try:
        from gridgov.cases import config
        from gridgov.regions.spatial import get_locator

        snap = config.snapshot()
        get_locator(version=snap.token("locator") or "")
        snap.regions([])  # the region table
    except Exception as exc:  # noqa: BLE001 — a cold start is slower, never fatal (e.g. not migrated yet)
        log.warning("cache warm-up skipped: %s", exc)
    finally:
        close_connections()


def close_connections() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
        if conn.alias in getattr(conn, "_connection_pools", {}):
            conn.close_pool()  # type: ignore[attr-defined]


def _log_config(access_log: str) -> dict[str, Any] | None:
    if not access_log or access_log == "-":
        return None
    return {
        "handlers": {
            "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
            "access": {"formatter": "access", "class": "logging.FileHandler", "filename": access_log},
        }
    }


def serve(options: ServeOptions) -> None:
    """Load the WSGI app here, warm it, then fork the workers from this process (they inherit
    both); returns when the server stops (SIGINT/SIGTERM)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    from config.wsgi import application  # loaded (settings, middleware) before the fork

    def app_loader() -> Callable[..., Any]:
        return application

    if options.warm:
        warm_caches()
    else:
        close_connections()
    server = Server(
        WSGI_TARGET,
        address=options.host,
        port=options.port,
        interface=Interfaces.WSGI,
        workers=options.workers,
        blocking_threads=options.threads,
        http=HTTPModes.auto,
        websockets=False,
        backlog=options.backlog,
        log_level=LogLevels.info,
        log_access=bool(options.access_log),
        log_dictconfig=_log_config(options.access_log),
        respawn_failed_workers=True,
        workers_max_rss=options.max_rss_mb,
        workers_lifetime=options.lifetime,
        workers_kill_timeout=30,
    )
    # The loader runs in each forked worker and hands it the app this process already loaded.
    server.serve(target_loader=app_loader, wrap_loader=False)
