"""The demo dataset behind `make run`: each app contributes a loader, run in this order.

Every loader is idempotent — it checks what is already there and adds only what is missing — so
`make run` can be repeated on the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

DEMO_LOADERS: list[str] = [
    "gridgov.regions.demo.load",
    "gridgov.accounts.demo.load",
    "gridgov.registers.demo.load",
    "gridgov.fieldwork.demo.load",
    "gridgov.mediation.demo.load",
    "gridgov.cases.demo.load",
    "gridgov.integrations.demo.load",
    "gridgov.assessment.demo.load",
]


def loaders() -> list[tuple[str, Callable[..., None]]]:
    out = []
    for dotted in DEMO_LOADERS:
        module, _, name = dotted.rpartition(".")
        out.append((dotted, getattr(import_module(module), name)))
    return out
