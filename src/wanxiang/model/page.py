"""Pages of a listing, as services return them and wire renders them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class NumberedPage(Generic[T]):
    """One page of a listing paged by number (``pageNumber``/``pageSize``), with the total count
    and the requested ids that were not found."""

    items: Sequence[T]
    total: int
    page_number: int
    page_size: int
    missing: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One page of a keyset listing (``size``/``nextToken``); ``next_token`` empty on the last."""

    items: Sequence[T]
    next_token: str = ""
