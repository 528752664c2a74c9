"""INSERTs of single new rows on the intake path without the ORM's per-call query compilation.

`Model.save()` of a new case compiles its 50-column INSERT anew each time (about a millisecond of
CPU, a quarter of a report's Python). `insert()` sends the same statement with the same values —
each field's `pre_save` (auto_now stamps) and `get_db_prep_save`, as `save()` does — from SQL built
once per model and database, and sends the same `pre_save` / `post_save` signals, so receivers
(the dashboard rollups, the webhook outbox) run exactly as before. `upsert()` is the one-row
`INSERT … ON CONFLICT DO UPDATE` that `bulk_create(update_conflicts=True)` sends, without signals
as there. Both work on PostgreSQL and SQLite (≥ 3.35, for RETURNING).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.db.models.signals import post_save, pre_save

USING = "default"


@functools.cache
def _insert_sql(model: type[models.Model], vendor: str, with_pk: bool) -> tuple[str, tuple[Any, ...]]:
    conn = connections[USING]
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if with_pk or not f.primary_key)
    qn = conn.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if not with_pk:
        sql += f" RETURNING {qn(meta.pk.column)}"
    return sql, fields


def insert(obj: models.Model) -> None:
    """Like `obj.save(force_insert=True)` for a new row whose primary key the database assigns
    (or that carries its own)."""
    model = type(obj)
    conn = connections[USING]
    with_pk = obj.pk is not None
    pre_save.send(sender=model, instance=obj, raw=False, using=USING, update_fields=None)
    sql, fields = _insert_sql(model, conn.vendor, with_pk)
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        if not with_pk:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = USING
    post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=USING)


@functools.cache
def _upsert_sql(model: type[models.Model], vendor: str, conflict: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    conn = connections[USING]
    meta = model._meta
    fields = tuple(meta.concrete_fields)
    qn = conn.ops.quote_name
    keys = {f.column for f in fields if f.name in conflict}
    updates = ", ".join(f"{qn(f.column)} = excluded.{qn(f.column)}" for f in fields if f.column not in keys)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({', '.join(qn(k) for k in sorted(keys))}) DO UPDATE SET {updates}"
    )
    return sql, fields


def upsert(obj: models.Model, *, conflict: Sequence[str]) -> None:
    """Insert `obj`, or overwrite every other column of the row it collides with on `conflict`."""
    conn = connections[USING]
    sql, fields = _upsert_sql(type(obj), conn.vendor, tuple(conflict))
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
