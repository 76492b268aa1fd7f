"""X API v2: user public metrics, the user timeline inside the re-pull window, tweet lookup by ids.

Calls per night for N accounts: ceil(N / 100) user lookups, one timeline
page per 100 tweets of each account in the window (at least one), and
ceil(K / 100) tweet lookups for the K known tweets the timeline no longer
returned (deleted, withheld or from a now-protected account: the lookup
says which, in ``errors`` next to ``data``).

Timeline tweets carry their ``public_metrics``, so they are not looked up
again. X plans cap the posts read per month: with PANTAU_X_MONTHLY_READ_CAP set,
the run stops before a call that could cross what is left of it this month
and defers the remaining accounts (ledger ``deferred``, the message says so). X sends no Retry-After on 429: the shared client waits until
``x-rate-limit-reset``; a reset further away than the client's ``max_wait``
defers the remaining accounts to the next run instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from etl.http import ApiClient, BudgetExhausted, CredentialsRejected, FatalApiError, RetriableApiError
from etl.landing import LandingWriter
from etl.sources.base import AccountRef, CursorPaginator, EndpointSpec, Extraction, Outcome, RateBudget, batched
from etl.sources.concurrency import Lanes

PLATFORM = "x"
CONN_ID = "x_api"
BASE_ENV = "X_API_BASE"  # the CLI reads the base URL and the secret from these
SECRET_ENV = "X_BEARER_TOKEN"
DEFAULT_BASE_URL = "https://api.x.com"
TWEET_FIELDS = "created_at,public_metrics,entities,referenced_tweets,author_id,lang"

USERS = EndpointSpec("users", "/2/users", {"user.fields": "public_metrics,protected,username,created_at"}, batch_size=100)
TIMELINE = EndpointSpec("user_tweets", "/2/users/{id}/tweets", {"tweet.fields": TWEET_FIELDS}, page_size=100)
TWEETS = EndpointSpec("tweets", "/2/tweets", {"tweet.fields": TWEET_FIELDS}, batch_size=100)


class TokenRefused(CredentialsRejected):
    """X answers 401 to the bearer token itself: stop calling, record token_expired."""


class XSource:
    """Collects a shard of X accounts into one landing file."""

    def __init__(self, client: ApiClient, base_url: str, token: str, budget: RateBudget, landing: LandingWriter) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.landing = landing
        self.lanes = Lanes(client, landing)
        # The bearer token goes in a header, so it never appears in a landed URL.
        self.client.headers["Authorization"] = f"Bearer {token}"

    def _call(
        self, endpoint: EndpointSpec, path: str, params: dict[str, Any], account: str | None, ids: list[str] | None = None
    ) -> dict[str, Any]:
        # Each X endpoint has its own 15-minute window: a window another shard emptied is waited for or deferred here.
        self.budget.spend(endpoint.cost_units, endpoint.name)
        # A lookup lands the ids it asked for: only an error about one of them is a deletion (the parser checks).
        self.landing.context = {"endpoint": endpoint.name, "account": account, **({"ids": ids} if ids is not None else {})}
        try:
            payload = self.client.get_json(self.base_url + path, {**endpoint.params, **params}, account=account)
        except FatalApiError as exc:
            if exc.status == 401:
                raise TokenRefused(
                    f"X refuses the bearer token of connection '{CONN_ID}' (HTTP 401); renew the token",
                    source=PLATFORM, account=account, status=exc.status,
                ) from None
            raise
        except RetriableApiError as exc:
            if exc.wait_seconds is not None and exc.wait_seconds > self.client.max_wait:
                # The rate-limit window resets later than we may wait: defer, as with our own budget, and tell the other shards.
                message = f"X rate limit on {endpoint.name} resets in {exc.wait_seconds:.0f}s; deferring the rest"
                self.budget.block(endpoint.name, datetime.now(UTC) + timedelta(seconds=exc.wait_seconds), message)
                raise BudgetExhausted(message) from None
            raise
        finally:
            self._observe(endpoint.name)
        return payload if isinstance(payload, dict) else {}

    def _observe(self, scope: str) -> None:
        """Feed the budget what X said about the endpoint's window (x-rate-limit-remaining / -reset); an answer
        without them still tells the budget the call was answered."""
        headers = self.client.last_headers
        remaining, reset = headers.get("x-rate-limit-remaining"), headers.get("x-rate-limit-reset")
        if remaining is not None and remaining.strip().isdigit():
            resets_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.strip().isdigit() else None
            self.budget.observe(scope, remaining=int(remaining), resets_at=resets_at)
        else:
            self.budget.observe(scope)

    def extract(
        self, accounts: list[AccountRef], *, as_of: datetime, repull_days: int, known_posts: Iterable[tuple[str, str]] = ()
    ) -> Extraction:
        """User metrics, timeline since the re-pull cutoff, and a lookup of known tweets the timeline did not return."""
        result = Extraction()
        by_user = {a.platform_account_id: a.account_key for a in accounts}
        pending = dict(by_user)
        seen: set[str] = set()
        start = (as_of - timedelta(days=repull_days)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # X rejects an end_time less than 10 s before the request; a nightly run starts right at as_of.
        end = min(as_of, datetime.now(UTC) - timedelta(seconds=30)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            users = self._users(list(by_user), pending, result)
            for user_id, done in self.lanes.each(users, lambda user_id: self._timeline(user_id, start, end, by_user[user_id])):
                key = by_user[user_id]
                try:
                    private, returned = done.result()
                except CredentialsRejected:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    result.outcomes[key] = Outcome("not_found" if exc.status == 404 else "api_error", str(exc))
                    pending.pop(user_id, None)
                    continue
                seen |= returned
                if private:
                    result.outcomes[key] = Outcome("private", f"source=x account {user_id} is protected: no public tweets")
                    pending.pop(user_id, None)
            missing = [t for t, u in known_posts if u in pending and t not in seen]
            for batch, done in self.lanes.each(list(batched(missing, TWEETS.batch_size or 100)), self._look_up):
                try:
                    done.result()
                except CredentialsRejected:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    for tweet_id, user_id in known_posts:
                        if tweet_id in batch and user_id in pending:
                            result.outcomes[pending.pop(user_id)] = Outcome("api_error", str(exc))
            for user_id in list(pending):
                result.outcomes[pending.pop(user_id)] = Outcome("ok")
        except (CredentialsRejected, BudgetExhausted) as exc:
            result.stop(exc, (by_user[user_id] for user_id in pending), source=PLATFORM, connection=CONN_ID)
        finally:
            result.record_usage(self.client, self.budget)
        return result

    def _look_up(self, batch: list[str]) -> None:
        """Known tweets by id; the parser reads which are gone from the landed answer."""
        self.budget.reserve_reads(len(batch))
        payload = self._read(lambda: self._call(TWEETS, TWEETS.path, {"ids": ",".join(batch)}, None, ids=batch))
        self.budget.count_reads(len(payload.get("data") or []))

    def _read(self, call: Any) -> dict[str, Any]:
        """A call whose posts were reserved against the read cap: a failed one read none (the reservation ends)."""
        try:
            return call()
        except BaseException:
            self.budget.count_reads(0)
            raise

    def _users(self, user_ids: list[str], pending: dict[str, str], result: Extraction) -> list[str]:
        found: list[str] = []
        batches = list(batched(user_ids, USERS.batch_size or 100))
        for batch, done in self.lanes.each(batches, lambda batch: self._call(USERS, USERS.path, {"ids": ",".join(batch)}, None)):
            try:
                payload = done.result()
            except CredentialsRejected:
                raise
            except (FatalApiError, RetriableApiError) as exc:
                # Any other refusal (403 client-not-enrolled, a v1.1-style error, a 400) is X's answer about this
                # batch: its accounts are api_error with X's own words, the rest of the shard goes on.
                for user_id in batch:
                    result.outcomes[pending.pop(user_id)] = Outcome("api_error", str(exc))
                continue
            users = {u.get("id"): u for u in payload.get("data") or [] if isinstance(u, dict)}
            for user_id in batch:
                user = users.get(user_id)
                if user is None:
                    why = next((e.get("detail") for e in _about_requested(payload, "ids") if e.get("resource_id") == user_id), None)
                    result.outcomes[pending.pop(user_id)] = Outcome("not_found", f"source=x user {user_id} not returned by users lookup: {why or 'absent'}")
                elif user.get("protected"):
                    result.outcomes[pending.pop(user_id)] = Outcome("private", f"source=x account {user_id} is protected: no public tweets")
                else:
                    found.append(user_id)
        return found

    def _timeline(self, user_id: str, start: str, end: str, account: str) -> tuple[bool, set[str]]:
        """Walk the timeline inside the window: True when X says the account is not visible to us; the tweet ids returned."""
        paginator = CursorPaginator(("meta", "next_token"), "pagination_token")
        params = {"start_time": start, "end_time": end, "max_results": TIMELINE.page_size}
        path = TIMELINE.path.format(id=user_id)
        seen: set[str] = set()
        while paginator.has_next_page:
            self.budget.reserve_reads(TIMELINE.page_size or 100)
            request = paginator.update_request(params)
            payload = self._read(lambda request=request: self._call(TIMELINE, path, request, account))
            paginator.update_state(payload)
            tweets = [t for t in payload.get("data") or [] if isinstance(t, dict)]
            self.budget.count_reads(len(tweets))
            seen.update(str(t["id"]) for t in tweets if t.get("id"))
            if not tweets and any(_problem(e) == "not-authorized-for-resource" for e in _about_requested(payload, "id")):
                return True, seen
        return False, seen


def _problem(error: Any) -> str:
    return str(error.get("type", "")).rsplit("/", 1)[-1] if isinstance(error, dict) else ""


def _about_requested(payload: dict[str, Any], parameter: str) -> list[dict[str, Any]]:
    """The ``errors`` entries about what the request asked for (``parameter`` ids or id), not about an expansion
    (``pinned_tweet_id``, ``referenced_tweets.id``, ``entities.mentions.username``...) X could not fill in."""
    return [e for e in payload.get("errors") or [] if isinstance(e, dict) and e.get("parameter", parameter) == parameter]
