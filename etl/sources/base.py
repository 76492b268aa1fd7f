"""What every source is made of: endpoint declarations, paginators, batching and a rate budget."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import structlog

from etl.http import SECRET_KEYS, BudgetExhausted, CredentialsRejected

log = structlog.get_logger(__name__)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class EndpointSpec:
    """One API resource: where it is, what it costs, how many ids or items one call takes."""

    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    batch_size: int | None = None  # ids per call, for "list by ids" endpoints
    page_size: int | None = None  # items per page, for paged endpoints
    cost_units: int = 1  # what one call spends of the platform's budget
    #: What the source reads of an answer, as a ``TypedDict`` (``ApiClient.get_json``'s ``reads``): the rest of a
    #: successful answer is checked as JSON and skipped. None: the whole answer is decoded.
    reads: Any = None


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


class NextUrlPaginator:
    """Paging by the next page's URL (Graph ``paging.next``), whatever kind of cursor that URL carries.

    Meta pages some edges by cursor (``after``) and others by time (``until``/``since`` with a
    ``__paging_token``), and a page may carry ``next`` with no ``cursors.after`` at all. Following ``next``
    whenever it is present covers both: its query parameters (less any secret, which the source adds
    itself) replace ours, so the request keeps our host, version and fields. A ``next`` that would ask the
    same page again, or carries no query at all, cannot be followed: :attr:`stopped_early` says that more
    pages were announced and not read, so the source records the walk ``partial``, never ``ok``.
    """

    def __init__(self, next_path: Sequence[str], secret_params: Iterable[str] = SECRET_KEYS) -> None:
        self.next_path = tuple(next_path)
        self.secret_params = frozenset(k.lower() for k in secret_params)
        self.next_params: dict[str, str] = {}
        self.has_next_page = True
        self.stopped_early = False
        self.pages = 0
        self._base: dict[str, Any] = {}
        self._asked: set[tuple[tuple[str, str], ...]] = set()

    def update_state(self, response: dict[str, Any]) -> None:
        self.pages += 1
        url = CursorPaginator._dig(response, self.next_path)
        if not isinstance(url, str) or not url:
            self.next_params, self.has_next_page = {}, False
            return
        params = {k: v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k.lower() not in self.secret_params}
        if not params or self._key({**self._base, **params}) in self._asked:
            # More pages are announced but this URL would not move on: stop, and say so.
            self.next_params, self.has_next_page, self.stopped_early = {}, False, True
            return
        self.next_params, self.has_next_page = params, True

    def update_request(self, params: dict[str, Any]) -> dict[str, Any]:
        self._base = params
        request = {**params, **self.next_params}
        self._asked.add(self._key(request))
        return request

    def _key(self, request: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((k, str(v)) for k, v in request.items() if k.lower() not in self.secret_params))


#: Limit scopes every call is checked against, besides its own endpoint's window.
CREDENTIALS = "credentials"  # the connection's secret was refused
QUOTA = "quota"  # the API's own allowance for the connection (YouTube's daily quota, Meta's app usage)


def locked(method: F) -> F:
    """Run a budget method under the budget's lock: a shard's workers (etl.sources.concurrency) spend and check atomically."""

    @functools.wraps(method)
    def under_lock(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return under_lock  # type: ignore[return-value]


@dataclass
class LimitState:
    """What is known about one limit scope of an API: its last reported state and any block on it."""

    calls_remaining: int | None = None
    usage_percent: int | None = None
    blocked_until: datetime | None = None  # UTC
    status: str = "deferred"  # deferred (a limit) or token_expired (credentials refused)
    message: str | None = None
    credential: str | None = None  # fingerprint of the refused secret: a renewed one is not blocked
    observed_at: datetime | None = None
    resets_at: datetime | None = None  # when the window of ``calls_remaining`` resets (UTC)


@dataclass
class RateBudget:
    """Units a run may spend on one platform (YouTube quota units, X requests...), and the API's own limits.

    When the run's allowance is spent, or the API says a limit is reached until
    later than we may wait, the source stops calling and defers the remaining
    accounts to the next run instead of failing or sleeping for hours. This
    class keeps its state in memory (one shard, unit tests);
    :class:`etl.budget.SharedBudget` shares it live between a platform's
    mapped shards through the warehouse.
    """

    platform: str
    limit: int
    spent: int = 0
    #: Posts this run may still read under a monthly read cap (X's plans cap posts read per month); None = no cap.
    reads_left: int | None = None
    reads: int = 0
    connection: str = ""
    credential: str | None = None  # fingerprint of the secret in use (never the secret)
    max_wait: float = 300.0  # a limit that resets sooner is waited for, a later one defers
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    limits: dict[str, LimitState] = field(default_factory=dict)
    #: Posts each thread's call in flight may return (a thread has one call in flight): reserved against the read cap.
    _reserved: dict[int, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Calls sent on each scope whose answer :meth:`observe` has not seen yet.
    _unanswered: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._answered = threading.Condition(self._lock)  # an answer on a scope was observed

    def _reserved_by_others(self) -> int:
        me = threading.get_ident()
        return sum(n for thread, n in self._reserved.items() if thread != me)

    @locked
    def reserve_reads(self, most: int) -> None:
        """Before a call that may return up to ``most`` posts: stop while the cap still holds, never past it.

        The reservation holds until :meth:`count_reads` (0 for a failed call): calls in flight on other threads
        count with what they may return, so N calls at once cannot read past the cap either."""
        others = self._reserved_by_others()
        if self.reads_left is not None and self.reads + others + most > self.reads_left:
            raise BudgetExhausted(
                f"{self.platform} monthly post-read cap: {self.reads} posts read this run"
                + (f" and up to {others} in calls under way" if others else "")
                + f", {self.reads_left - self.reads - others} left this month, the next call may return {most}; deferring the rest"
            )
        self._reserved[threading.get_ident()] = most

    @locked
    def count_reads(self, posts: int) -> None:
        """What the call reserved by :meth:`reserve_reads` returned (0 when it failed)."""
        self._reserved.pop(threading.get_ident(), None)
        self.reads += posts

    @locked
    def spend(self, units: int, scope: str | None = None) -> None:
        """Before a call on ``scope`` (an endpoint with its own window, or None): check the API's limits, then take units."""
        self.check(scope)
        self._take_window_call(scope)
        if self.spent + units > self.limit:
            self._no_call(scope)
            raise BudgetExhausted(
                f"{self.platform} rate budget of {self.limit} units spent ({self.spent} used); deferring the rest"
            )
        self.spent += units

    def _no_call(self, scope: str | None) -> None:
        """The call counted by :meth:`_take_window_call` will not be sent after all."""
        if scope and self._unanswered.get(scope):
            self._unanswered[scope] -= 1
            self._answered.notify_all()

    def _take_window_call(self, scope: str | None) -> None:
        """Count this call against ``scope``'s window as the API last reported it, less the calls still unanswered:
        with calls in flight on other threads the window is empty before an answer says so. One call at a time none
        is unanswered, and an answer that says the window is empty has already blocked it (:meth:`observe`)."""
        if not scope:
            return
        # Until an answer has reported the scope's window, one call on it at a time (the others wait for that answer).
        waited_from = time.monotonic()
        while self._unanswered.get(scope, 0) > 0 and not self._window_known(scope) and time.monotonic() - waited_from < self.max_wait:
            self._answered.wait(timeout=1.0)
        state = self.limits.get(scope)
        unanswered = self._unanswered.get(scope, 0)
        if (state is not None and state.calls_remaining is not None and state.resets_at is not None
                and state.resets_at > self.clock() and state.calls_remaining - unanswered <= 0):
            self.block(scope, state.resets_at, f"{self.platform} API window for {scope} has no call left until "
                       f"{state.resets_at:%Y-%m-%d %H:%M:%S} UTC; deferring the rest")
            self.check(scope)  # waits for a window that resets soon, else defers
        self._unanswered[scope] = self._unanswered.get(scope, 0) + 1

    def _window_known(self, scope: str) -> bool:
        state = self.limits.get(scope)
        return state is not None and state.resets_at is not None and state.resets_at > self.clock()

    @locked
    def check(self, scope: str | None = None) -> None:
        """Refused credentials stop the platform; a reached limit is waited for when it resets soon, else defers."""
        for name in (CREDENTIALS, QUOTA, scope):
            state = self.limits.get(name) if name else None
            if state is None or state.blocked_until is None:
                continue
            now = self.clock()
            if state.blocked_until <= now:
                continue
            if state.status == "token_expired":
                if state.credential == self.credential:
                    refused = CredentialsRejected("", source=self.platform, status=401)
                    refused.args = (state.message or f"source={self.platform}: credentials of '{self.connection}' refused",)
                    raise refused
                continue  # the secret was renewed since: try it
            wait = (state.blocked_until - now).total_seconds()
            if wait <= self.max_wait:
                # The window resets soon: wait for it rather than spend a call on a certain 429.
                log.info("waiting for a rate-limit window", **{"source": self.platform, "scope": name, "wait_s": round(wait, 1)})
                self.sleep(wait)
                state.resets_at = None  # the window the API last reported is over: its count no longer holds
                self.lift(name)  # the window has reset, for every shard
                continue
            raise BudgetExhausted(state.message or f"{self.platform} {name} limit reached; deferring the rest")

    @locked
    def observe(
        self, scope: str, *, remaining: int | None = None, resets_at: datetime | None = None, usage: int | None = None
    ) -> None:
        """Record what an answer's headers said about ``scope``; a window with no call left blocks it until its reset.

        Answers to calls made at once arrive in any order: within one window the lowest count is the latest."""
        if self._unanswered.get(scope):
            self._unanswered[scope] -= 1
            self._answered.notify_all()
        state = self.limits.setdefault(scope, LimitState())
        if remaining is not None and resets_at is not None and resets_at == state.resets_at and state.calls_remaining is not None:
            remaining = min(remaining, state.calls_remaining)
        state.calls_remaining = remaining if remaining is not None else state.calls_remaining
        state.resets_at = resets_at if remaining is not None else state.resets_at
        state.usage_percent = usage if usage is not None else state.usage_percent
        state.observed_at = self.clock()
        if remaining is not None and remaining <= 0 and resets_at is not None and resets_at > state.observed_at:
            self.block(scope, resets_at, f"{self.platform} API window for {scope} has no call left until "
                       f"{resets_at:%Y-%m-%d %H:%M:%S} UTC; deferring the rest")

    @locked
    def block(self, scope: str, until: datetime, message: str, status: str = "deferred") -> None:
        """No call on ``scope`` before ``until`` (UTC), for this shard and, shared, for the platform's other shards."""
        state = self.limits.setdefault(scope, LimitState())
        state.blocked_until, state.message, state.status = until, message, status
        state.credential = self.credential if status == "token_expired" else None
        state.observed_at = self.clock()
        self._publish(scope, state)

    @locked
    def lift(self, scope: str) -> None:
        """The API says the limit on ``scope`` is no longer reached (Meta's usage fell back): calls may go on."""
        state = self.limits.get(scope)
        if state is not None and state.blocked_until is not None and state.status != "token_expired":
            state.blocked_until, state.message = None, None
            state.observed_at = self.clock()
            self._publish(scope, state)

    @locked
    def refuse(self, message: str, lasting: timedelta = timedelta(hours=24)) -> None:
        """The connection's secret was refused: the platform's other shards stop before calling, until it is renewed."""
        self.block(CREDENTIALS, self.clock() + lasting, message, status="token_expired")

    @locked
    def close(self) -> None:
        """The shard is done: hand back what it did not use (shared budgets)."""

    def _publish(self, scope: str, state: LimitState) -> None:
        """Make a block visible to the other shards (shared budgets)."""

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

    #: ok, partial (read, but a walk ended while the platform announced more pages inside the re-pull window),
    #: not_found, api_error, deferred, token_expired (credentials stopped working mid-run),
    #: private (protected, age- or country-gated: the platform serves nothing public)
    status: str
    message: str | None = None
    #: For token_expired: the Airflow connection whose secret was refused (a TikTok Display user token names
    #: ``tiktok_display``, not the platform's connection: only that account is affected).
    connection: str | None = None


@dataclass
class Extraction:
    """What collecting one shard gave: each account's outcome and the calls it took."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    api_calls: int = 0
    retries: int = 0
    units: int = 0

    def mark(self, account_keys: Iterable[str], status: str, message: str | None = None, connection: str | None = None) -> None:
        """Give every account in ``account_keys`` the same outcome (budget spent, token refused...)."""
        for key in account_keys:
            self.outcomes[key] = Outcome(status, message, connection)

    def stop(self, reason: CredentialsRejected | BudgetExhausted, account_keys: Iterable[str], *, source: str, connection: str) -> None:
        """The shard ended before these accounts: refused credentials make them ``token_expired`` (naming the
        connection), a spent budget or a reached API limit ``deferred`` (taken first the next night)."""
        keys = list(account_keys)
        if isinstance(reason, CredentialsRejected):
            self.mark(keys, "token_expired", str(reason), connection)
            log.error("credentials refused", **{"source": source, "connection": connection, "accounts": len(keys)})
        else:
            self.mark(keys, "deferred", str(reason))
            log.warning("budget spent", **{"source": source, "deferred_accounts": len(keys)})

    def record_usage(self, client: Any, budget: RateBudget) -> None:
        """Copy the calls, retries and budget units the shard spent, whatever way the extraction ended."""
        self.api_calls = client.calls
        self.retries = client.retries
        self.units = budget.spent
