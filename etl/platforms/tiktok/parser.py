"""TikTok landing lines to frames: Research API and Display API answers give the same rows.

Research API:
- ``user_info`` -> account_snapshots; the answer does not name the user, so the
  landed line's ``username`` (set by the source) does;
- ``video_query`` and ``video_lookup`` (known posts asked for by ``video_id``) ->
  posts and post_metrics; ids are int64 numbers in the JSON (kept as strings),
  ``create_time`` is epoch seconds.

Display API (one user token per account; answers never name the user, the
landed line's ``username`` does):
- ``display_user_info`` -> account_snapshots from ``data.user``;
- ``display_video_list`` and ``display_video_query`` -> posts and post_metrics;
  ids are strings, there is no ``hashtag_names`` (hashtags come from the
  description). A ``video/list`` page that crosses the re-pull cutoff (the
  landed ``since``) also holds older videos: they are left out.

A count the API did not send is NULL, and ``unavailable_metrics`` names it
("likes=like_count not served"); saves and quotes are not TikTok metrics and
carry no reason.

Deletions: a lookup by id lands the ids it asked for (``requested_ids``, one
``lookup`` number, its ``window`` of ``windows`` for the Research API's 30-day
windows). Once every window of a lookup was read to its last page, an id that
no answer returned is a ``post_deletions`` row. Neither API tells a deleted
video from one made private or taken down: the row means "no longer served".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from etl.sources.frames import Frames, ok_payloads, row
from etl.sources.readers import JAKARTA, ParseIssue, hashtags_of, naive_utc, to_count, unavailable_metrics

PLATFORM = "tiktok"
VIDEO_ENDPOINTS = {"video_query", "video_lookup", "display_video_list", "display_video_query"}
#: metric column -> the TikTok field it is read from (the same in both APIs)
COUNT_FIELDS = {"likes": "like_count", "comments": "comment_count", "shares": "share_count", "views": "view_count"}


def _epoch(value: Any, field_name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseIssue(f"{field_name}: {value!r} is not epoch seconds")
    return datetime.fromtimestamp(value, tz=UTC).replace(tzinfo=None)


def _epoch_day(value: Any, field_name: str) -> date:
    return _epoch(value, field_name).replace(tzinfo=UTC).astimezone(JAKARTA).date()


def _since(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp() if value else None
    except ValueError:
        return None


@dataclass
class _Lookup:
    """What the pages of one lookup by id asked for and got back."""

    requested: list[str]
    windows: int
    returned: set[str] = field(default_factory=set)
    finished: set[int] = field(default_factory=set)  # windows read to their last page


def _account_snapshot(frames: Frames, username: Any, user: dict[str, Any], snapshot_date: date, captured: datetime) -> None:
    frames.rows["account_snapshots"].append(
        row(
            {"platform": PLATFORM, "platform_account_id": username, "snapshot_date": snapshot_date,
             "captured_at": captured, "total_views": None},
            {
                "followers": lambda d=user: to_count(d.get("follower_count"), "data.follower_count"),
                "following": lambda d=user: to_count(d.get("following_count"), "data.following_count"),
                "total_posts": lambda d=user: to_count(d.get("video_count"), "data.video_count"),
            },
            user,
        )
    )


def _video(frames: Frames, video: dict[str, Any], username: Any, display: bool, snapshot_date: date, captured: datetime) -> None:
    video_id = str(video["id"]) if video.get("id") is not None else None
    if display:
        hashtags = hashtags_of(video.get("video_description"))
    else:
        hashtags = "|".join(dict.fromkeys(str(t).lower() for t in video.get("hashtag_names") or [])) or None
    frames.rows["posts"].append(
        row(
            {
                "platform": PLATFORM, "platform_post_id": video_id, "platform_account_id": username, "post_type": "video",
                "title": video.get("title") if display else None, "text": video.get("video_description"), "hashtags": hashtags,
                "url": f"https://www.tiktok.com/@{username}/video/{video_id}" if video_id and username else None,
                "referenced_post_id": None, "reference_kind": None,  # the Research API does not say what a video stitches or duets
            },
            {
                "published_at": lambda v=video: _epoch(v.get("create_time"), "create_time"),
                "published_on": lambda v=video: _epoch_day(v.get("create_time"), "create_time"),
            },
            video,
        )
    )
    frames.rows["post_metrics"].append(
        row(
            {"platform": PLATFORM, "platform_post_id": video_id, "snapshot_date": snapshot_date, "captured_at": captured,
             "saves": None, "quotes": None,
             "unavailable_metrics": unavailable_metrics(
                 {metric: f"{name} not served" if video.get(name) is None else None for metric, name in COUNT_FIELDS.items()}
             )},
            {metric: (lambda v=video, n=name: to_count(v.get(n), n)) for metric, name in COUNT_FIELDS.items()},
            video,
        )
    )


def parse_tiktok(lines: Iterable[dict[str, Any]], snapshot_date: date, captured_at: datetime) -> Frames:
    frames = Frames()
    captured = naive_utc(captured_at)
    lookups: dict[tuple[str, str], _Lookup] = {}
    for line, payload in ok_payloads(lines, frames):
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            continue
        data = payload["data"]
        endpoint = line.get("endpoint")
        if endpoint == "user_info":
            _account_snapshot(frames, line.get("username"), data, snapshot_date, captured)
        elif endpoint == "display_user_info":
            user = data.get("user")
            if isinstance(user, dict):
                _account_snapshot(frames, line.get("username"), user, snapshot_date, captured)
        elif endpoint in VIDEO_ENDPOINTS:
            display = endpoint.startswith("display_")
            since = _since(line.get("since"))
            videos = [v for v in data.get("videos") or [] if isinstance(v, dict)]
            for video in videos:
                created = video.get("create_time")
                if since is not None and isinstance(created, int) and not isinstance(created, bool) and created < since:
                    continue  # older than the re-pull window: shares the page, not the night
                username = line.get("username") if display else video.get("username")
                _video(frames, video, username, display, snapshot_date, captured)
            if line.get("requested_ids") is not None:
                key = (str(endpoint), str(line.get("lookup")))
                lookup = lookups.setdefault(key, _Lookup([str(i) for i in line["requested_ids"]], int(line.get("windows") or 1)))
                lookup.returned.update(str(v["id"]) for v in videos if v.get("id") is not None)
                if not data.get("has_more"):
                    lookup.finished.add(int(line.get("window") or 0))
    for lookup in lookups.values():
        if len(lookup.finished) >= lookup.windows:
            for post_id in dict.fromkeys(lookup.requested):
                if post_id not in lookup.returned:
                    frames.rows["post_deletions"].append({"platform": PLATFORM, "platform_post_id": post_id, "snapshot_date": snapshot_date})
    return frames
