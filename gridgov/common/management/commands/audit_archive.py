from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.common.audit import audit_record
from gridgov.common.errors import DomainError
from gridgov.common.retention import MIN_RETENTION_DAYS, audit_archive, retention_days


class Command(BaseCommand):
    help = (
        "归档并删除超过保留期的审计日志（保留期默认取 GRIDGOV_AUDIT_RETENTION_DAYS，"
        f"不得少于 {MIN_RETENTION_DAYS} 天）。Archive, then delete, audit rows older than the retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help=f"保留天数（≥ {MIN_RETENTION_DAYS}）")
        parser.add_argument("--archive-dir", default=None, help="归档目录（默认 GRIDGOV_AUDIT_ARCHIVE_DIR）")
        parser.add_argument("--no-archive", action="store_true", help="不写归档文件，直接删除过期记录")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else retention_days()
        archive_dir = (
            None
            if options["no_archive"]
            else Path(str(options["archive_dir"] or settings.GRIDGOV["AUDIT_ARCHIVE_DIR"]))
        )
        try:
            result = audit_archive(archive_dir=archive_dir, days=days, dry_run=options["dry_run"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        cutoff = f"{result.cutoff:%Y-%m-%d %H:%M}"
        if options["dry_run"]:
            self.stdout.write(f"早于 {cutoff} 的审计记录共 {result.rows} 条（未删除）")
            return
        if result.rows:
            audit_record(
                actor=None,
                action="audit.archived",
                detail={"rows": result.rows, "cutoff": result.cutoff.isoformat(), "file": str(result.path or "")},
            )
        where = f"，归档文件 {result.path}" if result.path else ""
        self.stdout.write(self.style.SUCCESS(f"已处理早于 {cutoff} 的审计记录 {result.rows} 条{where}"))
