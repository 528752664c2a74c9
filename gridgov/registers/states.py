"""The person lifecycle (入住、迁出、注销、归档) as one transition table: state × action → next
state. Who may act is in `permissions` (archiving needs a grid leader or centre operator)."""

from __future__ import annotations

from gridgov.common.errors import Conflict

from .codes import PersonStatus as S

TRANSITIONS: dict[tuple[str, str], str] = {
    (S.ACTIVE, "move_out"): S.MOVED_OUT,
    (S.ACTIVE, "cancel"): S.CANCELLED,
    (S.MOVED_OUT, "move_in"): S.ACTIVE,
    (S.MOVED_OUT, "cancel"): S.CANCELLED,
    (S.MOVED_OUT, "archive"): S.ARCHIVED,
    (S.CANCELLED, "archive"): S.ARCHIVED,
}

ACTION_LABELS = {"move_out": "迁出", "move_in": "迁入", "cancel": "注销", "archive": "归档"}


def next_status(current: str, action: str) -> str:
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise Conflict(
            f"当前状态为“{S(current).label}”，不能办理{ACTION_LABELS.get(action, action)}",
            field="status",
            rule="registers.person_transition",
        ) from None


def allowed_actions(current: str) -> list[str]:
    return [action for (state, action) in TRANSITIONS if state == current]
