"""Contract tests: Instagram, Facebook and TikTok payloads (tests/fixtures/<platform>) into canonical frames."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from etl.platforms.facebook.parser import parse_facebook
from etl.platforms.instagram.parser import parse_instagram
from etl.platforms.tiktok.parser import parse_tiktok

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def line(platform: str, endpoint: str, fixture: str, **extra: str) -> dict:
    return {"endpoint": endpoint, "status": 200, "url": "", "body": (FIXTURES / platform / fixture).read_text(encoding="utf-8"), **extra}


def records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return df[columns].astype(object).where(df[columns].notna(), None).to_dict("records")


def test_instagram_business_discovery() -> None:
    frames = parse_instagram([line("instagram", "business_discovery", "business_discovery_first_page.json")], DAY, AS_OF)
    assert records(frames.frame("account_snapshots"), ["platform_account_id", "followers", "following", "total_posts", "total_views"]) == [
        {"platform_account_id": "17841401234567890", "followers": 2145630, "following": 58, "total_posts": 8123, "total_views": None},
    ]
    posts = frames.frame("posts")
    assert records(posts, ["platform_post_id", "platform_account_id", "post_type", "hashtags", "url", "published_at", "published_on"]) == [
        {"platform_post_id": "18034567890123456", "platform_account_id": "17841401234567890", "post_type": "carousel",
         "hashtags": "aseanmatters|komdigi", "url": "https://www.instagram.com/p/DCa1b2C3d4E/",
         "published_at": pd.Timestamp("2026-11-20 02:15:07"), "published_on": date(2026, 11, 20)},
        {"platform_post_id": "17987654321098765", "platform_account_id": "17841401234567890", "post_type": "reel",
         "hashtags": None, "url": "https://www.instagram.com/reel/DCz9y8X7w6V/",
         "published_at": pd.Timestamp("2026-11-19 16:59:59"), "published_on": date(2026, 11, 19)},
        {"platform_post_id": "17900000000000001", "platform_account_id": "17841401234567890", "post_type": "image",
         "hashtags": None, "url": "https://www.instagram.com/p/DCx0000000A/",
         "published_at": pd.Timestamp("2026-11-18 01:00:00"), "published_on": date(2026, 11, 18)},
    ]
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "comments", "shares", "views", "parse_issue"]) == [
        {"platform_post_id": "18034567890123456", "likes": 5231, "comments": 87, "shares": None, "views": None, "parse_issue": None},
        # Hidden like count: NULL, not 0.
        {"platform_post_id": "17987654321098765", "likes": None, "comments": 12, "shares": None, "views": None, "parse_issue": None},
        {"platform_post_id": "17900000000000001", "likes": None, "comments": 0, "shares": None, "views": None,
         "parse_issue": "media.like_count: 'lots' is not a count"},
    ]


def test_instagram_later_pages_have_no_account_counters() -> None:
    body = (FIXTURES / "instagram" / "business_discovery_first_page.json").read_text()
    later = body.replace('"followers_count": 2145630,', "").replace('"follows_count": 58,', "").replace('"media_count": 8123,', "")
    frames = parse_instagram([{"endpoint": "business_discovery", "status": 200, "url": "", "body": later}], DAY, AS_OF)
    assert frames.frame("account_snapshots").empty and len(frames.frame("posts")) == 3


def test_facebook_page_and_published_posts() -> None:
    frames = parse_facebook([line("facebook", "page", "page_fields.json"), line("facebook", "published_posts", "published_posts_page.json")], DAY, AS_OF)
    assert records(frames.frame("account_snapshots"), ["platform_account_id", "followers", "following", "total_posts"]) == [
        {"platform_account_id": "104560000000001", "followers": 1893421, "following": None, "total_posts": None},
    ]
    assert records(frames.frame("posts"), ["platform_post_id", "platform_account_id", "text", "hashtags", "published_on"]) == [
        {"platform_post_id": "104560000000001_1122334455667788", "platform_account_id": "104560000000001",
         "text": "Siaran pers: #ASEANMatters di Jakarta", "hashtags": "aseanmatters", "published_on": date(2026, 11, 20)},
        {"platform_post_id": "104560000000001_1122334455660000", "platform_account_id": "104560000000001",
         "text": None, "hashtags": None, "published_on": date(2026, 11, 19)},
    ]
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "comments", "shares"]) == [
        {"platform_post_id": "104560000000001_1122334455667788", "likes": 842, "comments": 57, "shares": 31},
        # Graph leaves ``shares`` out when nobody shared: 0, not unknown.
        {"platform_post_id": "104560000000001_1122334455660000", "likes": 3, "comments": 0, "shares": 0},
    ]


def test_tiktok_video_query_and_user_info() -> None:
    frames = parse_tiktok(
        [line("tiktok", "user_info", "user_info.json", username="komdigi"), line("tiktok", "video_query", "video_query_page.json")], DAY, AS_OF
    )
    assert records(frames.frame("account_snapshots"), ["platform_account_id", "followers", "following", "total_posts"]) == [
        {"platform_account_id": "komdigi", "followers": 912340, "following": 12, "total_posts": 1533},
    ]
    assert records(frames.frame("posts"), ["platform_post_id", "platform_account_id", "hashtags", "url", "published_at", "published_on"]) == [
        {"platform_post_id": "7439876543210987654", "platform_account_id": "komdigi", "hashtags": "aseanmatters|komdigi",
         "url": "https://www.tiktok.com/@komdigi/video/7439876543210987654",
         "published_at": pd.Timestamp("2024-11-20 02:15:07"), "published_on": date(2024, 11, 20)},
        {"platform_post_id": "7439000000000000001", "platform_account_id": "komdigi", "hashtags": None,
         "url": "https://www.tiktok.com/@komdigi/video/7439000000000000001",
         "published_at": pd.Timestamp("2024-11-19 16:59:59"), "published_on": date(2024, 11, 19)},
    ]
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "comments", "shares", "views"]) == [
        {"platform_post_id": "7439876543210987654", "likes": 1520, "comments": 44, "shares": 87, "views": 60231},
        {"platform_post_id": "7439000000000000001", "likes": None, "comments": 2, "shares": 0, "views": 913},
    ]


def test_instagram_media_older_than_the_landed_cutoff_are_left_out() -> None:
    lines = [line("instagram", "business_discovery", "business_discovery_first_page.json", since="2026-11-19T00:00:00+00:00")]
    frames = parse_instagram(lines, DAY, AS_OF)
    # The 2026-11-18 media shared the page but is outside the re-pull window.
    assert frames.frame("posts")["platform_post_id"].tolist() == ["18034567890123456", "17987654321098765"]
    assert len(frames.frame("post_metrics")) == 2
