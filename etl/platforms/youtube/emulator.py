"""YouTube Data API v3 endpoints of the sandbox (channels, playlistItems, videos).

Transport-free: :meth:`YouTubeApi.handle` maps a parsed request to
``(status, headers, body)`` so the HTTP server owns threads, faults and stats.

Behaviour copied from Google (as of 2024-2025):

* Every call costs 1 quota unit, charged once the key is valid and quota is
  left, including calls that then fail with 400/404 (Google bills invalid
  requests too). Quota resets at midnight America/Los_Angeles.
* A missing or wrong ``key`` gets 400 ``API_KEY_INVALID`` (the current
  ``google.rpc.ErrorInfo`` shape with ``reason: "badRequest"``); the legacy
  ``keyInvalid`` reason is not emulated. Real Google answers a *missing* key
  with 403 PERMISSION_DENIED; the sandbox uses the 400 body for both.
* Unknown channel/video ids are absent from ``items``; an unknown uploads
  playlist is 404 ``playlistNotFound``; more than 50 ids is 400 ``invalidFilters``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from etl.sandbox.youtube_data import YouTubeUniverse, rfc3339

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
BASE_PATH = "/youtube/v3"
MAX_IDS = 50
QUOTA_COST = 1

Response = tuple[int, dict[str, str], dict[str, Any]]

_KEY_INVALID_MESSAGE = "API key not valid. Please pass a valid API key."
_QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
_PARTS = {
    "channels": {"id", "snippet", "statistics", "contentDetails"},
    "videos": {"id", "snippet", "statistics", "contentDetails"},
    "playlistItems": {"id", "snippet", "contentDetails", "status"},
}


def google_error(
    code: int,
    message: str,
    reason: str,
    domain: str = "global",
    status: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """A Google API error body (``{"error": {...}}``)."""
    item: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    if location:
        item["location"] = location
        item["locationType"] = "parameter"
    err: dict[str, Any] = {"code": code, "message": message, "errors": [item]}
    if status:
        err["status"] = status
    return {"error": err}


def key_invalid_body() -> dict[str, Any]:
    """Google's current answer to a bad API key."""
    body = google_error(400, _KEY_INVALID_MESSAGE, "badRequest", status="INVALID_ARGUMENT")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "youtube.googleapis.com"},
        }
    ]
    return body


def key_expired_body() -> dict[str, Any]:
    """Google's answer to an expired API key (``youtube.token_expired``): the same shape as an invalid one."""
    body = key_invalid_body()
    body["error"]["message"] = body["error"]["errors"][0]["message"] = "API key expired. Please renew the API key."
    return body


def quota_exceeded_body() -> dict[str, Any]:
    """403 body once a key's daily quota is spent."""
    return google_error(403, _QUOTA_MESSAGE, "quotaExceeded", domain="youtube.quota")


def status_error_body(status: int) -> dict[str, Any]:
    """Bodies Google sends with 429 / 5xx."""
    if status == 429:
        return google_error(
            429,
            "Resource has been exhausted (e.g. check quota).",
            "rateLimitExceeded",
            status="RESOURCE_EXHAUSTED",
        )
    if status == 500:
        return google_error(500, "Internal error encountered.", "backendError", status="INTERNAL")
    return google_error(
        status, "The service is currently unavailable.", "backendError", status="UNAVAILABLE"
    )


def key_fingerprint(api_key: str) -> str:
    """Name under which a key's quota is reported (never the key itself)."""
    return "key-" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


def _etag(obj: object) -> str:
    # A digest of the resource's canonical JSON. msgspec's C encoder: json.dumps(sort_keys=True) runs in pure Python
    # and was a fifth of the sandbox's CPU in a demo night (every item and every page is tagged).
    raw = msgspec.json.encode(obj, order="sorted")
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode()[:27]


def _encode_token(published: datetime, video_id: str, position: int) -> str:
    raw = f"{int(published.timestamp())}:{video_id}:{position}".encode()
    return "EAAa" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[datetime, str, int] | None:
    if not token.startswith("EAAa"):
        return None
    try:
        data = token[4:]
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
        epoch, video_id, position = raw.split(":")
        return datetime.fromtimestamp(int(epoch), UTC), video_id, int(position)
    except (ValueError, UnicodeDecodeError):
        return None


class _RequestError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _param_error(message: str, reason: str, location: str | None = None) -> _RequestError:
    return _RequestError(
        400, google_error(400, message, reason, domain="youtube.parameter", location=location)
    )


class YouTubeApi:
    """Routes ``/youtube/v3/*`` requests; owns key check and quota."""

    def __init__(
        self,
        universe: YouTubeUniverse,
        api_keys: set[str],
        daily_quota: int,
        clock: Callable[[], datetime],
        hide_likes_ratio: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.universe = universe
        self.api_keys = api_keys
        self.daily_quota = daily_quota
        self._clock = clock
        self._hide_likes_ratio = hide_likes_ratio
        # fingerprint -> Pacific date iso -> units. Check-and-charge happens
        # under one lock so concurrent requests cannot overspend the budget.
        self._quota_lock = threading.Lock()
        self._quota_used: dict[str, dict[str, int]] = {}

    def quota_snapshot(self) -> dict[str, dict[str, int]]:
        """Units used per key fingerprint and Pacific day."""
        with self._quota_lock:
            return {k: dict(v) for k, v in self._quota_used.items()}

    def quota_used(self, api_key: str, day: str) -> int:
        """Units ``api_key`` used on the Pacific day ``day`` (ISO date)."""
        with self._quota_lock:
            return self._quota_used.get(key_fingerprint(api_key), {}).get(day, 0)

    def reset_quota(self) -> None:
        """Forget all quota use."""
        with self._quota_lock:
            self._quota_used.clear()

    def refund(self, api_key: str, day: str, units: int = QUOTA_COST) -> None:
        """Give back units charged for a request the sandbox then faulted."""
        with self._quota_lock:
            per_day = self._quota_used.setdefault(key_fingerprint(api_key), {})
            per_day[day] = max(0, per_day.get(day, 0) - units)

    @staticmethod
    def endpoint_name(path: str) -> str:
        """Stats name of a YouTube path, e.g. ``youtube.channels``."""
        tail = path[len(BASE_PATH) :].strip("/")
        return "youtube." + (tail if tail in _PARTS else "other")

    def quota_day(self, now: datetime) -> str:
        """Google's quota day for ``now`` (midnight Pacific)."""
        return now.astimezone(PACIFIC).date().isoformat()

    def handle(self, path: str, query: dict[str, list[str]]) -> tuple[Response, str | None]:
        """Answer one request; returns the response and the Pacific day
        charged (None when it cost no quota)."""
        now = self._clock()
        key = (query.get("key") or [""])[0]
        if key not in self.api_keys:
            return (400, {}, key_invalid_body()), None
        fp, day = key_fingerprint(key), self.quota_day(now)
        with self._quota_lock:
            per_day = self._quota_used.setdefault(fp, {})
            used = per_day.get(day, 0)
            if used + QUOTA_COST > self.daily_quota:
                return (403, {}, quota_exceeded_body()), None
            per_day[day] = used + QUOTA_COST
        resource = path[len(BASE_PATH) :].strip("/")
        handler = {
            "channels": self._channels,
            "videos": self._videos,
            "playlistItems": self._playlist_items,
        }.get(resource)
        if handler is None:
            body = google_error(404, "Not Found", "notFound", status="NOT_FOUND")
            return (404, {}, body), day
        try:
            return (200, {}, handler(query, now)), day
        except _RequestError as exc:
            return (exc.status, {}, exc.body), day

    # ----------------------------------------------------------- helpers
    @staticmethod
    def _parts(query: dict[str, list[str]], resource: str) -> set[str]:
        raw = ",".join(query.get("part", []))
        parts = {p.strip() for p in raw.split(",") if p.strip()}
        if not parts:
            raise _RequestError(
                400,
                google_error(400, "Required parameter: part", "required", location="part"),
            )
        unknown = parts - _PARTS[resource]
        if unknown:
            raise _param_error(f"'{sorted(unknown)[0]}'", "unknownPart", location="part")
        return parts

    @staticmethod
    def _ids(query: dict[str, list[str]], resource: str, expected: str) -> list[str]:
        raw = ",".join(query.get("id", []))
        if not raw:
            raise _param_error(
                f"No filter selected. Expected one of: {expected}", "missingRequiredParameter"
            )
        ids = list(dict.fromkeys(i.strip() for i in raw.split(",") if i.strip()))
        if len(ids) > MAX_IDS:
            raise _param_error(
                "The request specifies an invalid filter parameter.", "invalidFilters", "id"
            )
        return ids

    @staticmethod
    def _select(resource: dict[str, Any], parts: set[str]) -> dict[str, Any]:
        return {k: v for k, v in resource.items() if k == "id" or k in parts}

    @staticmethod
    def _list(
        kind: str, items: list[dict[str, Any]], per_page: int, **extra: Any
    ) -> dict[str, Any]:
        # The page's tag digests its items' tags: the items were each encoded once for their own tag already.
        body: dict[str, Any] = {"kind": kind, "etag": _etag([item["etag"] for item in items])}
        body.update(extra)
        body["items"] = items
        body["pageInfo"] = extra.pop("pageInfo", None) or {
            "totalResults": len(items),
            "resultsPerPage": per_page,
        }
        return body

    # --------------------------------------------------------- endpoints
    def _channels(self, query: dict[str, list[str]], now: datetime) -> dict[str, Any]:
        parts = self._parts(query, "channels")
        handle = (query.get("forHandle") or [""])[0].lstrip("@").lower()
        if handle:
            ids = [c for c, h in self.universe.handles.items() if h.lower() == handle][:1]
        else:
            ids = self._ids(query, "channels", "forUsername, mine, mySubscribers, id, forHandle")
        items = []
        for cid in ids:
            res = self.universe.channel(cid, now)
            if res is None:
                continue
            res = self._select(res, parts)
            items.append({"kind": "youtube#channel", "etag": _etag(res), **res})
        return self._list("youtube#channelListResponse", items, len(items))

    def _videos(self, query: dict[str, list[str]], now: datetime) -> dict[str, Any]:
        parts = self._parts(query, "videos")
        ids = self._ids(query, "videos", "myRating, id, chart")
        hide = self._hide_likes_ratio()
        items = []
        for vid in ids:
            res = self.universe.video(vid, now, hide_likes_ratio=hide)
            if res is None:
                continue
            res = self._select(res, parts)
            items.append({"kind": "youtube#video", "etag": _etag(res), **res})
        return self._list("youtube#videoListResponse", items, len(items))

    def _playlist_items(self, query: dict[str, list[str]], now: datetime) -> dict[str, Any]:
        parts = self._parts(query, "playlistItems")
        playlist_id = (query.get("playlistId") or [""])[0]
        if not playlist_id:
            raise _param_error(
                "No filter selected. Expected one of: id, playlistId", "missingRequiredParameter"
            )
        raw_max = (query.get("maxResults") or ["5"])[0]
        try:
            max_results = int(raw_max)
        except ValueError:
            max_results = -1
        if not 0 <= max_results <= 50:
            raise _param_error(
                f"Invalid value '{raw_max}'. Values must be within the range: [0, 50]",
                "invalidParameter",
                "maxResults",
            )
        channel_id = "UC" + playlist_id[2:]
        if not playlist_id.startswith("UU") or not self.universe.knows_channel(channel_id):
            raise _RequestError(
                404,
                google_error(
                    404,
                    "The playlist identified with the request's <code>playlistId</code> "
                    "parameter cannot be found.",
                    "playlistNotFound",
                    domain="youtube.playlistItem",
                    location="playlistId",
                ),
            )
        token = (query.get("pageToken") or [""])[0]
        after: tuple[datetime, str] | None = None
        position = 0
        if token:
            decoded = _decode_token(token)
            if decoded is None:
                raise _param_error(
                    "The request specifies an invalid page token.", "invalidPageToken", "pageToken"
                )
            after, position = (decoded[0], decoded[1]), decoded[2]
        page, more = self.universe.upload_page(channel_id, now, after, max_results)
        if max_results == 0:
            more = self.universe.upload_count(channel_id, now) > 0
        owner_title = self.universe.channel_title(channel_id)
        items = []
        for offset, (vid, published) in enumerate(page):
            published_at = rfc3339(published)
            res: dict[str, Any] = {
                "id": base64.urlsafe_b64encode(f"{playlist_id}.{vid}".encode())
                .decode()
                .rstrip("="),
                "snippet": {
                    "publishedAt": published_at,
                    "channelId": channel_id,
                    "title": self.universe.video_title(vid, now) or "",
                    "description": "",
                    "channelTitle": owner_title,
                    "playlistId": playlist_id,
                    "position": position + offset,
                    "resourceId": {"kind": "youtube#video", "videoId": vid},
                    "videoOwnerChannelTitle": owner_title,
                    "videoOwnerChannelId": channel_id,
                },
                "contentDetails": {"videoId": vid, "videoPublishedAt": published_at},
                "status": {"privacyStatus": "public"},
            }
            res = self._select(res, parts)
            items.append({"kind": "youtube#playlistItem", "etag": _etag(res), **res})
        extra: dict[str, Any] = {}
        if more and page:
            last_vid, last_pub = page[-1]
            extra["nextPageToken"] = _encode_token(last_pub, last_vid, position + len(page))
        elif more:
            # maxResults=0: Google still hands out a token for the first item.
            extra["nextPageToken"] = _encode_token(now, "~", position) if after is None else token
        extra["pageInfo"] = {
            "totalResults": self.universe.upload_count(channel_id, now),
            "resultsPerPage": max_results,
        }
        return self._list("youtube#playlistItemListResponse", items, max_results, **extra)
