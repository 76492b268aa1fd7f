"""Instagram Graph API: public professional accounts through ``business_discovery``.

One call per page of media, newest first, from our own Instagram business
account (setting ``PANTAU_INSTAGRAM_USER_ID``) asking about the target's
username; the first page also carries followers_count, follows_count and
media_count. Pages are small (25 media: large business_discovery pages time
out on Meta's side) and the walk stops at the re-pull cutoff, so calls per
account = ceil(media in the window / 25), at least one.

business_discovery cannot look a media up by id, so a post that vanished is
simply not seen again: no deletion flag for Instagram, unlike Facebook, whose
known posts are looked up by id. Hidden like counts are absent from the
answer and stay NULL, with the reason in ``unavailable_metrics``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from etl.http import ApiClient, BudgetExhausted, CredentialsRejected, FatalApiError, RetriableApiError
from etl.landing import LandingWriter

# The connection and its settings are Meta's, shared with the other Graph platform.
from etl.platforms.graph.source import BASE_ENV as BASE_ENV
from etl.platforms.graph.source import CONN_ID, GraphCalls
from etl.platforms.graph.source import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from etl.platforms.graph.source import SECRET_ENV as SECRET_ENV
from etl.sources.base import AccountRef, CursorPaginator, EndpointSpec, Extraction, Outcome, RateBudget
from etl.sources.concurrency import Lanes

PLATFORM = "instagram"
MEDIA_FIELDS = "id,caption,timestamp,like_count,comments_count,media_type,media_product_type,permalink"
DISCOVERY = EndpointSpec("business_discovery", "/{ig_user_id}", page_size=25)


def own_account_id() -> str:
    """Our Instagram professional account, through which business_discovery is asked."""
    value = os.environ.get("PANTAU_INSTAGRAM_USER_ID")
    if not value:
        raise ValueError(
            "source=instagram: set PANTAU_INSTAGRAM_USER_ID to the Instagram business account id that owns "
            f"the token of connection '{CONN_ID}' (business_discovery is asked through it)"
        )
    return value


class InstagramSource:
    """Collects a shard of Instagram accounts into one landing file."""

    def __init__(self, client: ApiClient, base_url: str, token: str, budget: RateBudget, landing: LandingWriter) -> None:
        self.calls = GraphCalls(PLATFORM, client, base_url, token, budget, landing)
        self.client = client
        self.budget = budget
        self.lanes = Lanes(client, landing)

    def _fields(self, username: str, after: str | None) -> str:
        media = "media" + (f".after({after})" if after else "") + f".limit({DISCOVERY.page_size})"
        head = "followers_count,follows_count,media_count," if after is None else ""
        return f"business_discovery.username({username}){{{head}{media}{{{MEDIA_FIELDS}}}}}"

    def extract(
        self, accounts: list[AccountRef], *, as_of: datetime, repull_days: int, known_posts: Iterable[tuple[str, str]] = ()
    ) -> Extraction:
        result = Extraction()
        cutoff = as_of - timedelta(days=repull_days)
        pending = {a.account_key: a for a in accounts}
        own = own_account_id() if accounts else ""
        try:
            for account, done in self.lanes.each(accounts, lambda account: account.handle and self._walk(own, account, cutoff)):
                if not account.handle:
                    result.outcomes[account.account_key] = Outcome("not_found", f"source=instagram account {account.account_key} has no username to discover")
                    pending.pop(account.account_key)
                    continue
                try:
                    done.result()
                    result.outcomes[account.account_key] = Outcome("ok")
                except CredentialsRejected:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    status, message = self.calls.outcome_of(exc, f"username {account.handle}")
                    result.outcomes[account.account_key] = Outcome(status, message)
                pending.pop(account.account_key)
        except (CredentialsRejected, BudgetExhausted) as exc:
            result.stop(exc, pending, source=PLATFORM, connection=CONN_ID)
        finally:
            result.record_usage(self.client, self.budget)
        return result

    def _walk(self, own: str, account: AccountRef, cutoff: datetime) -> None:
        paginator = CursorPaginator(("business_discovery", "media", "paging", "cursors", "after"), "after")
        path = DISCOVERY.path.format(ig_user_id=own)
        while paginator.has_next_page:
            # The page that crosses the cutoff also holds older media: the landed cutoff lets the parser leave them out.
            payload = self.calls.get(
                DISCOVERY, path, {"fields": self._fields(account.handle or "", paginator.cursor)}, account.account_key,
                since=cutoff.isoformat(),
            )
            paginator.update_state(payload)
            media: list[dict[str, Any]] = ((payload.get("business_discovery") or {}).get("media") or {}).get("data") or []
            if not media or any(_older(m.get("timestamp"), cutoff) for m in media if isinstance(m, dict)):
                break  # newest first: the rest is older than the re-pull window


def _older(timestamp: Any, cutoff: datetime) -> bool:
    if not isinstance(timestamp, str):
        return False
    try:
        value = datetime.fromisoformat(timestamp[:-2] + ":" + timestamp[-2:] if timestamp[-5] in "+-" else timestamp.replace("Z", "+00:00"))
    except (ValueError, IndexError):
        return False
    return value < cutoff
