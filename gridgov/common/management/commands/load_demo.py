from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from gridgov.common.demo import loaders


class Command(BaseCommand):
    help = "载入演示数据（萧山区真实区划、生成的网格边界、团队、各角色演示账号……），可重复执行。"

    def handle(self, *args: Any, **options: Any) -> None:
        for name, load in loaders():
            started = time.monotonic()
            load(log=lambda msg: self.stdout.write(f"  {msg}"))
            self.stdout.write(f"{name}: {time.monotonic() - started:.1f}s")
