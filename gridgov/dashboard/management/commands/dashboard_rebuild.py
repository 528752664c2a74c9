from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.dashboard import rollups
from gridgov.regions.models import Region


class Command(BaseCommand):
    help = "重建指挥中心汇总表（区域日统计、在办案件），在批量导入案件后或核对时执行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", default="", help="区域代码，默认本区")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["region"] or settings.GRIDGOV["DISTRICT_CODE"]
        root = Region.objects.filter(code=code).first()
        if root is None:
            raise CommandError(f"区域 {code} 不存在")
        started = time.monotonic()
        days, live = rollups.rebuild(root=root)
        self.stdout.write(f"{root.name}: {days} 条日统计，{live} 件在办案件，用时 {time.monotonic() - started:.1f}s")
