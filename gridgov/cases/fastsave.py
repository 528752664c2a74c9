"""INSERTs of single new rows on the intake path without the ORM's per-call query compilation.

`Model.save()` of a new case compiles its 50-column INSERT anew each time (about a millisecond of
CPU, a quarter of a report's Python). `insert()` sends the same statement with the same values —
each field's `pre_save` (auto_now stamps) and `get_db_prep_save`, as `save()` does — from SQL built
once per model and database, and sends the same `pre_save` / `post_save` signals, so receivers
(the dashboard rollups, the webhook outbox) run exactly as before. `upsert_values()` is the
one-row `INSERT … ON CONFLICT DO UPDATE` that `bulk_create(update_conflicts=True)` sends, without
signals as there, from a dict instead of an instance. `execute()`, `fetchone()` and `fetchall()`
send any other statement of the hot path the same way. All work on PostgreSQL and SQLite (≥ 3.35,
for RETURNING).

On PostgreSQL these statements go through a cursor that binds parameters on the server, and the
connection prepares a statement once it has run `prepare_threshold` times (settings: OPTIONS,
GRIDGOV_PG_PREPARE_THRESHOLD). A prepared statement skips PostgreSQL's parse and plan, and the
client neither quotes ~50 values into the SQL text nor splits it again on every call. Every
other query of the application keeps Django's client-side binding (`ClientCursor`, which never
prepares). The cursor is wrapped like Django's own, so query logging, `execute_wrapper` hooks and
error translation see these statements too.

Values: a field of a plain type (char, text, integer, boolean, float, a foreign key to an integer
key) whose value already has the Python type the field would convert it to is sent as it is —
`get_db_prep_save` would return it unchanged; anything else (dates, JSON, decimals, enums, custom
fields) goes through `pre_save` and `get_db_prep_save` exactly as in `save()`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.signals import post_save, pre_save

USING = "default"

try:  # psycopg caches a statement's parsed form only up to 50 parameters; a case row has ~50.
    from psycopg import _queries as _psycopg_queries

    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 128)
except ImportError:  # SQLite-only installs
    pass

# Field classes (exactly these, not subclasses) whose get_db_prep_save returns a value of this
# Python type unchanged, and whose pre_save is a plain attribute read.
_PLAIN: dict[type[models.Field], type] = {  # type: ignore[type-arg]
    models.CharField: str,
    models.TextField: str,
    models.SlugField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.BigAutoField: int,
    models.AutoField: int,
    models.BooleanField: bool,
    models.FloatField: float,
}


def _plain_type(field: models.Field, vendor: str) -> type | None:  # type: ignore[type-arg]
    if type(field) in (models.ForeignKey, models.OneToOneField):
        return _plain_type(field.target_field, vendor)  # type: ignore[attr-defined]
    if type(field) is models.DateTimeField and vendor == "postgresql":
        # psycopg takes an aware datetime as it is (adapt_datetimefield_value returns it); auto_now
        # fields stamp themselves in pre_save, so they always take the full path.
        return None if field.auto_now or field.auto_now_add else dt.datetime
    return _PLAIN.get(type(field))


Plan = tuple[tuple[Any, str, "type | None"], ...]


@functools.cache
def _plan(model: type[models.Model], vendor: str, with_pk: bool) -> Plan:
    """Per concrete field: the field, its attribute name, and its plain value type (or None)."""
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    return tuple((f, f.attname, _plain_type(f, vendor)) for f in fields)


_DEFERRED = object()


def _params(obj: models.Model | None, plan: Plan, conn: Any, values: dict[str, Any] | None = None) -> list[Any]:
    """The statement's values, from `obj` (through each field's pre_save) or from `values` by
    attribute name (for a row without a model instance: every field but auto_now stamps)."""
    if values is None:
        assert obj is not None
        values = obj.__dict__
    params = []
    for field, attname, plain in plan:
        if plain is not None:
            value = values.get(attname, _DEFERRED)
            kind = type(value)
            if (
                value is None
                or kind is plain
                # str subclasses (TextChoices members): CharField.to_python returns them unchanged
                or (plain is str and isinstance(value, str))
                or (plain is dt.datetime and kind is dt.datetime and value.tzinfo is not None)
            ):
                params.append(value)
                continue
        value = field.pre_save(obj, True) if obj is not None else values[attname]
        params.append(field.get_db_prep_save(value, conn))
    return params


class _ServerBoundDebugWrapper(CursorDebugWrapper):
    """Django's debug wrapper (connection.queries, CaptureQueriesContext) logs the SQL text a
    client-bound cursor composed; a server-bound cursor composes none (the log would read None),
    so the statement is composed with its values here, only while queries are being logged."""

    def execute(self, sql: Any, params: Any = None) -> Any:  # type: ignore[override]
        logged = self.db.ops.compose_sql(sql, params) if params else sql
        with self.debug_sql(logged, params, use_last_executed_query=False):
            return CursorWrapper.execute(self, sql, params)


def cursor() -> Any:
    """A cursor for the hot path's statements (server-side binding on PostgreSQL, see above).
    On PostgreSQL it is one cursor per database connection, kept open and reused (creating one
    costs more than some of the statements it runs): do not close it."""
    conn = connections[USING]
    if conn.vendor != "postgresql":
        return conn.cursor()
    import psycopg

    conn.ensure_connection()
    conn.validate_thread_sharing()
    raw_conn = conn.connection
    raw = getattr(conn, "_gridgov_fast_cursor", None)
    if raw is None or raw.connection is not raw_conn or raw.closed:
        raw = psycopg.Cursor(raw_conn)
        conn._gridgov_fast_cursor = raw  # type: ignore[attr-defined]
    return _ServerBoundDebugWrapper(raw, conn) if conn.queries_logged else CursorWrapper(raw, conn)


def _run(sql: str, params: Sequence[Any] | None, *, fetch: str = "") -> Any:
    c = cursor()
    try:
        c.execute(sql, params)
        if fetch == "one":
            return c.fetchone()
        if fetch == "all":
            return c.fetchall()
        return None
    finally:
        if connections[USING].vendor != "postgresql":
            c.close()


def execute(sql: str, params: Sequence[Any] | None = None) -> None:
    """Run one statement of the hot path that returns no rows."""
    _run(sql, params)


def fetchone(sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
    """Run one query of the hot path; answers its first row, or None."""
    return _run(sql, params, fetch="one")  # type: ignore[no-any-return]


def fetchall(sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one query of the hot path; answers all its rows."""
    return _run(sql, params, fetch="all") or []


@functools.cache
def _insert_sql(model: type[models.Model], vendor: str, with_pk: bool) -> str:
    conn = connections[USING]
    meta = model._meta
    qn = conn.ops.quote_name
    plan = _plan(model, vendor, with_pk)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f, _, _ in plan)}) "
        f"VALUES ({', '.join(['%s'] * len(plan))})"
    )
    if not with_pk:
        sql += f" RETURNING {qn(meta.pk.column)}"
    return sql


def insert(obj: models.Model) -> None:
    """Like `obj.save(force_insert=True)` for a new row whose primary key the database assigns
    (or that carries its own)."""
    model = type(obj)
    conn = connections[USING]
    with_pk = obj.pk is not None
    pre_save.send(sender=model, instance=obj, raw=False, using=USING, update_fields=None)
    sql = _insert_sql(model, conn.vendor, with_pk)
    row = _run(sql, _params(obj, _plan(model, conn.vendor, with_pk), conn), fetch="" if with_pk else "one")
    if not with_pk:
        obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = USING
    post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=USING)


@functools.cache
def _upsert_sql(model: type[models.Model], vendor: str, conflict: tuple[str, ...]) -> str:
    conn = connections[USING]
    meta = model._meta
    qn = conn.ops.quote_name
    plan = _plan(model, vendor, True)
    keys = {f.column for f, _, _ in plan if f.name in conflict}
    updates = ", ".join(f"{qn(f.column)} = excluded.{qn(f.column)}" for f, _, _ in plan if f.column not in keys)
    return (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f, _, _ in plan)}) "
        f"VALUES ({', '.join(['%s'] * len(plan))}) "
        f"ON CONFLICT ({', '.join(qn(k) for k in sorted(keys))}) DO UPDATE SET {updates}"
    )


@functools.cache
def _without_stamps(model: type[models.Model]) -> bool:
    return not any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in model._meta.fields)


def upsert_values(model: type[models.Model], values: dict[str, Any], *, conflict: Sequence[str]) -> None:
    """Insert a row given as {attribute name: value} for every column, or overwrite every other
    column of the row it collides with on `conflict`; no model instance is built (the dashboard's
    live row, written on every action)."""
    conn = connections[USING]
    plan = _plan(model, conn.vendor, True)
    assert _without_stamps(model), f"{model.__name__} has auto_now fields"
    sql = _upsert_sql(model, conn.vendor, tuple(conflict))
    _run(sql, _params(None, plan, conn, values))
