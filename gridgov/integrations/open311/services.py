"""Open311 writes: API keys (admin-managed, hashed, scoped to a jurisdiction) and POST Service
Request, which becomes a case through cases.services.case_report."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, QueryDict

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, Source
from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import DomainError, NotFound, PermissionRefused, ValidationFailed
from gridgov.regions.models import Level, Region
from gridgov.regions.selectors import region_locate

from ..models import Datatype, Open311Key, Open311Request, ResponseMode, ServiceAttribute
from . import selectors
from .formats import Open311Error

KEY_PREFIX = "o311_"
DESCRIPTION_MAX = 4000
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|&[a-zA-Z]+;|&#\d+;")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- keys ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    key: Open311Key
    raw: str


def _check_admin(actor: User, region: Region) -> None:
    if not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionRefused("只有系统管理员可以管理对外接口", rule="integrations.admin")
    if not Scope.for_user(actor).covers(region.path):
        raise PermissionRefused("所选辖区不在您的管辖范围内", rule="integrations.jurisdiction")


@transaction.atomic
def open311_key_create(
    *,
    actor: User,
    name: str,
    jurisdiction: Region,
    source: str = Source.CITIZEN,
    acting_user: User | None = None,
    response_mode: str = ResponseMode.ID,
    raw: str | None = None,
    request: HttpRequest | None = None,
) -> IssuedKey:
    """A new key; `raw` only for the demo loader (a documented key), otherwise random."""
    _check_admin(actor, jurisdiction)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["请填写调用方名称"]
    elif len(name) > 100:
        errors["name"] = ["名称不能超过 100 字"]
    if jurisdiction.level not in (Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        errors["jurisdiction"] = ["辖区应为区、街道/镇或社区/村"]
    if source not in Source.values:
        errors["source"] = [f"未知来源 {source!r}"]
    elif acting_user is None and source not in case_services.ANONYMOUS_SOURCES:
        errors["source"] = [f"「{Source(source).label}」渠道须指定代表账号（如部门账号）"]
    elif acting_user is not None:
        if not acting_user.is_active:
            errors["acting_user"] = ["代表账号已停用"]
        elif not Scope.for_user(actor).covers(Scope.for_user(acting_user).path):
            errors["acting_user"] = ["代表账号不在您的管辖范围内"]
        elif source not in case_services.ROLE_SOURCES.get(acting_user.role, set()):
            errors["acting_user"] = [f"{acting_user.get_role_display()}不能以「{Source(source).label}」渠道上报"]
    if response_mode not in ResponseMode.values:
        errors["response_mode"] = ["未知的应答方式"]
    if errors:
        raise ValidationFailed("API 密钥信息有误", errors=errors)
    raw = raw or KEY_PREFIX + secrets.token_urlsafe(24)
    if Open311Key.objects.filter(key_hash=hash_key(raw)).exists():
        raise ValidationFailed("该密钥已存在", field="name")
    key = Open311Key.objects.create(
        name=name,
        prefix=raw[:10],
        key_hash=hash_key(raw),
        jurisdiction=jurisdiction,
        source=source,
        acting_user=acting_user,
        response_mode=response_mode,
        created_at=clock.now(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="integrations.open311_key_created",
        target=key,
        detail={"prefix": key.prefix, "source": source, "jurisdiction": jurisdiction.code},
        request=request,
        region_path=jurisdiction.path,
    )
    return IssuedKey(key=key, raw=raw)


@transaction.atomic
def open311_key_revoke(*, actor: User, key: Open311Key, request: HttpRequest | None = None) -> Open311Key:
    key = Open311Key.objects.select_for_update().select_related("jurisdiction").get(pk=key.pk)
    _check_admin(actor, key.jurisdiction)
    if key.revoked_at is not None:
        raise ValidationFailed("该密钥已吊销", rule="integrations.key_revoked")
    key.revoked_at = clock.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="integrations.open311_key_revoked",
        target=key,
        detail={"prefix": key.prefix},
        request=request,
        region_path=key.jurisdiction.path,
    )
    return key


def open311_key_authenticate(raw: str | None) -> Open311Key:
    if not raw or len(raw) > 200:
        raise Open311Error(403, "api_key is required to create a service request")
    key = (
        Open311Key.objects.select_related("jurisdiction", "acting_user")
        .filter(key_hash=hash_key(raw.strip()), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")
    if key.acting_user is not None and not key.acting_user.is_active:
        raise Open311Error(403, "the account behind this api_key is disabled")
    return key


# --- POST Service Request ---------------------------------------------------------------------------


def _field(data: QueryDict, name: str, limit: int) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} is longer than {limit} characters")
    return value


def _number(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number (WGS84)") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Open311Error(400, f"{name} must be a finite number")
    return number


def parse_attributes(data: QueryDict, definitions: list[ServiceAttribute]) -> dict[str, Any]:
    """attribute[code]=v, or attribute[code][]=v1&attribute[code][]=v2 for multi-value lists."""
    given: dict[str, list[str]] = {}
    for name in data:
        m = _ATTRIBUTE.match(name)
        if m:
            values = [v.strip() for v in data.getlist(name) if v.strip()]
            given.setdefault(m.group(1), []).extend(values)
    by_code = {a.code: a for a in definitions}
    errors: list[tuple[int, str]] = []
    out: dict[str, Any] = {}
    for code in given:
        if code not in by_code:
            errors.append((400, f"attribute {code!r} is not defined for this service"))
    for a in definitions:
        values = given.get(a.code, [])
        if not a.variable:
            continue
        if not values:
            if a.required:
                errors.append((400, f"attribute[{a.code}] is required: {a.description}"))
            continue
        if a.datatype != Datatype.MULTIVALUELIST and len(values) > 1:
            errors.append((400, f"attribute[{a.code}] takes one value"))
            continue
        keys = a.value_keys()
        if a.datatype in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST):
            bad = [v for v in values if v not in keys]
            if bad:
                errors.append((400, f"attribute[{a.code}] must be one of {', '.join(keys)}"))
                continue
            out[a.code] = values if a.datatype == Datatype.MULTIVALUELIST else values[0]
        elif a.datatype == Datatype.NUMBER:
            try:
                float(values[0])
            except ValueError:
                errors.append((400, f"attribute[{a.code}] must be a number"))
                continue
            out[a.code] = values[0]
        elif a.datatype == Datatype.DATETIME:
            try:
                selectors.parse_datetime(values[0], f"attribute[{a.code}]")
            except Open311Error as exc:
                errors.extend(exc.errors)
                continue
            out[a.code] = values[0]
        else:
            limit = 2000 if a.datatype == Datatype.TEXT else 200
            if len(values[0]) > limit or _HTML.search(values[0]):
                errors.append((400, f"attribute[{a.code}] must be plain text of at most {limit} characters"))
                continue
            out[a.code] = values[0]
    if errors:
        raise Open311Error(errors[0][0], errors[0][1], *errors[1:])
    return out


def _attribute_lines(definitions: list[ServiceAttribute], values: dict[str, Any]) -> list[str]:
    lines = []
    for a in definitions:
        if a.code not in values:
            continue
        value = values[a.code]
        names = {str(v.get("key")): str(v.get("name")) for v in a.values or [] if isinstance(v, dict)}
        items = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        shown = "、".join(names.get(v, v) for v in items)
        lines.append(f"【{a.description}】{shown}")
    return lines


def _locate(data: QueryDict, key: Open311Key) -> tuple[float | None, float | None, Region | None, str]:
    """One of lat+long, address_id (a grid or micro-grid code), or an address_string naming one."""
    lat_raw, lng_raw = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    address = _field(data, "address_string", 200)
    address_id = _field(data, "address_id", 40)
    if lat_raw or lng_raw:
        if not (lat_raw and lng_raw):
            raise Open311Error(400, "lat and long must both be sent")
        lat, lng = _number(lat_raw, "lat"), _number(lng_raw, "long")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise Open311Error(400, "lat/long are out of range")
        try:
            place = region_locate(lat=lat, lng=lng).microgrid
        except NotFound:
            raise Open311Error(400, "the location (lat/long) is not inside any grid of this jurisdiction") from None
        return lat, lng, place, address
    if address_id:
        region = Region.objects.filter(code=address_id, level__in=[Level.GRID, Level.MICROGRID]).first()
        if region is None:
            raise Open311Error(400, f"address_id {address_id!r} is not a known grid or micro-grid code")
        return None, None, region, address or region.name
    if address:
        # No geocoder on an intranet: an address is usable when it names a grid or micro-grid.
        candidates = Region.objects.filter(
            level__in=[Level.GRID, Level.MICROGRID], path__startswith=key.jurisdiction.path
        ).only("code", "name", "depth", "path", "level")
        found = next((r for r in candidates.order_by("-depth", "code") if r.name and r.name in address), None)
        if found is None:
            raise Open311Error(
                400, "address_string could not be located: send lat and long, or an address_id (grid code)"
            )
        return None, None, found, address
    raise Open311Error(400, "a location is required: lat and long, address_string or address_id")


def _reporter_name(first: str, last: str) -> str:
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"  # Chinese order: family name first, no space
    return " ".join(p for p in (first, last) if p)


def _phone(raw: str) -> str:
    phone = re.sub(r"[\s()]", "", raw)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if phone and not (phone.replace("-", "").isdigit() and 7 <= len(phone) <= 20):
        raise Open311Error(400, "phone is not a valid telephone number")
    return phone


def _domain_to_open311(exc: DomainError) -> Open311Error:
    messages = [f"{field}: {msg}" if field != "__all__" else msg for field, msgs in exc.errors.items() for msg in msgs]
    if not messages:
        messages = [exc.message]
    status = 403 if exc.status == 403 else 400
    return Open311Error(status, messages[0], *[(status, m) for m in messages[1:]])


def open311_request_create(*, data: QueryDict, api_key: str | None, jurisdiction_id: str | None) -> Open311Request:
    """POST Service Request. Checks in the spec's order of answers: the key (403), the
    jurisdiction (404), the service (404), then the request itself (400); nothing is written
    unless everything passes."""
    key = open311_key_authenticate(api_key)
    jurisdiction = selectors.resolve_jurisdiction(jurisdiction_id)
    if not jurisdiction.path.startswith(key.jurisdiction.path) and not key.jurisdiction.path.startswith(
        jurisdiction.path
    ):
        raise Open311Error(403, "this api_key is not valid for the given jurisdiction_id")
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    category = selectors.service_category(code)
    definitions = selectors.attributes_of(category)
    lat, lng, place, address = _locate(data, key)
    assert place is not None
    if not place.path.startswith(key.jurisdiction.path):
        raise Open311Error(403, "the location is outside the jurisdiction of this api_key")
    if not place.path.startswith(jurisdiction.path):
        raise Open311Error(400, "the location is outside the given jurisdiction_id")
    attributes = parse_attributes(data, definitions)
    description = (data.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description is limited to {DESCRIPTION_MAX} characters")
    if _HTML.search(description):
        raise Open311Error(400, "description must be plain text: HTML is not allowed")
    media_url = _field(data, "media_url", 500)
    if media_url and not re.match(r"^https?://[^\s<>\"']+$", media_url):
        raise Open311Error(400, "media_url must be an http(s) URL")
    email = _field(data, "email", 254)
    if email and not _EMAIL.match(email):
        raise Open311Error(400, "email is not a valid address")
    first, last = _field(data, "first_name", 50), _field(data, "last_name", 50)
    phone = _phone(_field(data, "phone", 30))
    device_id, account_id = _field(data, "device_id", 100), _field(data, "account_id", 100)

    # The spec makes description optional; a case needs a few words, so a short one is prefixed.
    if len(description) < case_services.DESCRIPTION_MIN:
        description = f"（Open311 上报：{category.full_name}）{description}"
    lines = [description, *_attribute_lines(definitions, attributes)]
    if media_url:
        lines.append(f"【图片链接】{media_url}")
    text = "\n".join(lines)
    if len(text) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description with attributes exceeds {DESCRIPTION_MAX} characters")
    now = clock.now()
    try:
        with transaction.atomic():
            case: Case = case_services.case_report(
                actor=key.acting_user,
                category=category,
                description=text,
                source=key.source,
                lat=lat,
                lng=lng,
                region=None if lat is not None else place,
                address=address,
                reporter_name=_reporter_name(first, last)[:50],
                reporter_phone=phone,
                now=now,
            )
            submission = Open311Request.objects.create(
                case=case,
                key=key,
                token=secrets.token_urlsafe(18),
                attributes=attributes,
                media_url=media_url,
                email=email,
                first_name=first,
                last_name=last,
                device_id=device_id,
                account_id=account_id,
                created_at=now,
            )
            Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
    except DomainError as exc:
        raise _domain_to_open311(exc) from exc
    return submission


def submission_out(submission: Open311Request, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The POST answer: service_request_id or token (never both), a notice, account_id."""
    case = submission.case
    out: dict[str, Any] = {}
    if submission.key.response_mode == ResponseMode.TOKEN:
        out["token"] = submission.token
    else:
        out["service_request_id"] = case.number
    out["service_notice"] = f"已转{case.center.name}综治中心受理"
    out["account_id"] = submission.account_id or None
    return out
