"""Push-back to 12345 / 110: status and the public reply of the case a work order became.

A pluggable client (GRIDGOV["HOTLINE_CLIENT"], a dotted path): `HttpHotlineClient` POSTs signed
JSON to the channel's push-back address; `InMemoryHotlineClient` keeps what it was given (tests,
a test bench without the hotline platform). Provincial platforms differ in their receiving
interface; a site writes another class with the same `accepts`/`push` and names it in settings.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, ClassVar, Protocol

from django.utils.module_loading import import_string

from .. import security, transport
from ..conf import conf
from ..transport import DeliveryResult
from .models import HotlineChannel

SECRET_CONTEXT = "integrations.hotlinechannel.secret"


class HotlineClient(Protocol):
    def accepts(self, channel: HotlineChannel) -> bool:
        """Whether pushes for this channel can be sent at all (e.g. an address is configured)."""
        ...

    def push(self, channel: HotlineChannel, payload: dict[str, Any]) -> DeliveryResult: ...


class HttpHotlineClient:
    def accepts(self, channel: HotlineChannel) -> bool:
        return bool(channel.push_url)

    def push(self, channel: HotlineChannel, payload: dict[str, Any]) -> DeliveryResult:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        secret = security.unseal(channel.secret_sealed, context=SECRET_CONTEXT)
        headers = {"Content-Type": "application/json; charset=utf-8", **security.signed_headers(secret, body)}
        return transport.transport().post(channel.push_url, body, headers, transport.timeout())


class InMemoryHotlineClient:
    """Records pushes in `sent`; `fail_next` makes that many pushes fail first."""

    sent: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    fail_next: ClassVar[int] = 0

    @classmethod
    def reset(cls) -> None:
        cls.sent = []
        cls.fail_next = 0

    def accepts(self, channel: HotlineChannel) -> bool:
        return True

    def push(self, channel: HotlineChannel, payload: dict[str, Any]) -> DeliveryResult:
        if InMemoryHotlineClient.fail_next > 0:
            InMemoryHotlineClient.fail_next -= 1
            return DeliveryResult(ok=False, status_code=503, error="HTTP 503")
        InMemoryHotlineClient.sent.append((channel.code, payload))
        return DeliveryResult(ok=True, status_code=200)


@lru_cache(maxsize=4)
def _client(path: str) -> HotlineClient:
    client: HotlineClient = import_string(path)()
    return client


def client() -> HotlineClient:
    return _client(str(conf("HOTLINE_CLIENT")))
