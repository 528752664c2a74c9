"""The hazard state machine: ONE table, state × action → next state + who may.

    found ──assign (四落实: target, measures, responsible party, deadline)──► rectifying
      │                                                                         │ report (整改完成)
      └──void (不构成隐患)──► voided                                              ▼
                         signed_off ◄──sign_off (复查合格, 销号)── rectified ──send_back──► rectifying
    list (挂牌整治) marks any open hazard for listed supervision without moving it.

Who may is a relation between a user and the hazard (role + jurisdiction + responsibility):
  centre — a centre operator whose jurisdiction covers the hazard (organises, assigns, re-inspects);
  grid — a grid worker or leader of the grid the hazard lies in (reports the rectification done);
  unit — a handler of the department responsible for the rectification;
  supervisor — a centre operator at street or district level covering the hazard (lists it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import HazardState


class HazardParty(StrEnum):
    CENTRE = "centre"
    GRID = "grid"
    UNIT = "unit"
    SUPERVISOR = "supervisor"


PARTY_LABELS: dict[HazardParty, Promise] = {
    HazardParty.CENTRE: _("辖区综治中心坐席"),
    HazardParty.GRID: _("所在网格网格员"),
    HazardParty.UNIT: _("责任部门处置人员"),
    HazardParty.SUPERVISOR: _("镇街或区级综治中心坐席"),
}


@dataclass(frozen=True)
class HazardTransition:
    action: str
    label: Promise
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    parties: tuple[HazardParty, ...]


H = HazardState
_OPEN = frozenset({H.FOUND, H.RECTIFYING, H.RECTIFIED})

HAZARD_TRANSITIONS: dict[str, HazardTransition] = {
    t.action: t
    for t in [
        HazardTransition("assign", _("落实整改"), frozenset({H.FOUND}), H.RECTIFYING, (HazardParty.CENTRE,)),
        HazardTransition(
            "report",
            _("整改完成"),
            frozenset({H.RECTIFYING}),
            H.RECTIFIED,
            (HazardParty.GRID, HazardParty.UNIT, HazardParty.CENTRE),
        ),
        HazardTransition("sign_off", _("复查销号"), frozenset({H.RECTIFIED}), H.SIGNED_OFF, (HazardParty.CENTRE,)),
        HazardTransition("send_back", _("复查退回"), frozenset({H.RECTIFIED}), H.RECTIFYING, (HazardParty.CENTRE,)),
        HazardTransition("void", _("核销"), frozenset({H.FOUND}), H.VOIDED, (HazardParty.CENTRE,)),
        HazardTransition("list", _("挂牌整治"), _OPEN, None, (HazardParty.SUPERVISOR,)),
    ]
}

ACTION_LABELS: dict[str, Promise] = {"raise": _("发现隐患"), **{a: t.label for a, t in HAZARD_TRANSITIONS.items()}}


def hazard_transition(action: str) -> HazardTransition:
    try:
        return HAZARD_TRANSITIONS[action]
    except KeyError:
        raise KeyError(f"unknown hazard action {action!r}") from None
