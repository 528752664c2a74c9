"""Demo field work in 城厢街道 (330109001): a running fire-safety campaign over rentals and small
premises with inspections done and hazards in every state (some overdue, one listed), and a few
days of visits and patrols by the demo grid worker. Written through the services, with the clock
set back so the timeline reads like a month of work. Idempotent: skipped once the campaign exists.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gridgov.accounts.models import User
from gridgov.common import clock
from gridgov.common.errors import DomainError
from gridgov.regions.models import Level, Region
from gridgov.registers import codes as register_codes
from gridgov.registers.models import Place

from . import services
from .models import Campaign, Hazard, HazardLevel, Inspection

CAMPAIGN_NAME = "城厢街道出租房及“三小”场所消防安全专项整治"
CHECKLIST = [
    "电动自行车违规停放、充电（楼道、门厅、安全出口）",
    "疏散通道、安全出口畅通，无锁闭、堵塞",
    "灭火器、应急照明、疏散指示标志配备有效",
    "电气线路敷设规范，无私拉乱接",
    "住人与生产经营场所有效分隔（“三合一”）",
]
FINDINGS = {
    0: "一楼楼道停放电动自行车4辆，有飞线充电",
    1: "后门安全出口被杂物堵塞",
    2: "灭火器过期未检，压力不足",
    3: "厨房插座私拉乱接，电线老化",
    4: "二楼仓库内住人，未做防火分隔",
}


def _at(days_ago: int, hour: int = 10) -> dt.datetime:
    day = clock.today() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def load(log: Callable[[str], None] = print) -> None:
    district = settings.GRIDGOV["DISTRICT_CODE"]
    town = Region.objects.filter(code=f"{district}001").first()
    operator = User.objects.filter(username="town_op", is_active=True).first()
    if town is None or operator is None:
        log("fieldwork: no 城厢街道 or town operator; skipped")
        return
    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        log("fieldwork: demo campaign already there")
        return
    rng = random.Random(20261122)
    with transaction.atomic():
        campaign = _campaign(operator, town)
        inspections, hazards = _inspections(operator, campaign, rng)
        visits, checkins = _visits_and_patrols(rng)
    log(
        f"fieldwork: campaign with {inspections} inspections, {hazards} hazards; "
        f"{visits} visits, {checkins} patrol check-ins added"
    )


def _campaign(operator: User, town: Region) -> Campaign:
    with clock.frozen(_at(25, 9)):
        campaign = services.campaign_create(
            actor=operator,
            name=CAMPAIGN_NAME,
            theme="消防安全",
            description="对辖区出租房（群租房）和“三小”场所逐户排查，隐患实行“四落实”，整改到位后复查销号；"
            "逾期未整改的重大隐患挂牌整治。",
            starts_on=clock.today(),
            ends_on=clock.today() + dt.timedelta(days=60),
            scope_regions=[town],
            target_place_kinds=[register_codes.PlaceKind.RENTAL, register_codes.PlaceKind.SMALL_PREMISES],
            checklist=CHECKLIST,
        )
        return services.campaign_start(actor=operator, campaign=campaign)


def _ensure_places(town: Region, rng: random.Random) -> None:
    """Registers demo data normally provides the places; a bare database gets a few."""
    kinds = [register_codes.PlaceKind.RENTAL, register_codes.PlaceKind.SMALL_PREMISES]
    if Place.objects.filter(region_path__startswith=town.path, kind__in=kinds).count() >= 12:
        return
    leaves = list(Region.objects.filter(path__startswith=town.path, level=Level.MICROGRID).order_by("code")[:12])
    for i, leaf in enumerate(leaves):
        Place.objects.create(
            kind=kinds[i % 2],
            name=f"城厢{['出租房（群租）', '便利店', '理发店', '五金店'][i % 4]}{i + 1}",
            address=f"城河街{10 + i * 7}号",
            region=leaf,
            region_path=leaf.path,
            lat=leaf.centroid_lat,
            lng=leaf.centroid_lng,
            risk_level=register_codes.RiskLevel.HIGH,
        )


def _inspections(operator: User, campaign: Campaign, rng: random.Random) -> tuple[int, int]:
    town = campaign.region
    _ensure_places(town, rng)
    with clock.frozen(_at(24, 9)):
        services.inspection_generate(actor=operator, campaign=campaign, due_on=clock.today() + dt.timedelta(days=20))
    rows = list(
        Inspection.objects.filter(campaign=campaign)
        .select_related("assignee", "campaign")
        .order_by("region_path", "id")
    )
    # Keep the demo readable: at most 60 units, the demo grid worker's first.
    rows.sort(key=lambda i: (i.assignee.username != "grid_worker" if i.assignee else True, i.region_path, i.pk))
    rows = rows[:60]
    Inspection.objects.filter(campaign=campaign).exclude(pk__in=[i.pk for i in rows]).delete()
    items = list(campaign.items.order_by("seq"))
    hazards: list[Hazard] = []
    done = rows[: max(1, len(rows) * 3 // 4)]
    for n, inspection in enumerate(done):
        actor = inspection.assignee
        if actor is None:
            continue
        failing = {n % len(items)} | ({(n + 2) % len(items)} if n % 3 == 0 else set())
        results = {
            it.pk: services.ItemResult(
                passed=i not in failing,
                note=FINDINGS[i] if i in failing else "",
                hazard_level=HazardLevel.MAJOR if i == 4 else HazardLevel.GENERAL,
            )
            for i, it in enumerate(items)
        }
        with clock.frozen(_at(22 - n % 12, 9 + n % 8)):
            hazards += services.inspection_record(actor=actor, inspection=inspection, results=results, note="逐项检查")
    _walk(operator, hazards, rng)
    return len(rows), len(hazards)


def _walk(operator: User, hazards: list[Hazard], rng: random.Random) -> None:
    """Spread the hazards over every state: found, rectifying (on time and overdue, one listed),
    rectified awaiting re-inspection, signed off (one after a send-back), voided."""
    for n, hazard in enumerate(hazards):
        plan = n % 8
        try:
            if plan == 0:
                continue  # found: waiting for the four implementations
            if plan == 7:
                with clock.frozen(_at(10)):
                    services.hazard_void(actor=operator, hazard=hazard, reason="复核系合规临时停放，不构成隐患")
                continue
            overdue = plan in (2, 6)
            with clock.frozen(_at(18 if overdue else 8)):
                hazard = services.hazard_assign(
                    actor=operator,
                    hazard=hazard,
                    target="消除" + (hazard.item.text[:12] if hazard.item else "隐患"),
                    measures="责令经营者/房东限期整改：" + hazard.description,
                    responsible=f"{hazard.inspection.unit_name}负责人",
                    deadline=clock.today() + dt.timedelta(days=7 if overdue else 14),
                )
            if (plan == 2 and hazard.level == HazardLevel.MAJOR) or (plan == 6 and n % 16 == 6):
                with clock.frozen(_at(3)):
                    services.hazard_list(
                        actor=operator,
                        hazard=hazard,
                        owner="城厢街道平安办主任",
                        requirement="逾期未整改，挂牌督办，三日内整改到位",
                    )
            if plan in (1, 2, 6):
                continue  # rectifying (1 on time; 2 and 6 overdue)
            worker = _grid_worker_of(hazard)
            if worker is None:
                continue
            with clock.frozen(_at(4, 15)):
                hazard = services.hazard_report(
                    actor=worker, hazard=hazard, rectification="已按要求整改：清理通道、拆除飞线、更换灭火器"
                )
            if plan == 3:
                continue  # rectified, awaiting re-inspection
            if plan == 5:
                with clock.frozen(_at(3, 10)):
                    hazard = services.hazard_send_back(
                        actor=operator,
                        hazard=hazard,
                        reason="复查发现仍有飞线充电",
                        deadline=clock.today() + dt.timedelta(days=2),
                    )
                with clock.frozen(_at(2, 16)):
                    hazard = services.hazard_report(
                        actor=worker, hazard=hazard, rectification="已拆除全部飞线并设集中充电点"
                    )
            with clock.frozen(_at(1, 11)):
                services.hazard_sign_off(actor=operator, hazard=hazard, note="复查合格，予以销号")
        except DomainError:
            continue
    del rng


def _grid_worker_of(hazard: Hazard) -> User | None:
    codes = [c for c in hazard.region_path.strip("/").split("/") if c]
    if len(codes) < 4:
        return None
    return (
        User.objects.filter(role="grid_worker", is_active=True, jurisdiction__code=codes[3])
        .order_by("username")
        .first()
    )


def _visits_and_patrols(rng: random.Random) -> tuple[int, int]:
    worker = User.objects.filter(username="grid_worker", is_active=True).select_related("jurisdiction").first()
    if worker is None or worker.jurisdiction is None:
        return 0, 0
    grid = worker.jurisdiction
    leaves = list(Region.objects.filter(parent=grid).exclude(centroid_lat__isnull=True).order_by("code")) or [grid]
    places = list(Place.objects.filter(region_path__startswith=grid.path, is_active=True).order_by("id")[:6])
    visits = checkins = 0
    for days_ago in (6, 5, 4, 3, 2, 1):
        for k, place in enumerate(places[:3]):
            leaf = rng.choice(leaves)
            with clock.frozen(_at(days_ago, 9 + k)):
                try:
                    services.visit_record_checked(
                        actor=worker,
                        place=place,
                        kind=register_codes.VisitKind.INSPECTION,
                        findings="例行巡查：消防通道畅通，灭火器有效，经营正常",
                        lat=place.lat or leaf.centroid_lat,
                        lng=place.lng or leaf.centroid_lng,
                        accuracy_m=rng.randint(5, 30),
                    )
                    visits += 1
                except DomainError:
                    pass
        with clock.frozen(_at(days_ago, 14)):
            try:
                patrol = services.patrol_start(actor=worker)
            except DomainError:
                continue
        for j, leaf in enumerate(leaves[:4]):
            with clock.frozen(_at(days_ago, 14) + dt.timedelta(minutes=15 * (j + 1))):
                try:
                    services.patrol_checkin(
                        actor=worker,
                        patrol=patrol,
                        lat=(leaf.centroid_lat or 0) + rng.uniform(-0.0003, 0.0003),
                        lng=(leaf.centroid_lng or 0) + rng.uniform(-0.0003, 0.0003),
                        note="" if j else "沿街商铺巡查",
                    )
                    checkins += 1
                except DomainError:
                    pass
        with clock.frozen(_at(days_ago, 15)):
            services.patrol_end(actor=worker, patrol=patrol, summary="巡查正常")
    return visits, checkins
