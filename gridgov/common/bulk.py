"""Set-based reads and writes for batch paths: the registers' people import and the assessment
snapshot.

Rows are handed over in their stored form (sealed tokens, JSON text, aware datetimes) for an
explicit list of columns; they bypass `save()`, signals and field preparation, so the caller
writes whatever history and timeline rows the ORM path would have written, itself. Everything
runs inside the caller's transaction: a batch is written whole or not at all.

* PostgreSQL: `COPY … FROM STDIN` (psycopg 3 `cursor.copy`); ids come from the table's own
  sequence (`nextval` over `generate_series`, one query), so rows that point at each other
  (a person's household, a household's head) are known before anything is written.
* SQLite: `executemany` of one `INSERT`, values adapted the way the ORM adapts them; ids follow
  the table's AUTOINCREMENT counter (the write transaction is `IMMEDIATE`, so nobody else can
  take them meanwhile).

Both give the same rows; `tests/registers/test_import_batch.py` compares them with the
one-row-at-a-time services on both databases, `tests/assessment/test_snapshot.py` pins a
computed month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

T = TypeVar("T")
_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a code or a hash
M = TypeVar("M", bound=models.Model)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def chunks(items: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    """Slices small enough for one `IN (…)` list on this database."""
    size = size or max(1, int(connection.features.max_query_params or 999) - 1)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def where_in(qs: QuerySet[M], field: str, values: Iterable[Any]) -> Iterator[QuerySet[M]]:
    """`qs` narrowed to rows whose `field` is one of `values`, as few queries as the database
    allows: one `= ANY(%s)` with a single array parameter on PostgreSQL (no per-value
    placeholders to build and parse), `IN (…)` lists of `max_query_params` on SQLite."""
    wanted = sorted(set(values))
    if not wanted:
        return
    if is_postgres():
        quote = connection.ops.quote_name
        target = qs.model._meta.get_field(field)
        assert isinstance(target, models.Field)
        column = f"{quote(qs.model._meta.db_table)}.{quote(str(target.column))}"
        if all(isinstance(v, str) and _SEPARATOR not in v for v in wanted):
            # One text parameter split by the server: far cheaper to send and parse than an
            # array literal of thousands of quoted elements.
            hit = RawSQL(
                f"{column} = ANY(string_to_array(%s, %s))",
                (_SEPARATOR.join(wanted), _SEPARATOR),
                output_field=models.BooleanField(),
            )
        else:
            hit = RawSQL(f"{column} = ANY(%s)", (wanted,), output_field=models.BooleanField())
        yield qs.alias(_wanted=hit).filter(_wanted=True)
        return
    for chunk in chunks(wanted):
        yield qs.filter(**{f"{field}__in": chunk})


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


def _sqlite_adapter(field: models.Field) -> Callable[[Any], Any] | None:  # type: ignore[type-arg]
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    return None


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write `rows` (tuples in the order of `columns`, attnames) into `model`'s table."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {unknown}")
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    n = 0
    with connection.cursor() as cursor:
        if is_postgres():
            # The raw psycopg cursor: its errors are turned into Django's (IntegrityError, …) here.
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        adapters = [(i, a) for i, a in enumerate(_sqlite_adapter(fields[c]) for c in columns) if a is not None]
        batch: list[list[Any]] = []
        for row in rows:
            values = list(row)
            for i, adapt in adapters:
                if values[i] is not None:
                    values[i] = adapt(values[i])
            batch.append(values)
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", batch)
        return len(batch)


def id_conditions(column: str, ids: Sequence[int]) -> Iterator[tuple[str, list[Any]]]:
    """SQL conditions (with their parameters) that together select exactly `ids` in `column`.
    Ids `allocate_ids` handed out in one run are a `BETWEEN` (the sequence gave every id of the
    run to this transaction, so no other row has one); otherwise one `= ANY(…)` on PostgreSQL,
    `IN (…)` lists on SQLite."""
    if not ids:
        return
    ordered = sorted(set(ids))
    if ordered[-1] - ordered[0] + 1 == len(ordered):
        yield f"{column} BETWEEN %s AND %s", [ordered[0], ordered[-1]]
        return
    if is_postgres():
        yield f"{column} = ANY(string_to_array(%s, ',')::bigint[])", [",".join(map(str, ordered))]
        return
    for chunk in chunks(ordered):
        yield f"{column} IN ({', '.join(['%s'] * len(chunk))})", list(chunk)


def insert_select(
    model: type[models.Model],
    columns: Sequence[str],
    select: str,
    params: Sequence[Any],
    *,
    id_column: str,
    ids: Sequence[int],
) -> int:
    """`INSERT INTO <model's table> (columns) <select>`: rows derived from rows this transaction
    already wrote (history and timeline rows), made by the database instead of being sent back
    and forth. `select` holds `{ids}` where the condition on `id_column` ∈ `ids` goes (see
    `id_conditions`); `params` are its own parameters, before that condition's."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(fields[c].column) for c in columns)}) "
    n = 0
    with connection.cursor() as cursor:
        for condition, extra in id_conditions(id_column, ids):
            cursor.execute(head + select.replace("{ids}", condition), [*params, *extra])
            n += cursor.rowcount
    return n


def param(value: Any) -> Any:
    """A datetime/date parameter as the ORM would pass it to this database."""
    if is_postgres() or value is None:
        return value
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def row_defaults(model: type[models.Model], now: dt.datetime) -> dict[str, Any]:
    """Every concrete column's value when the ORM creates a row without it (`auto_now*` → now)."""
    out: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            out[field.attname] = now
        elif field.has_default() or not field.null:
            out[field.attname] = field.get_default()
        else:
            out[field.attname] = None
    return out


def delete_rows(model: type[models.Model], where: str, params: Sequence[Any]) -> int:
    """DELETE FROM model's table WHERE `where` (SQL): one statement, no rows collected first."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
        return int(cursor.rowcount)
