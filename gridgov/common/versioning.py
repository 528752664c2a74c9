"""Optimistic versioning shared by every record that is edited through a state machine.

Cases, hazards and disputes carry a `version` that every change bumps. A service locks the row
(`SELECT … FOR UPDATE`), checks the version the user saw with `check_version`, changes fields in
memory and writes them with `save_versioned`, which updates only if nobody bumped the version in
between, so a stale screen gets a 409 instead of silently overwriting someone else's work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from . import clock
from .errors import Conflict


def check_version(locked: Any, expected_version: int | None, *, message: str, rule: str) -> None:
    """Refuse (409) when the caller saw an older version of `locked` than the database holds."""
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(message, rule=rule)


def save_versioned(obj: models.Model, fields: Sequence[str], *, message: str, rule: str) -> None:
    """Write `fields` of `obj` (plus version and updated_at) if its version is still the one read."""
    old: int = obj.version  # type: ignore[attr-defined]
    values: dict[str, Any] = {f: getattr(obj, f) for f in dict.fromkeys(fields)}
    values["version"] = old + 1
    values["updated_at"] = clock.now()
    if type(obj)._default_manager.filter(pk=obj.pk, version=old).update(**values) != 1:
        raise Conflict(message, rule=rule)
    obj.version = old + 1  # type: ignore[attr-defined]
