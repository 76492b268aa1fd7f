"""What every source is made of: endpoint declarations, paginators, batching and a rate budget."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from etl.http import BudgetExhausted

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class EndpointSpec:
    """One API resource: where it is, what it costs, how many ids or items one call takes."""

    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    batch_size: int | None = None  # ids per call, for "list by ids" endpoints
    page_size: int | None = None  # items per page, for paged endpoints
    cost_units: int = 1  # what one call spends of the platform's budget


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most ``size`` items (the API's maximum ids per call)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class PageTokenPaginator:
    """Google-style paging: the response names the next page in ``nextPageToken``."""

    def __init__(self, token_field: str = "nextPageToken", param: str = "pageToken") -> None:
        self.token_field = token_field
        self.param = param
        self.token: str | None = None
        self.has_next_page = True

    def update_state(self, response: dict[str, Any]) -> None:
        self.token = response.get(self.token_field) or None
        self.has_next_page = self.token is not None

    def update_request(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.token:
            return {**params, self.param: self.token}
        return params


@dataclass
class RateBudget:
    """Units a run may spend on one platform (YouTube quota units, X requests...).

    When it is spent the source stops calling and defers the remaining
    accounts to the next run instead of failing or sleeping for hours.
    """

    platform: str
    limit: int
    spent: int = 0

    def spend(self, units: int) -> None:
        if self.spent + units > self.limit:
            raise BudgetExhausted(
                f"{self.platform} rate budget of {self.limit} units spent ({self.spent} used); deferring the rest"
            )
        self.spent += units

    @property
    def remaining(self) -> int:
        return self.limit - self.spent


def unique(values: Iterable[T]) -> list[T]:
    """Values in first-seen order without repeats."""
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class AccountRef:
    """An account to collect: our stable key and the platform's id for it."""

    account_key: str
    platform_account_id: str


@dataclass
class Outcome:
    """How collecting one account went; feeds the coverage ledger."""

    status: str  # ok, not_found, api_error, deferred
    message: str | None = None
