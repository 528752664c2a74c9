"""Backup and restore of the configured database.

SQLite: an online, consistent copy through SQLite's backup API (safe while the app is serving;
WAL readers and writers carry on). PostgreSQL: `pg_dump --format=custom` of the configured
database, restored with `pg_restore` in a single transaction. Every backup file gets a SHA-256
beside it (`sha256sum -c` format); restore checks it, and refuses to overwrite a database that
holds data unless forced.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from . import clock

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# Django's own bookkeeping: a freshly migrated database holds rows only here.
# cases_configversion: cache version tokens its triggers write on any change (cases.config), not data.
BOOKKEEPING_TABLES = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "django_session",
    "cases_configversion",
}


class BackupError(Exception):
    """A refusal with a message for the operator (the commands turn it into CommandError)."""


@dataclass
class BackupResult:
    path: Path
    checksum_path: Path
    sha256: str
    size: int


def vendor() -> str:
    return connection.vendor


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_checksum(path: Path) -> tuple[Path, str]:
    digest = sha256_of(path)
    checksum = path.with_name(path.name + ".sha256")
    checksum.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    return checksum, digest


def verify_checksum(path: Path) -> str:
    checksum = path.with_name(path.name + ".sha256")
    if not checksum.exists():
        raise BackupError(f"找不到校验文件 {checksum.name}，无法确认备份完整；如确认无误可加 --skip-checksum")
    fields = checksum.read_text(encoding="utf-8").split()
    expected = fields[0].lower() if fields else ""
    actual = sha256_of(path)
    if expected != actual:
        raise BackupError(f"备份文件校验失败（SHA-256 不一致），文件可能已损坏或被篡改：{path.name}")
    return actual


def _pg_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"未找到 {name}。PostgreSQL 的备份与恢复需要 PostgreSQL 客户端工具，"
            "请安装与服务器版本一致的客户端（如 Debian: apt-get install postgresql-client）"
        )
    return found


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args: list[str] = []
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    args += ["--no-password"]
    return env, args


def backup(*, output_dir: Path) -> BackupResult:
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S-%f")
    kind = vendor()
    if kind == "sqlite":
        path = output_dir / f"gridgov-sqlite-{stamp}.sqlite3"
        _backup_sqlite(path)
    elif kind == "postgresql":
        path = output_dir / f"gridgov-postgresql-{stamp}.dump"
        _backup_postgresql(path)
    else:
        raise BackupError(f"不支持的数据库类型：{kind}")
    checksum, digest = _write_checksum(path)
    return BackupResult(path=path, checksum_path=checksum, sha256=digest, size=path.stat().st_size)


def _backup_sqlite(path: Path) -> None:
    connection.ensure_connection()
    source = connection.connection
    partial = path.with_name(path.name + ".part")
    target = sqlite3.connect(partial)
    try:
        # The backup API copies page by page under SQLite's locking: a consistent snapshot even
        # while other processes write (they are not blocked for the whole copy).
        source.backup(target, pages=1024)
    finally:
        target.close()
    partial.replace(path)


def _backup_postgresql(path: Path) -> None:
    pg_dump = _pg_binary("pg_dump")
    env, args = _pg_env_and_args()
    partial = path.with_name(path.name + ".part")
    command = [
        pg_dump,
        *args,
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        "--file",
        str(partial),
        str(connection.settings_dict["NAME"]),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump 失败（退出码 {done.returncode}）：{done.stderr.strip()[:2000]}")
    partial.replace(path)


def database_has_data() -> bool:
    """True when any table other than Django's bookkeeping holds a row."""
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t not in BOOKKEEPING_TABLES]
        for table in tables:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone() is not None:
                return True
    return False


def detect_kind(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"无法识别的备份文件格式：{path.name}（应为 gridgov backup 生成的 SQLite 或 pg_dump 自定义格式文件）"
    )


def restore(*, path: Path, force: bool = False, skip_checksum: bool = False) -> str:
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    digest = "" if skip_checksum else verify_checksum(path)
    kind = detect_kind(path)
    if kind != vendor():
        raise BackupError(f"备份文件来自 {kind} 数据库，而当前配置的是 {vendor()}，不能直接恢复")
    if connection.in_atomic_block:
        raise BackupError("不能在事务中恢复数据库")
    if not force and database_has_data():
        raise BackupError("目标数据库中已有数据。恢复会覆盖全部现有数据；确认无误后请加 --force 重试")
    if kind == "sqlite":
        _restore_sqlite(path)
    else:
        _restore_postgresql(path)
    return digest


def _restore_sqlite(path: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # Copies every page into the live database (replacing its whole content) in one step
        # that other connections see atomically.
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_postgresql(path: Path) -> None:
    pg_restore = _pg_binary("pg_restore")
    env, args = _pg_env_and_args()
    # Release this process's own connection first: pg_restore --clean drops tables it may hold.
    connection.close()
    command = [
        pg_restore,
        *args,
        "--dbname",
        str(connection.settings_dict["NAME"]),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        str(path),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败（退出码 {done.returncode}），数据库未改动：{done.stderr.strip()[:2000]}")
