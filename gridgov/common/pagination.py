"""Keyset-friendly page helper shared by list screens and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet

T = TypeVar("T")

MAX_PAGE_SIZE = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paginate(qs: QuerySet[Any], *, page: int = 1, page_size: int = 50) -> Page[Any]:
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    page = max(1, int(page))
    total = qs.count()
    start = (page - 1) * page_size
    return Page(items=list(qs[start : start + page_size]), page=page, page_size=page_size, total=total)


def page_number(raw: object) -> int:
    """A ?page= value as a page number; anything that is not a sane positive integer is page 1."""
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else 1
