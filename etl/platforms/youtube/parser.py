"""YouTube Data API v3 landing lines to frames: channels.list (account snapshots) and videos.list (posts, metrics).

Counts come as strings; a channel that hides its subscriber count has no
followers (NULL), likes hidden by the channel and disabled comments are NULL
with their reason. A video asked for by id and not returned is a deletion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from etl.sources.frames import Frames, ok_payloads, row
from etl.sources.readers import JAKARTA, hashtags_of, to_count, to_utc, unavailable_metrics


def parse_youtube(lines: Iterable[dict[str, Any]], snapshot_date: date, captured_at: datetime) -> Frames:
    """YouTube landing lines to frames. Only complete 200 answers are read; retries landed too."""
    frames = Frames()
    captured = captured_at.astimezone(UTC).replace(tzinfo=None)
    for line, payload in ok_payloads(lines, frames):
        endpoint = line.get("endpoint")
        items = [i for i in payload.get("items", []) if isinstance(i, dict)]
        if endpoint == "channels":
            for item in items:
                stats = item.get("statistics", {})
                frames.rows["account_snapshots"].append(
                    row(
                        {"platform": "youtube", "platform_account_id": item.get("id"), "snapshot_date": snapshot_date, "captured_at": captured},
                        {
                            "followers": lambda s=stats: None if s.get("hiddenSubscriberCount") else to_count(s.get("subscriberCount"), "statistics.subscriberCount"),
                            "following": lambda: None,
                            "total_posts": lambda s=stats: to_count(s.get("videoCount"), "statistics.videoCount"),
                            "total_views": lambda s=stats: to_count(s.get("viewCount"), "statistics.viewCount"),
                        },
                        item,
                    )
                )
        elif endpoint == "videos":
            returned = set()
            for item in items:
                returned.add(item.get("id"))
                snippet = item.get("snippet", {})
                stats = item.get("statistics", {})
                video_id = item.get("id")
                frames.rows["posts"].append(
                    row(
                        {
                            "platform": "youtube",
                            "platform_post_id": video_id,
                            "platform_account_id": snippet.get("channelId"),
                            "post_type": "short" if _is_short(item) else "video",
                            "title": snippet.get("title"),
                            "text": snippet.get("description"),
                            "hashtags": hashtags_of(snippet.get("title"), snippet.get("description")),
                            "url": f"https://www.youtube.com/watch?v={video_id}" if video_id else None,
                            "referenced_post_id": None, "reference_kind": None,  # a video references no other post
                        },
                        {
                            "published_at": lambda s=snippet: to_utc(s.get("publishedAt"), "snippet.publishedAt"),
                            "published_on": lambda s=snippet: _jakarta_date(s.get("publishedAt")),
                        },
                        item,
                    )
                )
                frames.rows["post_metrics"].append(
                    row(
                        {"platform": "youtube", "platform_post_id": video_id, "snapshot_date": snapshot_date, "captured_at": captured,
                         "shares": None, "saves": None, "quotes": None, "unavailable_metrics": _youtube_gaps(item.get("statistics"))},
                        {
                            "likes": lambda s=stats: to_count(s.get("likeCount"), "statistics.likeCount"),
                            "comments": lambda s=stats: to_count(s.get("commentCount"), "statistics.commentCount"),
                            "views": lambda s=stats: to_count(s.get("viewCount"), "statistics.viewCount"),
                        },
                        item,
                    )
                )
            for requested in _requested_ids(line.get("url", "")):
                if requested not in returned:
                    frames.rows["post_deletions"].append(
                        {"platform": "youtube", "platform_post_id": requested, "snapshot_date": snapshot_date}
                    )
    return frames


def _youtube_gaps(stats: Any) -> str | None:
    # videos.list leaves likeCount out when the channel hides likes and commentCount out when comments are off;
    # without a statistics part at all nothing was served, and no reason is known.
    if not isinstance(stats, dict):
        return None
    return unavailable_metrics({
        "likes": "hidden by the channel" if stats.get("likeCount") is None else None,
        "comments": "comments disabled" if stats.get("commentCount") is None else None,
    })


def _jakarta_date(value: Any) -> date:
    published = to_utc(value, "snippet.publishedAt")
    return published.replace(tzinfo=UTC).astimezone(JAKARTA).date()


def _is_short(item: dict[str, Any]) -> bool:
    duration = item.get("contentDetails", {}).get("duration") or ""
    match = re.fullmatch(r"PT(?:(\d+)M)?(?:(\d+)S)?", duration)
    if not match:
        return False
    seconds = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    return 0 < seconds <= 60


def _requested_ids(url: str) -> list[str]:
    ids = parse_qs(urlsplit(url).query).get("id", [])
    return [i for value in ids for i in value.split(",") if i]
