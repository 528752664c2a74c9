from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.common.audit import audit_record
from gridgov.common.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "备份当前配置的数据库：SQLite 用在线备份 API，PostgreSQL 用 pg_dump 自定义格式；"
        "生成带时间戳的文件和 .sha256 校验文件。Back up the configured database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output-dir", "-o", default=None, help="备份目录（默认 GRIDGOV_BACKUP_DIR）")

    def handle(self, *args: Any, **options: Any) -> None:
        output_dir = Path(str(options["output_dir"] or settings.GRIDGOV["BACKUP_DIR"]))
        try:
            result = backup(output_dir=output_dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        audit_record(
            actor=None,
            action="system.backup",
            detail={"file": result.path.name, "sha256": result.sha256, "bytes": result.size},
        )
        self.stdout.write(self.style.SUCCESS(f"备份完成：{result.path}（{result.size} 字节）"))
        self.stdout.write(f"SHA-256：{result.sha256}（{result.checksum_path.name}）")
