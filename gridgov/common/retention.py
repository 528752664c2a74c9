"""Audit-log retention: rows older than the retention period are written to a compressed archive
file (JSON lines, with a SHA-256 beside it) and then removed; younger rows are never touched.

等保 2.0 asks for at least six months of audit records, so the retention cannot be set below
MIN_RETENTION_DAYS; archives are kept on disk for whatever longer period the site requires.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from . import clock
from .errors import ValidationFailed
from .models import AuditEvent

MIN_RETENTION_DAYS = 183
BATCH = 2000


def retention_days() -> int:
    value: Any = settings.GRIDGOV.get("AUDIT_RETENTION_DAYS", 365)
    return int(value)


def retention_cutoff(*, days: int | None = None, now: dt.datetime | None = None) -> dt.datetime:
    days = retention_days() if days is None else days
    if days < MIN_RETENTION_DAYS:
        raise ValidationFailed(
            f"审计日志保留期不能少于 {MIN_RETENTION_DAYS} 天（约 6 个月），当前设置为 {days} 天",
            field="retention_days",
            rule="audit.min_retention",
        )
    return (now or clock.now()) - dt.timedelta(days=days)


@dataclass
class ArchiveResult:
    cutoff: dt.datetime
    rows: int
    path: Path | None


def _row(event: AuditEvent) -> dict[str, object]:
    return {
        "id": event.pk,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "reason": event.reason,
        "detail": event.detail,
        "ip": event.ip,
        "region_path": event.region_path,
    }


def audit_archive(
    *, archive_dir: Path | None, days: int | None = None, dry_run: bool = False, now: dt.datetime | None = None
) -> ArchiveResult:
    """Archive then delete every audit row older than the cutoff, in batches. With archive_dir
    None the old rows are deleted without a copy (only when the site keeps copies elsewhere)."""
    cutoff = retention_cutoff(days=days, now=now)
    old = AuditEvent.objects.filter(at__lt=cutoff)
    if dry_run:
        return ArchiveResult(cutoff=cutoff, rows=old.count(), path=None)
    path: Path | None = None
    total = 0
    with contextlib.ExitStack() as stack:
        handle = None
        if archive_dir is not None:
            archive_dir.mkdir(parents=True, exist_ok=True)
            path = archive_dir / f"audit-before-{cutoff:%Y%m%d}-{clock.now():%Y%m%d%H%M%S}.jsonl.gz"
            handle = stack.enter_context(gzip.open(path, "wt", encoding="utf-8"))
        while True:
            with transaction.atomic():
                batch = list(old.order_by("id")[:BATCH])
                if not batch:
                    break
                if handle is not None:
                    # The copy reaches the disk before the rows go: a crash in between leaves
                    # a row archived twice at worst, never a row lost.
                    for event in batch:
                        handle.write(json.dumps(_row(event), ensure_ascii=False) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                # QuerySet.delete, not AuditEvent.delete(): the model refuses single deletes so
                # no screen or service can remove a row; only this job removes expired ones.
                # The cutoff is re-applied so the delete can never reach a younger row.
                AuditEvent.objects.filter(pk__in=[e.pk for e in batch], at__lt=cutoff).delete()
                total += len(batch)
    if path is not None:
        if total == 0:
            path.unlink(missing_ok=True)
            path = None
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    return ArchiveResult(cutoff=cutoff, rows=total, path=path)
