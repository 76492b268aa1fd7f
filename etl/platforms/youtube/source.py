"""YouTube Data API v3: channel statistics, uploads and video statistics.

Costs (quota units) and batch sizes are Google's: channels.list and
videos.list take at most 50 ids and cost 1 unit; playlistItems.list pages
50 items at 1 unit.  A channel's uploads are walked newest first and the walk
stops at the re-pull window, so a nightly run re-reads the metrics of the last
``repull_days`` of posts and no more.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from etl.http import ApiClient, BudgetExhausted, CredentialsRejected, FatalApiError, RetriableApiError
from etl.landing import LandingWriter
from etl.sources.base import QUOTA, AccountRef, EndpointSpec, Extraction, Outcome, PageTokenPaginator, RateBudget, batched, unique
from etl.sources.concurrency import Lanes

PLATFORM = "youtube"
CONN_ID = "youtube_api"
BASE_ENV = "YOUTUBE_API_BASE"  # the CLI reads the base URL and the secret from these
SECRET_ENV = "YOUTUBE_API_KEY"
DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
PACIFIC = ZoneInfo("America/Los_Angeles")

#: Google pretty-prints every answer unless asked not to (a standard query parameter of its APIs): compact JSON is
#: ~30% fewer bytes to receive, land, compress and decode.
COMPACT = {"prettyPrint": "false"}


class UploadDetails(TypedDict, total=False):
    videoId: Any
    videoPublishedAt: Any


class UploadSnippet(TypedDict, total=False):
    publishedAt: Any


class Upload(TypedDict, total=False):
    contentDetails: UploadDetails
    snippet: UploadSnippet


class UploadsPage(TypedDict, total=False):
    """What the uploads walk reads of a playlistItems.list page (titles, descriptions and thumbnails are skipped)."""

    nextPageToken: Any
    items: list[Upload]


class Landed(TypedDict, total=False):
    """Nothing: videos.list answers are read from the landing file by the parser; here they are only checked as JSON."""


CHANNELS = EndpointSpec("channels", "/channels", {"part": "snippet,statistics,contentDetails", **COMPACT}, batch_size=50)
UPLOADS = EndpointSpec("playlistItems", "/playlistItems", {"part": "contentDetails,snippet", **COMPACT}, page_size=50, reads=UploadsPage)
VIDEOS = EndpointSpec("videos", "/videos", {"part": "snippet,statistics,contentDetails", **COMPACT}, batch_size=50, reads=Landed)

#: Error reasons that mean the whole platform is unusable with these credentials: stop at once. Google's
#: ``google.rpc.ErrorInfo`` reasons say it of the key or project (invalid, blocked for this API or this caller,
#: API disabled). A bare ``forbidden`` / ``PERMISSION_DENIED`` ("The caller does not have permission") or
#: ``SERVICE_UNAVAILABLE`` is not among them: it is an answer about that request, recorded ``api_error``.
CREDENTIAL_REASONS = frozenset({
    "API_KEY_INVALID", "API_KEY_EXPIRED", "keyInvalid", "keyExpired", "accessNotConfigured", "ipRefererBlocked",
    "SERVICE_DISABLED", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED", "API_KEY_IP_ADDRESS_BLOCKED",
    "API_KEY_ANDROID_APP_BLOCKED", "API_KEY_IOS_APP_BLOCKED",
})
#: Error reasons that mean the day's quota is spent: defer the rest, as with our own budget.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded"})


class PlatformUnavailable(CredentialsRejected):
    """The platform refuses every call (bad key, API disabled): fail this platform's tasks fast."""


class YouTubeSource:
    """Collects a shard of YouTube channels into one landing file."""

    def __init__(
        self,
        client: ApiClient,
        base_url: str,
        api_key: str,
        budget: RateBudget,
        landing: LandingWriter,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.budget = budget
        self.landing = landing
        self.lanes = Lanes(client, landing)

    def _call(self, endpoint: EndpointSpec, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        self.budget.spend(endpoint.cost_units)
        self.landing.context = {"endpoint": endpoint.name, "account": account}
        try:
            return self.client.get_json(
                self.base_url + endpoint.path, {**endpoint.params, **params, "key": self.api_key}, account=account, reads=endpoint.reads
            )
        except FatalApiError as exc:
            if exc.reasons & CREDENTIAL_REASONS or exc.status == 401:
                raise PlatformUnavailable(
                    f"YouTube refuses the credentials of connection '{CONN_ID}' ({', '.join(sorted(exc.reasons)) or exc.status}); "
                    "check the API key",
                    source=PLATFORM,
                    account=account,
                    status=exc.status,
                    reason=exc.reason,
                ) from None
            if exc.reasons & QUOTA_REASONS:
                message = f"YouTube quota exceeded ({exc.reason}); deferring the rest"
                # Google resets the daily quota at midnight Pacific time: the platform's other shards defer until then.
                self.budget.block(QUOTA, quota_reset(datetime.now(UTC)), message)
                raise BudgetExhausted(message) from None
            raise

    def extract(
        self,
        accounts: list[AccountRef],
        *,
        as_of: datetime,
        repull_days: int,
        known_posts: Iterable[tuple[str, str]] = (),
    ) -> Extraction:
        """Collect channel statistics, recent uploads and their metrics for ``accounts``.

        ``known_posts`` are (video id, channel id) pairs already in the warehouse
        inside the re-pull window: they are re-read even when they left the
        uploads list, so a deletion is seen as a deletion.
        """
        result = Extraction()
        cutoff = as_of - timedelta(days=repull_days)
        by_channel = {a.platform_account_id: a.account_key for a in accounts}
        pending = dict(by_channel)  # channel id -> account key, until its outcome is known
        videos: dict[str, str] = {}  # video id -> channel id
        try:
            uploads = self._channels(list(by_channel), pending, result)
            walk = lambda upload: self._uploads(upload[1], cutoff, by_channel[upload[0]])  # noqa: E731
            for (channel_id, _), done in self.lanes.each(list(uploads.items()), walk):
                try:
                    for video_id in done.result():
                        videos[video_id] = channel_id
                except FatalApiError as exc:
                    if isinstance(exc, CredentialsRejected):
                        raise
                    status = "not_found" if exc.status == 404 else "api_error"
                    result.outcomes[by_channel[channel_id]] = Outcome(status, str(exc))
                    pending.pop(channel_id, None)
                except RetriableApiError as exc:
                    result.outcomes[by_channel[channel_id]] = Outcome("api_error", str(exc))
                    pending.pop(channel_id, None)
            for video_id, channel_id in known_posts:
                if channel_id in pending:
                    videos.setdefault(video_id, channel_id)
            self._videos(videos, pending, by_channel, result)
            for channel_id in list(pending):
                result.outcomes[by_channel[channel_id]] = Outcome("ok")
                del pending[channel_id]
        except (CredentialsRejected, BudgetExhausted) as exc:
            result.stop(exc, (by_channel[channel_id] for channel_id in pending), source=PLATFORM, connection=CONN_ID)
        finally:
            result.record_usage(self.client, self.budget)
        return result

    def _channels(self, channel_ids: list[str], pending: dict[str, str], result: Extraction) -> dict[str, str]:
        uploads: dict[str, str] = {}
        batches = list(batched(channel_ids, CHANNELS.batch_size or 50))
        for batch, done in self.lanes.each(batches, lambda batch: self._call(CHANNELS, {"id": ",".join(batch), "maxResults": len(batch)}, None)):
            try:
                payload = done.result()
            except CredentialsRejected:
                raise
            except (FatalApiError, RetriableApiError) as exc:
                # A refusal that is neither our key nor the quota (403 PERMISSION_DENIED, SERVICE_UNAVAILABLE...)
                # is Google's answer about this batch: its channels are api_error with Google's words.
                for channel_id in batch:
                    result.outcomes[pending.pop(channel_id)] = Outcome("api_error", str(exc))
                continue
            found = {item["id"]: item for item in payload.get("items", []) if isinstance(item, dict) and "id" in item}
            for channel_id in batch:
                item = found.get(channel_id)
                if item is None:
                    result.outcomes[pending.pop(channel_id)] = Outcome(
                        "not_found", f"source=youtube channel {channel_id} not returned by channels.list"
                    )
                    continue
                playlist = item.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
                if playlist:
                    uploads[channel_id] = playlist
        return uploads

    def _uploads(self, playlist_id: str, cutoff: datetime, account: str) -> list[str]:
        paginator = PageTokenPaginator()
        found: list[str] = []
        params: dict[str, Any] = {"playlistId": playlist_id, "maxResults": UPLOADS.page_size}
        while paginator.has_next_page:
            payload = self._call(UPLOADS, paginator.update_request(params), account)
            paginator.update_state(payload)
            reached_cutoff = False
            for item in payload.get("items", []):
                details = item.get("contentDetails", {})
                published = details.get("videoPublishedAt") or item.get("snippet", {}).get("publishedAt")
                if published and _parse_time(published) < cutoff:
                    # Uploads come newest first: everything after this is older than the window.
                    reached_cutoff = True
                    break
                if details.get("videoId"):
                    found.append(details["videoId"])
            if reached_cutoff:
                break
        return unique(found)

    def _videos(
        self, videos: dict[str, str], pending: dict[str, str], by_channel: dict[str, str], result: Extraction
    ) -> None:
        batches = list(batched(list(videos), VIDEOS.batch_size or 50))
        for batch, done in self.lanes.each(batches, lambda batch: self._call(VIDEOS, {"id": ",".join(batch), "maxResults": len(batch)}, None)):
            try:
                done.result()
            except CredentialsRejected:
                raise
            except (FatalApiError, RetriableApiError) as exc:
                for channel_id in unique(videos[v] for v in batch):
                    if channel_id in pending:
                        result.outcomes[by_channel[channel_id]] = Outcome("api_error", str(exc))
                        del pending[channel_id]


def quota_reset(now: datetime) -> datetime:
    """When YouTube's daily quota next resets: midnight in America/Los_Angeles, as an aware UTC time."""
    pacific = now.astimezone(PACIFIC)
    return datetime.combine(pacific.date() + timedelta(days=1), time.min, PACIFIC).astimezone(UTC)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
