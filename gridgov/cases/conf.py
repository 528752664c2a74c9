"""Typed access to the case settings in settings.GRIDGOV (see config/settings.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def conf(name: str) -> Any:
    return settings.GRIDGOV[name]
