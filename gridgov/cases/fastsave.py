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

**One statement** (`one_statement()`, PostgreSQL, outside any transaction): the writes of an
action are collected instead of sent — `insert()`, `upsert_values()` and `execute()` each become
a member of one data-modifying `WITH` statement, run on leaving the block in autocommit, so the
whole action is one round trip and one transaction, with no BEGIN or COMMIT of its own. A value
the database computes (a case number from its sequence) is an `Expr`; the primary key of a row
inserted in the block, and every `Expr` column, reads as a `Ref` until the statement has run
(`(SELECT id FROM m0)` inside it), then as the real value. The statement's members run in one
snapshot, so none may read another's rows except through a `Ref`. Reads inside the block (the ORM
loading a relation) go out as they come; anything else that needs the database midway
(`fetchone()`, `fetchall()`, an ORM write: a Django `execute_wrapper` watches) raises
`BatchUnsupported` before any write is sent, and the caller runs the action the ordinary way.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.db import connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.signals import post_save, pre_save

USING = "default"

try:  # psycopg caches a statement's parsed form only up to 50 parameters; a case row has ~50.
    from psycopg import _queries as _psycopg_queries

    # (One-statement intake: case, event, live row and day rows together take ~120.)
    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 256)
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


class SqlValue:
    """A value computed by the one statement itself, spliced into its SQL for a parameter."""

    __slots__ = ()

    def sql(self) -> tuple[str, list[Any]]:
        raise NotImplementedError


class Expr(SqlValue):
    """SQL (with %s parameters) that computes a column's value, e.g. the next case number."""

    __slots__ = ("params", "text")

    def __init__(self, text: str, params: Sequence[Any] = ()) -> None:
        self.text, self.params = text, list(params)

    def sql(self) -> tuple[str, list[Any]]:
        return self.text, self.params


class BatchUnsupported(Exception):
    """The action needs the database's answer before its end: run it the ordinary way."""


class Ref(SqlValue):
    """A column of the row that member `member` of the one statement inserts; `value` once run.
    Code that needs the value itself before then (the ORM writing it into another row, a query
    by it, text made of it) gets `BatchUnsupported`."""

    __slots__ = ("batch", "column", "member", "value")

    def __init__(self, batch: _Batch, member: str, column: str) -> None:
        self.batch, self.member, self.column, self.value = batch, member, column, None

    def sql(self) -> tuple[str, list[Any]]:
        return f"(SELECT {self.column} FROM {self.member})", []

    def _needed(self) -> BatchUnsupported:
        return self.batch.refuse(f"the value of {self.member}.{self.column}")

    def __int__(self) -> int:
        raise self._needed()

    def __index__(self) -> int:
        raise self._needed()

    def __float__(self) -> float:
        raise self._needed()

    def __str__(self) -> str:
        raise self._needed()

    def __repr__(self) -> str:
        return f"Ref({self.member}.{self.column}={self.value!r})"


@dataclass
class _Batch:
    members: list[tuple[str, str, list[Any]]] = dc_field(default_factory=list)
    returning: list[Ref] = dc_field(default_factory=list)
    objects: list[models.Model] = dc_field(default_factory=list)
    flushing: bool = False
    broken: str = ""

    def refuse(self, what: str) -> BatchUnsupported:
        """Mark the block as one that cannot be a single statement (even if the exception is
        caught inside it) and answer the exception to raise."""
        self.broken = self.broken or what
        return BatchUnsupported(self.broken)


_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)


def _batch() -> _Batch | None:
    return getattr(connections[USING], "_gridgov_batch", None)


def batching() -> bool:
    """Inside `one_statement()`: writes are collected, not sent."""
    return _batch() is not None


def _params(obj: models.Model | None, plan: Plan, conn: Any, values: dict[str, Any] | None = None) -> list[Any]:
    """The statement's values, from `obj` (through each field's pre_save) or from `values` by
    attribute name (for a row without a model instance: every field but auto_now stamps)."""
    if values is None:
        assert obj is not None
        values = obj.__dict__
    params = []
    sql_values = _batch() is not None
    for field, attname, plain in plan:
        if sql_values and isinstance(values.get(attname), SqlValue):
            params.append(values[attname])
            continue
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


def _member(batch: _Batch, sql: str, params: Sequence[Any]) -> str:
    name = f"m{len(batch.members)}"
    batch.members.append((name, sql, list(params)))
    return name


def _refuse_in_batch(what: str) -> None:
    batch = _batch()
    if batch is not None:
        raise batch.refuse(what)


def execute(sql: str, params: Sequence[Any] | None = None) -> None:
    """Run one statement of the hot path that returns no rows (in `one_statement()`: add it)."""
    batch = _batch()
    if batch is not None:
        _member(batch, sql, params or [])
        return
    _run(sql, params)


def fetchone(sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
    """Run one query of the hot path; answers its first row, or None."""
    _refuse_in_batch("fetchone")
    return _run(sql, params, fetch="one")  # type: ignore[no-any-return]


def fetchall(sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one query of the hot path; answers all its rows."""
    _refuse_in_batch("fetchall")
    return _run(sql, params, fetch="all") or []


@functools.cache
def _insert_sql(model: type[models.Model], vendor: str, with_pk: bool, returning: bool = True) -> str:
    conn = connections[USING]
    meta = model._meta
    qn = conn.ops.quote_name
    plan = _plan(model, vendor, with_pk)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f, _, _ in plan)}) "
        f"VALUES ({', '.join(['%s'] * len(plan))})"
    )
    if not with_pk and returning:
        sql += f" RETURNING {qn(meta.pk.column)}"
    return sql


def _insert_in_batch(batch: _Batch, obj: models.Model) -> None:
    """The INSERT as a member of the one statement, RETURNING the primary key and every column
    the statement computes; those attributes read as `Ref`s until it has run."""
    model = type(obj)
    conn = connections[USING]
    assert obj.pk is None, "one_statement() inserts rows whose key the database assigns"
    plan = _plan(model, conn.vendor, False)
    params = _params(obj, plan, conn)
    qn = conn.ops.quote_name
    computed = [(f, attname) for (f, attname, _), p in zip(plan, params, strict=True) if isinstance(p, Expr)]
    pk = model._meta.pk
    returned = [(pk, pk.attname), *computed]
    sql = _insert_sql(model, conn.vendor, False, returning=False)
    sql += " RETURNING " + ", ".join(qn(f.column) for f, _ in returned)
    name = _member(batch, sql, params)
    for f, attname in returned:
        ref = Ref(batch, name, qn(f.column))
        batch.returning.append(ref)
        setattr(obj, attname, ref)
    batch.objects.append(obj)


def insert(obj: models.Model) -> None:
    """Like `obj.save(force_insert=True)` for a new row whose primary key the database assigns
    (or that carries its own)."""
    model = type(obj)
    conn = connections[USING]
    with_pk = obj.pk is not None
    pre_save.send(sender=model, instance=obj, raw=False, using=USING, update_fields=None)
    batch = _batch()
    if batch is not None:
        _insert_in_batch(batch, obj)
        obj._state.adding = False
        obj._state.db = USING
        post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=USING)
        return
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
    params = _params(None, plan, conn, values)
    batch = _batch()
    if batch is not None:
        _member(batch, sql, params)
        return
    _run(sql, params)


# --- one statement ----------------------------------------------------------------------------------------


def _splice(sql: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """`sql` with each `SqlValue` parameter written into the text (its own parameters kept)."""
    if not any(isinstance(p, SqlValue) for p in params):
        return sql, list(params)
    pieces = sql.split("%s")
    assert len(pieces) == len(params) + 1, "hot-path SQL holds no literal %s"
    out, values = [pieces[0]], []
    for param, piece in zip(params, pieces[1:], strict=True):
        if isinstance(param, SqlValue):
            text, inner = param.sql()
            out.append(text)
            values.extend(inner)
        else:
            out.append("%s")
            values.append(param)
        out.append(piece)
    return "".join(out), values


def _statement(batch: _Batch) -> tuple[str, list[Any]]:
    parts, params = [], []
    for name, sql, member_params in batch.members:
        text, values = _splice(sql, member_params)
        parts.append(f"{name} AS ({text})")
        params.extend(values)
    if batch.returning:
        members = list(dict.fromkeys(r.member for r in batch.returning))
        tail = f"SELECT {', '.join(f'{r.member}.{r.column}' for r in batch.returning)} FROM {', '.join(members)}"
    else:
        tail = "SELECT 1"
    return f"WITH {', '.join(parts)} {tail}", params


@contextmanager
def one_statement() -> Iterator[None]:
    """Collect the block's writes and send them as one statement when it ends (see the module's
    docstring). Raises `BatchUnsupported` — with nothing sent — where that cannot be done:
    not PostgreSQL, inside a transaction, or the block needed an answer from the database."""
    conn = connections[USING]
    if conn.vendor != "postgresql" or conn.in_atomic_block or not conn.get_autocommit() or batching():
        raise BatchUnsupported("not a PostgreSQL connection in autocommit")
    batch = _Batch()

    def guard(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # Reads go out as they come (a lazily loaded relation, a lookup): what they read was
        # committed before the block, as in the ordinary path's transaction, and a row the block
        # inserts cannot be asked for (its key is a Ref). Anything that writes cannot wait.
        if not batch.flushing and (many or not _READ.match(sql) or " FOR UPDATE" in sql or " FOR SHARE" in sql):
            raise batch.refuse(sql[:80])
        return execute(sql, params, many, context)

    conn._gridgov_batch = batch  # type: ignore[attr-defined]
    try:
        with conn.execute_wrapper(guard):
            yield
            conn._gridgov_batch = None  # type: ignore[attr-defined]
            if batch.broken:  # a refusal that the block caught and went on from
                raise BatchUnsupported(batch.broken)
            if not batch.members:
                return
            sql, params = _statement(batch)
            batch.flushing = True
            row = _run(sql, params, fetch="one" if batch.returning else "")
    finally:
        conn._gridgov_batch = None  # type: ignore[attr-defined]
    for ref, value in zip(batch.returning, row or (), strict=True):
        ref.value = value
    for obj in batch.objects:
        for attname, value in list(obj.__dict__.items()):
            if isinstance(value, Ref):
                obj.__dict__[attname] = value.value
