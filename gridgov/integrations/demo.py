"""Demo integrations: an Open311 API key, a 12345 channel and a sensor feed with documented
secrets (README "Open311"), so the adapters can be tried with curl against `make run`.
THE SECRETS ARE PUBLIC — for the demo only."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from gridgov.accounts.models import User
from gridgov.regions.models import Region

from .channels import hotline_channel_create, sensor_feed_create
from .models import ExternalSystem, HotlineChannel, Open311Key, SensorFeed
from .open311.services import hash_key, open311_key_create

DEMO_OPEN311_KEY = "o311_demo_xiaoshan_citizen_app"
DEMO_HOTLINE_SECRET = "whsec_demo_xiaoshan_12345"
DEMO_SENSOR_SECRET = "whsec_demo_xiaoshan_sensors"


def load(log: Callable[[str], None] = print) -> None:
    district = Region.objects.get(code=settings.GRIDGOV["DISTRICT_CODE"])
    admin = User.objects.get(username="admin")
    added = []
    with transaction.atomic():
        if not Open311Key.objects.filter(key_hash=hash_key(DEMO_OPEN311_KEY)).exists():
            open311_key_create(actor=admin, name="演示：第三方随手拍 App", jurisdiction=district, raw=DEMO_OPEN311_KEY)
            added.append("Open311 key")
        if not HotlineChannel.objects.filter(code="xs-12345").exists():
            hotline_channel_create(
                actor=admin,
                code="xs-12345",
                name="萧山区 12345 热线（演示）",
                system=ExternalSystem.HOTLINE_12345,
                jurisdiction=district,
                secret=DEMO_HOTLINE_SECRET,
            )
            added.append("12345 channel")
        if not SensorFeed.objects.filter(code="xs-sensors").exists():
            sensor_feed_create(
                actor=admin,
                code="xs-sensors",
                name="萧山区物联感知平台（演示）",
                jurisdiction=district,
                dedup_minutes=30,
                secret=DEMO_SENSOR_SECRET,
            )
            added.append("sensor feed")
    log(f"integrations: {', '.join(added) or 'nothing'} added")
