from __future__ import annotations

import pytest
from django.test import Client

from gridgov.accounts.models import User
from gridgov.regions import spatial
from tests.factories import Personas, Tree, build_personas, build_tree

# Totals of generated requests (access probes, fuzzed calls) in the terminal summary.
from tests.probe_stats import pytest_sessionfinish, pytest_terminal_summary, pytest_testnodedown  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_spatial_index() -> None:
    spatial.reset_cache()


@pytest.fixture(autouse=True)
def _two_factor_not_required(settings) -> None:
    """Tests log admins and leaders in with force_login; the production default (admins and
    leaders must enrol TOTP) is switched on explicitly by the tests in tests/security/."""
    settings.GRIDGOV = {**settings.GRIDGOV, "REQUIRE_2FA": False}


@pytest.fixture
def tree(db: None) -> Tree:
    return build_tree()


@pytest.fixture
def personas(db: None) -> Personas:
    return build_personas()


@pytest.fixture
def client_for():
    """client_for(user) → a Django test client logged in as that user."""

    def make(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make
