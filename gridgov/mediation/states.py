"""The dispute state machine: ONE table, state × action → next state + who may.

    registered ──accept (mediator assigned)──► mediating ──settle (agreement)──► settled ──confirm──► confirmed
        │                                        │  ├──fail──► failed ──transfer──► transferred
        ├──transfer (court, arbitration, petition)┤  └──transfer──► transferred
        └──withdraw──► withdrawn ◄───────────────┘
    session (调解记录) and reassign stay in mediating; follow_up (回访) stays in settled/confirmed.

Who may (role + jurisdiction + assignment):
  centre — a mediator or centre operator whose jurisdiction covers the dispute's centre;
  mediator — the mediator assigned to the dispute.
A dispute opened from a case closes that case through the case loop when settled and hands it
back to its centre when it fails, is transferred or withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import DisputeState


class DisputeParty(StrEnum):
    CENTRE = "centre"
    MEDIATOR = "mediator"


PARTY_LABELS: dict[DisputeParty, Promise] = {
    DisputeParty.CENTRE: _("矛调中心调解员或综治中心坐席"),
    DisputeParty.MEDIATOR: _("承办调解员"),
}


@dataclass(frozen=True)
class DisputeTransition:
    action: str
    label: Promise
    sources: frozenset[str]
    target: str | None
    parties: tuple[DisputeParty, ...]


D = DisputeState
C, M = DisputeParty.CENTRE, DisputeParty.MEDIATOR

DISPUTE_TRANSITIONS: dict[str, DisputeTransition] = {
    t.action: t
    for t in [
        DisputeTransition("accept", _("受理并指派调解员"), frozenset({D.REGISTERED}), D.MEDIATING, (C,)),
        DisputeTransition("reassign", _("更换调解员"), frozenset({D.MEDIATING}), None, (C,)),
        DisputeTransition("session", _("登记调解"), frozenset({D.MEDIATING}), None, (M,)),
        DisputeTransition("settle", _("调解成功"), frozenset({D.MEDIATING}), D.SETTLED, (M,)),
        DisputeTransition("confirm", _("司法确认"), frozenset({D.SETTLED}), D.CONFIRMED, (M, C)),
        DisputeTransition("fail", _("调解不成"), frozenset({D.MEDIATING}), D.FAILED, (M,)),
        DisputeTransition(
            "transfer", _("移交"), frozenset({D.REGISTERED, D.MEDIATING, D.FAILED}), D.TRANSFERRED, (M, C)
        ),
        DisputeTransition("withdraw", _("当事人撤回"), frozenset({D.REGISTERED, D.MEDIATING}), D.WITHDRAWN, (M, C)),
        DisputeTransition("follow_up", _("回访"), frozenset({D.SETTLED, D.CONFIRMED}), None, (M, C)),
    ]
}

ACTION_LABELS: dict[str, Promise] = {"register": _("登记"), **{a: t.label for a, t in DISPUTE_TRANSITIONS.items()}}


def dispute_transition(action: str) -> DisputeTransition:
    try:
        return DISPUTE_TRANSITIONS[action]
    except KeyError:
        raise KeyError(f"unknown dispute action {action!r}") from None
