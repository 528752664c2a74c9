"""Shapes of a case for the API and the screens: the staff view, and the public view that a
citizen sees with a tracking code (unit names only, no staff names, no internal notes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from gridgov.accounts.models import Role, User
from gridgov.common import clock
from gridgov.common.masking import mask_name, mask_phone
from gridgov.regions.models import Region

from . import selectors, sla
from .models import Case, CaseEvent, State
from .services import allowed_actions
from .states import ACTION_LABELS


def region_outline(region: Region | None) -> dict[str, Any] | None:
    """A region's boundary as a GeoJSON Feature for the report maps (people orient themselves and
    click inside it); a region without a polygon falls back to its nearest ancestor that has one."""
    node = region
    while node is not None and not node.polygon:
        node = node.parent
    if node is None:
        return None
    geometry = node.polygon
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    return {"type": "Feature", "geometry": geometry, "properties": {"name": node.name, "code": node.code}}


def colour_of(case: Case, now: dt.datetime | None = None) -> str:
    return sla.colour(case.deadline, case.warn_at, now) if case.is_open else ""


def row(case: Case, now: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "number": case.number,
        "state": case.state,
        "state_label": str(State(case.state).label),
        "category_code": case.category.code,
        "category_name": case.category.full_name,
        "urgency": case.urgency,
        "source": case.source,
        "description": case.description[:200],
        "address": case.address,
        "region_code": case.region.code,
        "region_name": case.region.name,
        "center_name": case.center.name,
        "department": case.department.name if case.department_id and case.department else None,
        "reported_at": case.reported_at,
        "deadline": case.deadline,
        "colour": colour_of(case, now),
        "supervised": case.supervised,
    }


def may_see_tracking_code(viewer: User, case: Case) -> bool:
    return viewer.role == Role.CENTER_OPERATOR or case.reporter_id == viewer.pk


def event_out(e: CaseEvent) -> dict[str, Any]:
    return {
        "at": e.at,
        "action": e.action,
        "action_label": str(ACTION_LABELS.get(e.action, e.action)),
        "from_state": e.from_state,
        "to_state": e.to_state,
        "actor": e.actor_label,
        "unit": e.unit_label,
        "note": e.note,
        "public_note": e.public_note,
        "is_public": e.is_public,
        "detail": e.detail,
    }


def detail(case: Case, viewer: User) -> dict[str, Any]:
    out = row(case)
    out.update(
        {
            "version": case.version,
            "lat": case.lat,
            "lng": case.lng,
            "region_path": case.region_path,
            "center_code": case.center.code,
            "tracking_code": case.tracking_code if may_see_tracking_code(viewer, case) else None,
            "reporter": case.reporter.label if case.reporter_id and case.reporter else mask_name(case.reporter_name),
            "reporter_phone": mask_phone(case.reporter_phone),
            "sign_deadline": case.sign_deadline,
            "handle_deadline": case.handle_deadline,
            "accepted_at": case.accepted_at,
            "dispatched_at": case.dispatched_at,
            "signed_at": case.signed_at,
            "handled_at": case.handled_at,
            "closed_at": case.closed_at,
            "handler": case.handler.label if case.handler_id and case.handler else None,
            "result": case.result,
            "public_reply": case.public_reply,
            "settled_on_spot": case.settled_on_spot,
            "extension_pending": case.extension_pending,
            "extension_days": case.extension_days,
            "extension_reason": case.extension_reason,
            "rework_count": case.rework_count,
            "reopen_count": case.reopen_count,
            "satisfaction": case.satisfaction,
            "rating_comment": case.rating_comment,
            "supervision_listed": case.supervision_listed,
            "supervision_owner": case.supervision_owner,
            "supervision_deadline": case.supervision_deadline,
            "supervision_note": case.supervision_note,
            "merged_into": case.merged_into.number if case.merged_into_id and case.merged_into else None,
            "assignments": [
                {
                    "department": a.department.name,
                    "department_code": a.department.code,
                    "role": a.role,
                    "active": a.active,
                }
                for a in case.assignments.select_related("department").order_by("-active", "role", "id")
            ],
            "photos": [
                {
                    "id": p.pk,
                    "kind": p.kind,
                    "url": reverse("cases:photo", args=[case.number, p.pk]),
                    "width": p.width,
                    "height": p.height,
                }
                for p in case.photos.all()
            ],
            "timeline": [event_out(e) for e in selectors.case_timeline(case=case)],
            "allowed_actions": allowed_actions(viewer, case),
        }
    )
    return out


def public(case: Case) -> dict[str, Any]:
    """What the reporter sees by tracking code."""
    now = clock.now()
    return {
        "number": case.number,
        "state": case.state,
        "state_label": str(State(case.state).label),
        "category_name": case.category.full_name,
        "description": case.description,
        "address": case.address,
        "reported_at": case.reported_at,
        "department": case.department.name if case.department_id and case.department else None,
        "handle_deadline": case.handle_deadline if case.is_open else None,
        "colour": colour_of(case, now),
        "public_reply": case.public_reply,
        "satisfaction": case.satisfaction,
        "can_rate": case.state == State.CLOSED and case.satisfaction is None,
        "merged_into": case.merged_into.number if case.merged_into_id and case.merged_into else None,
        "timeline": [
            {
                "at": e.at,
                "action_label": str(ACTION_LABELS.get(e.action, e.action)),
                "unit": e.unit_label,
                "text": e.public_note,
            }
            for e in selectors.case_timeline(case=case, public=True)
        ],
    }
