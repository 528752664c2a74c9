"""The background worker: runs the periodic jobs of gridgov.common.jobs until stopped.

gridgov worker          # loop (make run starts it beside the web server)
gridgov worker --once   # run every job once and exit (cron-style)
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from gridgov.common.jobs import JOBS, run_due


class Command(BaseCommand):
    help = "后台任务：定时执行时限预警扫描、外发消息投递等周期任务"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="每个任务执行一次后退出")
        parser.add_argument("--tick", type=float, default=5.0, help="检查间隔（秒）")

    def handle(self, *args: Any, **options: Any) -> None:
        last_run: dict[str, float] = {}
        if options["once"]:
            ran = run_due(last_run)
            self.stdout.write(f"ran: {', '.join(ran) or 'none'}")
            return
        self.stdout.write("worker: " + ", ".join(f"{j.name} every {j.every:g}s" for j in JOBS))
        while True:
            # A long-lived loop: drop connections the database closed or that outlived their age,
            # as the request cycle does for web workers (never inside a transaction).
            close_old_connections()
            run_due(last_run)
            time.sleep(options["tick"])
