from __future__ import annotations

import io
import sqlite3

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from gridgov.accounts.models import User
from gridgov.common import backup
from gridgov.common.models import AuditEvent
from gridgov.regions.models import Region
from tests.factories import build_personas

# The backup is read by another connection (SQLite's backup API, or pg_dump in another process),
# so the data must be committed: transactional tests.
pytestmark = pytest.mark.django_db(transaction=True)


def _snapshot() -> tuple[int, int, list[str]]:
    return (
        Region.objects.count(),
        User.objects.count(),
        sorted(User.objects.values_list("username", flat=True)),
    )


def _backup(tmp_path) -> tuple:
    out = io.StringIO()
    call_command("backup", "--output-dir", str(tmp_path), stdout=out)
    files = [p for p in tmp_path.iterdir() if not p.name.endswith(".sha256")]
    assert len(files) == 1, files
    return files[0], out.getvalue()


def _round_trip(tmp_path) -> None:
    build_personas()
    before = _snapshot()
    path, out = _backup(tmp_path)
    assert "备份完成" in out
    checksum = path.with_name(path.name + ".sha256")
    assert checksum.read_text().split() == [backup.sha256_of(path), path.name]

    # Damage after the backup: people deleted, a region renamed.
    User.objects.filter(username__in=["alice", "bob"]).delete()
    Region.objects.filter(code="330109001").update(name="被篡改")
    assert _snapshot() != before

    with pytest.raises(CommandError, match="已有数据"):
        call_command("restore", str(path), stdout=io.StringIO())
    call_command("restore", str(path), "--force", stdout=io.StringIO())

    assert _snapshot() == before
    assert Region.objects.get(code="330109001").name == "第1街道"
    assert User.objects.get(username="alice").check_password("Test#Passw0rd")
    assert AuditEvent.objects.filter(action="system.restored").exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite round trip")
def test_sqlite_backup_and_restore_round_trip(tmp_path):
    _round_trip(tmp_path)
    path = next(p for p in tmp_path.iterdir() if p.suffix == ".sqlite3")
    copy = sqlite3.connect(path)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs on PostgreSQL (make test-pg)")
def test_postgresql_backup_and_restore_round_trip(tmp_path):
    _round_trip(tmp_path)
    path = next(p for p in tmp_path.iterdir() if p.suffix == ".dump")
    assert path.read_bytes()[:5] == b"PGDMP"


def test_restore_refuses_a_tampered_file(tmp_path):
    build_personas()
    path, _ = _backup(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="校验失败"):
        call_command("restore", str(path), "--force", stdout=io.StringIO())
    assert User.objects.filter(username="alice").exists()


def test_restore_refuses_missing_checksums_unknown_files_and_other_engines(tmp_path):
    missing = tmp_path / "nothing.dump"
    with pytest.raises(CommandError, match="不存在"):
        call_command("restore", str(missing))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    with pytest.raises(CommandError, match="找不到校验文件"):
        call_command("restore", str(junk))
    with pytest.raises(CommandError, match="无法识别"):
        call_command("restore", str(junk), "--skip-checksum")
    other = tmp_path / "other.bin"
    other.write_bytes(backup.SQLITE_MAGIC if connection.vendor == "postgresql" else b"PGDMP\x01\x0e\x00")
    with pytest.raises(CommandError, match="不能直接恢复"):
        call_command("restore", str(other), "--skip-checksum", "--force")


def test_missing_postgresql_tools_give_a_clear_error(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match=r"未找到 pg_dump.*postgresql-client"):
        backup._pg_binary("pg_dump")


def test_an_empty_database_is_restored_without_force(tmp_path):
    build_personas()
    path, _ = _backup(tmp_path)
    call_command("flush", "--no-input", verbosity=0)
    assert not backup.database_has_data()
    call_command("restore", str(path), stdout=io.StringIO())
    assert User.objects.filter(username="alice").exists()
