"""Contract tests: X API v2 payloads (tests/fixtures/x) into canonical frames."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from etl.platforms import parse_landing
from etl.platforms.x.parser import parse_x

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def line(endpoint: str, fixture: str, status: int = 200) -> dict:
    return {"endpoint": endpoint, "status": status, "url": "", "body": (FIXTURES / fixture).read_text(encoding="utf-8")}


def records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return df[columns].astype(object).where(df[columns].notna(), None).to_dict("records")


def test_users_public_metrics_become_account_snapshots() -> None:
    frames = parse_x([line("users", "users_lookup.json")], DAY, AS_OF)
    df = frames.frame("account_snapshots")
    assert records(df, ["platform", "platform_account_id", "followers", "following", "total_posts", "total_views"]) == [
        {"platform": "x", "platform_account_id": "1166941040371339264", "followers": 1208344, "following": 211, "total_posts": 58122, "total_views": None},
        {"platform": "x", "platform_account_id": "783214", "followers": 120, "following": 15, "total_posts": 44, "total_views": None},
    ]
    assert df["parse_issue"].isna().all()


def test_timeline_tweets_become_posts_and_metrics() -> None:
    frames = parse_x([line("user_tweets", "user_tweets_page.json")], DAY, AS_OF)
    posts = frames.frame("posts")
    assert records(posts, ["platform_post_id", "platform_account_id", "post_type", "hashtags", "url", "published_at", "published_on"]) == [
        {"platform_post_id": "1859123456789012345", "platform_account_id": "1166941040371339264", "post_type": "post",
         "hashtags": "aseanmatters|komdigi", "url": "https://x.com/i/web/status/1859123456789012345",
         "published_at": pd.Timestamp("2026-11-20 02:15:07"), "published_on": date(2026, 11, 20)},
        # 16:59:59 UTC is 23:59:59 in Jakarta: still the 19th there.
        {"platform_post_id": "1859000000000000001", "platform_account_id": "1166941040371339264", "post_type": "repost",
         "hashtags": None, "url": "https://x.com/i/web/status/1859000000000000001",
         "published_at": pd.Timestamp("2026-11-19 16:59:59"), "published_on": date(2026, 11, 19)},
    ]
    metrics = frames.frame("post_metrics")
    assert records(metrics, ["platform_post_id", "likes", "comments", "shares", "views", "saves", "quotes"])[0] == {
        "platform_post_id": "1859123456789012345", "likes": 230, "comments": 7, "shares": 41, "views": 15890, "saves": 5, "quotes": 3,
    }
    assert frames.frame("post_deletions").empty  # a timeline says nothing about tweets it does not list


def test_referenced_tweets_say_what_a_tweet_reposts_quotes_or_replies_to() -> None:
    frames = parse_x([line("user_tweets", "user_tweets_references.json")], DAY, AS_OF)
    posts = frames.frame("posts")
    assert records(posts, ["platform_post_id", "post_type", "reference_kind", "referenced_post_id", "hashtags"]) == [
        # a retweet carries the original's hashtags in its "RT @komdigi: ..." text
        {"platform_post_id": "1859234567890123456", "post_type": "repost", "reference_kind": "repost",
         "referenced_post_id": "1859123456789012345", "hashtags": "aseanmatters|komdigi"},
        # replied_to and quoted: a quote, whatever the order X lists them in
        {"platform_post_id": "1859200000000000002", "post_type": "quote", "reference_kind": "quote",
         "referenced_post_id": "1859123456789012345", "hashtags": None},
        {"platform_post_id": "1859200000000000001", "post_type": "reply", "reference_kind": "reply",
         "referenced_post_id": "1859111111111111111", "hashtags": None},
        {"platform_post_id": "1859190000000000000", "post_type": "post", "reference_kind": None,
         "referenced_post_id": None, "hashtags": None},
    ]
    assert posts["referenced_post_id"].tolist()[-1] is None  # NULL, not NaN
    assert posts["parse_issue"].isna().all()


def test_a_tweet_referencing_both_a_retweet_and_a_quote_is_a_repost() -> None:
    tweet = {"id": "1", "author_id": "2", "created_at": "2026-11-20T03:00:00.000Z", "text": "RT @a: b",
             "referenced_tweets": [{"type": "quoted", "id": "10"}, {"type": "replied_to", "id": "11"}, {"type": "retweeted", "id": 12}],
             "public_metrics": {}}
    frames = parse_x([{"endpoint": "tweets", "status": 200, "url": "", "body": json.dumps({"data": [tweet]})}], DAY, AS_OF)
    assert records(frames.frame("posts"), ["post_type", "reference_kind", "referenced_post_id"]) == [
        {"post_type": "repost", "reference_kind": "repost", "referenced_post_id": "12"},  # ids are strings, even if sent as numbers
    ]


def test_lookup_errors_flag_deleted_tweets_and_missing_likes_stay_null() -> None:
    frames = parse_x([line("tweets", "tweets_lookup_partial_errors.json")], DAY, AS_OF)
    assert frames.frame("post_deletions")["platform_post_id"].tolist() == ["1858000000000000003", "1858000000000000004"]
    metrics = frames.frame("post_metrics")
    assert records(metrics, ["platform_post_id", "likes", "comments", "shares", "views", "parse_issue"]) == [
        {"platform_post_id": "1858000000000000002", "likes": None, "comments": 1, "shares": 2, "views": None,
         "parse_issue": "public_metrics.impression_count: 'n/a' is not a count"},
    ]
    assert frames.frame("posts")["post_type"].tolist() == ["quote"]


def test_failed_and_truncated_answers_are_skipped(tmp_path: Path) -> None:
    body = (FIXTURES / "user_tweets_page.json").read_text(encoding="utf-8")
    lines = [
        {"endpoint": "user_tweets", "status": 429, "url": "", "body": '{"title":"Too Many Requests"}'},
        {"endpoint": "user_tweets", "status": 200, "url": "", "body": body[: len(body) // 2]},
        {"endpoint": "user_tweets", "status": 200, "url": "", "body": body},
    ]
    frames = parse_x(lines, DAY, AS_OF)
    assert (frames.calls_read, frames.calls_skipped) == (1, 2)
    assert len(frames.rows["posts"]) == 2


def test_parse_landing_finds_the_x_parser(tmp_path: Path) -> None:
    from etl.http import CallRecord
    from etl.landing import LandingWriter

    path = tmp_path / "x-000.jsonl.gz"
    with LandingWriter(path, source="x") as landing:
        landing.context = {"endpoint": "users", "account": None}
        landing.write(CallRecord("GET", "http://x/2/users?ids=1", 200, (FIXTURES / "users_lookup.json").read_text(), 3, 1))
    assert len(parse_landing(path, "x", DAY, AS_OF).rows["account_snapshots"]) == 2


def test_a_retweet_is_not_credited_the_originals_engagement() -> None:
    frames = parse_x([line("user_tweets", "user_tweets_retweet_includes.json")], DAY, AS_OF)
    metrics = records(frames.frame("post_metrics"), ["platform_post_id", "likes", "comments", "shares", "views", "saves", "quotes",
                                                     "unavailable_metrics"])
    reason = "repost: X sends the original's counts"
    assert metrics == [
        # retweet_count 812 is the original's (includes.tweets has the same 812): none of it is the agency's.
        {"platform_post_id": "1859300000000000001", "likes": None, "comments": None, "shares": None, "views": None, "saves": None,
         "quotes": None, "unavailable_metrics": "; ".join(f"{m}={reason}" for m in ("comments", "likes", "quotes", "saves", "shares", "views"))},
        {"platform_post_id": "1859300000000000002", "likes": 40, "comments": 2, "shares": 5, "views": 2100, "saves": 3, "quotes": 1,
         "unavailable_metrics": None},
    ]
    assert frames.frame("post_metrics")["parse_issue"].isna().all()
    # Still a repost of the original, so it counts as amplification; the original (another account's) is not a post of ours.
    assert records(frames.frame("posts"), ["platform_post_id", "reference_kind", "referenced_post_id"]) == [
        {"platform_post_id": "1859300000000000001", "reference_kind": "repost", "referenced_post_id": "1859200000000000009"},
        {"platform_post_id": "1859300000000000002", "reference_kind": None, "referenced_post_id": None},
    ]


def test_only_errors_about_requested_ids_flag_deletions() -> None:
    asked = ["1858000000000000011", "1858000000000000012", "1858000000000000013"]
    frames = parse_x([{**line("tweets", "tweets_lookup_expansion_errors.json"), "ids": asked}], DAY, AS_OF)
    # referenced_tweets.id, pinned_tweet_id and entities.mentions.username errors are about other objects.
    assert frames.frame("post_deletions")["platform_post_id"].tolist() == ["1858000000000000013"]
    # A line landed before lookups carried their ids: the parameter alone decides.
    older = parse_x([line("tweets", "tweets_lookup_expansion_errors.json")], DAY, AS_OF)
    assert older.frame("post_deletions")["platform_post_id"].tolist() == ["1858000000000000013"]
    # An error on an id that was not asked for is not a deletion either.
    other = parse_x([{**line("tweets", "tweets_lookup_expansion_errors.json"), "ids": asked[:2]}], DAY, AS_OF)
    assert other.frame("post_deletions").empty
