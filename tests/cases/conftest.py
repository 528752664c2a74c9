from __future__ import annotations

import pytest

from gridgov.cases import routing
from gridgov.common import clock
from tests.cases.factories import MONDAY_10, World, build_world


@pytest.fixture(autouse=True)
def _monday_morning(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    routing.reset_classifier()
    with clock.frozen(MONDAY_10):
        yield


@pytest.fixture
def world(personas) -> World:
    return build_world(personas)
