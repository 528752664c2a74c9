from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.assessment import services
from gridgov.assessment.models import Scheme
from gridgov.common import clock
from gridgov.common.errors import DomainError
from gridgov.regions.models import Region


class Command(BaseCommand):
    help = "计算（试算）某月考核，可选发布；默认上月、本区。--install-defaults 安装“双十条”默认方案。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", default="", help="YYYY-MM，默认上月")
        parser.add_argument("--region", default="", help="区县代码，默认本区")
        parser.add_argument("--as-of", default="", help="时限判断时点（ISO 8601），默认月末")
        parser.add_argument("--publish", action="store_true", help="计算后发布并冻结")
        parser.add_argument("--install-defaults", action="store_true", help="先安装或补全默认方案")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["region"] or settings.GRIDGOV["DISTRICT_CODE"]
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(f"区域 {code} 不存在")
        try:
            if options["install_defaults"]:
                services.scheme_install_default(region=region)
            scheme = Scheme.objects.filter(region=region, is_active=True).first()
            if scheme is None:
                raise CommandError("没有启用的考核方案（可加 --install-defaults）")
            month = (
                services.parse_month(options["month"]) if options["month"] else services.previous_month(clock.today())
            )
            as_of = dt.datetime.fromisoformat(options["as_of"]) if options["as_of"] else None
            if as_of is not None and as_of.tzinfo is None:
                raise CommandError("--as-of 需要带时区，例如 2026-11-01T00:00+08:00")
            started = time.monotonic()
            result = services.assessment_compute(actor=None, scheme=scheme, month=month, as_of=as_of)
            took = time.monotonic() - started
            self.stdout.write(
                f"{month:%Y-%m}: {result.villages} 个村社、{result.towns} 个镇街、{result.workers} 名网格员，"
                f"用时 {took:.2f}s，摘要 {result.assessment.digest[:12]}"
            )
            if options["publish"]:
                services.assessment_publish(actor=None, assessment=result.assessment)
                self.stdout.write("已发布并冻结")
        except (DomainError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
