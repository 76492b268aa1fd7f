"""Contract tests: TikTok Display API answers and Research API lookups by id (tests/fixtures/tiktok) into canonical frames."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from etl.platforms.tiktok.parser import parse_tiktok

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tiktok"
DAY = date(2024, 11, 20)
AS_OF = datetime(2024, 11, 20, 18, 0, tzinfo=UTC)
SINCE = "2024-10-21T18:00:00+00:00"  # AS_OF minus a 30-day re-pull window


def line(endpoint: str, fixture: str, status: int = 200, **context: object) -> dict:
    return {"endpoint": endpoint, "status": status, "url": "", "body": (FIXTURES / fixture).read_text(encoding="utf-8"), **context}


def records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return df[columns].astype(object).where(df[columns].notna(), None).to_dict("records")


def test_display_api_answers_give_the_same_frames_as_the_research_api() -> None:
    frames = parse_tiktok(
        [
            line("display_user_info", "display_user_info.json", account="tiktok:KOMDIGI:0", username="komdigi"),
            line("display_video_list", "display_video_list_page.json", account="tiktok:KOMDIGI:0", username="komdigi", since=SINCE),
            line("display_video_query", "display_video_query.json", account="tiktok:KOMDIGI:0", username="komdigi",
                 requested_ids=["7438111111111111111", "7437000000000000000"], lookup="komdigi:0"),
            line("display_video_list", "display_token_invalid.json", status=401, account="tiktok:KOMDIGI:0", username="komdigi"),
        ],
        DAY, AS_OF,
    )
    assert records(frames.frame("account_snapshots"), ["platform_account_id", "followers", "following", "total_posts", "total_views"]) == [
        {"platform_account_id": "komdigi", "followers": 912340, "following": 12, "total_posts": 1533, "total_views": None},
    ]
    # The third video of the list page is older than the landed cutoff: not the night's.
    assert records(frames.frame("posts"), ["platform_post_id", "platform_account_id", "title", "hashtags", "url", "published_at", "published_on"]) == [
        {"platform_post_id": "7439876543210987654", "platform_account_id": "komdigi", "title": "Cek fakta sebelum berbagi",
         "hashtags": "aseanmatters|komdigi", "url": "https://www.tiktok.com/@komdigi/video/7439876543210987654",
         "published_at": pd.Timestamp("2024-11-20 02:15:07"), "published_on": date(2024, 11, 20)},
        {"platform_post_id": "7439000000000000001", "platform_account_id": "komdigi", "title": "Layanan publik",
         "hashtags": None, "url": "https://www.tiktok.com/@komdigi/video/7439000000000000001",
         "published_at": pd.Timestamp("2024-11-19 16:59:59"), "published_on": date(2024, 11, 19)},
        {"platform_post_id": "7438111111111111111", "platform_account_id": "komdigi", "title": "Siaran pers",
         "hashtags": "aseanmatters", "url": "https://www.tiktok.com/@komdigi/video/7438111111111111111",
         "published_at": pd.Timestamp("2024-11-18 03:20:00"), "published_on": date(2024, 11, 18)},
    ]
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "comments", "shares", "views", "saves", "unavailable_metrics"]) == [
        {"platform_post_id": "7439876543210987654", "likes": 1520, "comments": 44, "shares": 87, "views": 60231, "saves": None,
         "unavailable_metrics": None},
        # Not served is NULL (not 0), and says so; saves are not a TikTok metric and carry no reason.
        {"platform_post_id": "7439000000000000001", "likes": 31, "comments": 2, "shares": None, "views": None, "saves": None,
         "unavailable_metrics": "shares=share_count not served; views=view_count not served"},
        {"platform_post_id": "7438111111111111111", "likes": 410, "comments": 9, "shares": 12, "views": 15020, "saves": None,
         "unavailable_metrics": None},
    ]
    # video/query returned one of the two ids asked for: the other is gone (deleted or made private).
    assert records(frames.frame("post_deletions"), ["platform", "platform_post_id", "snapshot_date"]) == [
        {"platform": "tiktok", "platform_post_id": "7437000000000000000", "snapshot_date": DAY},
    ]
    assert (frames.calls_read, frames.calls_skipped) == (3, 1)


def test_research_api_missing_counts_are_named_in_unavailable_metrics() -> None:
    frames = parse_tiktok([line("video_query", "video_query_page.json")], DAY, AS_OF)
    assert records(frames.frame("post_metrics"), ["platform_post_id", "likes", "unavailable_metrics"]) == [
        {"platform_post_id": "7439876543210987654", "likes": 1520, "unavailable_metrics": None},
        {"platform_post_id": "7439000000000000001", "likes": None, "unavailable_metrics": "likes=like_count not served"},
    ]


def _lookup(window: int, windows: int, has_more: bool = False, status: int = 200) -> dict:
    payload = json.loads((FIXTURES / "video_lookup_page.json").read_text(encoding="utf-8"))
    payload["data"]["has_more"] = has_more
    if window:
        payload["data"]["videos"] = []
    return {"endpoint": "video_lookup", "status": status, "url": "", "body": json.dumps(payload),
            "requested_ids": ["7438222222222222222", "7436000000000000001"], "lookup": 0, "window": window, "windows": windows}


def test_research_lookup_by_id_records_ids_no_window_returned() -> None:
    frames = parse_tiktok([_lookup(0, 2), _lookup(1, 2)], DAY, AS_OF)
    assert frames.frame("posts")["platform_post_id"].tolist() == ["7438222222222222222"]
    assert frames.frame("post_deletions")["platform_post_id"].tolist() == ["7436000000000000001"]


def test_a_lookup_not_read_to_its_end_records_no_deletion() -> None:
    # The second window was never read (budget spent, error): the id may be there.
    assert parse_tiktok([_lookup(0, 2)], DAY, AS_OF).frame("post_deletions").empty
    # The window's last page was not read (has_more still true).
    assert parse_tiktok([_lookup(0, 1, has_more=True)], DAY, AS_OF).frame("post_deletions").empty
    # The answer was an error: nothing is known.
    assert parse_tiktok([_lookup(0, 1, status=500)], DAY, AS_OF).frame("post_deletions").empty
