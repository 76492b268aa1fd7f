"""Facebook Pages through the Graph API: page fields and ``published_posts``.

Per page: one call for ``followers_count``/``fan_count``, then
``published_posts`` pages of 100 posts with ``since`` = the re-pull cutoff
(the API filters by date, so the walk needs no stop rule), each post with
created_time, message, shares and the reactions and comments totals.
Cursor paging follows ``paging.cursors.after`` while ``paging.next`` exists.
The Graph API version is the setting PANTAU_GRAPH_API_VERSION.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog

from etl.http import ApiClient, BudgetExhausted, FatalApiError, RetriableApiError
from etl.landing import LandingWriter
from etl.sources import PlatformSpec
from etl.sources.base import AccountRef, CursorPaginator, EndpointSpec, Extraction, Outcome, RateBudget
from etl.sources.graph import CONN_ID, DEFAULT_BASE_URL, GraphCalls, TokenExpired

log = structlog.get_logger(__name__)

PLATFORM = "facebook"
PAGE = EndpointSpec("page", "/{page_id}", {"fields": "id,name,followers_count,fan_count"})
POSTS = EndpointSpec(
    "published_posts",
    "/{page_id}/published_posts",
    {"fields": "id,created_time,message,permalink_url,shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"},
    page_size=100,
)


class FacebookSource:
    """Collects a shard of Facebook Pages into one landing file."""

    def __init__(self, client: ApiClient, base_url: str, token: str, budget: RateBudget, landing: LandingWriter) -> None:
        self.calls = GraphCalls(PLATFORM, client, base_url, token, budget, landing)
        self.client = client
        self.budget = budget

    def extract(
        self, accounts: list[AccountRef], *, as_of: datetime, repull_days: int, known_posts: Iterable[tuple[str, str]] = ()
    ) -> Extraction:
        result = Extraction()
        since = int((as_of - timedelta(days=repull_days)).timestamp())
        until = int(as_of.timestamp())
        pending = {a.account_key: a for a in accounts}
        try:
            for account in accounts:
                page_id = account.platform_account_id
                try:
                    self.calls.get(PAGE, PAGE.path.format(page_id=page_id), {}, account.account_key)
                    paginator = CursorPaginator(("paging", "cursors", "after"), "after", more_path=("paging", "next"))
                    params = {"since": since, "until": until, "limit": POSTS.page_size}
                    while paginator.has_next_page:
                        payload = self.calls.get(POSTS, POSTS.path.format(page_id=page_id), paginator.update_request(params), account.account_key)
                        paginator.update_state(payload)
                    result.outcomes[account.account_key] = Outcome("ok")
                except TokenExpired:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    status, message = self.calls.outcome_of(exc, f"page {page_id}")
                    result.outcomes[account.account_key] = Outcome(status, message)
                pending.pop(account.account_key)
        except TokenExpired as exc:
            result.mark(pending, "token_expired", str(exc))
            log.error("token expired", **{"source": PLATFORM, "connection": CONN_ID, "accounts": len(pending)})
        except BudgetExhausted as exc:
            result.mark(pending, "deferred", str(exc))
            log.warning("budget spent", **{"source": PLATFORM, "deferred_accounts": len(pending)})
        finally:
            result.record_usage(self.client, self.budget)
        return result


SPEC = PlatformSpec(
    platform=PLATFORM,
    conn_id=CONN_ID,
    default_base_url=DEFAULT_BASE_URL,
    base_env="META_GRAPH_BASE",
    secret_env="META_GRAPH_TOKEN",
    daily_budget=4_800,  # Page rate limits scale with engaged users; PANTAU_FACEBOOK_BUDGET overrides
    make_source=FacebookSource,
)
