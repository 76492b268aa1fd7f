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


class CursorPaginator:
    """Cursor paging where the cursor sits at a path inside the response.

    One class covers the platforms that are not Google-style:
    X (``meta.next_token`` -> ``pagination_token``), the Graph API
    (``paging.cursors.after`` -> ``after``, but only while ``paging.next``
    exists: Meta keeps sending cursors on the last page) and TikTok's
    Research API (``data.cursor`` while ``data.has_more``).
    """

    def __init__(self, cursor_path: Sequence[str], param: str, more_path: Sequence[str] | None = None) -> None:
        self.cursor_path = tuple(cursor_path)
        self.param = param
        self.more_path = tuple(more_path) if more_path else None
        self.cursor: Any = None
        self.has_next_page = True

    @staticmethod
    def _dig(response: Any, path: Sequence[str]) -> Any:
        for key in path:
            if not isinstance(response, dict):
                return None
            response = response.get(key)
        return response

    def update_state(self, response: dict[str, Any]) -> None:
        cursor = self._dig(response, self.cursor_path)
        more = bool(self._dig(response, self.more_path)) if self.more_path else cursor not in (None, "")
        self.cursor = cursor if more else None
        self.has_next_page = more and cursor not in (None, "")

    def update_request(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.cursor not in (None, ""):
            return {**params, self.param: self.cursor}
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
    #: Posts this run may still read under a monthly read cap (X's plans cap posts read per month); None = no cap.
    reads_left: int | None = None
    reads: int = 0

    def reserve_reads(self, most: int) -> None:
        """Before a call that may return up to ``most`` posts: stop while the cap still holds, never past it."""
        if self.reads_left is not None and self.reads + most > self.reads_left:
            raise BudgetExhausted(
                f"{self.platform} monthly post-read cap: {self.reads} posts read this run, "
                f"{self.reads_left - self.reads} left this month, the next call may return {most}; deferring the rest"
            )

    def count_reads(self, posts: int) -> None:
        self.reads += posts

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
    handle: str | None = None  # some APIs address accounts by name (Instagram business_discovery)


@dataclass
class Outcome:
    """How collecting one account went; feeds the coverage ledger."""

    #: ok, not_found, api_error, deferred, token_expired (credentials stopped working mid-run),
    #: private (protected, age- or country-gated: the platform serves nothing public)
    status: str
    message: str | None = None


@dataclass
class Extraction:
    """What collecting one shard gave: each account's outcome and the calls it took."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    api_calls: int = 0
    retries: int = 0
    units: int = 0

    def mark(self, account_keys: Iterable[str], status: str, message: str | None = None) -> None:
        """Give every account in ``account_keys`` the same outcome (budget spent, token refused...)."""
        for key in account_keys:
            self.outcomes[key] = Outcome(status, message)

    def record_usage(self, client: Any, budget: RateBudget) -> None:
        """Copy the calls, retries and budget units the shard spent, whatever way the extraction ended."""
        self.api_calls = client.calls
        self.retries = client.retries
        self.units = budget.spent
