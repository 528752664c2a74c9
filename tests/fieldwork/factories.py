"""Field-work data for tests: places, a running campaign, an inspection walked to any hazard state."""

from __future__ import annotations

import datetime as dt
import itertools

from gridgov.fieldwork import services
from gridgov.fieldwork.models import Campaign, Hazard, HazardState, Inspection
from gridgov.fieldwork.services import ItemResult
from gridgov.regions.models import Region
from gridgov.registers.models import Place
from tests.factories import Personas

_seq = itertools.count(1)
TODAY = dt.date(2026, 11, 23)


def make_place(region: Region, *, kind: str = "rental", name: str | None = None) -> Place:
    n = next(_seq)
    return Place.objects.create(
        region=region,
        region_path=region.path,
        kind=kind,
        name=name or f"测试场所{n}",
        address=f"人民路{n}号",
    )


def make_campaign(p: Personas, *, start: bool = True, items: int = 3, kinds: tuple[str, ...] = ("rental",)) -> Campaign:
    campaign = services.campaign_create(
        actor=p.town_operator,
        name="出租房消防安全专项整治",
        theme="消防",
        starts_on=TODAY - dt.timedelta(days=7),
        ends_on=TODAY + dt.timedelta(days=60),
        scope_regions=[p.tree.towns[0]],
        target_place_kinds=list(kinds),
        checklist=["电动车违规充电", "疏散通道畅通", "灭火器配备", "电气线路规范"][:items],
    )
    if start:
        campaign = services.campaign_start(actor=p.town_operator, campaign=campaign)
    return campaign


def make_inspection(p: Personas, campaign: Campaign, *, place: Place | None = None) -> Inspection:
    place = place or make_place(p.tree.microgrids[0])
    return services.inspection_assign(
        actor=p.town_operator,
        campaign=campaign,
        place=place,
        assignee=p.grid_worker,
        due_on=TODAY + dt.timedelta(days=7),
    )


def inspect_failing(p: Personas, inspection: Inspection, *, fail: int = 1) -> list[Hazard]:
    items = list(inspection.campaign.items.order_by("seq"))
    results = {
        item.pk: ItemResult(passed=i >= fail, note="" if i >= fail else f"{item.text}不合格")
        for i, item in enumerate(items)
    }
    return services.inspection_record(actor=p.grid_worker, inspection=inspection, results=results)


def hazard_in(p: Personas, state: str, campaign: Campaign | None = None) -> Hazard:
    """A hazard walked through the real services to `state`."""
    campaign = campaign or make_campaign(p)
    hazard = inspect_failing(p, make_inspection(p, campaign))[0]
    if state == HazardState.FOUND:
        return hazard
    if state == HazardState.VOIDED:
        return services.hazard_void(actor=p.town_operator, hazard=hazard, reason="复核后不构成隐患")
    hazard = services.hazard_assign(
        actor=p.town_operator,
        hazard=hazard,
        target="消除电动车入户充电隐患",
        measures="清理楼道充电线，设置集中充电点",
        responsible="房东王某",
        deadline=TODAY + dt.timedelta(days=5),
    )
    if state == HazardState.RECTIFYING:
        return hazard
    hazard = services.hazard_report(actor=p.grid_worker, hazard=hazard, rectification="已拆除飞线，设集中充电桩")
    if state == HazardState.RECTIFIED:
        return hazard
    return services.hazard_sign_off(actor=p.town_operator, hazard=hazard, note="复查合格")
