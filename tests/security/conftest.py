from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from gridgov.accounts import twofactor
from gridgov.accounts.middleware import OTP_VERIFIED
from gridgov.accounts.models import User


@pytest.fixture
def require_2fa(settings) -> None:
    settings.GRIDGOV = {**settings.GRIDGOV, "REQUIRE_2FA": True}


def enrol(user: User) -> tuple[str, list[str]]:
    """Give a user a confirmed TOTP device; returns (secret, recovery codes)."""
    pending = twofactor.totp_setup_begin(user=user)
    codes = twofactor.totp_setup_confirm(user=user, code=pyotp.TOTP(pending.secret).now())
    return pending.secret, codes


@pytest.fixture
def verified_client_for():
    """A client logged in as the user, with the second factor passed in this session."""

    def make(user: User) -> Client:
        c = Client()
        c.force_login(user)
        session = c.session
        session[OTP_VERIFIED] = True
        session.save()
        return c

    return make
