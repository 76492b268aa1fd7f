"""Parsing recorded-shape YouTube payloads into canonical frames."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from etl.platforms.youtube.parser import parse_youtube
from etl.sources.readers import hashtags_of, to_count

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "youtube"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def line(endpoint: str, fixture: str, url: str = "", status: int = 200) -> dict:
    return {"endpoint": endpoint, "status": status, "url": url, "body": (FIXTURES / fixture).read_text(encoding="utf-8")}


def test_channels_counts_are_strings_and_hidden_subscribers_are_null() -> None:
    frames = parse_youtube([line("channels", "channels_list.json")], DAY, AS_OF)
    df = frames.frame("account_snapshots")
    assert df[["platform_account_id", "followers", "total_posts", "total_views"]].to_dict("records") == [
        {"platform_account_id": "UCp2Zq3nq8QmC6Xq0eW1xY4A", "followers": 312000, "total_posts": 5127, "total_views": 48211934},
        {"platform_account_id": "UCz9Wq1mR5tY8uI3oP6aS2dF", "followers": None, "total_posts": 42, "total_views": 1200},
    ]
    assert df["parse_issue"].isna().all()
    assert df["captured_at"].iloc[0] == datetime(2026, 11, 20, 18, 0)


def test_videos_become_posts_and_metrics_with_missing_counts_as_null() -> None:
    url = "http://x/youtube/v3/videos?part=snippet&id=dQw4w9WgXcQ,aBcD_12-xYz,Zz9_Yy8-Xx7,BadCount001,GoneVideo01&key=%2A%2A%2A"
    frames = parse_youtube([line("videos", "videos_list.json", url)], DAY, AS_OF)
    posts = frames.frame("posts").set_index("platform_post_id")
    metrics = frames.frame("post_metrics").set_index("platform_post_id")
    assert list(posts.index) == ["dQw4w9WgXcQ", "aBcD_12-xYz", "Zz9_Yy8-Xx7", "BadCount001"]
    first = posts.loc["dQw4w9WgXcQ"]
    assert first["published_at"] == datetime(2026, 11, 19, 23, 30)
    assert first["published_on"] == date(2026, 11, 20)  # 06:30 in Jakarta
    assert first["hashtags"] == "kttasean2023|aseanmatters|asean2023"
    assert first["post_type"] == "video" and posts.loc["aBcD_12-xYz", "post_type"] == "short"
    assert first["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert metrics.loc["dQw4w9WgXcQ", ["likes", "comments", "views"]].tolist() == [412, 37, 15320]
    assert metrics.loc["aBcD_12-xYz", "likes"] is pd.NA  # hidden like count: NULL, not 0
    assert metrics.loc["Zz9_Yy8-Xx7", "comments"] is pd.NA  # comments disabled
    assert metrics.loc["dQw4w9WgXcQ", "shares"] is pd.NA  # YouTube serves no share count
    assert metrics.loc["BadCount001", "parse_issue"] == "statistics.viewCount: 'many' is not a count"
    assert frames.frame("post_deletions")["platform_post_id"].tolist() == ["GoneVideo01"]


def test_only_complete_200_answers_are_read() -> None:
    lines = [
        {"endpoint": "videos", "status": 503, "url": "", "body": "{}"},
        {"endpoint": "videos", "status": 200, "url": "", "body": '{"items": [{"id": "x"'},
    ]
    frames = parse_youtube(lines, DAY, AS_OF)
    assert (frames.calls_read, frames.calls_skipped) == (0, 2)
    assert frames.frame("posts").empty


@pytest.mark.parametrize(
    ("value", "expected"),
    [("123", 123), (7, 7), (None, None), ("0", 0)],
)
def test_to_count(value, expected) -> None:
    assert to_count(value, "f") == expected


@pytest.mark.parametrize("value", ["1.5", "", True, [1]])
def test_to_count_rejects(value) -> None:
    with pytest.raises(ValueError, match=r"^f: .* is not a count$"):
        to_count(value, "f")


def test_hashtags_are_unique_lowercase_in_order() -> None:
    assert hashtags_of("#A #b", None, "#a #C") == "a|b|c"
    assert hashtags_of("none here") is None


def test_fixture_is_valid_json() -> None:
    for path in FIXTURES.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
