"""TikTok Research API: user info and the video query.

Which TikTok API an operator can use (see README): the Research API reads
any public account with a client token, but only approved research
institutions get access; the Display API (``/v2/video/list/``,
``/v2/video/query/`` up to 20 ids) needs every account owner to authorise
our app with OAuth, so it suits only the institutions' own accounts. Pantau
uses the Research API.

Per shard: one ``user/info`` call per account (followers, video count), then
``video/query`` for up to :data:`USERNAMES_PER_QUERY` usernames at a time
over the re-pull window (at most 30 days per query, the API's limit), paged
with ``cursor`` + ``search_id`` while ``has_more``, ``max_count`` 100 (the
documented maximum). Calls = accounts + sum over batches of ceil(videos / 100).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from etl.http import ApiClient, BudgetExhausted, FatalApiError, RetriableApiError
from etl.landing import LandingWriter
from etl.sources import PlatformSpec
from etl.sources.base import AccountRef, CursorPaginator, EndpointSpec, Extraction, Outcome, RateBudget, batched

log = structlog.get_logger(__name__)

PLATFORM = "tiktok"
CONN_ID = "tiktok_api"
DEFAULT_BASE_URL = "https://open.tiktokapis.com"
USERNAMES_PER_QUERY = 20
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


class TokenRefused(FatalApiError):
    """TikTok answers access_token_invalid: the client token expired (they last 2 hours) or was revoked."""


class TikTokSource:
    """Collects a shard of TikTok accounts (platform id = username) into one landing file."""

    def __init__(self, client: ApiClient, base_url: str, token: str, budget: RateBudget, landing: LandingWriter) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.landing = landing
        self.client.headers["Authorization"] = f"Bearer {token}"

    def _post(self, endpoint: EndpointSpec, body: dict[str, Any], account: str | None, username: str | None = None) -> dict[str, Any]:
        self.budget.spend(endpoint.cost_units)
        # user/info answers do not repeat the username: the landing line carries it for the parser.
        self.landing.context = {"endpoint": endpoint.name, "account": account, "username": username}
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
        by_name = {a.platform_account_id: a.account_key for a in accounts}
        pending = dict(by_name)
        end = as_of.astimezone(UTC).date()
        start = end - timedelta(days=min(repull_days, MAX_QUERY_DAYS))
        try:
            for username in list(by_name):
                try:
                    self._post(USER_INFO, {"username": username}, by_name[username], username)
                except TokenRefused:
                    raise
                except FatalApiError as exc:
                    message = str(exc)
                    status = "private" if "private" in message.lower() else "not_found" if "not exist" in message.lower() else "api_error"
                    result.outcomes[pending.pop(username)] = Outcome(status, message)
                except RetriableApiError as exc:
                    result.outcomes[pending.pop(username)] = Outcome("api_error", str(exc))
            for batch in batched([u for u in by_name if u in pending], USERNAMES_PER_QUERY):
                try:
                    self._videos(batch, start.strftime("%Y%m%d"), end.strftime("%Y%m%d"))
                except TokenRefused:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    for username in batch:
                        result.outcomes[pending.pop(username)] = Outcome("api_error", str(exc))
            for username in list(pending):
                result.outcomes[pending.pop(username)] = Outcome("ok")
        except TokenRefused as exc:
            result.mark((by_name[username] for username in pending), "token_expired", str(exc))
            log.error("token refused", **{"source": PLATFORM, "connection": CONN_ID, "accounts": len(pending)})
        except BudgetExhausted as exc:
            result.mark((by_name[username] for username in pending), "deferred", str(exc))
            log.warning("budget spent", **{"source": PLATFORM, "deferred_accounts": len(pending)})
        finally:
            result.record_usage(self.client, self.budget)
        return result

    def _videos(self, usernames: list[str], start_date: str, end_date: str) -> None:
        paginator = CursorPaginator(("data", "cursor"), "cursor", more_path=("data", "has_more"))
        search_id: str | None = None
        body: dict[str, Any] = {
            "query": {"and": [{"operation": "IN", "field_name": "username", "field_values": usernames}]},
            "start_date": start_date, "end_date": end_date, "max_count": VIDEO_QUERY.page_size,
        }
        while paginator.has_next_page:
            # Later pages must repeat the search_id, or TikTok runs the query again and the offsets move.
            page = paginator.update_request(body) | ({"search_id": search_id} if search_id else {})
            payload = self._post(VIDEO_QUERY, page, None)
            paginator.update_state(payload)
            search_id = (payload.get("data") or {}).get("search_id") or search_id


SPEC = PlatformSpec(
    platform=PLATFORM,
    conn_id=CONN_ID,
    default_base_url=DEFAULT_BASE_URL,
    base_env="TIKTOK_API_BASE",
    secret_env="TIKTOK_CLIENT_TOKEN",
    daily_budget=1_000,  # the Research API's 1,000 requests a day; PANTAU_TIKTOK_BUDGET overrides
    make_source=TikTokSource,
)
