"""TikTok Research API landing lines to frames.

- ``user_info`` -> account_snapshots; the answer does not name the user, so the
  landed line's ``username`` (set by the source) does;
- ``video_query`` -> posts and post_metrics; ids are int64 numbers in the JSON
  (kept as strings), ``create_time`` is epoch seconds; an absent count is NULL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from etl.parse import JAKARTA, Frames, ParseIssue, _row, to_count
from etl.parsers import naive_utc, ok_payloads


def _epoch(value: Any, field_name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseIssue(f"{field_name}: {value!r} is not epoch seconds")
    return datetime.fromtimestamp(value, tz=UTC).replace(tzinfo=None)


def _epoch_day(value: Any, field_name: str) -> date:
    return _epoch(value, field_name).replace(tzinfo=UTC).astimezone(JAKARTA).date()


def parse_tiktok(lines: Iterable[dict[str, Any]], snapshot_date: date, captured_at: datetime) -> Frames:
    frames = Frames()
    captured = naive_utc(captured_at)
    for line, payload in ok_payloads(lines, frames):
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            continue
        data = payload["data"]
        endpoint = line.get("endpoint")
        if endpoint == "user_info":
            frames.rows["account_snapshots"].append(
                _row(
                    {"platform": "tiktok", "platform_account_id": line.get("username"), "snapshot_date": snapshot_date,
                     "captured_at": captured, "total_views": None},
                    {
                        "followers": lambda d=data: to_count(d.get("follower_count"), "data.follower_count"),
                        "following": lambda d=data: to_count(d.get("following_count"), "data.following_count"),
                        "total_posts": lambda d=data: to_count(d.get("video_count"), "data.video_count"),
                    },
                    data,
                )
            )
        elif endpoint == "video_query":
            for video in data.get("videos") or []:
                if not isinstance(video, dict):
                    continue
                video_id = str(video["id"]) if video.get("id") is not None else None
                username = video.get("username")
                tags = [str(t).lower() for t in video.get("hashtag_names") or []]
                frames.rows["posts"].append(
                    _row(
                        {
                            "platform": "tiktok", "platform_post_id": video_id, "platform_account_id": username, "post_type": "video",
                            "title": None, "text": video.get("video_description"), "hashtags": "|".join(dict.fromkeys(tags)) or None,
                            "url": f"https://www.tiktok.com/@{username}/video/{video_id}" if video_id and username else None,
                        },
                        {
                            "published_at": lambda v=video: _epoch(v.get("create_time"), "create_time"),
                            "published_on": lambda v=video: _epoch_day(v.get("create_time"), "create_time"),
                        },
                        video,
                    )
                )
                frames.rows["post_metrics"].append(
                    _row(
                        {"platform": "tiktok", "platform_post_id": video_id, "snapshot_date": snapshot_date, "captured_at": captured,
                         "saves": None, "quotes": None},
                        {
                            "likes": lambda v=video: to_count(v.get("like_count"), "like_count"),
                            "comments": lambda v=video: to_count(v.get("comment_count"), "comment_count"),
                            "shares": lambda v=video: to_count(v.get("share_count"), "share_count"),
                            "views": lambda v=video: to_count(v.get("view_count"), "view_count"),
                        },
                        video,
                    )
                )
    return frames
