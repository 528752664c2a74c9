"""The case state machine: ONE explicit table, state × action → next state + who may.

Services look up the row for the action, refuse it if the case is not in one of the row's source
states (409, rule "cases.state") or the actor is none of the row's parties (403, rule naming the
party), and otherwise move the case to the row's target. A few rows have a conditional outcome
(`alternatives`): which one applies is decided by the service from the action's input and is
spelled out in `note`.

    reported ──accept──► accepted ──dispatch──► dispatched ──sign──► handling ──handle──► handled
       │  ▲                 ▲  │ (to a lower centre: stays accepted there)    │  ▲          │
       │  └──escalate───────┘  └──────────return◄──────────────────────────────┘  └─rework──┤
       ├─reject─► rejected                                                                  verify
       └─merge──► merged                                          closed ◄──close── verified ◄┘
    (grid worker) settle ► settle_pending ──approve_settle──► closed ──rate(dissatisfied)──► handling
                               └──refuse_settle──► reported        (second time) ──► supervising
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.accounts.models import Role

from .models import OPEN_STATES, State


class Party(StrEnum):
    """Who may act, as a relation between a user and the case (role + jurisdiction + assignment)."""

    # A centre operator seated at exactly the centre now holding the case.
    CENTER = "center"
    # A centre operator at the holding centre or any centre above it.
    SUPERIOR_CENTER = "superior_center"
    # A handler of the case's lead department.
    LEAD_HANDLER = "lead_handler"
    # A handler of any department actively assigned (lead or co-handling).
    UNIT_MEMBER = "unit_member"
    # The grid leader of the grid the case lies in.
    GRID_LEADER = "grid_leader"
    # A grid worker or leader of the grid the case lies in.
    GRID_TEAM = "grid_team"
    # The person who reported it (staff by account; citizens by tracking code).
    REPORTER = "reporter"
    # A mediator whose jurisdiction covers the case (gridgov.mediation acts through it).
    MEDIATOR = "mediator"


PARTY_ROLES: dict[Party, frozenset[str]] = {
    Party.CENTER: frozenset({Role.CENTER_OPERATOR}),
    Party.SUPERIOR_CENTER: frozenset({Role.CENTER_OPERATOR}),
    Party.LEAD_HANDLER: frozenset({Role.DEPARTMENT_HANDLER}),
    Party.UNIT_MEMBER: frozenset({Role.DEPARTMENT_HANDLER}),
    Party.GRID_LEADER: frozenset({Role.GRID_LEADER}),
    Party.GRID_TEAM: frozenset({Role.GRID_LEADER, Role.GRID_WORKER}),
    Party.REPORTER: frozenset(
        {
            Role.GRID_WORKER,
            Role.MICROGRID_WORKER,
            Role.GRID_LEADER,
            Role.DEPARTMENT_LIAISON,
            Role.CENTER_OPERATOR,
            Role.DEPARTMENT_HANDLER,
        }
    ),
    Party.MEDIATOR: frozenset({Role.MEDIATOR}),
}

PARTY_LABELS: dict[Party, Promise] = {
    Party.CENTER: _("承办中心坐席"),
    Party.SUPERIOR_CENTER: _("承办中心或上级中心坐席"),
    Party.LEAD_HANDLER: _("主办单位处置人员"),
    Party.UNIT_MEMBER: _("承办单位处置人员"),
    Party.GRID_LEADER: _("所在网格网格长"),
    Party.GRID_TEAM: _("所在网格网格员"),
    Party.REPORTER: _("上报人"),
    Party.MEDIATOR: _("辖区调解员"),
}

# Staff roles that may put a case in (leaders and mediators read; admins configure).
REPORTING_ROLES: frozenset[str] = PARTY_ROLES[Party.REPORTER]

ALL_OPEN = frozenset(OPEN_STATES)
ALL_STATES = frozenset(State.values)


@dataclass(frozen=True)
class Transition:
    action: str
    label: Promise
    sources: frozenset[str]
    target: str | None  # None: the case stays in its state (a sub-step such as an extension)
    parties: tuple[Party, ...]
    alternatives: tuple[str, ...] = ()
    note: str = ""
    public: bool = True  # shown on the citizen's public timeline

    def allows_state(self, state: str) -> bool:
        return state in self.sources

    def targets(self) -> tuple[str, ...]:
        return ((self.target,) if self.target else ()) + self.alternatives


def _t(
    action: str,
    label: Promise,
    sources: set[str] | frozenset[str],
    target: str | None,
    *parties: Party,
    alternatives: tuple[str, ...] = (),
    note: str = "",
    public: bool = True,
) -> Transition:
    return Transition(action, label, frozenset(sources), target, parties, alternatives, note, public)


S = State
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", _("受理"), {S.REPORTED}, S.ACCEPTED, Party.CENTER),
        _t(
            "reject",
            pgettext_lazy("case action", "不予受理"),
            {S.REPORTED},
            S.REJECTED,
            Party.CENTER,
            note="reason required",
        ),
        _t("merge", _("合并"), {S.REPORTED, S.ACCEPTED}, S.MERGED, Party.CENTER, note="into an earlier open case"),
        _t("escalate", _("上报上级"), {S.REPORTED, S.ACCEPTED}, S.REPORTED, Party.CENTER, note="centre → parent"),
        _t(
            "dispatch",
            _("派遣"),
            {S.ACCEPTED, S.SUPERVISING},
            S.DISPATCHED,
            Party.CENTER,
            alternatives=(S.ACCEPTED,),
            note="to a department → dispatched; to a lower centre → accepted there",
        ),
        _t("sign", _("签收"), {S.DISPATCHED}, S.HANDLING, Party.LEAD_HANDLER),
        _t("return", _("回退"), {S.DISPATCHED, S.HANDLING}, S.ACCEPTED, Party.LEAD_HANDLER, note="grounds required"),
        _t("request_extension", _("申请延期"), {S.HANDLING}, None, Party.LEAD_HANDLER, public=False),
        _t("approve_extension", _("批准延期"), {S.HANDLING}, None, Party.CENTER),
        _t("refuse_extension", _("驳回延期"), {S.HANDLING}, None, Party.CENTER, public=False),
        _t("handle", _("处置反馈"), {S.HANDLING}, S.HANDLED, Party.LEAD_HANDLER, note="result required"),
        _t("verify", _("核查通过"), {S.HANDLED}, S.VERIFIED, Party.CENTER),
        _t("rework", _("核查返工"), {S.HANDLED}, S.HANDLING, Party.CENTER, note="reason required"),
        _t("close", _("结案"), {S.VERIFIED, S.SUPERVISING}, S.CLOSED, Party.CENTER, Party.SUPERIOR_CENTER),
        _t(
            "rate",
            _("评价"),
            {S.CLOSED},
            S.CLOSED,
            Party.REPORTER,
            Party.CENTER,
            alternatives=(S.HANDLING, S.SUPERVISING),
            note="dissatisfied reopens for rework once (→ handling), then goes to supervision",
        ),
        _t(
            "supervise",
            pgettext_lazy("case action", "督办"),
            ALL_OPEN - {S.SETTLE_PENDING},
            None,
            Party.SUPERIOR_CENTER,
        ),
        _t("approve_settle", _("同意就地化解"), {S.SETTLE_PENDING}, S.CLOSED, Party.GRID_LEADER),
        _t("refuse_settle", _("不同意就地化解"), {S.SETTLE_PENDING}, S.REPORTED, Party.GRID_LEADER),
        # Driven by gridgov.mediation (a dispute opened from the case is its handling step); not
        # offered on the case screen.
        _t(
            "refer_mediation",
            _("转人民调解"),
            {S.REPORTED, S.ACCEPTED},
            S.HANDLING,
            Party.CENTER,
            note="mediation is the handling step, on the category's handle limit",
        ),
        _t("mediation_close", _("调解结案"), {S.HANDLING}, S.CLOSED, Party.MEDIATOR, note="the dispute was settled"),
        _t(
            "mediation_return",
            _("调解终结退回"),
            {S.HANDLING},
            S.ACCEPTED,
            Party.MEDIATOR,
            Party.SUPERIOR_CENTER,
            note="the dispute failed, was transferred or withdrawn: back to the centre",
        ),
        _t(
            "note",
            _("备注"),
            ALL_STATES,
            None,
            Party.SUPERIOR_CENTER,
            Party.UNIT_MEMBER,
            Party.GRID_TEAM,
            public=False,
        ),
    ]
}

# Actions another app performs through its own screens (never a button on the case page).
MEDIATION_ACTIONS = frozenset({"refer_mediation", "mediation_close", "mediation_return"})

# How a case comes into being (not a transition of an existing case).
REPORT_TARGETS = (S.REPORTED, S.SETTLE_PENDING)

ACTION_LABELS: dict[str, Promise] = {
    "report": _("上报"),
    "settle": _("就地化解上报"),
    "auto_dispatch": _("自动派遣"),
    "link_subject": _("关联对象"),
    "unlink_subject": _("解除关联对象"),
    **{a: t.label for a, t in TRANSITIONS.items()},
}


def transition(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise KeyError(f"unknown case action {action!r}") from None


def actions_from(state: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if t.allows_state(state)]
