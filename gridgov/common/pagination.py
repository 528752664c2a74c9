"""Keyset-friendly page helper shared by list screens and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet

T = TypeVar("T")

MAX_PAGE_SIZE = 200
# Beyond any real list; keeps the OFFSET inside a 64-bit integer (PostgreSQL refused a fuzzed
# ?page=2**70 with "bigint out of range": a 500).
MAX_PAGE = 1_000_000
# Big lists (a district's cases or residents) count at most this many rows: an exact count of a
# district is a scan of hundreds of thousands of rows, the first 10,000 a few milliseconds.
LIST_COUNT_LIMIT = 10_000


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int
    # True when `total` stopped at the count limit: there are at least that many rows.
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paginate(
    qs: QuerySet[Any],
    *,
    page: int = 1,
    page_size: int = 50,
    count_limit: int | None = None,
    count_in_order: bool = False,
) -> Page[Any]:
    """One page of `qs` and the total. With `count_limit`, counting stops there (a district's
    "all cases" is 400,000 rows: an exact count costs a second, the first 10,000 a few ms) and
    `total_capped` says so; pages past the limit still load. `count_in_order` keeps the list's
    order in that limited count: when an index gives the order, the count reads the first
    `count_limit` entries of it, however the table's rows lie (a sequential scan for a fifth of
    a city's residents reads every row of the districts stored before it)."""
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    page = max(1, min(int(page), MAX_PAGE))
    start = (page - 1) * page_size
    capped = False
    if count_limit is None:
        total = qs.count()
    else:
        total = (qs if count_in_order else qs.order_by())[: count_limit + 1].count()
        capped = total > count_limit
        total = min(total, count_limit)
        if capped:
            total = max(total, start + page_size + 1)
    return Page(
        items=list(qs[start : start + page_size]), page=page, page_size=page_size, total=total, total_capped=capped
    )


def page_number(raw: object) -> int:
    """A ?page= value as a page number; anything that is not a sane positive integer is page 1."""
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < MAX_PAGE else 1
