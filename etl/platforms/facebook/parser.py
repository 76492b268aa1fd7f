"""Facebook Pages landing lines to frames.

A Facebook post id is ``<page id>_<post id>``, which names its page.
``shares`` is absent when nobody shared: read as 0 (see :func:`_shares`).
Posts looked up by id (``post_lookup``: ``?ids=``, ``post``: one id) give the
same rows as ``published_posts``; a ``post`` lookup Meta answers with code 100
subcode 33 ("Object with ID ... does not exist") is a ``post_deletions`` row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from etl.platforms.graph.parser import dropped_fields, graph_day, graph_time
from etl.sources.frames import Frames, ok_payloads, row
from etl.sources.readers import hashtags_of, naive_utc, to_count, unavailable_metrics


def _summary(item: dict[str, Any], edge: str) -> Any:
    value = item.get(edge)
    return (value.get("summary") or {}).get("total_count") if isinstance(value, dict) else None


def _shares(post: dict[str, Any], dropped: dict[str, str]) -> int | None:
    # Graph leaves ``shares`` out of a post nobody shared (client libraries read the absent object as 0, e.g.
    # Skybrud.Social #34, restfb #41), so asked-for and absent is 0. Only a field the version refused is unknown.
    if "shares" in dropped:
        return None
    value = post.get("shares")
    if value is None:
        return 0
    return to_count(value.get("count") if isinstance(value, dict) else value, "shares.count")


def _facebook_post(frames: Frames, post: dict[str, Any], snapshot_date: date, captured: datetime, dropped: dict[str, str]) -> None:
    post_id = post.get("id")
    page_id = str(post_id).split("_", 1)[0] if post_id and "_" in str(post_id) else None
    frames.rows["posts"].append(
        row(
            {
                "platform": "facebook", "platform_post_id": post_id, "platform_account_id": page_id, "post_type": "post",
                "title": None, "text": post.get("message"), "hashtags": hashtags_of(post.get("message")),
                "url": post.get("permalink_url"),
                "referenced_post_id": None, "reference_kind": None,  # a shared post's parent_id is not asked for
            },
            {
                "published_at": lambda p=post: graph_time(p.get("created_time"), "created_time"),
                "published_on": lambda p=post: graph_day(p.get("created_time"), "created_time"),
            },
            post,
        )
    )
    frames.rows["post_metrics"].append(
        row(
            {"platform": "facebook", "platform_post_id": post_id, "snapshot_date": snapshot_date, "captured_at": captured,
             "views": None, "saves": None, "quotes": None,
             "unavailable_metrics": unavailable_metrics({
                 "likes": dropped.get("reactions") or ("reactions summary not served" if _summary(post, "reactions") is None else None),
                 "comments": dropped.get("comments") or ("comments summary not served" if _summary(post, "comments") is None else None),
                 "shares": dropped.get("shares"),
             })},
            {
                "likes": lambda p=post: None if "reactions" in dropped else to_count(_summary(p, "reactions"), "reactions.summary.total_count"),
                "comments": lambda p=post: None if "comments" in dropped else to_count(_summary(p, "comments"), "comments.summary.total_count"),
                "shares": lambda p=post: _shares(p, dropped),
            },
            post,
        )
    )


def _object_gone(line: dict[str, Any]) -> bool:
    """Meta's answer to a lookup of an id it no longer serves: 400, code 100 subcode 33."""
    try:
        error = json.loads(line.get("body") or "").get("error") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and error.get("code") == 100 and error.get("error_subcode") == 33


def _deletions(lines: Iterable[dict[str, Any]], frames: Frames, snapshot_date: date) -> Iterator[dict[str, Any]]:
    """Pass every line on; a one-id lookup answered "does not exist" also records that post as deleted."""
    for line in lines:
        if line.get("endpoint") == "post" and line.get("status") == 400 and _object_gone(line):
            for post_id in line.get("ids") or []:
                frames.rows["post_deletions"].append({"platform": "facebook", "platform_post_id": str(post_id), "snapshot_date": snapshot_date})
        yield line


def parse_facebook(lines: Iterable[dict[str, Any]], snapshot_date: date, captured_at: datetime) -> Frames:
    frames = Frames()
    captured = naive_utc(captured_at)
    for line, payload in ok_payloads(_deletions(lines, frames, snapshot_date), frames):
        if not isinstance(payload, dict):
            continue
        endpoint = line.get("endpoint")
        dropped = dropped_fields(line)
        if endpoint == "page":
            frames.rows["account_snapshots"].append(
                row(
                    {"platform": "facebook", "platform_account_id": payload.get("id"), "snapshot_date": snapshot_date,
                     "captured_at": captured, "following": None, "total_posts": None, "total_views": None},
                    {"followers": lambda p=payload: to_count(p.get("followers_count", p.get("fan_count")), "followers_count")},
                    payload,
                )
            )
        elif endpoint == "published_posts":
            for post in payload.get("data") or []:
                if isinstance(post, dict):
                    _facebook_post(frames, post, snapshot_date, captured, dropped)
        elif endpoint == "post_lookup":  # ?ids=: the answer is keyed by the ids asked for
            for post in payload.values():
                if isinstance(post, dict):
                    _facebook_post(frames, post, snapshot_date, captured, dropped)
        elif endpoint == "post":
            _facebook_post(frames, payload, snapshot_date, captured, dropped)
    return frames
