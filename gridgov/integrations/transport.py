"""HTTP POST for everything that calls out. Only the configured URL is contacted: redirects are
refused (a 3xx counts as a failed attempt) and environment proxies are ignored, so a receiver
cannot bounce a signed payload somewhere else."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from .conf import conf


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> DeliveryResult: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class UrllibTransport:
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> DeliveryResult:
        if not url.startswith(("http://", "https://")):
            return DeliveryResult(ok=False, error="只支持 http(s) 地址")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        try:
            with _opener.open(request, timeout=timeout) as response:
                response.read(65536)
                code = int(response.status)
        except urllib.error.HTTPError as exc:
            code = int(exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return DeliveryResult(
                ok=False, error=f"连接失败：{reason}"[:500], duration_ms=int((time.monotonic() - started) * 1000)
            )
        elapsed = int((time.monotonic() - started) * 1000)
        if 200 <= code < 300:
            return DeliveryResult(ok=True, status_code=code, duration_ms=elapsed)
        return DeliveryResult(ok=False, status_code=code, error=f"HTTP {code}", duration_ms=elapsed)


_transport: list[Transport] = [UrllibTransport()]


def transport() -> Transport:
    return _transport[0]


def set_transport(t: Transport) -> Transport:
    """Swap the transport (tests use a fake); returns the previous one."""
    previous = _transport[0]
    _transport[0] = t
    return previous


def timeout() -> float:
    return float(conf("OUTBOX_TIMEOUT_SECONDS"))
