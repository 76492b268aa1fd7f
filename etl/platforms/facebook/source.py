"""Facebook Pages through the Graph API: page fields, ``published_posts`` and a lookup of known posts by id.

Per page: one call for ``followers_count``/``fan_count``, then
``published_posts`` pages of 100 posts with ``since`` = the re-pull cutoff
(the API filters by date, so the walk needs no stop rule), each post with
created_time, message, shares and the reactions and comments totals.
Paging follows ``paging.next`` whenever it is present, whether it carries a
cursor (``after``) or Meta's time-based ``until``/``since``/``__paging_token``
with no ``cursors.after`` (:class:`~etl.sources.base.NextUrlPaginator`); a
``next`` that cannot move the walk on ends it with the page ``partial`` in the
ledger, never ``ok``.
The Graph API version is the setting PANTAU_GRAPH_API_VERSION.

Deletions: known posts of a collected page (still in the re-pull window)
that ``published_posts`` no longer returned are looked up with Graph's
multiple-id read, ``GET /<version>/?ids=a,b,...`` (at most 50 ids a call).
Meta fails that whole call when one id no longer exists (400, code 100
subcode 33, naming one id), so a failed batch is asked again one id at a
time; an id answered "does not exist" is flagged deleted, a found id gets
its metric snapshot like a ``published_posts`` row. The per-id fallback also
covers versions that refuse ``?ids=`` at the root (announced for v26.0).

Calls per night for P pages and K known posts missing from the walk:
P x (1 + max(1, ceil(posts in the window / 100))) + ceil(K / 50), plus up to
50 per-id calls for each batch that held a deleted post, plus one repeated
call per field a newer Graph version no longer serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog

from etl.http import ApiClient, BudgetExhausted, CredentialsRejected, FatalApiError, RetriableApiError
from etl.landing import LandingWriter

# The connection and its settings are Meta's, shared with the other Graph platform.
from etl.platforms.graph.source import BASE_ENV as BASE_ENV
from etl.platforms.graph.source import CONN_ID, GraphCalls, ObjectGone
from etl.platforms.graph.source import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from etl.platforms.graph.source import SECRET_ENV as SECRET_ENV
from etl.sources.base import AccountRef, EndpointSpec, Extraction, NextUrlPaginator, Outcome, RateBudget, batched, unique
from etl.sources.concurrency import Lanes

log = structlog.get_logger(__name__)

PLATFORM = "facebook"
POST_FIELDS = "id,created_time,message,permalink_url,shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
PAGE = EndpointSpec("page", "/{page_id}", {"fields": "id,name,followers_count,fan_count"})
POSTS = EndpointSpec("published_posts", "/{page_id}/published_posts", {"fields": POST_FIELDS}, page_size=100)
#: Multiple-id read; Meta allows at most 50 ids per call (Graph API 2.2 upgrade notes).
LOOKUP = EndpointSpec("post_lookup", "/", {"fields": POST_FIELDS}, batch_size=50)
POST = EndpointSpec("post", "/{post_id}", {"fields": POST_FIELDS})


class FacebookSource:
    """Collects a shard of Facebook Pages into one landing file."""

    def __init__(self, client: ApiClient, base_url: str, token: str, budget: RateBudget, landing: LandingWriter) -> None:
        self.calls = GraphCalls(PLATFORM, client, base_url, token, budget, landing)
        self.client = client
        self.budget = budget
        self.lanes = Lanes(client, landing)

    def extract(
        self, accounts: list[AccountRef], *, as_of: datetime, repull_days: int, known_posts: Iterable[tuple[str, str]] = ()
    ) -> Extraction:
        result = Extraction()
        since = int((as_of - timedelta(days=repull_days)).timestamp())
        until = int(as_of.timestamp())
        pending = {a.account_key: a for a in accounts}
        collected: dict[str, str] = {}  # page id -> account key, for pages walked to the end
        seen: set[str] = set()
        try:
            for account, done in self.lanes.each(accounts, lambda account: self._walk(account, since, until)):
                page_id = account.platform_account_id
                try:
                    paginator, returned = done.result()
                    seen |= returned
                    result.outcomes[account.account_key] = (
                        Outcome("partial", f"source={PLATFORM} page {page_id}: published_posts announced another page after "
                                           f"page {paginator.pages} that could not be followed (paging.next repeats the "
                                           "last request); posts past it in the re-pull window were not read")
                        if paginator.stopped_early else Outcome("ok")
                    )
                    collected[page_id] = account.account_key
                except CredentialsRejected:
                    raise
                except (FatalApiError, RetriableApiError) as exc:
                    status, message = self.calls.outcome_of(exc, f"page {page_id}")
                    result.outcomes[account.account_key] = Outcome(status, message)
                pending.pop(account.account_key)
            missing = [(post_id, page_id) for post_id, page_id in unique(known_posts) if page_id in collected and post_id not in seen]
            # Until its deletion check is made a page is not done: a refused token or a spent budget in the lookups says so.
            pending = dict.fromkeys(collected[page_id] for _, page_id in missing)
            self._look_up(missing, collected, result)
        except (CredentialsRejected, BudgetExhausted) as exc:
            result.stop(exc, pending, source=PLATFORM, connection=CONN_ID)
        finally:
            result.record_usage(self.client, self.budget)
        return result

    def _walk(self, account: AccountRef, since: int, until: int) -> tuple[NextUrlPaginator, set[str]]:
        """The page's fields and its ``published_posts`` inside the window; the paginator says how the walk ended."""
        page_id = account.platform_account_id
        self.calls.get(PAGE, PAGE.path.format(page_id=page_id), {}, account.account_key)
        paginator = NextUrlPaginator(("paging", "next"))
        params = {"since": since, "until": until, "limit": POSTS.page_size}
        seen: set[str] = set()
        while paginator.has_next_page:
            payload = self.calls.get(POSTS, POSTS.path.format(page_id=page_id), paginator.update_request(params), account.account_key)
            paginator.update_state(payload)
            seen.update(str(p["id"]) for p in payload.get("data") or [] if isinstance(p, dict) and p.get("id"))
        return paginator, seen

    def _look_up(self, missing: list[tuple[str, str]], collected: dict[str, str], result: Extraction) -> None:
        """Ask for known posts the walk did not return; the parser reads found posts and "does not exist" answers from the landing."""
        batches = list(batched(missing, LOOKUP.batch_size or 50))
        for _, done in self.lanes.each(batches, lambda batch: self._look_up_batch(batch, collected)):
            for failed, exc in done.result():
                self._lookup_failed(failed, collected, result, exc)

    def _look_up_batch(self, batch: list[tuple[str, str]], collected: dict[str, str]) -> list[tuple[list[tuple[str, str]], Exception]]:
        """One multiple-id read, or each id alone when it fails; the (posts, error) that could not be checked."""
        ids = [post_id for post_id, _ in batch]
        try:
            self.calls.get(LOOKUP, LOOKUP.path, {"ids": ",".join(ids)}, None, ids=ids)
            return []
        except CredentialsRejected:
            raise
        except RetriableApiError as exc:
            return [(batch, exc)]
        except FatalApiError:
            pass  # one gone id fails the whole call (or ?ids= is refused): ask each id alone
        failed: list[tuple[list[tuple[str, str]], Exception]] = []
        for post_id, page_id in batch:
            try:
                self.calls.get(POST, POST.path.format(post_id=post_id), {}, collected[page_id], ids=[post_id])
            except ObjectGone:
                log.info("known post gone", **{"source": PLATFORM, "post": post_id, "page": page_id})
            except CredentialsRejected:
                raise
            except (FatalApiError, RetriableApiError) as exc:
                failed.append(([(post_id, page_id)], exc))
        return failed

    @staticmethod
    def _lookup_failed(batch: list[tuple[str, str]], collected: dict[str, str], result: Extraction, exc: Exception) -> None:
        # As on X: a page whose deletion check could not be made is not fully collected.
        for post_id, page_id in batch:
            result.outcomes[collected[page_id]] = Outcome("api_error", f"source={PLATFORM} lookup of known post {post_id} failed: {exc}")
