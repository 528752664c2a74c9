"""Open311 reads: the service list (public leaf categories), service definitions, and requests
shaped for the public. Nothing personal ever leaves: no reporter, no staff names, no internal
notes or results; phone- and ID-number-like digit runs in descriptions are masked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from gridgov.cases.models import FINAL_STATES, Case, CaseCategory, CaseEvent, Source, State
from gridgov.regions.models import Level, Region

from ..conf import conf
from ..models import Open311Request, ServiceAttribute
from .formats import Open311Error, iso

MAX_REQUESTS = 1000
MAX_SPAN = dt.timedelta(days=90)
# Channels whose cases are never public: police incidents.
PRIVATE_SOURCES = (Source.POLICE_110,)

_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{4}(\d{3,4})(?!\d)")


def mask_text(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def private_codes() -> list[str]:
    raw = conf("OPEN311_PRIVATE_CATEGORIES")
    codes = raw.split(",") if isinstance(raw, str) else list(raw)
    return [c.strip() for c in codes if c.strip()]


def _public_category_q(prefix: str = "") -> Q:
    private = private_codes()
    return ~Q(**{f"{prefix}parent__code__in": private}) & ~Q(**{f"{prefix}code__in": private})


def service_categories() -> QuerySet[CaseCategory]:
    """Leaf categories open to Open311 (services map to sub-categories, 小类)."""
    return (
        CaseCategory.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .filter(_public_category_q())
        .select_related("parent")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )


def service_category(code: str) -> CaseCategory:
    cat = service_categories().filter(code=code).first()
    if cat is None:
        raise Open311Error(404, f"service_code {code!r} not found")
    return cat


def attributes_of(category: CaseCategory) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category=category, is_active=True).order_by("order", "code"))


def service_list() -> list[dict[str, Any]]:
    cats = list(service_categories())
    with_attrs = set(
        ServiceAttribute.objects.filter(is_active=True, category__in=cats).values_list("category_id", flat=True)
    )
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.full_name,
            "metadata": c.pk in with_attrs,
            "type": "realtime",
            "keywords": c.keywords,
            "group": c.parent.name if c.parent else "",
        }
        for c in cats
    ]


def attribute_out(a: ServiceAttribute) -> dict[str, Any]:
    out: dict[str, Any] = {
        "variable": a.variable,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "datatype_description": a.datatype_description or None,
        "order": a.order,
        "description": a.description,
    }
    if a.datatype in ("singlevaluelist", "multivaluelist"):
        out["values"] = [{"key": str(v.get("key", "")), "name": str(v.get("name", ""))} for v in a.values or []]
    return out


def service_definition(code: str) -> dict[str, Any]:
    cat = service_category(code)
    return {"service_code": cat.code, "attributes": [attribute_out(a) for a in attributes_of(cat)]}


# --- jurisdiction ----------------------------------------------------------------------------------


def district() -> Region:
    region = Region.objects.filter(code=settings.GRIDGOV["DISTRICT_CODE"], level=Level.DISTRICT).first()
    if region is None:
        raise Open311Error(404, "jurisdiction not found: this installation has no district loaded")
    return region


def resolve_jurisdiction(value: str | None) -> Region:
    """Absent (the endpoint serves one district), the configured jurisdiction_id, or the code of
    the district, a street or a community in it (narrows the answers to that area)."""
    root = district()
    value = (value or "").strip()
    configured = str(conf("OPEN311_JURISDICTION_ID") or "")
    if not value or value == root.code or (configured and value == configured):
        return root
    region = Region.objects.filter(
        code=value, path__startswith=root.path, level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY]
    ).first()
    if region is None:
        raise Open311Error(404, f"jurisdiction_id {value!r} not found")
    return region


# --- requests --------------------------------------------------------------------------------------------


def public_cases(jurisdiction: Region) -> QuerySet[Case]:
    return (
        Case.objects.filter(region_path__startswith=jurisdiction.path)
        .filter(_public_category_q("category__"))
        .exclude(source__in=PRIVATE_SOURCES)
        .select_related("category", "region", "center", "department")
    )


def parse_datetime(value: str, name: str) -> dt.datetime:
    raw = value.strip()
    try:
        if len(raw) == 10:
            parsed = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time())
        else:
            parsed = dt.datetime.fromisoformat(raw.replace(" ", "+") if raw.count(" ") == 1 else raw)
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C date/time (e.g. 2026-11-23T10:00:00+08:00)") from None
    if parsed.tzinfo is None:
        from django.utils import timezone

        parsed = timezone.make_aware(parsed)
    return parsed


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def request_query(jurisdiction: Region, params: dict[str, str | None], *, now: dt.datetime) -> QuerySet[Case]:
    """GET Service Requests: service_request_id overrides every other filter; otherwise a span
    of at most 90 days (default: the most recent 90) and the first 1000, newest first."""
    qs = public_cases(jurisdiction)
    ids = _split(params.get("service_request_id"))
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise Open311Error(400, f"service_request_id lists at most {MAX_REQUESTS} ids")
        return qs.filter(number__in=ids).order_by("-reported_at", "-id")
    start_raw, end_raw = params.get("start_date"), params.get("end_date")
    start = parse_datetime(start_raw, "start_date") if start_raw else None
    end = parse_datetime(end_raw, "end_date") if end_raw else None
    if start and end and start > end:
        raise Open311Error(400, "start_date is after end_date")
    if start and end and end - start > MAX_SPAN:
        raise Open311Error(400, "the date range may not span more than 90 days")
    if start is None and end is None:
        end, start = now, now - MAX_SPAN
    elif start is None:
        assert end is not None
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
    codes = _split(params.get("service_code"))
    if codes:
        qs = qs.filter(category__code__in=codes)
    statuses = _split(params.get("status"))
    if statuses:
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise Open311Error(400, f"status must be open or closed, not {','.join(bad)!r}")
        final = [str(s) for s in FINAL_STATES]
        if statuses == ["open"]:
            qs = qs.exclude(state__in=final)
        elif statuses == ["closed"]:
            qs = qs.filter(state__in=final)
    return qs.order_by("-reported_at", "-id")


def _latest_public_notes(case_ids: Iterable[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    rows = (
        CaseEvent.objects.filter(case_id__in=list(case_ids), is_public=True)
        .exclude(public_note="")
        .order_by("case_id", "at", "id")
        .values_list("case_id", "public_note")
    )
    for case_id, note in rows:
        notes[case_id] = note  # ordered by time: the last one wins
    return notes


def requests_out(cases: Iterable[Case]) -> list[dict[str, Any]]:
    rows = list(cases)
    notes = _latest_public_notes(c.pk for c in rows)
    media = dict(
        Open311Request.objects.filter(case_id__in=[c.pk for c in rows])
        .exclude(media_url="")
        .values_list("case_id", "media_url")
    )
    return [request_out(c, notes.get(c.pk, ""), media.get(c.pk)) for c in rows]


def request_out(case: Case, note: str, media_url: str | None) -> dict[str, Any]:
    closed = case.state in FINAL_STATES
    label = str(State(case.state).label)
    status_notes = f"{label}（{case.state}）" + (f"：{mask_text(note)}" if note else "")
    if case.department_id and case.department:
        agency: str | None = case.department.name
    else:
        agency = f"{case.center.name}综治中心"
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": status_notes,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": mask_text(case.description),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": iso(case.reported_at),
        "updated_datetime": iso(case.closed_at if closed and case.closed_at else case.updated_at),
        "expected_datetime": iso(case.handle_deadline) if not closed else None,
        "address": case.address or case.region.name,
        "address_id": case.region.code,
        "zipcode": None,
        "lat": round(case.lat, 6) if case.lat is not None else None,
        "long": round(case.lng, 6) if case.lng is not None else None,
        "media_url": media_url or None,
    }


def request_one(jurisdiction: Region, number: str) -> dict[str, Any]:
    case = public_cases(jurisdiction).filter(number=number).first()
    if case is None:
        raise Open311Error(404, f"service_request_id {number!r} not found")
    return requests_out([case])[0]


def token_lookup(token: str) -> dict[str, Any]:
    row = Open311Request.objects.select_related("case").filter(token=token).first()
    if row is None:
        raise Open311Error(404, f"token {token!r} not found")
    return {"service_request_id": row.case.number, "token": row.token}
