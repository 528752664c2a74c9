"""Cases built directly as rows (no services) so a month's data can be laid out exactly, and a
small scheme whose indicators the tests reason about."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from typing import Any

from gridgov.assessment.models import Group, Indicator, Scheme
from gridgov.cases.models import Case, CaseCategory, State
from gridgov.regions.models import Region

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
OCT = dt.date(2026, 10, 1)
AS_OF = dt.datetime(2026, 11, 1, 0, 0, tzinfo=TZ)
_seq = itertools.count(1)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, 0, tzinfo=TZ)


def make_case(
    region: Region, *, reported: dt.datetime, state: str = State.CLOSED, code: str = "0502", **fields: Any
) -> Case:
    """A case in `region` (a micro-grid). Closed cases default to on-time: handled a day before the
    deadline."""
    n = next(_seq)
    defaults: dict[str, Any] = {
        "number": f"T-{n:06d}",
        "tracking_code": f"TC{n:08d}",
        "source": "grid_worker",
        "category": CaseCategory.objects.get(code=code),
        "description": "测试案件描述",
        "region": region,
        "region_path": region.path,
        "center": region.parent.parent if region.parent and region.parent.parent else region,
        "state": state,
        "reported_at": reported,
        "handle_deadline": reported + dt.timedelta(days=5),
    }
    if state == State.CLOSED:
        defaults.update(handled_at=reported + dt.timedelta(days=4), closed_at=reported + dt.timedelta(days=4, hours=2))
    defaults.update(fields)
    return Case.objects.create(**defaults)


def scheme(district: Region, **rules: Any) -> Scheme:
    s = Scheme.objects.create(region=district, name="测试方案", **rules)
    Indicator.objects.create(
        scheme=s, code="A1", name="按时办结", group=Group.OUTCOME, compute_key="cases.on_time_completion_rate",
        direction="higher", weight=50, full_at=100, zero_at=50, min_sample=3, sort=1,
    )  # fmt: skip
    Indicator.objects.create(
        scheme=s, code="A2", name="治安案件", group=Group.OUTCOME, compute_key="cases.count",
        params={"category": "04"}, direction="lower", weight=30, full_at=0, zero_at=4, sort=2,
    )  # fmt: skip
    Indicator.objects.create(
        scheme=s, code="P1", name="治安巡逻", group=Group.PROCESS, direction="higher", weight=20, full_at=100,
        zero_at=0, sort=3,
    )  # fmt: skip
    return s
