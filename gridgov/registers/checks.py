"""System check: refuse to look production-ready while personal data is sealed with the demo key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def demo_data_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.GRIDGOV_DATA_KEY == settings.GRIDGOV_DEMO_DATA_KEY:
        return [
            Warning(
                "GRIDGOV_DATA_KEY is the demo default: personal data is encrypted with a public key.",
                hint="Set GRIDGOV_DATA_KEY to a long random secret, then run `manage.py rotate_data_key`.",
                id="registers.W001",
            )
        ]
    return []
