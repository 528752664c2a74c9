"""Shared secrets and signatures for every webhook, inbound and outbound.

The signature is HMAC-SHA256 over ``"<timestamp>.<raw body>"`` with the shared secret, sent as

    X-Gridgov-Timestamp: 1795412345
    X-Gridgov-Signature: sha256=<hex>

Binding the timestamp into the MAC (as Stripe and Slack do) means a captured request cannot be
replayed later with a fresh timestamp; the receiver refuses timestamps outside a window. Shared
secrets must be readable to compute the MAC, so they are stored sealed (AES-GCM under the data
key, the column name bound in), never in the clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.http import HttpRequest

from gridgov.common import clock
from gridgov.common.errors import DomainError
from gridgov.registers import crypto

from .conf import conf

TIMESTAMP_HEADER = "X-Gridgov-Timestamp"
SIGNATURE_HEADER = "X-Gridgov-Signature"
SCHEME = "sha256="


class SignatureRefused(DomainError):
    status = 401
    code = "bad_signature"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def seal(secret: str, *, context: str) -> str:
    return crypto.encrypt(secret, context=context)


def unseal(sealed: str, *, context: str) -> str:
    return crypto.decrypt(sealed, context=context)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SCHEME + mac


def signed_headers(secret: str, body: bytes, *, now: dt.datetime | None = None) -> dict[str, str]:
    timestamp = int((now or clock.now()).timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, body, timestamp)}


def verify(secret: str, body: bytes, *, timestamp: str | None, signature: str | None) -> None:
    """Refuse (401) unless the signature matches and the timestamp is fresh."""
    if not timestamp or not signature:
        raise SignatureRefused(f"缺少签名头 {TIMESTAMP_HEADER} / {SIGNATURE_HEADER}", rule="webhook.signature.missing")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureRefused("时间戳格式不正确（应为 Unix 秒）", rule="webhook.timestamp.invalid") from None
    expected = sign(secret, body, ts)
    # Compare before looking at the clock, in constant time, so timing reveals nothing of the MAC.
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureRefused("签名不正确", rule="webhook.signature.mismatch")
    skew = abs(clock.now().timestamp() - ts)
    if skew > int(conf("WEBHOOK_TIMESTAMP_TOLERANCE")):
        raise SignatureRefused("请求时间戳超出允许范围（可能是重放）", rule="webhook.timestamp.stale")


def verify_request(secret: str, request: HttpRequest) -> None:
    verify(
        secret,
        request.body,
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        signature=request.headers.get(SIGNATURE_HEADER),
    )
