"""Helpers shared by the register services: the actor's scope, field-level error collection,
and where a new row lies (a micro-grid chosen by code or found from a coordinate)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gridgov.accounts.scope import Scope
from gridgov.common.errors import DomainError, NotFound, PermissionRefused, ValidationFailed
from gridgov.regions.models import Level, Region
from gridgov.regions.selectors import region_locate

from .. import crypto
from ..idnumber import normalise_phone

if TYPE_CHECKING:
    from gridgov.accounts.models import User


class Errors:
    """Collects field-level messages so one answer lists every problem of a form or a row."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def absorb(self, exc: DomainError, prefix: str = "") -> None:
        for field, messages in exc.errors.items():
            for message in messages:
                self.add(f"{prefix}{field}", message)
        if not exc.errors:
            self.add(prefix.rstrip(".") or "__all__", exc.message)

    def run(self, fn: Callable[[], Any], prefix: str = "") -> Any:
        try:
            return fn()
        except ValidationFailed as exc:
            self.absorb(exc, prefix)
            return None

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_if_any(self, message: str = "填写内容有误") -> None:
        if self.by_field:
            raise ValidationFailed(message, errors=self.by_field)


def scope_of(actor: User) -> Scope:
    return Scope.for_user(actor)


def require(allowed: bool, message: str, rule: str) -> None:
    if not allowed:
        raise PermissionRefused(message, rule=rule)


def require_covers(scope: Scope, path: str, what: str = "该记录") -> None:
    if not scope.covers(path):
        raise PermissionRefused(f"{what}不在您的辖区内", rule="scope.jurisdiction")


def is_leaf(region: Region) -> bool:
    if region.level == Level.MICROGRID:
        return True
    return region.level == Level.GRID and not region.children.exists()


def resolve_leaf(
    scope: Scope, *, region_code: str | None = None, lat: float | None = None, lng: float | None = None
) -> Region:
    """The micro-grid a new row goes into: chosen by code, or located from a coordinate."""
    if region_code:
        region = Region.objects.filter(code=region_code.strip()).first()
        if region is None:
            raise ValidationFailed(f"区域代码 {region_code} 不存在", field="region_code")
        if not is_leaf(region):
            raise ValidationFailed("请选择到微网格（或没有微网格的网格）", field="region_code")
    elif lat is not None and lng is not None:
        try:
            region = region_locate(lat=lat, lng=lng).microgrid
        except NotFound as exc:
            raise ValidationFailed(exc.message, field="location") from exc
    else:
        raise ValidationFailed("请选择所属微网格或提供位置", field="region_code")
    require_covers(scope, region.path, f"{region.name}")
    return region


def clean_text(errors: Errors, field: str, value: Any, label: str, *, max_length: int, required: bool = False) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        errors.add(field, f"请填写{label}")
    elif len(text) > max_length:
        errors.add(field, f"{label}不能超过{max_length}个字")
    return text


def clean_code(errors: Errors, field: str, value: Any, label: str, choices: Any, *, required: bool = False) -> str:
    text = ("" if value is None else str(value)).strip()
    if not text:
        if required:
            errors.add(field, f"请选择{label}")
        return ""
    if text not in _code_values(choices):
        errors.add(field, f"{label}代码 {text!r} 不在代码表中")
    return text


@functools.cache
def _code_values(choices: Any) -> frozenset[str]:
    """A code table's codes, built once (`TextChoices.values` makes a new list per access)."""
    return frozenset(str(v) for v in choices.values)


def clean_phone(errors: Errors, field: str, value: Any) -> str:
    return errors.run(lambda: normalise_phone(value, field=field)) or ""


def not_future(errors: Errors, field: str, value: dt.date | None, label: str, today: dt.date) -> None:
    if value is not None and value > today:
        errors.add(field, f"{label}不能晚于今天")


def seal(obj: Any) -> Any:
    """Fill the keyed-hash and masked columns of every sealed field from its plaintext."""
    from gridgov.common.masking import mask_id_number, mask_phone

    for field in obj._meta.concrete_fields:
        if isinstance(field, crypto.EncryptedTextField) and field.hash_field:
            value = getattr(obj, field.attname) or ""
            setattr(obj, field.hash_field, crypto.lookup_hash(value, kind=field.hash_kind))
            masked_attr = field.hash_field.replace("_hash", "_masked")
            if hasattr(obj, masked_attr):
                setattr(obj, masked_attr, mask_id_number(value) if field.hash_kind == "id" else mask_phone(value))
    return obj
