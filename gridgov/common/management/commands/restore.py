from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.common.audit import audit_record
from gridgov.common.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "从 gridgov backup 生成的文件恢复数据库。先校验 SHA-256；目标数据库已有数据时需加 --force。"
        " Restore the configured database from a backup file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件（.sqlite3 或 .dump）")
        parser.add_argument("--force", action="store_true", help="目标数据库已有数据时仍然覆盖")
        parser.add_argument("--skip-checksum", action="store_true", help="没有 .sha256 校验文件时仍然恢复")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            digest = restore(path=path, force=options["force"], skip_checksum=options["skip_checksum"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        audit_record(actor=None, action="system.restored", detail={"file": path.name, "sha256": digest})
        self.stdout.write(self.style.SUCCESS(f"已从 {path.name} 恢复数据库"))
