"""Case numbers: 330109-20261123-000123 — district, local date of the report, a daily sequence.

Numbers are unique and increase with every report of a district and day; they need not be dense
(a rolled-back report may leave a gap on PostgreSQL). Each is one statement, issued just before
the case's INSERT:

- **PostgreSQL**: one sequence per district (`gridgov_case_no_<district>`, created on first use,
  starting at 1,000,000) and, per district and day, a *base* row in `CaseCounter`
  (key `<district>-<YYYYMMDD>@seq`) holding the sequence's value before the day's first number,
  less the numbers the day already had from the counter (loaders such as `gridgov synth` write
  those). A number is `nextval − base`. `nextval` takes no row lock, so concurrent reports of a
  district never wait for each other's commit (the old counter row was held to commit); the
  base row is written once a day and only read after that. Every `nextval` after the base row
  exists is above the value the base was taken from, so numbers never repeat.
- **SQLite** (one writer at a time anyway): the counter row itself, `INSERT … ON CONFLICT DO
  UPDATE … RETURNING` — dense.

Inside `fastsave.one_statement()` the number is not drawn by a statement of its own:
`number_expr()` is the same `nextval − base` written into the case's INSERT, once this process
has seen the day's base row (`_started`); the first report of a district and day in a process
takes the ordinary path.
"""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError, connection, transaction

from . import fastsave

SEQUENCE_START = 1_000_000  # above any day's count, so a base is never negative
BASE_SUFFIX = "@seq"


def day_key(district_code: str, day: dt.date) -> str:
    return f"{district_code}-{day:%Y%m%d}"


# Day keys whose base row this process has seen (PostgreSQL): their numbers may be drawn inside
# the case's INSERT. Forgotten when that INSERT finds no base row (a test database flushed).
_started: set[str] = set()
_STARTED_MAX = 10_000

# The number as `next_case_number` formats it ({value:06d}: at least six digits), computed by the
# INSERT itself; NULL (refused by NOT NULL) if the day has no base row.
NUMBER_SQL = (
    "(SELECT %s || lpad(v::text, greatest(6, length(v::text)), '0') FROM "
    "(SELECT nextval(%s::text::regclass) - value AS v FROM cases_casecounter WHERE key = %s) AS n)"
)


def _sequenced(district_code: str, key: str) -> bool:
    return connection.vendor == "postgresql" and district_code.isdigit() and len(key) + len(BASE_SUFFIX) <= 24


def next_case_number(*, district_code: str, day: dt.date) -> str:
    key = day_key(district_code, day)
    if _sequenced(district_code, key):
        value = _pg_next(district_code, key)
        if len(_started) >= _STARTED_MAX:
            _started.clear()
        _started.add(key)
    else:
        value = _counter_next(key)
    return f"{key}-{value:06d}"


def number_expr(*, district_code: str, day: dt.date) -> fastsave.Expr:
    """The next number as SQL for the case's INSERT in `fastsave.one_statement()`; refuses
    (`BatchUnsupported`) until this process has seen the day's base row."""
    key = day_key(district_code, day)
    if not _sequenced(district_code, key) or key not in _started:
        raise fastsave.BatchUnsupported("the day's first case number")
    return fastsave.Expr(NUMBER_SQL, [key + "-", sequence_name(district_code), key + BASE_SUFFIX])


def forget_started() -> None:
    _started.clear()


def _counter_next(key: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_casecounter (key, value) VALUES (%s, 1) "
            "ON CONFLICT (key) DO UPDATE SET value = cases_casecounter.value + 1 RETURNING value",
            [key],
        )
        return int(cursor.fetchone()[0])


def sequence_name(district_code: str) -> str:
    return f"gridgov_case_no_{district_code}"


def _pg_next(district_code: str, key: str) -> int:
    seq = sequence_name(district_code)
    base_key = key + BASE_SUFFIX
    # The text→regclass cast runs per row: with no base row the sequence is not even looked up.
    sql = "SELECT nextval(%s::text::regclass) - value FROM cases_casecounter WHERE key = %s"
    row = fastsave.fetchone(sql, [seq, base_key])  # prepared on PostgreSQL: every report runs it
    if row is not None:
        return int(row[0])
    with connection.cursor() as cursor:
        _pg_start_day(cursor, seq, key, base_key)
        cursor.execute(sql, [seq, base_key])
        row = cursor.fetchone()
        assert row is not None
        return int(row[0])


def _pg_start_day(cursor: object, seq: str, key: str, base_key: str) -> None:
    """Create the district's sequence if need be and the day's base row (once per district and
    day). Two reports racing here: the loser's CREATE or INSERT waits for the winner's commit and
    then fails or does nothing; a savepoint lets it retry and read the winner's row."""
    for attempt in range(5):
        try:
            with transaction.atomic(), connection.cursor() as c:
                c.execute(f'CREATE SEQUENCE IF NOT EXISTS "{seq}" START WITH {SEQUENCE_START}')
                c.execute(
                    "INSERT INTO cases_casecounter (key, value) SELECT %s, "
                    f'(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM "{seq}") '
                    "- COALESCE((SELECT value FROM cases_casecounter WHERE key = %s), 0) "
                    "ON CONFLICT (key) DO NOTHING",
                    [base_key, key],
                )
            return
        except DatabaseError:
            if attempt == 4:
                raise
