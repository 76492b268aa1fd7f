"""Metrics a platform did not serve: NULL with the reason in ``unavailable_metrics``, per parser, from recorded-shape payloads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from etl.platforms.facebook.parser import parse_facebook
from etl.platforms.instagram.parser import parse_instagram
from etl.platforms.x.parser import parse_x
from etl.platforms.youtube.parser import parse_youtube
from etl.quality import validate_frame
from etl.sources.frames import Frames
from etl.sources.readers import unavailable_metrics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def line(platform: str, endpoint: str, fixture: str, status: int = 200, **context: object) -> dict:
    return {"endpoint": endpoint, "status": status, "url": "", "body": (FIXTURES / platform / fixture).read_text(encoding="utf-8"), **context}


def gaps(frames: Frames) -> dict[str, str | None]:
    metrics = frames.frame("post_metrics")
    return dict(zip(metrics["platform_post_id"], metrics["unavailable_metrics"], strict=True))


def records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return df[columns].astype(object).where(df[columns].notna(), None).to_dict("records")


def test_reasons_are_sorted_by_metric_and_served_metrics_are_left_out() -> None:
    assert unavailable_metrics({"views": "impression_count not served", "likes": "hidden by the owner", "shares": None}) == (
        "likes=hidden by the owner; views=impression_count not served"
    )
    assert unavailable_metrics({"likes": None, "comments": None}) is None
    assert unavailable_metrics({}) is None


def test_a_parser_that_gives_no_reason_leaves_the_column_null() -> None:
    frames = Frames()
    frames.rows["post_metrics"].append({"platform": "tiktok", "platform_post_id": "1", "likes": None})
    column = frames.frame("post_metrics")["unavailable_metrics"]
    assert column.tolist() == [None]  # None, not NaN: it loads as SQL NULL


def test_youtube_hidden_likes_and_disabled_comments() -> None:
    frames = parse_youtube([line("youtube", "videos", "videos_list.json")], DAY, AS_OF)
    assert gaps(frames) == {
        "dQw4w9WgXcQ": None,
        "aBcD_12-xYz": "likes=hidden by the channel",
        "Zz9_Yy8-Xx7": "comments=comments disabled",
        "BadCount001": None,
    }


def test_x_impressions_and_bookmarks_not_served() -> None:
    frames = parse_x([line("x", "tweets", "tweets_lookup_without_impressions.json")], DAY, AS_OF)
    assert records(frames.frame("post_metrics"), ["platform_post_id", "views", "saves", "unavailable_metrics"]) == [
        {"platform_post_id": "1700000000000000001", "views": None, "saves": None,
         "unavailable_metrics": "saves=bookmark_count not served; views=impression_count not served"},
        {"platform_post_id": "1700000000000000002", "views": None, "saves": 2, "unavailable_metrics": "views=impression_count not served"},
    ]
    served = parse_x([line("x", "user_tweets", "user_tweets_page.json")], DAY, AS_OF)
    # The original post has every count; the retweet's counts are the original's, so none is its own.
    assert gaps(served) == {
        "1859123456789012345": None,
        "1859000000000000001": "comments=repost: X sends the original's counts; likes=repost: X sends the original's counts; "
        "quotes=repost: X sends the original's counts; saves=repost: X sends the original's counts; "
        "shares=repost: X sends the original's counts; views=repost: X sends the original's counts",
    }


def test_instagram_like_count_hidden_by_the_owner() -> None:
    frames = parse_instagram([line("instagram", "business_discovery", "business_discovery_first_page.json")], DAY, AS_OF)
    assert gaps(frames) == {
        "18034567890123456": None,
        "17987654321098765": "likes=hidden by the owner",
        "17900000000000001": None,  # like_count was sent, unreadable: a parse issue, not a gap
    }


def test_facebook_absent_shares_is_zero_and_an_absent_comments_summary_is_a_gap() -> None:
    frames = parse_facebook([line("facebook", "post_lookup", "post_lookup_ids.json", ids=["a", "b"])], DAY, AS_OF)
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "comments", "shares", "unavailable_metrics"]) == [
        {"platform_post_id": "104560000000001_1122334455661111", "likes": 410, "comments": 9, "shares": 12, "unavailable_metrics": None},
        {"platform_post_id": "104560000000001_1122334455662222", "likes": 55, "comments": None, "shares": 0,
         "unavailable_metrics": "comments=comments summary not served"},
    ]
    assert frames.frame("posts")["platform_account_id"].tolist() == ["104560000000001", "104560000000001"]


def test_facebook_field_dropped_for_graph_version_drift_is_null_with_the_version() -> None:
    body = json.loads((FIXTURES / "facebook" / "published_posts_page.json").read_text(encoding="utf-8"))
    for post in body["data"]:
        post.pop("shares", None)  # the re-sent call no longer asks for it
    landed = {"endpoint": "published_posts", "status": 200, "url": "", "body": json.dumps(body),
              "dropped_fields": ["shares"], "graph_version": "v24.0"}
    frames = parse_facebook([landed], DAY, AS_OF)
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "shares", "unavailable_metrics"]) == [
        {"platform_post_id": "104560000000001_1122334455667788", "likes": 842, "shares": None, "unavailable_metrics": "shares=not served by Graph API v24.0"},
        {"platform_post_id": "104560000000001_1122334455660000", "likes": 3, "shares": None, "unavailable_metrics": "shares=not served by Graph API v24.0"},
    ]


def test_facebook_lookup_answered_does_not_exist_is_a_deletion_and_other_errors_are_not() -> None:
    gone = line("facebook", "post", "object_does_not_exist.json", status=400, ids=["104560000000001_1122334455663333"])
    refused_batch = line("facebook", "post_lookup", "object_does_not_exist.json", status=400, ids=["104560000000001_1", "104560000000001_2"])
    drift = line("facebook", "post", "nonexisting_field.json", status=400, ids=["104560000000001_1122334455664444"])
    frames = parse_facebook([refused_batch, gone, drift], DAY, AS_OF)
    # The failed ?ids= call names one id for the whole batch: only a one-id read says which post is gone.
    assert records(frames.frame("post_deletions"), ["platform", "platform_post_id", "snapshot_date"]) == [
        {"platform": "facebook", "platform_post_id": "104560000000001_1122334455663333", "snapshot_date": DAY},
    ]
    assert (frames.calls_read, frames.calls_skipped) == (0, 3)


def test_the_post_metrics_suite_accepts_reasons_and_quarantines_a_malformed_one() -> None:
    frames = parse_facebook([line("facebook", "post_lookup", "post_lookup_ids.json")], DAY, AS_OF)
    df = frames.frame("post_metrics").assign(account_key="facebook:KEM-A:0")
    assert len(validate_frame("post_metrics", df).valid) == 2
    bad = df.assign(unavailable_metrics=["likes", "comments=comments summary not served"])
    checked = validate_frame("post_metrics", bad)
    assert checked.quarantined["failed_expectations"].tolist() == ['["expect_column_values_to_match_regex(unavailable_metrics)"]']
