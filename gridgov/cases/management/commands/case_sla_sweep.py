from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.cases.services import sla_sweep


class Command(BaseCommand):
    help = "时限巡检：对临近时限和已超时的案件发送提醒（每个环节各一次）。建议每 5–10 分钟运行一次。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=5000, help="每类最多处理的案件数")

    def handle(self, *args: Any, **options: Any) -> None:
        nearing, overdue = sla_sweep(limit=options["limit"])
        self.stdout.write(f"nearing deadline: {nearing}, overdue: {overdue}")
