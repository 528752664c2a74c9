from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import ValidationFailed
from gridgov.common.models import AuditEvent
from gridgov.common.retention import audit_archive

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 9, 30, 12, 0))


def _seed() -> dict[str, int]:
    ages = {"ancient": 400, "old": 200, "just_old": 183, "edge": 182, "young": 30}
    ids = {}
    for name, days in ages.items():
        with clock.frozen(NOW - dt.timedelta(days=days, seconds=1 if name == "just_old" else 0)):
            ids[name] = audit_record(actor=None, action=f"test.{name}").pk
    with clock.frozen(NOW - dt.timedelta(days=183) + dt.timedelta(seconds=1)):
        ids["inside"] = audit_record(actor=None, action="test.inside").pk
    return ids


def test_archive_moves_only_rows_older_than_the_retention(db, tmp_path):
    ids = _seed()
    result = audit_archive(archive_dir=tmp_path, days=183, now=NOW)
    assert result.rows == 3
    left = set(AuditEvent.objects.values_list("action", flat=True))
    assert left == {"test.edge", "test.young", "test.inside"}
    with gzip.open(result.path, "rt", encoding="utf-8") as fh:
        archived = [json.loads(line) for line in fh]
    assert sorted(r["id"] for r in archived) == sorted([ids["ancient"], ids["old"], ids["just_old"]])
    checksum = result.path.with_name(result.path.name + ".sha256").read_text().split()[0]
    assert checksum == hashlib.sha256(result.path.read_bytes()).hexdigest()
    # Running again finds nothing more to do and writes no empty file.
    again = audit_archive(archive_dir=tmp_path, days=183, now=NOW)
    assert again.rows == 0 and again.path is None


def test_retention_below_six_months_is_refused(db, tmp_path):
    _seed()
    with pytest.raises(ValidationFailed):
        audit_archive(archive_dir=tmp_path, days=90, now=NOW)
    assert AuditEvent.objects.count() == 6
    with pytest.raises(CommandError, match="不能少于 183 天"):
        call_command("audit_archive", "--days", "30", "--archive-dir", str(tmp_path))


def test_the_command_uses_the_configured_retention_and_audits_itself(db, tmp_path, settings):
    settings.GRIDGOV = {**settings.GRIDGOV, "AUDIT_RETENTION_DAYS": 365}
    with clock.frozen(NOW - dt.timedelta(days=400)):
        audit_record(actor=None, action="test.ancient")
    with clock.frozen(NOW - dt.timedelta(days=300)):
        audit_record(actor=None, action="test.kept")
    out = io.StringIO()
    with clock.frozen(NOW):
        call_command("audit_archive", "--dry-run", stdout=out)
        assert "共 1 条" in out.getvalue() and AuditEvent.objects.count() == 2
        call_command("audit_archive", "--archive-dir", str(tmp_path), stdout=io.StringIO())
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"test.kept", "audit.archived"}
    assert len(list(tmp_path.glob("*.jsonl.gz"))) == 1
