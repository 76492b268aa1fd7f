"""Landing files to canonical frames.

Frames (columns in :data:`FRAME_COLUMNS`):
- ``account_snapshots`` — an account's public counters as of the run;
- ``posts`` — one row per post seen;
- ``post_metrics`` — a post's cumulative counters as of the run;
- ``post_deletions`` — posts we asked for by id that the platform no longer serves.

A value that cannot be read is not guessed: the row keeps ``parse_issue``
naming the field, and the quality gate sends it to quarantine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import structlog

from etl.landing import read_landing

log = structlog.get_logger(__name__)
JAKARTA = ZoneInfo("Asia/Jakarta")
HASHTAG = re.compile(r"#(\w+)", re.UNICODE)

FRAME_COLUMNS: dict[str, list[str]] = {
    "account_snapshots": [
        "platform", "platform_account_id", "snapshot_date", "captured_at", "followers", "following",
        "total_posts", "total_views", "parse_issue", "record",
    ],
    "posts": [
        "platform", "platform_post_id", "platform_account_id", "published_at", "published_on", "post_type",
        "title", "text", "hashtags", "url", "referenced_post_id", "reference_kind", "parse_issue", "record",
    ],
    "post_metrics": [
        "platform", "platform_post_id", "snapshot_date", "captured_at", "likes", "comments", "shares",
        "views", "saves", "quotes", "unavailable_metrics", "parse_issue", "record",
    ],
    "post_deletions": ["platform", "platform_post_id", "snapshot_date"],
}
#: What a post reposts, quotes or replies to (``reference_kind``), as the platform id of that post; None for an
#: original post and wherever the platform does not say.
REFERENCE_KINDS = ("repost", "quote", "reply")
#: Text columns a parser may leave out of a row: NULL, never the float NaN pandas would fill in.
OPTIONAL_TEXT_COLUMNS = ("unavailable_metrics", "referenced_post_id", "reference_kind")
INT_COLUMNS = {"followers", "following", "total_posts", "total_views", "likes", "comments", "shares", "views", "saves", "quotes"}


class ParseIssue(ValueError):
    """A field that cannot be read as what it should be."""


def to_count(value: Any, field_name: str) -> int | None:
    """A platform counter as int; absent stays None (hidden is not zero). Counts come as strings on YouTube."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseIssue(f"{field_name}: {value!r} is not a count")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ParseIssue(f"{field_name}: {value!r} is not a count")


def to_utc(value: Any, field_name: str) -> datetime:
    """An ISO 8601 timestamp as naive UTC (the warehouse stores UTC)."""
    if not isinstance(value, str) or not value:
        raise ParseIssue(f"{field_name}: missing timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseIssue(f"{field_name}: {value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ParseIssue(f"{field_name}: {value!r} has no time zone")
    return parsed.astimezone(UTC).replace(tzinfo=None)


def unavailable_metrics(reasons: Mapping[str, str | None]) -> str | None:
    """Why metrics are NULL because the platform did not serve them: ``"metric=reason; metric2=reason2"``.

    Sorted by metric so the same answer always gives the same string (reruns
    write identical rows); a metric whose reason is None was served and is
    left out; None when nothing is missing.
    """
    parts = [f"{metric}={reason}" for metric, reason in sorted(reasons.items()) if reason is not None]
    return "; ".join(parts) or None


def hashtags_of(*texts: str | None) -> str | None:
    """Hashtags in order of first use, lower-cased, '|'-joined (None when there are none)."""
    tags = list(dict.fromkeys(t.lower() for text in texts if text for t in HASHTAG.findall(text)))
    return "|".join(tags) if tags else None


@dataclass
class Frames:
    """Rows per frame, collected while reading a landing file."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in FRAME_COLUMNS})
    calls_read: int = 0
    calls_skipped: int = 0

    def frame(self, name: str) -> pd.DataFrame:
        df = pd.DataFrame(self.rows[name], columns=FRAME_COLUMNS[name])
        for column in INT_COLUMNS.intersection(df.columns):
            df[column] = df[column].astype("Int64")
        for column in (c for c in OPTIONAL_TEXT_COLUMNS if c in df.columns):
            # A parser that has nothing to say leaves the key out: NULL, never the float NaN pandas fills in.
            df[column] = df[column].astype(object).where(df[column].notna(), None)
        return df


def _row(base: dict[str, Any], readers: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Build a row; every reader failure is written into ``parse_issue`` instead of raising."""
    row = dict(base)
    issues = []
    for column, read in readers.items():
        try:
            row[column] = read()
        except ParseIssue as exc:
            row[column] = None
            issues.append(str(exc))
    row["parse_issue"] = "; ".join(issues) or None
    row["record"] = json.dumps(item, ensure_ascii=False, sort_keys=True)
    return row


def ok_payloads(lines: Iterable[dict[str, Any]], frames: Frames) -> Iterator[tuple[dict[str, Any], Any]]:
    """(line, decoded body) for every 200 line with a JSON body; counts the others (failed tries, cut bodies) as skipped."""
    for line in lines:
        if line.get("status") != 200:
            frames.calls_skipped += 1
            continue
        try:
            payload = json.loads(line["body"])
        except (ValueError, KeyError):
            frames.calls_skipped += 1
            continue
        frames.calls_read += 1
        yield line, payload


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
                    _row(
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
                    _row(
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
                    _row(
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


PARSERS = {"youtube": parse_youtube}


def parse_landing(path: Path, source: str, snapshot_date: date, captured_at: datetime) -> Frames:
    """Read one landing file of ``source`` into frames."""
    if source not in PARSERS:
        from etl.parsers import platform_parsers  # noqa: PLC0415 - they import this module's helpers

        PARSERS.update(platform_parsers())
    try:
        parser = PARSERS[source]
    except KeyError:
        raise ValueError(f"no parser for source {source!r} (file {path})") from None
    return parser(read_landing(path), snapshot_date, captured_at)


def iter_frames(frames: Frames) -> Iterator[tuple[str, pd.DataFrame]]:
    for name in FRAME_COLUMNS:
        yield name, frames.frame(name)
