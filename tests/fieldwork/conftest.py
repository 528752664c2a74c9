from __future__ import annotations

import pytest

from gridgov.common import clock
from tests.cases.factories import MONDAY_10


@pytest.fixture(autouse=True)
def _monday_morning(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(MONDAY_10):
        yield
