from __future__ import annotations

import json
from typing import Any

from django.test import Client

from gridgov.integrations import security


def signed_post(url: str, secret: str, payload: Any, *, client: Client | None = None, **headers: str):
    body = json.dumps(payload, ensure_ascii=False).encode()
    signed = security.signed_headers(secret, body)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in {**signed, **headers}.items()}
    return (client or Client()).post(url, data=body, content_type="application/json", **extra)
