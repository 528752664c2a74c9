"""Demo assessment: the 双十条 scheme, towns' self-assessments (reviewed by the district) for last
month and a few pending ones for this month, the command-centre rollups for the demo cases, last
month computed and published, this month as a draft. Idempotent."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.conf import settings

from gridgov.accounts.models import User
from gridgov.common import clock
from gridgov.dashboard import rollups
from gridgov.regions.models import Level, Region

from . import services
from .models import Assessment, EntryState, Indicator, ProcessEntry, Scheme, Status

EVIDENCE = {
    "P01": "本月组织平安巡逻队夜间巡逻 {n} 次，巡逻记录已上传钉钉台账。",
    "P02": "开展矛盾纠纷排查 {n} 次，建立排查台账，发现问题均已跟踪化解。",
    "P03": "对辖区特殊人群落实“一人一策”帮教，本月走访帮教 {n} 人次。",
    "P04": "村规民约已经村民代表大会修订并张贴公示，本月开展执行情况检查。",
    "P05": "网格员按要求走访入户 {n} 户，人口信息变动均已更新。",
    "P06": "开展反诈、消防等平安宣传活动 {n} 场，发放资料若干。",
    "P07": "组织出租房、沿街店铺隐患排查 {n} 处，整改闭环销号。",
    "P08": "完成人口、房屋、单位基础信息核查更新 {n} 条。",
    "P09": "村级综治中心（矛调站）工作日值班到位，接待群众 {n} 人次。",
    "P10": "开展平安家庭、平安小区创建活动，新增创建户 {n} 户。",
}


def load(log: Callable[[str], None] = print) -> None:
    district = Region.objects.get(code=settings.GRIDGOV["DISTRICT_CODE"])
    scheme = services.scheme_install_default(region=district)
    days, live = rollups.rebuild(root=district)
    log(f"dashboard: rollups rebuilt ({days} day rows, {live} open cases)")
    today = clock.today()
    last = services.previous_month(today)
    this = today.replace(day=1)
    added = _entries(scheme, district, last, approve=True) + _entries(scheme, district, this, approve=False)
    published = Assessment.objects.filter(scheme=scheme, month=last, status=Status.PUBLISHED).first()
    if published is None:
        result = services.assessment_compute(actor=None, scheme=scheme, month=last)
        published = services.assessment_publish(actor=None, assessment=result.assessment)
        log(f"assessment: {last:%Y-%m} computed and published ({result.villages} villages, {result.towns} towns)")
    draft = Assessment.objects.filter(scheme=scheme, month=this).first()
    if draft is None or not draft.is_published:
        services.assessment_compute(actor=None, scheme=scheme, month=this)
    log(f"assessment: {added} self-assessments added; {this:%Y-%m} computed as a draft")


def _entries(scheme: Scheme, district: Region, month: dt.date, *, approve: bool) -> int:
    rng = random.Random(f"assessment:{district.code}:{month}")
    indicators = list(Indicator.objects.filter(scheme=scheme, group="process", is_active=True).order_by("sort"))
    villages = list(Region.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).order_by("path"))
    if not approve:
        # This month: only the demo town's villages have submitted so far, waiting for review.
        villages = [v for v in villages if v.path.startswith(f"{district.path}{district.code}001/")][:6]
    district_op = User.objects.filter(username="district_op").first() or User.objects.filter(role="admin").first()
    town_op = User.objects.filter(username="town_op").first() or district_op
    if district_op is None or town_op is None:
        return 0
    town_path = town_op.jurisdiction.path if town_op.jurisdiction else ""
    have = set(
        ProcessEntry.objects.filter(indicator__scheme=scheme, month=month).values_list("indicator_id", "region_id")
    )
    now = clock.now()
    rows = []
    for v in villages:
        strength = rng.uniform(0.55, 1.0)
        for ind in indicators:
            if (ind.pk, v.pk) in have:
                continue
            self_value = round(min(100.0, max(0.0, rng.gauss(100 * strength, 8))), 0)
            reviewed = round(max(0.0, self_value - rng.choice([0, 0, 0, 5, 10, 20])), 0)
            rows.append(
                ProcessEntry(
                    indicator=ind,
                    region=v,
                    region_path=v.path,
                    month=month,
                    self_value=self_value,
                    evidence=EVIDENCE.get(ind.code, "按要求完成，材料见附件。").format(n=rng.randint(2, 30)),
                    state=EntryState.APPROVED if approve else EntryState.SUBMITTED,
                    reviewed_value=reviewed if approve else None,
                    review_note=("核减：台账记录不完整" if reviewed < self_value else "同意") if approve else "",
                    submitted_by=town_op if town_path and v.path.startswith(town_path) else district_op,
                    submitted_at=now,
                    reviewed_by=district_op if approve else None,
                    reviewed_at=now if approve else None,
                )
            )
    ProcessEntry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
