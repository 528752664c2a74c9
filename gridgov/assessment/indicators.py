"""The indicator library: compute functions registered by key, pluggable by other apps.

An outcome indicator names a `compute_key`; the function registered under that key receives the
month's `Context` and the indicator's `params` and returns, per village/community path, a
`Measure`: numerator, denominator and the ids of exactly the records counted (so every score can
be drilled down to its rows). Town figures are the sums of their villages' measures.

Case indicators reuse the KPI formulas of `gridgov.cases.sla` verbatim: each is a `CaseFilter`, two
conditions built from the same `Q` objects that `case_rates` aggregates, with the deadlines judged
at the assessment's `as_of` instant, never the wall clock. The database evaluates them: all the
case indicators of a scheme are one grouped query over the month (`case_measures`: per village,
for each indicator, the ascending ids of the records counted and of those in the numerator), so
no case row is ever loaded into Python.

Another app adds an indicator kind with:

    from gridgov.assessment.indicators import IndicatorKind, register
    register(IndicatorKind(key="mediation.success_rate", label="调解成功率", unit="%", value_type=RATE,
                           model="mediation.dispute", compute=my_compute))

(or, for a measure over the month's cases, `case_filter=` a function of (ctx, params) returning a
`CaseFilter`, and `compute=case_compute(that function)`). Re-registering a key replaces it (the
fieldwork app can take over "hazards.rectified_rate").
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Aggregate, Count, Q, QuerySet, TextField, Value
from django.db.models.functions import Substr
from django.db.models.lookups import Exact

from gridgov.cases import sla
from gridgov.cases.models import Case, Source
from gridgov.regions.models import Region

RATE, COUNT = "rate", "count"


def path_at(path: str, depth: int) -> str | None:
    """The ancestor path of `path` at `depth` (0 = district, 1 = town, 2 = village)."""
    codes = [c for c in path.strip("/").split("/") if c]
    if len(codes) <= depth:
        return None
    return "/" + "/".join(codes[: depth + 1]) + "/"


@dataclass
class Measure:
    numerator: float = 0.0
    denominator: float = 0.0
    ids: list[int] = field(default_factory=list)
    numerator_ids: list[int] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Measure) -> None:
        self.numerator += other.numerator
        self.denominator += other.denominator
        self.ids.extend(other.ids)
        self.numerator_ids.extend(other.numerator_ids)
        self.detail.update(other.detail)

    @property
    def sample(self) -> int:
        return int(self.denominator)


@dataclass
class Context:
    root_path: str
    start: dt.datetime  # first instant of the month (inclusive)
    end: dt.datetime  # first instant of the next month (exclusive)
    as_of: dt.datetime  # deadlines are judged at this instant

    @cached_property
    def village_paths(self) -> frozenset[str]:
        """Paths of the villages/communities (depth 2) under the root: the keys of every measure."""
        return frozenset(Region.objects.filter(path__startswith=self.root_path, depth=2).values_list("path", flat=True))

    @cached_property
    def conditions(self) -> dict[str, Q]:
        return sla_conditions(self.as_of)


# --- case measures: the sla formulas evaluated by the database -----------------------------------------

# The counts of gridgov.cases.sla._aggregates, by name; each is the exact filter `case_rates` counts.
CASE_FLAGS = (
    "open",
    "overdue_open",
    "sign_due",
    "signed_on_time",
    "handle_due",
    "closed",
    "closed_on_time",
    "rated",
    "satisfied",
)


def sla_conditions(as_of: dt.datetime) -> dict[str, Q]:
    """The conditions behind each count of `sla.case_rates`, taken from the same definition so the
    assessment and the KPI screen can never disagree."""
    aggregates = sla._aggregates(as_of)
    out: dict[str, Q] = {}
    for name in CASE_FLAGS:
        condition = aggregates[name].filter
        assert isinstance(condition, Q), name
        out[name] = condition
    return out


def month_cases(ctx: Context) -> QuerySet[Case]:
    base = Case.objects.filter(
        region_path__startswith=ctx.root_path, reported_at__gte=ctx.start, reported_at__lt=ctx.end
    )
    return sla._rated_qs(base)


@dataclass(frozen=True)
class CaseFilter:
    """A case indicator as conditions on the month's cases: `den` selects the records counted (the
    denominator, or the count itself), `num` those of them in the numerator. A count has no `num`:
    every counted record is its numerator and its sample."""

    den: Q
    num: Q | None = None


class IdList(Aggregate):
    """The ids of a group's rows, ascending: ARRAY_AGG on PostgreSQL, GROUP_CONCAT on SQLite (a
    comma-separated text, sorted by `ids_of`). NULL for a group without rows."""

    function = "ARRAY_AGG"
    template = "%(function)s(%(expressions)s ORDER BY %(expressions)s)"
    output_field = TextField()  # raw: a list from psycopg, a string from sqlite3 (no converter)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        clone = self.copy()
        clone.function, clone.template = "GROUP_CONCAT", "%(function)s(%(expressions)s)"
        return super(IdList, clone).as_sql(compiler, connection, **extra)


def ids_of(value: Any) -> list[int]:
    """An `IdList` result as an ascending list of ids."""
    if not value:
        return []
    if isinstance(value, str):
        return sorted(int(v) for v in value.split(","))
    return list(value)


def grouped_by_ancestor(
    qs: QuerySet[Any], paths: Iterable[str], aggregates: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """`aggregates` over the rows of `qs` under each of `paths`, as (path, values), for the paths
    that have rows. The paths must be of one depth (all villages, or all grids): a row lies under
    the one whose path is the prefix of its `region_path` of that length, so the grouping is a
    substring of the indexed path, one query per distinct path length (one, with fixed-length
    administrative codes)."""
    by_length: dict[int, set[str]] = defaultdict(set)
    for p in paths:
        by_length[len(p)].add(p)
    for length, wanted in sorted(by_length.items()):
        rows = (
            qs.annotate(ancestor=Substr("region_path", 1, length)).values("ancestor").annotate(**aggregates).order_by()
        )
        for row in rows:
            key = row.pop("ancestor")
            if key in wanted:
                yield key, row


def case_measures(ctx: Context, filters: Sequence[CaseFilter]) -> list[dict[str, Measure]]:
    """The measures of several case indicators per village, from one grouped query over the month
    (conditions shared by several indicators are aggregated once)."""
    names: dict[Q, str] = {}

    def name(condition: Q) -> str:
        if condition not in names:
            names[condition] = f"ids_{len(names)}"
        return names[condition]

    wanted = []
    for f in filters:
        den = name(f.den)
        wanted.append((den, den if f.num is None else name(f.den & f.num), f.num is None))
    aggregates = {n: IdList("id", filter=condition) for condition, n in names.items()}
    out: list[dict[str, Measure]] = [{} for _ in filters]
    if not filters:
        return out
    for village, row in grouped_by_ancestor(month_cases(ctx), ctx.village_paths, aggregates):
        lists: dict[str, list[int]] = {}
        for i, (den, num, is_count) in enumerate(wanted):
            if den not in lists:
                lists[den] = ids_of(row[den])
            ids = lists[den]
            if not ids:
                continue
            if is_count:
                # A count's sample is the count itself; the denominator is only used by rates.
                out[i][village] = Measure(float(len(ids)), float(len(ids)), list(ids), list(ids))
            else:
                if num not in lists:
                    lists[num] = ids_of(row[num])
                hits = lists[num]
                out[i][village] = Measure(float(len(hits)), float(len(ids)), list(ids), list(hits))
    return out


@dataclass(frozen=True)
class GridCases:
    """A grid's cases of the month for its workers' quality scores."""

    ids: list[int]
    due: int  # handle_due
    on_time: int  # handle_due and closed_on_time
    rated: int
    satisfied: int  # rated and satisfied
    closed: int
    reworked: int  # closed and returned for rework at least once


def grid_cases(ctx: Context, grid_paths: Iterable[str]) -> dict[str, GridCases]:
    """Per grid (depth 3) of `grid_paths`: its month's case ids and the counts behind the worker
    quality rates, in one grouped query."""
    c = ctx.conditions
    grids = [p for p in grid_paths if path_at(p, 3) == p]
    aggregates = {
        "ids": IdList("id"),
        "due": Count("id", filter=c["handle_due"]),
        "on_time": Count("id", filter=c["handle_due"] & c["closed_on_time"]),
        "rated": Count("id", filter=c["rated"]),
        "satisfied": Count("id", filter=c["rated"] & c["satisfied"]),
        "closed": Count("id", filter=c["closed"]),
        "reworked": Count("id", filter=c["closed"] & Q(rework_count__gt=0)),
    }
    out = {}
    for grid, row in grouped_by_ancestor(month_cases(ctx), grids, aggregates):
        ids = ids_of(row.pop("ids"))
        out[grid] = GridCases(ids=ids, **{k: int(v) for k, v in row.items()})
    return out


def reports_by_reporter(ctx: Context) -> dict[int, list[int]]:
    """The month's cases (outside rejected/merged) by reporting account, ids ascending."""
    rows = (
        month_cases(ctx)
        .filter(reporter_id__isnull=False)
        .values("reporter_id")
        .annotate(ids=IdList("id"))
        .order_by()
        .values_list("reporter_id", "ids")
    )
    return {reporter: ids_of(ids) for reporter, ids in rows}


# --- the registry -------------------------------------------------------------------------------------

ComputeFn = Callable[[Context, dict[str, Any]], dict[str, Measure]]


@dataclass(frozen=True)
class IndicatorKind:
    key: str
    label: str
    unit: str  # "%" for rates, else what is counted
    value_type: str  # RATE or COUNT
    model: str  # app_label.model of the records behind it
    compute: ComputeFn
    formula: str = ""
    # A measure over the month's cases can say so as conditions: the assessment then computes it
    # together with the scheme's other case indicators, in the same grouped query.
    case_filter: Callable[[Context, dict[str, Any]], CaseFilter] | None = None


REGISTRY: dict[str, IndicatorKind] = {}


def register(kind: IndicatorKind) -> IndicatorKind:
    REGISTRY[kind.key] = kind
    return kind


def get(key: str) -> IndicatorKind | None:
    return REGISTRY.get(key)


def choices() -> list[tuple[str, str]]:
    return [(k.key, f"{k.label}（{k.key}）") for k in sorted(REGISTRY.values(), key=lambda k: k.key)]


def value_of(kind: IndicatorKind, m: Measure) -> float | None:
    if kind.value_type == RATE:
        return round(100.0 * m.numerator / m.denominator, 2) if m.denominator else None
    return float(m.numerator)


def _category_match(params: dict[str, Any]) -> Q:
    """The cases of the categories (code prefixes) and source named in `params`."""
    raw = params.get("category") or []
    prefixes = tuple([raw] if isinstance(raw, str) else [str(p) for p in raw])
    source = str(params.get("source") or "")
    match = Q()
    if prefixes:
        # An exact, case-sensitive prefix on every database (SQLite's LIKE ignores case).
        any_prefix = Q()
        for p in prefixes:
            any_prefix |= Q(Exact(Substr("category__code", 1, len(p)), Value(p)))
        match &= any_prefix
    if source:
        match &= Q(source=source)
    return match


CaseFilterFn = Callable[[Context, dict[str, Any]], CaseFilter]


def case_compute(case_filter: CaseFilterFn) -> ComputeFn:
    """The `compute` of a case indicator on its own (the assessment batches them instead)."""

    def compute(ctx: Context, params: dict[str, Any]) -> dict[str, Measure]:
        return case_measures(ctx, [case_filter(ctx, params)])[0]

    return compute


def case_kind(
    key: str, label: str, unit: str, value_type: str, case_filter: CaseFilterFn, formula: str
) -> IndicatorKind:
    return IndicatorKind(
        key, label, unit, value_type, "cases.case", case_compute(case_filter), formula, case_filter=case_filter
    )


def case_rate(key: str, label: str, den_flag: str, num_flag: str, formula: str, **fixed: Any) -> IndicatorKind:
    def case_filter(ctx: Context, params: dict[str, Any]) -> CaseFilter:
        flags = ctx.conditions
        return CaseFilter(den=_category_match({**fixed, **params}) & flags[den_flag], num=flags[num_flag])

    return case_kind(key, label, "%", RATE, case_filter, formula)


def case_count(key: str, label: str, flag: str | None, formula: str, **fixed: Any) -> IndicatorKind:
    def case_filter(ctx: Context, params: dict[str, Any]) -> CaseFilter:
        match = _category_match({**fixed, **params})
        return CaseFilter(den=match & ctx.conditions[flag] if flag else match)

    return case_kind(key, label, "件", COUNT, case_filter, formula)


register(
    case_rate(
        "cases.on_time_sign_rate",
        "按时签收率",
        "sign_due",
        "signed_on_time",
        "按时签收数 /（已签收数 + 超时未签收数）",
    )
)
register(
    case_rate(
        "cases.on_time_completion_rate",
        "按时办结率",
        "handle_due",
        "closed_on_time",
        "按期办结数 /（已结案数 + 超期未办结数）",
    )
)
register(case_rate("cases.completion_rate", "办结率", "handle_due", "closed", "已结案数 /（已结案数 + 超期未办结数）"))
register(case_rate("cases.satisfaction_rate", "综合满意率", "rated", "satisfied", "满意及基本满意评价数 / 评价数"))
register(case_count("cases.count", "案件数", None, "当月上报的案件数（不含不予受理与合并件），可按类别、来源筛选"))
register(case_count("cases.overdue_open", "超期未办结数", "overdue_open", "当月上报、截至考核时点超期仍未办结的案件数"))
# Disputes and hazards as reported through the case loop, until the mediation and fieldwork apps
# register their own measures under the same keys.
register(
    case_rate(
        "disputes.settled_rate",
        "矛盾纠纷化解率",
        "handle_due",
        "closed",
        "矛盾纠纷类案件：已化解结案数 /（已结案数 + 超期未化解数）",
        category="01",
    )
)
register(
    case_rate(
        "hazards.rectified_rate",
        "隐患整改率",
        "handle_due",
        "closed",
        "安全隐患、消防类案件：已整改销号数 /（已销号数 + 超期未整改数）",
        category=["02", "03"],
    )
)


def _settled_on_spot(ctx: Context, params: dict[str, Any]) -> CaseFilter:
    return CaseFilter(
        den=_category_match(params) & Q(source=Source.GRID_WORKER),
        num=Q(settled_on_spot=True) & ctx.conditions["closed"],
    )


register(
    case_kind(
        "cases.settled_on_spot_rate",
        "就地化解率",
        "%",
        RATE,
        _settled_on_spot,
        "网格员上报案件中就地化解并结案的比例",
    )
)


def _rework(ctx: Context, params: dict[str, Any]) -> CaseFilter:
    return CaseFilter(den=_category_match(params) & ctx.conditions["closed"], num=Q(rework_count__gt=0))


register(case_kind("cases.rework_rate", "返工率", "%", RATE, _rework, "已结案案件中经历核查返工的比例"))


# --- visits against obligation (registers) ----------------------------------------------------------

DEFAULT_VISIT_INTERVAL_DAYS = 30


def _visit_obligations(ctx: Context, params: dict[str, Any]) -> dict[str, Measure]:
    """走访率: visits made / visits due in the month for the special groups under care. A member
    active for d days of the month with a visit interval of n days owes ceil(d / n) visits; visits
    beyond what is owed do not make up for another member's missing ones."""
    from gridgov.registers.models import GroupMembership, Visit, VisitRule

    tz = ctx.start.tzinfo
    first = ctx.start.date()
    last = (ctx.end - dt.timedelta(seconds=1)).astimezone(tz).date()
    cutoff = min(last, ctx.as_of.astimezone(tz).date())
    if cutoff < first:
        return {}
    rules = {(r.kind, r.attention_level): r.interval_days for r in VisitRule.objects.all()}
    kinds = params.get("kinds") or []
    members = GroupMembership.objects.filter(region_path__startswith=ctx.root_path, started_on__lte=cutoff).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=first)
    )
    if kinds:
        members = members.filter(kind__in=kinds)
    # A visit recorded against the membership counts for it; a visit to the person without one
    # counts for each of the person's memberships (a home visit covers every reason to call).
    made: dict[int, int] = defaultdict(int)
    by_person: dict[int, int] = defaultdict(int)
    for membership_id, person_id in Visit.objects.filter(
        Q(membership__in=members) | Q(membership__isnull=True, person__in=members.values("person_id")),
        visited_at__gte=ctx.start,
        visited_at__lt=min(ctx.end, ctx.as_of),
    ).values_list("membership_id", "person_id"):
        if membership_id:
            made[membership_id] += 1
        elif person_id:
            by_person[person_id] += 1
    out: dict[str, Measure] = defaultdict(Measure)
    for mid, person_id, kind, level, path, started, ended in members.values_list(
        "id", "person_id", "kind", "attention_level", "region_path", "started_on", "ended_on"
    ).order_by("id"):
        village = path_at(path, 2)
        if village is None:
            continue
        days = (min(cutoff, ended or cutoff) - max(first, started)).days + 1
        if days <= 0:
            continue
        due = math.ceil(days / max(1, rules.get((kind, level), DEFAULT_VISIT_INTERVAL_DAYS)))
        done = min(made.get(mid, 0) + by_person.get(person_id, 0), due)
        m = out[village]
        m.denominator += due
        m.numerator += done
        m.ids.append(mid)
        if done >= due:
            m.numerator_ids.append(mid)
        m.detail[str(mid)] = [done, due]
    return dict(out)


register(
    IndicatorKind(
        "visits.obligation_rate",
        "重点人员走访率",
        "%",
        RATE,
        "registers.groupmembership",
        _visit_obligations,
        "特殊人群应走访次数中实际走访的比例（按走访频次规则计算应走访数）",
    )
)
