"""Shared bits of the benchmarks: Django setup against DATABASE_URL, percentiles, a free port.

Benchmarks never run in the test suite; each prints its figures and a ratio against a baseline
measured in the same run. City-scale figures need a PostgreSQL database filled by
`gridgov synth --scale city` (see docs/scaling.md).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("GRIDGOV_REQUIRE_2FA", "0")
    if not os.environ.get("DATABASE_URL"):
        sys.exit("set DATABASE_URL to a database filled by `gridgov synth` (PostgreSQL for city scale)")
    import django

    django.setup()


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
