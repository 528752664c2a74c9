"""Per-client limits for the public (no-login) channel, kept in Django's cache.

A fixed one-hour window per client IP and bucket. Deployments running several app processes
configure a shared cache (e.g. the database or Redis cache backend) so the count is global.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from gridgov.common import clock
from gridgov.common.audit import client_ip
from gridgov.common.errors import DomainError


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"


def hit(request: HttpRequest, *, bucket: str, limit: int) -> None:
    """Count one use by the requester; refuse (429) beyond `limit` in the current hour."""
    ip = client_ip(request) or "unknown"
    window = clock.now().strftime("%Y%m%d%H")
    key = f"cases:rl:{bucket}:{ip}:{window}"
    cache.add(key, 0, timeout=3700)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=3700)
        used = 1
    if used > limit:
        raise TooManyRequests(
            f"提交过于频繁，每小时最多 {limit} 次，请稍后再试或拨打 12345 热线", rule="cases.citizen.rate_limit"
        )
