"""Per-process caches of what intake reads on every report: the category code table, which
centres are staffed, region rows, and (for integrations) whether anyone subscribed to webhooks.

A report used to read all of it from the database each time (category twice, its children, the
staffed centres, the centre row, the micro-grid and its ancestors, the subscriptions). Now one
query per action reads the version tokens (`versions()`: `RegionVersion` for the spatial index
plus the `ConfigVersion` rows) and a cache is used only while its token is unchanged.

The tokens are replaced by database triggers on the tables themselves (`install_triggers`, run
after every `migrate`), so any write — a service, the Django admin, a bulk `update()`, a loader,
plain SQL — invalidates the caches of every process at its next action; there is no signal to
forget. PostgreSQL uses statement-level triggers, SQLite row-level ones.

`snapshot()` returns the configuration an action runs on; `use(snapshot)` makes it the current
one for the duration of a service call, so the receivers that run inside it (the webhook outbox)
reuse it instead of reading the tokens again.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# token name → [(table, columns whose UPDATE counts — None for any, ("-x",) for all but x)]
WATCHED: dict[str, list[tuple[str, tuple[str, ...] | None]]] = {
    "cases": [
        ("cases_casecategory", None),
        ("cases_slapolicy", None),
        ("cases_routingrule", None),
        ("cases_routingrule_assist_departments", None),
        ("accounts_department", None),
        # Centre staffing: who is an active centre operator where (not last_login and the like).
        ("accounts_user", ("role", "is_active", "jurisdiction_id", "department_id")),
    ],
    # Region rows as intake shows them (names, codes, tree); polygons have RegionVersion.
    "regions": [("regions_region", ("code", "name", "level", "kind", "parent_id", "path", "depth"))],
    "webhooks": [("integrations_webhooksubscription", None)],
    # API token authentication (accounts.tokens): the tokens, and their owners as a request sees
    # them (anything but the last_login stamp every sign-in writes).
    "auth": [
        ("accounts_apitoken", ("user_id", "token_hash", "expires_at", "revoked_at")),
        ("accounts_user", ("-last_login",)),
    ],
}

VERSIONS_SQL = (
    "SELECT 'locator', token FROM regions_regionversion WHERE id = 1 "
    "UNION ALL SELECT name, token FROM cases_configversion"
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION gridgov_config_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO cases_configversion (name, token)
  VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text))
  ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
  RETURN NULL;
END $$
"""


def _pg_statements(name: str, table: str, columns: tuple[str, ...] | None) -> list[str]:
    of = f" OF {', '.join(columns)}" if columns else ""
    out = []
    for suffix, events in (("w", "INSERT OR DELETE OR TRUNCATE"), ("u", f"UPDATE{of}")):
        trigger = f"gridgov_cfg_{name}_{suffix}"
        out.append(f'DROP TRIGGER IF EXISTS {trigger} ON "{table}"')
        out.append(
            f'CREATE TRIGGER {trigger} AFTER {events} ON "{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION gridgov_config_bump('{name}')"
        )
    return out


def _sqlite_statements(name: str, table: str, columns: tuple[str, ...] | None) -> list[str]:
    of = f" OF {', '.join(columns)}" if columns else ""
    bump = f"INSERT OR REPLACE INTO cases_configversion (name, token) VALUES ('{name}', lower(hex(randomblob(16))))"
    return [
        f"CREATE TRIGGER IF NOT EXISTS gridgov_cfg_{name}_{table}_{op} AFTER {op.upper()}{of if op == 'update' else ''} "
        f'ON "{table}" BEGIN {bump}; END'
        for op in ("insert", "update", "delete")
    ]


def install_triggers(using: str = "default") -> int:
    """(Re)create the version triggers on every watched table that exists; idempotent. Run after
    each `migrate` (apps.py), because SQLite drops a table's triggers when a migration remakes it."""
    from django.db import connections

    conn = connections[using]
    tables = set(conn.introspection.table_names())
    if "cases_configversion" not in tables:
        return 0
    statements: list[str] = []
    if conn.vendor == "postgresql":
        statements.append(_PG_FUNCTION)
    for name, watched in WATCHED.items():
        for table, columns in watched:
            if table not in tables:
                continue
            if columns and columns[0].startswith("-"):
                with conn.cursor() as cursor:
                    every = [c.name for c in conn.introspection.get_table_description(cursor, table)]
                columns = tuple(c for c in every if f"-{c}" not in columns)
            if conn.vendor == "postgresql":
                statements.extend(_pg_statements(name, table, columns))
            elif conn.vendor == "sqlite":
                statements.extend(_sqlite_statements(name, table, columns))
    # A row per token from the start (a missing row means "unknown": no caching at all).
    seed = "ON CONFLICT (name) DO NOTHING" if conn.vendor == "postgresql" else "ON CONFLICT DO NOTHING"
    with conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        for name in WATCHED:
            cursor.execute(
                f"INSERT INTO cases_configversion (name, token) VALUES (%s, %s) {seed}", [name, uuid.uuid4().hex]
            )
    return len(statements)


def versions() -> dict[str, str]:
    """Every version token, in one query (prepared on PostgreSQL: it opens every action)."""
    from . import fastsave

    return {str(name): str(token) for name, token in fastsave.fetchall(VERSIONS_SQL)}


# --- the cached pieces ---------------------------------------------------------------------------


@dataclass
class Catalogue:
    """Categories by id and code (each with its parent loaded), the leaves, and the region codes
    of centres that have an active operator."""

    by_id: dict[int, Any]
    by_code: dict[str, Any]
    leaves: frozenset[int]
    staffed: frozenset[str]


def _load_catalogue() -> Catalogue:
    from gridgov.accounts.models import Role, User

    from .models import CaseCategory

    cats = list(CaseCategory.objects.select_related("parent"))
    parents = {c.parent_id for c in cats if c.parent_id}
    staffed = frozenset(
        User.objects.filter(role=Role.CENTER_OPERATOR, is_active=True, jurisdiction__isnull=False).values_list(
            "jurisdiction__code", flat=True
        )
    )
    return Catalogue(
        by_id={c.pk: c for c in cats},
        by_code={c.code: c for c in cats},
        leaves=frozenset(c.pk for c in cats if c.pk not in parents),
        staffed=staffed,
    )


@dataclass
class _Cache:
    token: Any = None
    value: Any = None


@dataclass
class _RegionCache:
    token: str | None = None
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)


# Everything intake shows or stores of a region; the rest (polygon, centroid, counters) is deferred.
REGION_FIELDS = ["id", "code", "name", "level", "kind", "parent_id", "path", "depth", "is_town_like", "dedicated_kind"]


def _region_table(token: str) -> dict[str, tuple[Any, ...]]:
    """code → field values of every region (a city: ~77,000 short tuples), loaded in one query
    when the `regions` token moved. Plain tuples, not model instances: each caller builds its own
    instance, so nothing shared between threads is ever mutated."""
    global _regions
    cache = _regions
    if cache.token == token:
        return cache.rows
    from gridgov.regions.models import Region

    rows = {values[1]: values for values in Region.objects.values_list(*REGION_FIELDS).order_by()}
    with _lock:
        _regions = _RegionCache(token=token, rows=rows)
    return rows


_lock = threading.Lock()
_catalogue = _Cache()
_regions = _RegionCache()
_named: dict[str, _Cache] = {}


def reset() -> None:
    """Forget every cached piece (tests that bypass the database's triggers)."""
    global _catalogue, _regions
    with _lock:
        _catalogue = _Cache()
        _regions = _RegionCache()
        _named.clear()


@dataclass(frozen=True)
class Snapshot:
    tokens: dict[str, str]
    catalogue: Catalogue

    def token(self, name: str) -> str | None:
        return self.tokens.get(name)

    def key(self, *names: str) -> tuple[str, ...] | None:
        """The tokens of `names` together, or None when one is unknown (then nothing may be cached)."""
        values = tuple(self.tokens.get(n) for n in names)
        return None if any(v is None for v in values) else values  # type: ignore[return-value]

    # categories
    def category(self, pk: int) -> Any:
        return self.catalogue.by_id.get(pk)

    def category_by_code(self, code: str) -> Any:
        return self.catalogue.by_code.get(code)

    def is_leaf(self, pk: int) -> bool:
        return pk in self.catalogue.leaves

    # regions
    def regions(self, codes: list[str]) -> dict[str, Any]:
        """Region rows by code (`Region` instances without the polygon and counters, which load
        on access), from a per-process table of every region kept while the tree is unchanged."""
        from gridgov.regions.models import Region

        token = self.tokens.get("regions")
        if token is None:  # version unknown: read just these rows
            return {r.code: r for r in Region.objects.filter(code__in=codes).only(*REGION_FIELDS)}
        table = _region_table(token)
        out = {}
        for code in codes:
            values = table.get(code)
            if values is not None:
                out[code] = Region.from_db("default", REGION_FIELDS, values)
        return out

    def cached(self, name: str, load: Any, *, slot: str | None = None, also: tuple[str, ...] = ()) -> Any:
        """A value derived from the tables behind token `name` (and `also`), kept in `slot`
        (default: `name`) and loaded again by `load()` when one of those tokens moved."""
        key = self.key(name, *also)
        entry = _named.get(slot or name)
        if key is not None and entry is not None and entry.token == key:
            return entry.value
        value = load()
        if key is not None:
            _named[slot or name] = _Cache(token=key, value=value)
        return value


REQUEST_ATTR = "_gridgov_config"


def remember(request: Any, snap: Snapshot) -> None:
    """Keep `snap` for the rest of the request (token authentication reads the tokens first)."""
    setattr(request, REQUEST_ATTR, snap)


def for_request(request: Any) -> Snapshot:
    """The snapshot this request already took, else a fresh one."""
    snap = getattr(request, REQUEST_ATTR, None)
    return snap if isinstance(snap, Snapshot) else snapshot()


def snapshot() -> Snapshot:
    """The configuration to act on now: the active one inside a `use()` block, else fresh tokens
    (one query) and the caches that still match them."""
    active = _active.get()
    if active is not None:
        return active
    global _catalogue
    tokens = versions()
    token = tokens.get("cases")
    cached = _catalogue
    if token is None or cached.token != token:
        catalogue = _load_catalogue()
        if token is not None:
            with _lock:
                _catalogue = _Cache(token=token, value=catalogue)
    else:
        catalogue = cached.value
    return Snapshot(tokens=tokens, catalogue=catalogue)


_active: contextvars.ContextVar[Snapshot | None] = contextvars.ContextVar("gridgov_config", default=None)


@contextmanager
def use(snap: Snapshot) -> Iterator[Snapshot]:
    """Make `snap` the configuration of everything called inside the block (one service call)."""
    reset_token = _active.set(snap)
    try:
        yield snap
    finally:
        _active.reset(reset_token)
