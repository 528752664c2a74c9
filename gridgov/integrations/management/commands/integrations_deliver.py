"""Send due outbox messages (webhooks, 12345/110 push-back), with retries and back-off.

Run it every minute (cron / systemd timer), or with --loop as a small worker:
    manage.py integrations_deliver            # once
    manage.py integrations_deliver --loop 15  # every 15 seconds until stopped
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gridgov.integrations.outbox import deliver_due


class Command(BaseCommand):
    help = "发送到期的外发消息（事件推送、热线回传），失败按指数退避重试"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="每轮最多发送条数")
        parser.add_argument("--loop", type=float, default=0, help="每隔多少秒重复一次（0 表示只运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            stats = deliver_due(limit=options["limit"])
            if stats.claimed or not options["loop"]:
                self.stdout.write(
                    f"claimed {stats.claimed}, delivered {stats.delivered}, "
                    f"retrying {stats.retrying}, failed {stats.failed}"
                )
            if not options["loop"]:
                return
            time.sleep(options["loop"])
