from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from gridgov.cases import routing
from gridgov.common import clock
from gridgov.integrations import transport
from gridgov.integrations.hotline_12345.clients import InMemoryHotlineClient
from tests.cases.factories import MONDAY_10
from tests.factories import Personas


@pytest.fixture(autouse=True)
def _monday_morning(tmp_path, settings) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GRIDGOV = {
        **settings.GRIDGOV,
        "HOTLINE_CLIENT": "gridgov.integrations.hotline_12345.clients.InMemoryHotlineClient",
        "OUTBOX_BACKOFF_SECONDS": 30,
        "OUTBOX_MAX_ATTEMPTS": 4,
    }
    routing.reset_classifier()
    InMemoryHotlineClient.reset()
    previous = transport.transport()
    with clock.frozen(MONDAY_10):
        yield
    transport.set_transport(previous)


@pytest.fixture
def p(personas: Personas) -> Personas:
    return personas


def later(minutes: float) -> dt.datetime:
    return MONDAY_10 + dt.timedelta(minutes=minutes)
