"""Mediation data for tests: centres at three levels, disputes walked through the real services."""

from __future__ import annotations

from gridgov.mediation import services
from gridgov.mediation.models import Dispute, DisputeState, MediationCentre
from gridgov.mediation.services import PartyIn
from tests.factories import Personas
from tests.registers.factories import id_number

PARTIES = [
    PartyIn(role="applicant", name="张三丰", id_number="", phone="13812345678", address="人民路1号"),
    PartyIn(role="respondent", name="李四", phone="13987654321"),
]


def make_centres(p: Personas) -> dict[str, MediationCentre]:
    out = {}
    for key, region in (("district", p.tree.district), ("town", p.tree.towns[0]), ("village", p.tree.communities[0])):
        out[key] = services.centre_create(actor=p.admin, region=region)
    return out


def register(p: Personas, *, actor=None, kind: str = "0201", **kw) -> Dispute:
    kw.setdefault(
        "parties", [PartyIn(role="applicant", name="张三丰", id_number=id_number(), phone="13812345678"), PARTIES[1]]
    )
    return services.dispute_register(
        actor=actor or p.town_operator,
        title=kw.pop("title", "楼上漏水纠纷"),
        kind=kind,
        description=kw.pop("description", "楼上卫生间漏水导致楼下天花板受损，双方就赔偿协商未果"),
        region=kw.pop("region", p.tree.microgrids[0]),
        **kw,
    )


def dispute_in(p: Personas, state: str, **kw) -> Dispute:
    d = register(p, **kw)
    if state == DisputeState.REGISTERED:
        return d
    if state == DisputeState.WITHDRAWN:
        return services.dispute_withdraw(actor=p.town_operator, dispute=d, reason="当事人自行和解")
    d = services.dispute_accept(actor=p.mediator, dispute=d, mediator=p.mediator)
    if state == DisputeState.MEDIATING:
        return d
    if state in (DisputeState.FAILED, DisputeState.TRANSFERRED):
        d = services.dispute_fail(actor=p.mediator, dispute=d, reason="双方分歧过大")
        if state == DisputeState.TRANSFERRED:
            d = services.dispute_transfer(actor=p.mediator, dispute=d, to="court", reason="引导当事人诉讼")
        return d
    d = services.dispute_settle(
        actor=p.mediator,
        dispute=d,
        agreement="李四赔偿张三丰维修费人民币三千元整。",
        performance_term="2026年12月1日前一次性付清",
    )
    if state == DisputeState.CONFIRMED:
        import datetime as dt

        d = services.dispute_confirm(
            actor=p.mediator,
            dispute=d,
            court="萧山区人民法院",
            reference="（2026）浙0109民特123号",
            confirmed_on=dt.date(2026, 11, 23),
        )
    return d
