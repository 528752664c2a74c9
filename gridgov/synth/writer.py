"""Bulk row writer for synthetic data: PostgreSQL COPY (psycopg 3 `cursor.copy`), or
`executemany` in one big transaction on SQLite.

Rows bypass the ORM (no `save()`, no signals, no field preparation): callers hand over values
already in their stored form (sealed tokens, JSON text). Columns the caller does not give get the
model field's default, so a COPY never trips over a NOT NULL column Django fills in Python.

On PostgreSQL, `deferred_constraints` drops a table's secondary indexes, unique and foreign-key
constraints for the load and recreates them afterwards in the same transaction: one sorted index
build and one validating join are far cheaper than ten million random index inserts and
per-row foreign-key triggers (the usual bulk-load recipe in the PostgreSQL manual, "Populating a
Database").
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def next_id(model: type[models.Model]) -> int:
    latest = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return int(latest or 0) + 1


def reset_sequences(*models_: type[models.Model]) -> None:
    """After rows were written with explicit ids, move the id sequences past them (PostgreSQL;
    SQLite's AUTOINCREMENT follows by itself)."""
    if not is_postgres():
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(sql)


def _default(field: models.Field, now: dt.datetime) -> Any:  # type: ignore[type-arg]
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value if value is not None else None)
    return value


class BulkWriter:
    """Writes tuples for `columns` (attnames) into `model`'s table; every other concrete column
    (except an auto id not listed) gets its field default."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *, now: dt.datetime | None = None) -> None:
        self.model = model
        self.columns = list(columns)
        now = now or timezone.now()
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(self.columns) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        pk = model._meta.pk
        self.extra: list[str] = []
        extra_values: list[Any] = []
        for attname, field in fields.items():
            if attname in self.columns or (field is pk and isinstance(field, models.AutoField)):
                continue
            self.extra.append(attname)
            extra_values.append(_default(field, now))
        self.extra_values = tuple(extra_values)
        all_cols = [*self.columns, *self.extra]
        self.column_sql = ", ".join(connection.ops.quote_name(fields[c].column) for c in all_cols)
        self.table = connection.ops.quote_name(model._meta.db_table)
        self._adapters = [self._adapter(fields[c]) for c in all_cols]

    @staticmethod
    def _adapter(field: models.Field) -> Callable[[Any], Any] | None:  # type: ignore[type-arg]
        if is_postgres():
            return None
        ops = connection.ops
        if isinstance(field, models.DateTimeField):
            return ops.adapt_datetimefield_value
        if isinstance(field, models.DateField):
            return ops.adapt_datefield_value
        if isinstance(field, models.DecimalField):
            return lambda v: None if v is None else str(v)
        return None

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        extra = self.extra_values
        if is_postgres():
            n = 0
            with connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(f"COPY {self.table} ({self.column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row, *extra))
                        n += 1
            return n
        placeholders = ", ".join(["%s"] * (len(self.columns) + len(self.extra)))
        sql = f"INSERT INTO {self.table} ({self.column_sql}) VALUES ({placeholders})"
        adapters = [(i, a) for i, a in enumerate(self._adapters) if a is not None]
        n = 0
        with connection.cursor() as cursor:
            for chunk in _chunks(rows, 20_000):
                batch = []
                for row in chunk:
                    values = [*row, *extra]
                    for i, adapt in adapters:
                        if values[i] is not None:
                            values[i] = adapt(values[i])
                    batch.append(values)
                cursor.executemany(sql, batch)
                n += len(batch)
        return n


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def deferred_constraints(*models_: type[models.Model]) -> Iterator[None]:
    """PostgreSQL: drop secondary indexes, unique and foreign-key constraints of the tables,
    yield, recreate them. Call inside `transaction.atomic()` so a failed load leaves the schema
    as it was. A no-op on SQLite."""
    if not is_postgres():
        yield
        return
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC",
            [tables],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        # unique first (a foreign key may point at one), then foreign keys
        for table, name, definition in sorted(constraints, key=lambda c: "FOREIGN" in c[2]):
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


class Timer:
    """Prints rows/s per table."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.figures: list[tuple[str, int, float]] = []

    @contextmanager
    def table(self, label: str) -> Iterator[list[int]]:
        counter = [0]
        start = time.perf_counter()
        yield counter
        took = time.perf_counter() - start
        self.figures.append((label, counter[0], took))
        rate = counter[0] / took if took > 0 else 0.0
        self.log(f"  {label:<28}{counter[0]:>12,} rows {took:>8.1f} s {rate:>12,.0f} rows/s")
