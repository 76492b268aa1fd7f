"""TikTok: the Research API for any public account, the Display API for accounts that authorise our app.

Which TikTok API an operator can use (see README): the Research API reads
any public account with a client token (connection ``tiktok_api``), but only
approved research institutions get access, and 1,000 requests a day. The
Display API needs each account's owner to authorise our app with OAuth
(scopes ``user.info.basic``, ``user.info.stats``, ``video.list``); the user
access token it gives lasts 24 hours and is refreshed with a refresh token,
outside Pantau. An account whose username has a user token in connection
``tiktok_display`` (extra JSON ``{"<username>": "<user access token>"}``, or
the same JSON in ``TIKTOK_DISPLAY_TOKENS`` for the CLI) is read with the
Display API; every other account with the Research API. One shard holds
both kinds: :meth:`TikTokSource.extract` splits them.

Research API, per shard: one ``user/info`` call per account, then
``video/query`` for up to :data:`USERNAMES_PER_QUERY` usernames at a time
over the re-pull window (in windows of at most 30 days, the API's limit),
paged with ``cursor`` + ``search_id`` while ``has_more``, ``max_count`` 100
(the documented maximum). Known posts the username query no longer returned
are asked for by id (``video_id`` IN, :data:`VIDEO_IDS_PER_QUERY` ids per
query, each window); an id still not returned is recorded in
``post_deletions``. The Research API cannot tell a deleted video from one
made private or removed by moderation: ``post_deletions`` means "no longer
publicly served", not strictly "deleted". Calls = accounts
+ windows x sum over username batches of ceil(videos / 100)
+ windows x ceil(missing known posts / 100) (at least one page each).

Display API, per account: one ``GET /v2/user/info/``, ``POST /v2/video/list/``
pages of 20 (``max_count``'s maximum) newest first from the run's read time
back to the re-pull cutoff, then ``POST /v2/video/query/`` with up to 20 ids
for its known posts the list no longer returned; ids not returned are
deleted (or made private). Calls = 1 + ceil(videos in window / 20), at least
one page, + ceil(missing known posts / 20). Display API limits are per
minute (600 calls per endpoint), not the Research API's daily 1,000, so
these calls do not spend the Research budget. A user token refused (401
``access_token_invalid``, ``scope_not_authorized``) marks only its account
``token_expired``, with a message naming ``tiktok_display`` and the username.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog

from etl.connections import resolve_secret_map
from etl.http import ApiClient, BudgetExhausted, CredentialsRejected, FatalApiError, RetriableApiError
from etl.landing import LandingWriter
from etl.sources.base import AccountRef, CursorPaginator, EndpointSpec, Extraction, Outcome, RateBudget, batched
from etl.sources.concurrency import Lanes

log = structlog.get_logger(__name__)

PLATFORM = "tiktok"
CONN_ID = "tiktok_api"
DISPLAY_CONN_ID = "tiktok_display"
BASE_ENV = "TIKTOK_API_BASE"  # the CLI reads the base URL and the secret from these
SECRET_ENV = "TIKTOK_CLIENT_TOKEN"
#: Accounts on the Display API need no client token: the source checks for the secret per account.
SECRET_CHECKED_BY_SOURCE = True
DISPLAY_TOKENS_ENV = "TIKTOK_DISPLAY_TOKENS"
DEFAULT_BASE_URL = "https://open.tiktokapis.com"
USERNAMES_PER_QUERY = 20
#: ``video_id`` values per Research query; TikTok documents no maximum for ``field_values``, so one page's worth.
VIDEO_IDS_PER_QUERY = 100
MAX_QUERY_DAYS = 30
USER_INFO = EndpointSpec(
    "user_info", "/v2/research/user/info/", {"fields": "display_name,follower_count,following_count,likes_count,video_count,is_verified"}
)
VIDEO_QUERY = EndpointSpec(
    "video_query",
    "/v2/research/video/query/",
    {"fields": "id,username,create_time,video_description,hashtag_names,region_code,like_count,comment_count,share_count,view_count"},
    page_size=100,
)
#: Display API: counts need the user.info.stats scope; ``username`` (user.info.profile) is not asked, the landed line names the user.
DISPLAY_USER_INFO = EndpointSpec("display_user_info", "/v2/user/info/", {"fields": "open_id,display_name,follower_count,following_count,likes_count,video_count"})
DISPLAY_VIDEO_FIELDS = "id,create_time,title,video_description,share_url,duration,like_count,comment_count,share_count,view_count"
VIDEO_LIST = EndpointSpec("display_video_list", "/v2/video/list/", {"fields": DISPLAY_VIDEO_FIELDS}, page_size=20)
DISPLAY_VIDEO_QUERY = EndpointSpec("display_video_query", "/v2/video/query/", {"fields": DISPLAY_VIDEO_FIELDS}, batch_size=20)


class TokenRefused(CredentialsRejected):
    """TikTok answers access_token_invalid: the client token expired (they last 2 hours) or was revoked."""


class DisplayTokenRefused(FatalApiError):
    """TikTok refuses one account's Display API user token: that account only is token_expired.

    Not a :class:`CredentialsRejected`: the platform's connection still works for every other account.
    """


def query_windows(as_of: datetime, repull_days: int) -> list[tuple[date, date]]:
    """(start_date, end_date) pairs, newest first, of at most 30 days each, covering the re-pull window up to ``as_of``."""
    end = as_of.astimezone(UTC).date()
    first = end - timedelta(days=max(0, repull_days))
    windows: list[tuple[date, date]] = []
    while True:
        start = max(first, end - timedelta(days=MAX_QUERY_DAYS))
        windows.append((start, end))
        if start <= first:
            return windows
        end = start - timedelta(days=1)


class TikTokSource:
    """Collects a shard of TikTok accounts (platform id = username) into one landing file."""

    def __init__(
        self,
        client: ApiClient,
        base_url: str,
        token: str,
        budget: RateBudget,
        landing: LandingWriter,
        display_tokens: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.landing = landing
        self.lanes = Lanes(client, landing)
        self.token = token
        self.client.headers["Authorization"] = f"Bearer {token}"
        if display_tokens is None:
            display_tokens = resolve_secret_map(DISPLAY_CONN_ID, env=DISPLAY_TOKENS_ENV)
        #: username (lower case, no '@') -> Display API user access token
        self.display_tokens = {name.lstrip("@").lower(): secret for name, secret in display_tokens.items()}
        # User tokens are masked like the client token in every landed body and error message.
        self.client.secrets = tuple(dict.fromkeys((*self.client.secrets, *self.display_tokens.values())))

    def uses_display_api(self, account: AccountRef) -> bool:
        return account.platform_account_id.lstrip("@").lower() in self.display_tokens

    def _post(
        self, endpoint: EndpointSpec, body: dict[str, Any], account: str | None, username: str | None = None, **context: Any
    ) -> dict[str, Any]:
        self.budget.spend(endpoint.cost_units)
        # user/info answers do not repeat the username: the landing line carries it for the parser.
        self.landing.context = {"endpoint": endpoint.name, "account": account, "username": username, **context}
        try:
            payload = self.client.post_json(self.base_url + endpoint.path, body, endpoint.params, account=account)
        except FatalApiError as exc:
            if exc.status == 401:
                raise TokenRefused(
                    f"TikTok refuses the client token of connection '{CONN_ID}' (access_token_invalid); renew it",
                    source=PLATFORM, account=account, status=exc.status,
                ) from None
            raise
        return payload if isinstance(payload, dict) else {}

    def extract(
        self, accounts: list[AccountRef], *, as_of: datetime, repull_days: int, known_posts: Iterable[tuple[str, str]] = ()
    ) -> Extraction:
        result = Extraction()
        known = list(known_posts)
        try:
            self._extract_research([a for a in accounts if not self.uses_display_api(a)], as_of, repull_days, known, result)
            self._extract_display([a for a in accounts if self.uses_display_api(a)], as_of, repull_days, known, result)
        finally:
            result.record_usage(self.client, self.budget)
        return result

    # -- Research API ----------------------------------------------------------------------------

    def _extract_research(
        self, accounts: list[AccountRef], as_of: datetime, repull_days: int, known: list[tuple[str, str]], result: Extraction
    ) -> None:
        if not accounts:
            return
        if not self.token:
            raise ValueError(
                f"source={PLATFORM}: no API key; set the password of Airflow connection '{CONN_ID}' or the environment "
                f"variable TIKTOK_CLIENT_TOKEN ({len(accounts)} accounts have no Display API token in '{DISPLAY_CONN_ID}')"
            )
        by_name = {a.platform_account_id: a.account_key for a in accounts}
        pending = dict(by_name)
        windows = query_windows(as_of, repull_days)
        seen: set[str] = set()
        try:
            for username, done in self.lanes.each(list(by_name), lambda name: self._post(USER_INFO, {"username": name}, by_name[name], name)):
                try:
                    done.result()
                except CredentialsRejected:
                    raise
                except FatalApiError as exc:
                    message = str(exc)
                    status = "private" if "private" in message.lower() else "not_found" if "not exist" in message.lower() else "api_error"
                    result.outcomes[pending.pop(username)] = Outcome(status, message)
                except RetriableApiError as exc:
                    result.outcomes[pending.pop(username)] = Outcome("api_error", str(exc))
            batches = list(batched([u for u in by_name if u in pending], USERNAMES_PER_QUERY))
            for batch, done in self.lanes.each(batches, lambda batch: self._query(VIDEO_QUERY, "username", batch, windows)):
                try:
                    seen |= done.result()
                except CredentialsRejected:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    for username in batch:
                        result.outcomes[pending.pop(username)] = Outcome("api_error", str(exc))
            # Known posts of collected accounts that the username query no longer returned: ask for them by id.
            missing = list(dict.fromkeys(post for post, username in known if username in pending and post not in seen))
            lookup = replace(VIDEO_QUERY, name="video_lookup")
            lookups = list(enumerate(batched(missing, VIDEO_IDS_PER_QUERY)))
            for (_, batch), done in self.lanes.each(lookups, lambda numbered: self._query(lookup, "video_id", numbered[1], windows, numbered[0])):
                try:
                    done.result()
                except CredentialsRejected:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    owners = {username for post, username in known if post in batch}
                    for username in [u for u in pending if u in owners]:
                        result.outcomes[pending.pop(username)] = Outcome("api_error", str(exc))
            for username in list(pending):
                result.outcomes[pending.pop(username)] = Outcome("ok")
        except (CredentialsRejected, BudgetExhausted) as exc:
            result.stop(exc, (by_name[username] for username in pending), source=PLATFORM, connection=CONN_ID)

    def _query(
        self, endpoint: EndpointSpec, field: str, values: list[str], windows: list[tuple[date, date]], lookup: int | None = None
    ) -> set[str]:
        """One ``IN`` query over every window; a lookup by id (``lookup`` = its number) lands the ids it asked for."""
        condition = {"operation": "IN", "field_name": field, "field_values": values}
        seen: set[str] = set()
        for index, (start, end) in enumerate(windows):
            # The parser records an id as gone only when every window of its lookup was read to the end.
            context = {} if lookup is None else {"requested_ids": values, "lookup": lookup, "window": index, "windows": len(windows)}
            seen |= self._videos(endpoint, condition, start, end, **context)
        return seen

    def _videos(self, endpoint: EndpointSpec, condition: dict[str, Any], start: date, end: date, **context: Any) -> set[str]:
        """Every page of one query (one window); the ids it returned."""
        paginator = CursorPaginator(("data", "cursor"), "cursor", more_path=("data", "has_more"))
        search_id: str | None = None
        seen: set[str] = set()
        body: dict[str, Any] = {
            "query": {"and": [condition]},
            "start_date": start.strftime("%Y%m%d"), "end_date": end.strftime("%Y%m%d"), "max_count": endpoint.page_size,
        }
        while paginator.has_next_page:
            # Later pages must repeat the search_id, or TikTok runs the query again and the offsets move.
            page = paginator.update_request(body) | ({"search_id": search_id} if search_id else {})
            payload = self._post(endpoint, page, None, **context)
            paginator.update_state(payload)
            data = payload.get("data") or {}
            search_id = data.get("search_id") or search_id
            seen.update(str(v["id"]) for v in data.get("videos") or [] if isinstance(v, dict) and v.get("id") is not None)
        return seen

    # -- Display API -----------------------------------------------------------------------------

    def _extract_display(
        self, accounts: list[AccountRef], as_of: datetime, repull_days: int, known: list[tuple[str, str]], result: Extraction
    ) -> None:
        since = as_of - timedelta(days=repull_days)

        def collect(account: AccountRef) -> None:
            username = account.platform_account_id
            self._display_account(username, account.account_key, as_of, since, [post for post, user in known if user == username])

        for account, done in self.lanes.each(accounts, collect):
            key = account.account_key
            try:
                done.result()
            except DisplayTokenRefused as exc:
                result.outcomes[key] = Outcome("token_expired", str(exc), DISPLAY_CONN_ID)
                log.error("display token refused", **{"source": PLATFORM, "connection": DISPLAY_CONN_ID, "account": key})
            except (FatalApiError, RetriableApiError) as exc:
                result.outcomes[key] = Outcome("api_error", str(exc))
            else:
                result.outcomes[key] = Outcome("ok")

    def _display_account(self, username: str, account: str, as_of: datetime, since: datetime, known: list[str]) -> None:
        self._display(DISPLAY_USER_INFO, username, account)
        seen = self._video_list(username, account, as_of, since)
        missing = list(dict.fromkeys(post for post in known if post not in seen))
        for number, batch in enumerate(batched(missing, DISPLAY_VIDEO_QUERY.batch_size or 20)):
            self._display(
                DISPLAY_VIDEO_QUERY, username, account, body={"filters": {"video_ids": batch}},
                requested_ids=batch, lookup=f"{username}:{number}",
            )

    def _video_list(self, username: str, account: str, as_of: datetime, since: datetime) -> set[str]:
        """The account's videos newest first from ``as_of`` back past ``since``; the ids returned."""
        paginator = CursorPaginator(("data", "cursor"), "cursor", more_path=("data", "has_more"))
        # The cursor is a UTC time in ms: starting at the read time makes a backfill list what existed then.
        body: dict[str, Any] = {"max_count": VIDEO_LIST.page_size, "cursor": int(as_of.timestamp() * 1000)}
        seen: set[str] = set()
        while paginator.has_next_page:
            payload = self._display(VIDEO_LIST, username, account, body=paginator.update_request(body), since=since.isoformat())
            paginator.update_state(payload)
            videos = [v for v in (payload.get("data") or {}).get("videos") or [] if isinstance(v, dict)]
            seen.update(str(v["id"]) for v in videos if v.get("id") is not None)
            times = [v["create_time"] for v in videos if isinstance(v.get("create_time"), int)]
            if not videos or (times and min(times) < since.timestamp()):
                break  # past the re-pull cutoff (the parser drops the older videos of this page), or nothing more
        return seen

    def _display(self, endpoint: EndpointSpec, username: str, account: str, body: dict[str, Any] | None = None, **context: Any) -> dict[str, Any]:
        """One Display API call with the account's own user token (GET without a body, else POST)."""
        self.landing.context = {"endpoint": endpoint.name, "account": account, "username": username, **context}
        url = self.base_url + endpoint.path
        # The account's own token on this request only: the client's headers are shared by the source's workers.
        headers = {"Authorization": f"Bearer {self.display_tokens[username.lstrip('@').lower()]}"}
        try:
            if body is None:
                payload = self.client.get_json(url, endpoint.params, account=account, headers=headers)
            else:
                payload = self.client.post_json(url, body, endpoint.params, account=account, headers=headers)
        except FatalApiError as exc:
            if exc.status == 401:
                raise DisplayTokenRefused(
                    f"TikTok refuses the Display API user token for '{username}' in connection '{DISPLAY_CONN_ID}' "
                    "(access_token_invalid or scope_not_authorized): refresh it, or have the account owner authorise the app again",
                    source=PLATFORM, account=account, status=exc.status,
                ) from None
            raise
        return payload if isinstance(payload, dict) else {}
