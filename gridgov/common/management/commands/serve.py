from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.common import serving


class Command(BaseCommand):
    help = (
        "以 granian 提供 HTTP 服务（make run、生产部署）。Serve gridgov over HTTP with granian: the app and its "
        "caches load once, then the workers fork. Settings: GRIDGOV_BIND, GRIDGOV_WORKERS, GRIDGOV_THREADS, "
        "GRIDGOV_ACCESS_LOG, GRIDGOV_WORKER_MAX_RSS, GRIDGOV_WORKER_LIFETIME, GRIDGOV_BACKLOG, GRIDGOV_WARM_CACHES."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=None, help="HOST:PORT（默认 GRIDGOV_BIND 或 127.0.0.1:8000）")
        parser.add_argument("--workers", type=int, default=None, help="进程数（默认 GRIDGOV_WORKERS，CPU 数）")
        parser.add_argument("--threads", type=int, default=None, help="每进程线程数（默认 GRIDGOV_THREADS，4）")

    def handle(self, *args: Any, **options: Any) -> None:
        env: dict[str, str] = {}
        if options["workers"] is not None:
            env["GRIDGOV_WORKERS"] = str(options["workers"])
        if options["threads"] is not None:
            env["GRIDGOV_THREADS"] = str(options["threads"])
        try:
            opts = serving.options_from_env({**os.environ, **env}, bind=options["bind"])
        except serving.ServeError as exc:
            raise CommandError(str(exc)) from exc
        serving.serve(opts)
