"""Demo mediation and petitions: mediation centres at the three levels for 城厢街道 and its first
community, disputes in every state (one from a reported case, settled with an agreement, the
case closed), and petitions including a repeat. Written through the services with the clock set
back. Idempotent: skipped once the demo centres hold disputes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gridgov.accounts.models import User
from gridgov.cases import services as case_services
from gridgov.cases.models import CaseCategory
from gridgov.common import clock
from gridgov.regions.models import Level, Region
from gridgov.registers.idnumber import make_id_number

from . import services
from .models import Dispute, MediationCentre
from .services import PartyIn


def _at(days_ago: int, hour: int = 10) -> dt.datetime:
    day = clock.today() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _id(n: int, birth: dt.date = dt.date(1978, 3, 9)) -> str:
    return make_id_number("330109", birth + dt.timedelta(days=97 * n), 100 + n * 2 + 1)


DISPUTES = [
    # (title, kind, state, centre key, applicant, respondent, description)
    (
        "楼上卫生间漏水赔偿纠纷",
        "0201",
        "settled",
        "village",
        "沈建华",
        "王丽娟",
        "楼上卫生间防水层破损，导致楼下天花板渗水发霉，双方就维修和赔偿金额争执不下。",
    ),
    (
        "装修工程款结算纠纷",
        "0603",
        "confirmed",
        "town",
        "杭州某装饰工程有限公司",
        "周国平",
        "装修完工后业主以质量问题为由拒付尾款三万元。",
    ),
    (
        "赡养老人费用分担纠纷",
        "0102",
        "mediating",
        "village",
        "李桂英",
        "李建国",
        "八旬老人的三名子女就赡养费分担和轮流照顾产生矛盾。",
    ),
    (
        "饭店拖欠厨师工资纠纷",
        "0701",
        "failed",
        "town",
        "张海涛",
        "城厢某酒家",
        "厨师离职后饭店拖欠两个月工资，饭店称其违约在先。",
    ),
    (
        "交通事故人身损害赔偿",
        "0503",
        "transferred",
        "town",
        "陈秀英",
        "刘志强",
        "电动车与行人相撞致行人骨折，双方对医疗费和误工费分歧较大。",
    ),
    (
        "相邻宅基地通行纠纷",
        "0202",
        "registered",
        "village",
        "徐永康",
        "徐永福",
        "兄弟两家宅基地相邻，因通道砌墙阻断通行发生争执。",
    ),
    (
        "物业费及停车位纠纷",
        "0402",
        "withdrawn",
        "village",
        "赵敏",
        "某物业服务有限公司",
        "业主以小区停车管理混乱为由拒交物业费。",
    ),
]


def load(log: Callable[[str], None] = print) -> None:
    district = Region.objects.filter(code=settings.GRIDGOV["DISTRICT_CODE"]).first()
    if district is None:
        log("mediation: no district; skipped")
        return
    town = Region.objects.filter(code=f"{district.code}001").first()
    village = Region.objects.filter(code=f"{district.code}001001").first()
    admin = User.objects.filter(username="admin").first()
    town_op = User.objects.filter(username="town_op").first()
    village_op = User.objects.filter(username="village_op").first()
    mediator = User.objects.filter(username="mediator").first()
    worker = User.objects.filter(username="grid_worker").select_related("jurisdiction").first()
    if not all((town, village, admin, town_op, village_op, mediator, worker)):
        log("mediation: demo accounts or regions missing; skipped")
        return
    assert town and village and admin and town_op and village_op and mediator and worker
    with transaction.atomic():
        centres = _centres(admin, district, town, village)
        if Dispute.objects.filter(centre__in=centres.values()).exists():
            log("mediation: demo disputes already there")
            return
        made = _disputes(centres, town_op, mediator, village)
        from_case = _from_case(village_op, mediator, worker)
        petitions = _petitions(village_op, town_op, worker)
    log(f"mediation: {len(centres)} centres, {made + from_case} disputes, {petitions} petitions added")


def _centres(admin: User, district: Region, town: Region, village: Region) -> dict[str, MediationCentre]:
    out = {}
    for key, region, name, address in (
        ("district", district, "萧山区社会矛盾纠纷调处化解中心", "萧山区市心中路"),
        ("town", town, "城厢街道矛盾纠纷调处化解中心", "城厢街道城河街"),
        ("village", village, f"{village.name}人民调解室", f"{village.name}党群服务中心"),
    ):
        existing = MediationCentre.objects.filter(region=region).first()
        out[key] = existing or services.centre_create(
            actor=admin, region=region, name=name, address=address, phone="0571-82600000"
        )
    return out


def _disputes(centres: dict[str, MediationCentre], operator: User, mediator: User, village: Region) -> int:
    grids = list(Region.objects.filter(parent=village, level=Level.GRID).order_by("code"))
    for n, (title, kind, state, key, a, b, text) in enumerate(DISPUTES):
        start = 28 - n * 3
        with clock.frozen(_at(start, 9)):
            d = services.dispute_register(
                actor=operator,
                title=title,
                kind=kind,
                description=text,
                region=grids[n % len(grids)] if grids else village,
                centre=centres[key],
                involved=2 if n != 2 else 5,
                amount=[8000, 30000, None, 16000, 52000, None, 2400][n],
                occurred_on=clock.today() - dt.timedelta(days=3),
                parties=[
                    PartyIn(
                        role="applicant",
                        name=a,
                        id_number=_id(n) if len(a) <= 4 else "",
                        phone=f"1390571{n:04d}",
                        address="城厢街道",
                    ),
                    PartyIn(
                        role="respondent", name=b, id_number=_id(n + 20) if len(b) <= 4 else "", phone=f"1370571{n:04d}"
                    ),
                ],
            )
        if state == "registered":
            continue
        if state == "withdrawn":
            with clock.frozen(_at(start - 1)):
                services.dispute_withdraw(actor=operator, dispute=d, reason="双方自行协商解决，申请人撤回调解申请")
            continue
        with clock.frozen(_at(start - 1, 10)):
            d = services.dispute_accept(actor=mediator, dispute=d, mediator=mediator)
        with clock.frozen(_at(start - 2, 14)):
            services.session_record(
                actor=mediator,
                dispute=d,
                held_at=None,
                mode="in_person" if n % 2 == 0 else "online",
                location=centres[key].address if n % 2 == 0 else "浙江解纷码在线调解室",
                attendees=f"{a}、{b}",
                summary="分别听取双方陈述，释法明理，背对背做工作。",
                result="continue" if state != "failed" else "deadlock",
            )
        if state == "mediating":
            continue
        with clock.frozen(_at(start - 4, 15)):
            if state in ("settled", "confirmed"):
                d = services.dispute_settle(
                    actor=mediator,
                    dispute=d,
                    agreement=f"一、{b}于协议签订之日起十日内向{a}支付{'维修及赔偿款八千元' if n == 0 else '工程尾款两万六千元'}；\n二、双方就本纠纷再无其他争议。",
                    performance_term="十日内一次性付清",
                    note="双方在调解员主持下自愿达成协议",
                )
            else:
                d = services.dispute_fail(actor=mediator, dispute=d, reason="双方对赔偿金额分歧过大，调解不成")
        if state == "transferred":
            with clock.frozen(_at(start - 5)):
                services.dispute_transfer(
                    actor=mediator, dispute=d, to="court", reason="引导当事人向萧山区人民法院起诉，并做好诉前联调衔接"
                )
        if state == "confirmed":
            with clock.frozen(_at(start - 6)):
                d = services.dispute_confirm(
                    actor=mediator,
                    dispute=d,
                    court="杭州市萧山区人民法院",
                    reference="（2026）浙0109民特1208号",
                    confirmed_on=clock.today(),
                )
        if state in ("settled", "confirmed"):
            with clock.frozen(_at(max(start - 8, 1))):
                services.dispute_follow_up(
                    actor=mediator, dispute=d, method="phone", performance="full", note="电话回访，款项已付清，双方满意"
                )
    return len(DISPUTES)


def _from_case(operator: User, mediator: User, worker: User) -> int:
    """A neighbour dispute reported by the grid worker, accepted by the village centre, referred to
    mediation, settled with an agreement — and the case closed through the case loop."""
    grid = worker.jurisdiction
    if grid is None or grid.centroid_lat is None or grid.centroid_lng is None:
        return 0
    category = CaseCategory.objects.filter(code="0102").first()
    with clock.frozen(_at(6, 9)):
        case = case_services.case_report(
            actor=worker,
            category=category,
            description="陈公桥社区3幢住户反映楼上空调外机噪音和冷凝水滴落，双方多次争吵，需调解",
            lat=grid.centroid_lat,
            lng=grid.centroid_lng,
        )
    if case.center_id != operator.jurisdiction_id:
        return 0
    with clock.frozen(_at(6, 10)):
        case = case_services.case_accept(actor=operator, case=case)
        d = services.dispute_from_case(
            actor=operator,
            case=case,
            title="空调外机噪音及滴水纠纷",
            kind="0203",
            parties=[
                PartyIn(
                    role="applicant", name="孙美玲", id_number=_id(40), phone="13905710101", address="陈公桥社区3幢201"
                ),
                PartyIn(
                    role="respondent", name="钱志刚", id_number=_id(41), phone="13905710102", address="陈公桥社区3幢301"
                ),
            ],
        )
    with clock.frozen(_at(5, 10)):
        d = services.dispute_accept(actor=mediator, dispute=d, mediator=mediator)
    with clock.frozen(_at(4, 15)):
        services.session_record(
            actor=mediator,
            dispute=d,
            held_at=None,
            mode="in_person",
            location="陈公桥社区人民调解室",
            summary="现场查看外机位置，双方协商移机方案",
        )
    with clock.frozen(_at(3, 16)):
        services.dispute_settle(
            actor=mediator,
            dispute=d,
            agreement="一、钱志刚于七日内将空调外机移至北侧外墙并加装冷凝水管；\n二、移机费用由钱志刚承担；\n三、孙美玲对此前损失不再主张赔偿。",
            performance_term="七日内完成移机",
            note="经现场调解，双方达成协议",
        )
    return 1


def _petitions(village_op: User, town_op: User, worker: User) -> int:
    grid = worker.jurisdiction
    if grid is None:
        return 0
    made = 0
    for days_ago, actor, subject, matter, name, phone, idn, people in (
        (20, village_op, "小区违建阳光房长期未拆除", "1101", "黄志明", "13857100001", _id(60), 1),
        (9, town_op, "要求拆除小区违建阳光房", "1101", "黄志明", "13857100099", _id(60), 1),
        (15, village_op, "工地拖欠农民工工资", "1102", "马国庆", "13857100002", "", 6),
        (2, village_op, "菜市场周边油烟扰民", "1105", "吴晓燕", "13857100003", "", 1),
    ):
        with clock.frozen(_at(days_ago, 10)):
            services.petition_register(
                actor=actor,
                channel="visit" if people > 1 or days_ago > 10 else "online",
                matter=matter,
                subject=subject,
                content=f"{subject}，多次反映未果，请求有关部门依法处理并答复。",
                petitioner_name=name,
                phone=phone,
                id_number=idn,
                people_count=people,
                region=grid,
                address=f"{grid.name}",
            )
        made += 1
    return made
