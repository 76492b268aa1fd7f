"""X API v2 landing lines to frames.

- ``users`` -> account_snapshots (public_metrics: followers, following, tweets);
- ``user_tweets`` and ``tweets`` -> posts and post_metrics (public_metrics:
  like, reply, retweet, quote, bookmark, impression counts; an impression or
  bookmark count X did not send is NULL and named in ``unavailable_metrics``);
  ``referenced_tweets`` says what a retweet, quote or reply refers to:
  ``reference_kind`` (repost, quote, reply) and ``referenced_post_id``;
  a repost's ``public_metrics`` are the original's (X sends the original's
  retweet_count on the retweet; its likes and replies go to the original), so
  a repost's metrics are NULL with ``unavailable_metrics`` saying so: the
  reposting account is never credited the original's engagement, and the
  repost still counts as amplification through ``referenced_post_id``;
- ``errors`` entries of a ``tweets`` lookup about a requested id
  (``parameter: ids``, ``resource_id`` among the landed ``ids``; deleted,
  withheld, suspended or protected author) -> post_deletions: the post is
  flagged, never a failed task. Errors about expansions
  (``referenced_tweets.id``, ``pinned_tweet_id``, ``entities.mentions.username``,
  ``author_id``) are about other objects and flag nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from etl.sources.frames import Frames, ok_payloads, row
from etl.sources.readers import jakarta_day, naive_utc, to_count, to_utc, unavailable_metrics

PLATFORM = "x"
#: X ``referenced_tweets`` types, in the order one is chosen when a tweet carries several (a quote that is
#: also a reply is a quote), and the reference kind each becomes.
REFERENCE_TYPES = {"retweeted": "repost", "quoted": "quote", "replied_to": "reply"}


def _reference(tweet: dict[str, Any]) -> tuple[str | None, str | None]:
    """(kind, referenced tweet id) of the reference that decides what the tweet is; (None, None) for an original."""
    ids: dict[str, str | None] = {}
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") in REFERENCE_TYPES:
            ids.setdefault(ref["type"], None if ref.get("id") is None else str(ref["id"]))
    for x_type, kind in REFERENCE_TYPES.items():
        if x_type in ids:
            return kind, ids[x_type]
    return None, None


def _post_type(tweet: dict[str, Any]) -> str:
    return _reference(tweet)[0] or "post"


def _hashtags(tweet: dict[str, Any]) -> str | None:
    tags = [str(h.get("tag")).lower() for h in (tweet.get("entities") or {}).get("hashtags") or [] if isinstance(h, dict) and h.get("tag")]
    return "|".join(dict.fromkeys(tags)) or None


def _gaps(public_metrics: dict[str, Any]) -> str | None:
    # X leaves impression_count and bookmark_count out of public_metrics for some posts and access levels.
    return unavailable_metrics({
        "views": "impression_count not served" if public_metrics.get("impression_count") is None else None,
        "saves": "bookmark_count not served" if public_metrics.get("bookmark_count") is None else None,
    })


#: Why a repost's counters are NULL: X gives a retweet the original's retweet_count (and zeros or the original's
#: other counts); likes, replies and retweets of a retweet all go to the original. It has no engagement of its own.
REPOST_REASON = "repost: X sends the original's counts"
METRIC_FIELDS = {
    "likes": "like_count", "comments": "reply_count", "shares": "retweet_count",
    "views": "impression_count", "saves": "bookmark_count", "quotes": "quote_count",
}


def _metrics(tweet: dict[str, Any], kind: str | None) -> tuple[dict[str, Any], str | None]:
    """The post_metrics readers and unavailable_metrics of one tweet; a repost's are NULL with their reason."""
    pm = tweet.get("public_metrics") or {}
    if kind == "repost":
        # Never credit the original's counts to the reposting account; the repost still counts as
        # amplification through referenced_post_id.
        return dict.fromkeys(METRIC_FIELDS), unavailable_metrics(dict.fromkeys(METRIC_FIELDS, REPOST_REASON))
    readers = {metric: (lambda m=pm, f=field: to_count(m.get(f), f"public_metrics.{f}")) for metric, field in METRIC_FIELDS.items()}
    return readers, _gaps(pm)


def _requested(line: dict[str, Any]) -> set[str] | None:
    """The ids a lookup asked for, as landed with it (None for lines landed before ids were)."""
    ids = line.get("ids")
    return {str(i) for i in ids} if isinstance(ids, list) else None


def deleted_ids(payload: dict[str, Any], requested: set[str] | None) -> list[str]:
    """Ids of a tweets lookup that X answered in ``errors`` (deleted, withheld, protected author).

    Only an error about a requested id counts: X also puts in ``errors`` what it could not expand
    (``parameter`` ``referenced_tweets.id``, ``pinned_tweet_id``, ``entities.mentions.username``,
    ``author_id``...), and those are about other posts and users, not deletions of the posts asked for.
    """
    returned = {str(t.get("id")) for t in payload.get("data") or [] if isinstance(t, dict)}
    gone: list[str] = []
    for error in payload.get("errors") or []:
        if not isinstance(error, dict) or error.get("resource_type") != "tweet" or error.get("resource_id") is None:
            continue
        tweet_id = str(error["resource_id"])
        if error.get("parameter", "ids") not in ("ids", "id") or (requested is not None and tweet_id not in requested):
            continue
        if tweet_id not in returned:
            gone.append(tweet_id)
    return list(dict.fromkeys(gone))


def parse_x(lines: Iterable[dict[str, Any]], snapshot_date: date, captured_at: datetime) -> Frames:
    frames = Frames()
    captured = naive_utc(captured_at)
    for line, payload in ok_payloads(lines, frames):
        if not isinstance(payload, dict):
            continue
        endpoint = line.get("endpoint")
        data = [d for d in payload.get("data") or [] if isinstance(d, dict)]
        if endpoint == "users":
            for user in data:
                pm = user.get("public_metrics") or {}
                frames.rows["account_snapshots"].append(
                    row(
                        {"platform": PLATFORM, "platform_account_id": user.get("id"), "snapshot_date": snapshot_date,
                         "captured_at": captured, "total_views": None},
                        {
                            "followers": lambda m=pm: to_count(m.get("followers_count"), "public_metrics.followers_count"),
                            "following": lambda m=pm: to_count(m.get("following_count"), "public_metrics.following_count"),
                            "total_posts": lambda m=pm: to_count(m.get("tweet_count"), "public_metrics.tweet_count"),
                        },
                        user,
                    )
                )
        elif endpoint in ("user_tweets", "tweets"):
            for tweet in data:
                tweet_id = tweet.get("id")
                kind, referenced = _reference(tweet)
                readers, gaps = _metrics(tweet, kind)
                frames.rows["posts"].append(
                    row(
                        {
                            "platform": PLATFORM, "platform_post_id": tweet_id, "platform_account_id": tweet.get("author_id"),
                            "post_type": _post_type(tweet), "title": None, "text": tweet.get("text"), "hashtags": _hashtags(tweet),
                            "url": f"https://x.com/i/web/status/{tweet_id}" if tweet_id else None,
                            "referenced_post_id": referenced, "reference_kind": kind,
                        },
                        {
                            "published_at": lambda t=tweet: to_utc(t.get("created_at"), "created_at"),
                            "published_on": lambda t=tweet: jakarta_day(t.get("created_at"), "created_at"),
                        },
                        tweet,
                    )
                )
                frames.rows["post_metrics"].append(
                    row(
                        {"platform": PLATFORM, "platform_post_id": tweet_id, "snapshot_date": snapshot_date, "captured_at": captured,
                         "unavailable_metrics": gaps, **{m: None for m, read in readers.items() if read is None}},
                        {m: read for m, read in readers.items() if read is not None},
                        tweet,
                    )
                )
            if endpoint == "tweets":
                for tweet_id in deleted_ids(payload, _requested(line)):
                    frames.rows["post_deletions"].append({"platform": PLATFORM, "platform_post_id": tweet_id, "snapshot_date": snapshot_date})
    return frames
