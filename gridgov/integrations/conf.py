"""Settings of the integration adapters, read from settings.GRIDGOV with these defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Open311: what `jurisdiction_id` names this installation (besides its region codes), and the
    # contact and key service named by discovery.
    "OPEN311_JURISDICTION_ID": "",
    "OPEN311_CONTACT": "",
    "OPEN311_KEY_SERVICE": "",
    # Main category codes never published through Open311: disputes between private persons,
    # public-security clues, special-group alerts and individual welfare requests.
    "OPEN311_PRIVATE_CATEGORIES": ["01", "04", "09", "10"],
    # Inbound webhooks (12345, 110, sensors): accepted clock skew of the signed timestamp.
    "WEBHOOK_TIMESTAMP_TOLERANCE": 300,
    "WEBHOOK_MAX_BODY_BYTES": 256 * 1024,
    # Outbound deliveries (webhooks, 12345 push-back): attempts, back-off and timeout.
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BACKOFF_SECONDS": 30,
    "OUTBOX_BACKOFF_MAX_SECONDS": 6 * 3600,
    "OUTBOX_TIMEOUT_SECONDS": 5,
    # The client that pushes status and replies back to 12345/110 (dotted path).
    "HOTLINE_CLIENT": "gridgov.integrations.hotline_12345.clients.HttpHotlineClient",
    # Repeat sensor alerts from the same device within this many minutes join the open case.
    "SENSOR_DEDUP_MINUTES": 30,
}


def conf(name: str) -> Any:
    return settings.GRIDGOV.get(name, DEFAULTS[name])
