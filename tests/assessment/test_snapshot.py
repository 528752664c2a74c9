"""A whole month's snapshot, field by field, against the one the row-by-row implementation wrote.

`golden_month.json` was written by the first implementation of `assessment_compute` (every case
row loaded into Python, one pass per indicator, `bulk_create`) on the `busy_month` fixture below:
scores, values, notes, neutral peer averages, ranks, 红黄黑榜, worker scores and the exact records
behind every number (ids translated to case numbers, usernames and other stable keys, so the
comparison holds on SQLite and PostgreSQL whatever ids the rows got). The current implementation
must reproduce it exactly, and its fingerprint must be the digest of the rows it wrote.

Regenerate only on purpose (a deliberate change of a formula): GRIDGOV_WRITE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.accounts.models import Role
from gridgov.assessment import indicators, services
from gridgov.assessment.models import (
    Assessment,
    EntryState,
    IndicatorScore,
    ProcessEntry,
    RegionScore,
    WorkerScore,
)
from gridgov.cases.models import Case, State
from gridgov.common import clock
from gridgov.regions.models import Level
from gridgov.registers.models import GroupMembership, Visit, VisitRule
from gridgov.registers.services import care
from tests.assessment.factories import AS_OF, OCT, TZ, at, make_case
from tests.factories import UserFactory, make_region
from tests.registers.factories import make_house, make_person

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).with_name("golden_month.json")
MID_MONTH = dt.datetime(2026, 10, 20, 12, 0, tzinfo=TZ)
CODES = ["0101", "0102", "0201", "0301", "0304", "0401", "0402", "0502", "0601", "0901", "0902"]
SOURCES = ["grid_worker", "grid_worker", "citizen", "hotline_12345", "microgrid_worker"]


def _when(rng: random.Random) -> dt.datetime:
    day = rng.randint(1, 31)
    return dt.datetime(2026, 10, day, rng.randint(0, 23), rng.choice((0, 30)), tzinfo=TZ)


def _case_fields(rng: random.Random, reported: dt.datetime) -> dict[str, Any]:
    """A case in a random state, with deadlines met, missed or missing."""
    state = rng.choice(
        [State.CLOSED] * 6
        + [State.HANDLING, State.HANDLING, State.DISPATCHED, State.DISPATCHED, State.REPORTED, State.HANDLED]
        + [State.REJECTED, State.MERGED, State.SUPERVISING, State.SETTLE_PENDING]
    )
    handle_deadline = reported + dt.timedelta(days=rng.choice((1, 3, 5, 10, 20)))
    f: dict[str, Any] = {"state": state, "handle_deadline": handle_deadline if rng.random() > 0.05 else None}
    if state == State.CLOSED:
        handled = reported + dt.timedelta(days=rng.choice((0, 1, 2, 4, 6, 12, 25)), hours=rng.randint(0, 20))
        f.update(handled_at=handled if rng.random() > 0.05 else None, closed_at=handled + dt.timedelta(hours=3))
        if rng.random() < 0.7:
            f["satisfaction"] = rng.choice((1, 2, 3, 3, 4, 5, 5, 5))
        f["rework_count"] = rng.choice((0, 0, 0, 1, 2))
    if state in (State.CLOSED, State.HANDLING, State.HANDLED, State.SUPERVISING) or state == State.DISPATCHED:
        f["sign_deadline"] = reported + dt.timedelta(hours=rng.choice((2, 4, 30, 400)))
        if state != State.DISPATCHED and rng.random() < 0.9:
            f["signed_at"] = reported + dt.timedelta(hours=1)
            f["signed_late"] = rng.random() < 0.2
    f["settled_on_spot"] = rng.random() < 0.25
    return f


@pytest.fixture
def busy_month(personas):
    """A seeded month over the test tree: ~420 cases in every state and category mix, most in
    micro-grids, some recorded at grid, village and town level, a few outside the month; community 4
    has only a handful (neutral scores, not ranked). Households on three villages and one town;
    grid workers in four grids (one inactive); visits against special-group obligations; process
    self-assessments approved, adjusted, pending, returned or missing."""
    p, t = personas, personas.tree
    rng = random.Random(20261101)
    for i, comm in enumerate(t.communities[:3]):
        comm.households = 300 + 150 * i
        comm.save(update_fields=["households"])
    t.towns[0].households = 900
    t.towns[0].save(update_fields=["households"])
    extra = [
        UserFactory(username="gw3", display_name="网格员丙", role=Role.GRID_WORKER, jurisdiction=t.grids[2]),
        UserFactory(username="gw5", display_name="网格员丁", role=Role.GRID_WORKER, jurisdiction=t.grids[4]),
        UserFactory(username="gw6", display_name="网格员戊", role=Role.GRID_WORKER, jurisdiction=t.grids[5]),
        UserFactory(username="gw7", role=Role.GRID_WORKER, jurisdiction=t.grids[6], is_active=False),
    ]
    reporters = [p.grid_worker, p.colleague, p.grid_leader, *extra, None, None]
    busy = t.microgrids[:12]  # communities 1–3
    made: list[Case] = []

    def case(region, reported, **fields):
        if fields.get("state") == State.MERGED:
            fields["merged_into"] = made[0] if made else None
            fields["state"] = State.MERGED if made else State.REJECTED
        made.append(make_case(region, reported=reported, number=f"G-{len(made) + 1:05d}", **fields))

    for _ in range(400):
        region = rng.choice(busy)
        roll = rng.random()
        if roll < 0.04:
            region = region.parent  # a grid
        elif roll < 0.07:
            region = region.parent.parent  # a village
        reported = _when(rng)
        case(region, reported, code=rng.choice(CODES), source=rng.choice(SOURCES), reporter=rng.choice(reporters),
             **_case_fields(rng, reported))  # fmt: skip
    for _ in range(6):  # community 4: too few for the rates' minimum samples
        reported = _when(rng)
        case(rng.choice(t.microgrids[12:]), reported, code=rng.choice(CODES), **_case_fields(rng, reported))
    for _ in range(3):  # at town level: in no village
        reported = _when(rng)
        case(rng.choice(t.towns), reported, code="0502", **_case_fields(rng, reported))
    for reported in (dt.datetime(2026, 9, 30, 23, tzinfo=TZ), dt.datetime(2026, 11, 1, 0, tzinfo=TZ)):
        case(busy[0], reported, reporter=p.grid_worker)  # outside the month

    VisitRule.objects.update_or_create(kind="released", attention_level="01", defaults={"interval_days": 10})
    for idx, (worker, micro) in enumerate(
        [(p.grid_worker, t.microgrids[0]), (p.colleague, t.microgrids[2]), (extra[0], t.microgrids[4])]
    ):
        for k in range(2 + idx):
            person = make_person(worker, make_house(worker, micro), name=f"对象{idx}{k}")
            GroupMembership.objects.create(
                person=person, kind=rng.choice(["released", "drug", "correction"]), attention_level="01",
                started_on=dt.date(2026, rng.choice((9, 10)), rng.randint(1, 20)), region_path=person.region_path,
            )  # fmt: skip
            for _ in range(rng.randint(0, 5)):
                day = rng.randint(1, 30)
                care.visit_record(actor=worker, person=person, findings="走访正常，无异常情况",
                                  visited_at=dt.datetime(2026, 10, day, 15, tzinfo=TZ))  # fmt: skip

    scheme = services.scheme_install_default(region=t.district)
    process = list(scheme.indicators.filter(group="process").order_by("sort"))
    for comm in t.communities[:3]:
        for ind in process:
            state = rng.choice([EntryState.APPROVED] * 4 + [EntryState.SUBMITTED, EntryState.RETURNED, None])
            if state is None:
                continue
            value = float(rng.choice((40, 60, 75, 80, 95, 100)))
            reviewed = value - rng.choice((0, 0, 10)) if state == EntryState.APPROVED else None
            ProcessEntry.objects.create(
                indicator=ind, region=comm, region_path=comm.path, month=OCT, self_value=value,
                evidence="台账记录齐全", state=state, reviewed_value=reviewed if rng.random() > 0.2 else None,
                submitted_by=p.town_operator, submitted_at=AS_OF - dt.timedelta(days=3),
                reviewed_by=p.district_operator if state != EntryState.SUBMITTED else None,
                reviewed_at=AS_OF - dt.timedelta(days=2) if state != EntryState.SUBMITTED else None,
            )  # fmt: skip
    return scheme


def more_cases(region, prefix: str, n: int, *, seed: int) -> None:
    rng = random.Random(seed)
    anchor = Case.objects.order_by("id").first()
    for i in range(n):
        reported = _when(rng)
        fields = _case_fields(rng, reported)
        if fields["state"] == State.MERGED:
            fields["merged_into"] = anchor
        make_case(region, reported=reported, number=f"{prefix}-{i:03d}", code=rng.choice(CODES), **fields)


# --- the snapshot, in stable keys ----------------------------------------------------------------------


def _keys() -> dict[str, dict[int, str]]:
    entries = ProcessEntry.objects.select_related("indicator", "region")
    return {
        "cases.case": dict(Case.objects.values_list("id", "number")),
        "registers.groupmembership": {
            m.pk: f"{m.person.name}/{m.kind}" for m in GroupMembership.objects.select_related("person")
        },
        "assessment.processentry": {e.pk: f"{e.indicator.code}@{e.region.code}" for e in entries},
        "visits": {
            v.pk: f"{v.visitor.username}@{v.visited_at.isoformat()}" for v in Visit.objects.select_related("visitor")
        },
    }


def snapshot(assessment: Assessment) -> dict[str, Any]:
    keys = _keys()
    out: dict[str, Any] = {"as_of": assessment.as_of.isoformat(), "rules": assessment.rules, "regions": {}}
    skip = {"id", "assessment", "region", "region_score"}
    for rs in RegionScore.objects.filter(assessment=assessment).order_by("region_path"):
        row = {f.name: getattr(rs, f.name) for f in RegionScore._meta.concrete_fields if f.name not in skip}
        lines = {}
        for ln in IndicatorScore.objects.filter(region_score=rs).order_by("indicator_code"):
            line = {f.name: getattr(ln, f.name) for f in IndicatorScore._meta.concrete_fields if f.name not in skip}
            rec = dict(line["records"])
            names = keys.get(rec.get("model", ""), {})
            rec["ids"] = [names[i] for i in rec.get("ids", [])]
            rec["numerator_ids"] = [names[i] for i in rec.get("numerator_ids", [])]
            if "detail" in rec:
                rec["detail"] = {names[int(k)]: v for k, v in rec["detail"].items()}
            line["records"] = rec
            lines[ln.indicator_code] = line
        row["lines"] = lines
        out["regions"][rs.region_path] = row
    workers = {}
    for ws in WorkerScore.objects.filter(assessment=assessment).select_related("user"):
        row = {f.name: getattr(ws, f.name) for f in WorkerScore._meta.concrete_fields if f.name not in skip | {"user"}}
        rec = row["records"]
        row["records"] = {
            "reports": [keys["cases.case"][i] for i in rec["reports"]],
            "visits": [keys["visits"][i] for i in rec["visits"]],
            "cases": [keys["cases.case"][i] for i in rec["cases"]],
        }
        workers[ws.user.username] = row
    out["workers"] = workers
    return out


def digest_of_rows(assessment: Assessment) -> str:
    """The publication fingerprint as first defined: a hash over the rows as stored."""
    h = hashlib.sha256()
    h.update(json.dumps([assessment.month.isoformat(), assessment.as_of.isoformat(), assessment.rules]).encode())
    for row in (
        IndicatorScore.objects.filter(region_score__assessment=assessment)
        .order_by("region_score__region_path", "indicator_code")
        .values_list(
            "region_score__region_path", "indicator_code", "value", "numerator", "denominator", "score", "neutral"
        )
    ):
        h.update(json.dumps(row).encode())
    for region_row in (
        RegionScore.objects.filter(assessment=assessment)
        .order_by("region_path")
        .values_list("region_path", "total", "rank", "list_colour")
    ):
        h.update(json.dumps(region_row).encode())
    for worker_row in (
        WorkerScore.objects.filter(assessment=assessment).order_by("user_id").values_list("user_id", "total", "rank")
    ):
        h.update(json.dumps(worker_row).encode())
    return h.hexdigest()


def _compute_both(scheme) -> dict[str, Any]:
    out = {}
    for label, as_of in (("month_end", AS_OF), ("mid_month", MID_MONTH)):
        with clock.frozen(as_of):
            a = services.assessment_compute(actor=None, scheme=scheme, month=OCT, as_of=as_of).assessment
        assert a.digest == digest_of_rows(a)  # as_of as given (the digest hashes its isoformat)
        a.refresh_from_db()
        out[label] = snapshot(a)
    return out


def test_a_month_reproduces_the_row_by_row_snapshot_exactly(busy_month):
    got = _compute_both(busy_month)
    if os.environ.get("GRIDGOV_WRITE_GOLDEN"):
        text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True)
        text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
        GOLDEN.write_text(text + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(got))  # the same JSON types as the file (tuples → lists)
    assert got.keys() == expected.keys()
    for label in expected:
        g, e = got[label], expected[label]
        assert (g["as_of"], g["rules"]) == (e["as_of"], e["rules"])
        assert g["regions"].keys() == e["regions"].keys()
        for path in e["regions"]:
            assert g["regions"][path] == e["regions"][path], (label, path)
        assert g["workers"] == e["workers"], label


def test_recomputing_over_a_draft_replaces_it_with_the_same_rows_and_fingerprint(busy_month):
    first = services.assessment_compute(actor=None, scheme=busy_month, month=OCT, as_of=AS_OF).assessment
    before = snapshot(first)
    again = services.assessment_compute(actor=None, scheme=busy_month, month=OCT, as_of=AS_OF).assessment
    assert again.pk == first.pk and again.digest == first.digest
    assert snapshot(again) == before
    assert RegionScore.objects.filter(assessment=again).count() == 6  # 4 villages and 2 towns, once each


def test_each_case_indicator_counts_what_a_per_village_query_of_its_conditions_counts(personas, busy_month):
    """The grouped query against the plain reading: for every village, the month's cases under it
    that meet the indicator's conditions — also for a village whose code is longer than its peers'
    (grouping by path prefix must not mix it up with them)."""
    t = personas.tree
    odd = make_region("3301090020031", "长编码村", Level.COMMUNITY, t.towns[1], None)
    odd_grid = make_region("3301090020031001", "长编码村网格", Level.GRID, odd, None)
    more_cases(odd_grid, "L", 12, seed=5)
    ctx = indicators.Context(root_path=t.district.path, start=at(1, 0), end=AS_OF, as_of=MID_MONTH)
    villages = [*t.communities, odd]
    assert ctx.village_paths == {v.path for v in villages}
    checked = 0
    for key, kind in sorted(indicators.REGISTRY.items()):
        if kind.case_filter is None:
            continue
        for params in ({}, {"category": "03"}, {"category": ["01", "0401"], "source": "citizen"}):
            f = kind.case_filter(ctx, params)
            measures = kind.compute(ctx, params)
            for v in villages:
                under = indicators.month_cases(ctx).filter(region_path__startswith=v.path)
                ids = sorted(under.filter(f.den).values_list("id", flat=True))
                hits = ids if f.num is None else sorted(under.filter(f.den).filter(f.num).values_list("id", flat=True))
                m = measures.get(v.path, indicators.Measure())
                assert (m.ids, m.numerator_ids) == (ids, hits), (key, params, v.code)
                assert (m.denominator, m.numerator) == (len(ids), len(hits))
                checked += len(ids)
    assert checked > 1000


def test_computing_a_month_takes_the_same_queries_whatever_its_size(personas, busy_month):
    """No query per village, case or worker: a month with more of each costs the same round trips."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            services.assessment_compute(actor=None, scheme=busy_month, month=OCT, as_of=AS_OF)
        return len(ctx.captured_queries)

    queries()  # the first computation of the month; the ones below recompute its draft
    before = queries()
    t = personas.tree
    more = make_region("330109002003", "新村", Level.COMMUNITY, t.towns[1], None)
    grid = make_region("330109002003001", "新村网格", Level.GRID, more, None)
    UserFactory(username="gw9", role=Role.GRID_WORKER, jurisdiction=grid)
    more_cases(grid, "M", 30, seed=9)
    assert queries() == before
