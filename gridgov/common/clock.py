"""The one place gridgov reads the wall clock.

Logic takes `now` as an argument or calls `clock.now()`, so SLA rules and monthly cut-offs can be
tested at any instant (cf. Django's auth/tokens.py `_now()`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[dt.datetime]:
    """Freeze `now()` at an aware datetime for the duration of the block (tests, replays)."""
    global _frozen
    if timezone.is_naive(at):
        raise ValueError("frozen() needs an aware datetime")
    previous, _frozen = _frozen, at
    try:
        yield at
    finally:
        _frozen = previous
