"""Instagram business_discovery landing lines to frames.

Instagram omits ``like_count`` when the owner hides it (NULL, not 0, with the
reason in ``unavailable_metrics``); business_discovery has no view counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from etl.platforms.graph.parser import dropped_fields, graph_day, graph_time
from etl.sources.frames import Frames, ok_payloads, row
from etl.sources.readers import hashtags_of, naive_utc, to_count, unavailable_metrics

_IG_TYPES = {"REELS": "reel", "STORY": "story"}
_IG_MEDIA = {"CAROUSEL_ALBUM": "carousel", "VIDEO": "video", "IMAGE": "image"}


def parse_instagram(lines: Iterable[dict[str, Any]], snapshot_date: date, captured_at: datetime) -> Frames:
    frames = Frames()
    captured = naive_utc(captured_at)
    for line, payload in ok_payloads(lines, frames):
        if line.get("endpoint") != "business_discovery" or not isinstance(payload, dict):
            continue
        discovery = payload.get("business_discovery")
        if not isinstance(discovery, dict):
            continue
        account_id = discovery.get("id")
        if "followers_count" in discovery or "media_count" in discovery:  # only the first page asks for them
            frames.rows["account_snapshots"].append(
                row(
                    {"platform": "instagram", "platform_account_id": account_id, "snapshot_date": snapshot_date,
                     "captured_at": captured, "total_views": None},
                    {
                        "followers": lambda d=discovery: to_count(d.get("followers_count"), "business_discovery.followers_count"),
                        "following": lambda d=discovery: to_count(d.get("follows_count"), "business_discovery.follows_count"),
                        "total_posts": lambda d=discovery: to_count(d.get("media_count"), "business_discovery.media_count"),
                    },
                    {k: v for k, v in discovery.items() if k != "media"},
                )
            )
        since = _since(line.get("since"))
        dropped = dropped_fields(line)
        for media in (discovery.get("media") or {}).get("data") or []:
            if not isinstance(media, dict):
                continue
            if since is not None and _before(media.get("timestamp"), since):
                continue  # older than the re-pull window: read only because it shared a page with newer media
            media_id = media.get("id")
            frames.rows["posts"].append(
                row(
                    {
                        "platform": "instagram", "platform_post_id": media_id, "platform_account_id": account_id,
                        "post_type": _IG_TYPES.get(media.get("media_product_type") or "") or _IG_MEDIA.get(media.get("media_type") or "", "post"),
                        "title": None, "text": media.get("caption"), "hashtags": hashtags_of(media.get("caption")),
                        "url": media.get("permalink"),
                        "referenced_post_id": None, "reference_kind": None,  # the Graph API does not say what media reshares
                    },
                    {
                        "published_at": lambda m=media: graph_time(m.get("timestamp"), "media.timestamp"),
                        "published_on": lambda m=media: graph_day(m.get("timestamp"), "media.timestamp"),
                    },
                    media,
                )
            )
            frames.rows["post_metrics"].append(
                row(
                    {"platform": "instagram", "platform_post_id": media_id, "snapshot_date": snapshot_date, "captured_at": captured,
                     "shares": None, "views": None, "saves": None, "quotes": None,
                     "unavailable_metrics": unavailable_metrics({
                         "likes": dropped.get("like_count") or ("hidden by the owner" if media.get("like_count") is None else None),
                         "comments": dropped.get("comments_count"),
                     })},
                    {
                        "likes": lambda m=media: to_count(m.get("like_count"), "media.like_count"),
                        "comments": lambda m=media: to_count(m.get("comments_count"), "media.comments_count"),
                    },
                    media,
                )
            )
    return frames


def _since(value: Any) -> datetime | None:
    try:
        return naive_utc(datetime.fromisoformat(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _before(timestamp: Any, since: datetime) -> bool:
    try:
        return graph_time(timestamp, "media.timestamp") < since
    except ValueError:  # ParseIssue: keep the row, the reader will name the field
        return False
