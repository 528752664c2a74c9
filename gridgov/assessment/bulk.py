"""Set-based writes of an assessment snapshot (region, indicator and worker score rows).

Rows are handed over as tuples in their stored form (JSON as text) for an explicit list of
columns; they bypass `save()`, signals and field preparation (the snapshot models have none).

* PostgreSQL: `COPY … FROM STDIN` (psycopg 3 `cursor.copy`); ids come from the table's own
  sequence (`nextval` over `generate_series`, one query), so indicator rows can point at their
  region rows before anything is written.
* SQLite: one `executemany` of one `INSERT`; ids continue the table's AUTOINCREMENT counter (write
  transactions are `IMMEDIATE` here, so nobody else can take them meanwhile).

Both run inside the caller's transaction: a compute writes its whole snapshot or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` fresh primary keys of `model`, reserved for this transaction."""
    if n <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, n]
            )
            return [int(r[0]) for r in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(column)}), 0) FROM {quoted}")
        top = int(cursor.fetchone()[0])
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        top = max(top, int(row[0]) if row else 0)
    return list(range(top + 1, top + 1 + n))


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write `rows` (tuples in the order of `columns`, attnames) into `model`'s table."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {unknown}")
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    with connection.cursor() as cursor:
        if is_postgres():
            n = 0
            with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        batch = [tuple(row) for row in rows]
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", batch)
        return len(batch)


def delete_rows(model: type[models.Model], where: str, params: Sequence[Any]) -> int:
    """DELETE FROM model's table WHERE `where` (SQL): one statement, no rows collected first."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
        return int(cursor.rowcount)
