"""The indicator library: compute functions registered by key, pluggable by other apps.

An outcome indicator names a `compute_key`; the function registered under that key receives the
month's `Context` and the indicator's `params` and returns, per village/community path, a
`Measure`: numerator, denominator and the ids of exactly the records counted (so every score can
be drilled down to its rows). Town figures are the sums of their villages' measures.

Case indicators reuse the KPI formulas of `gridgov.cases.sla` verbatim: the same `Q` conditions
that `case_rates` aggregates are evaluated per row here (one query for the whole month), with the
deadlines judged at the assessment's `as_of` instant, never the wall clock.

Another app adds an indicator kind with:

    from gridgov.assessment.indicators import IndicatorKind, register
    register(IndicatorKind(key="mediation.success_rate", label="调解成功率", unit="%", model="mediation.dispute",
                           compute=my_compute))

Re-registering a key replaces it (the fieldwork app can take over "hazards.rectified_rate").
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, Value, When

from gridgov.cases import sla
from gridgov.cases.models import Case, Source

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
    def case_rows(self) -> list[CaseRow]:
        return load_case_rows(self)


# --- case rows: the sla formulas evaluated per row ---------------------------------------------------

# The flags of gridgov.cases.sla._aggregates, by name; each is the exact filter `case_rates` counts.
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


@dataclass(frozen=True)
class CaseRow:
    id: int
    region_path: str
    category: str
    source: str
    reporter_id: int | None
    settled_on_spot: bool
    rework_count: int
    flags: frozenset[str]

    def has(self, flag: str) -> bool:
        return flag in self.flags


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


def month_cases(ctx: Context) -> Any:
    base = Case.objects.filter(
        region_path__startswith=ctx.root_path, reported_at__gte=ctx.start, reported_at__lt=ctx.end
    )
    return sla._rated_qs(base)


def load_case_rows(ctx: Context) -> list[CaseRow]:
    conditions = sla_conditions(ctx.as_of)
    annotations = {
        f"f_{name}": CaseWhen(When(cond, then=Value(1)), default=Value(0), output_field=IntegerField())
        for name, cond in conditions.items()
    }
    fields = ["id", "region_path", "category__code", "source", "reporter_id", "settled_on_spot", "rework_count"]
    rows = []
    for r in month_cases(ctx).annotate(**annotations).values(*fields, *annotations).order_by("id").iterator(2000):
        rows.append(
            CaseRow(
                id=r["id"],
                region_path=r["region_path"],
                category=r["category__code"],
                source=r["source"],
                reporter_id=r["reporter_id"],
                settled_on_spot=r["settled_on_spot"],
                rework_count=r["rework_count"],
                flags=frozenset(name for name in CASE_FLAGS if r[f"f_{name}"]),
            )
        )
    return rows


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


def _category_match(params: dict[str, Any]) -> Callable[[CaseRow], bool]:
    raw = params.get("category") or []
    prefixes = tuple([raw] if isinstance(raw, str) else [str(p) for p in raw])
    source = str(params.get("source") or "")

    def match(row: CaseRow) -> bool:
        if prefixes and not row.category.startswith(prefixes):
            return False
        return not (source and row.source != source)

    return match


def _by_village(
    rows: Iterable[CaseRow], den: Callable[[CaseRow], bool], num: Callable[[CaseRow], bool]
) -> dict[str, Measure]:
    out: dict[str, Measure] = defaultdict(Measure)
    for row in rows:
        if not den(row):
            continue
        village = path_at(row.region_path, 2)
        if village is None:
            continue
        m = out[village]
        m.denominator += 1
        m.ids.append(row.id)
        if num(row):
            m.numerator += 1
            m.numerator_ids.append(row.id)
    return dict(out)


def case_rate(key: str, label: str, den_flag: str, num_flag: str, formula: str, **fixed: Any) -> IndicatorKind:
    def compute(ctx: Context, params: dict[str, Any]) -> dict[str, Measure]:
        match = _category_match({**fixed, **params})
        return _by_village(ctx.case_rows, lambda r: match(r) and r.has(den_flag), lambda r: r.has(num_flag))

    return IndicatorKind(key, label, "%", RATE, "cases.case", compute, formula)


def case_count(key: str, label: str, flag: str | None, formula: str, **fixed: Any) -> IndicatorKind:
    def compute(ctx: Context, params: dict[str, Any]) -> dict[str, Measure]:
        match = _category_match({**fixed, **params})
        out = _by_village(ctx.case_rows, lambda r: match(r) and (flag is None or r.has(flag)), lambda r: True)
        for m in out.values():
            # A count's sample is the count itself; the denominator is only used by rates.
            m.denominator = m.numerator
        return out

    return IndicatorKind(key, label, "件", COUNT, "cases.case", compute, formula)


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


def _settled_on_spot(ctx: Context, params: dict[str, Any]) -> dict[str, Measure]:
    match = _category_match(params)
    return _by_village(
        ctx.case_rows,
        lambda r: match(r) and r.source == Source.GRID_WORKER,
        lambda r: r.settled_on_spot and r.has("closed"),
    )


register(
    IndicatorKind(
        "cases.settled_on_spot_rate",
        "就地化解率",
        "%",
        RATE,
        "cases.case",
        _settled_on_spot,
        "网格员上报案件中就地化解并结案的比例",
    )
)


def _rework(ctx: Context, params: dict[str, Any]) -> dict[str, Measure]:
    match = _category_match(params)
    return _by_village(ctx.case_rows, lambda r: match(r) and r.has("closed"), lambda r: r.rework_count > 0)


register(
    IndicatorKind("cases.rework_rate", "返工率", "%", RATE, "cases.case", _rework, "已结案案件中经历核查返工的比例")
)


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
