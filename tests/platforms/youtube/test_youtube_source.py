"""The YouTube source: batching at 50 ids, paging uploads to the re-pull window, outcomes per account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms.youtube.source import YouTubeSource
from etl.sources.base import AccountRef, RateBudget, batched
from tests.scripted_server import ScriptedServer

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
CHANNEL = "UCaaaaaaaaaaaaaaaaaaaaaa"


def channels_body(*ids: str) -> str:
    return json.dumps({"items": [{"id": i, "contentDetails": {"relatedPlaylists": {"uploads": "UU" + i[2:]}}, "statistics": {}} for i in ids]})


def uploads_page(video_ids: list[str], next_token: str | None, start_hours: int = 1) -> str:
    items = [
        {"contentDetails": {"videoId": v, "videoPublishedAt": (AS_OF - timedelta(hours=start_hours + n)).isoformat()}}
        for n, v in enumerate(video_ids)
    ]
    return json.dumps({"items": items, **({"nextPageToken": next_token} if next_token else {})})


def videos_body(ids: list[str]) -> str:
    return json.dumps({"items": [{"id": i, "snippet": {}, "statistics": {}} for i in ids]})


def make_source(url: str, tmp_path, budget: int = 1000) -> tuple[YouTubeSource, LandingWriter]:
    landing = LandingWriter(tmp_path / "part.jsonl.gz", source="youtube")
    client = ApiClient(source="youtube", secrets=("k3y",), on_response=landing.write, sleep=lambda s: None)
    return YouTubeSource(client, url, "k3y", RateBudget("youtube", budget), landing), landing


def test_a_120_video_channel_costs_3_videos_calls(tmp_path) -> None:
    videos = [f"vid{n:08d}" for n in range(120)]
    ok = {"Content-Type": "application/json"}
    script = [
        (200, ok, channels_body(CHANNEL)),
        (200, ok, uploads_page(videos[:50], "p2")),
        (200, ok, uploads_page(videos[50:100], "p3", 51)),
        (200, ok, uploads_page(videos[100:], None, 101)),
        *[(200, ok, videos_body(batch)) for batch in batched(videos, 50)],
    ]
    with ScriptedServer(script) as server:
        source, landing = make_source(server.url, tmp_path)
        result = source.extract([AccountRef("youtube:X:0", CHANNEL)], as_of=AS_OF, repull_days=30)
        landing.close()
    paths = [urlsplit(p) for p in server.requests]
    assert [p.path for p in paths] == ["/channels", "/playlistItems", "/playlistItems", "/playlistItems", "/videos", "/videos", "/videos"]
    assert [len(parse_qs(p.query)["id"][0].split(",")) for p in paths if p.path == "/videos"] == [50, 50, 20]
    assert parse_qs(paths[2].query)["pageToken"] == ["p2"]
    assert {parse_qs(p.query)["prettyPrint"][0] for p in paths} == {"false"}  # compact answers: fewer bytes
    assert result.outcomes["youtube:X:0"].status == "ok"
    assert (result.api_calls, result.units) == (7, 7)
    landed = list(read_landing(tmp_path / "part.jsonl.gz"))
    assert [r["endpoint"] for r in landed] == ["channels", "playlistItems", "playlistItems", "playlistItems", "videos", "videos", "videos"]
    assert all("k3y" not in r["url"] for r in landed)


def test_uploads_walk_stops_at_the_repull_window(tmp_path) -> None:
    ok = {"Content-Type": "application/json"}
    # 3 videos inside a 1-day window, then older ones: the next page must not be requested.
    page = json.loads(uploads_page(["new1", "new2", "new3"], "p2"))
    page["items"].append({"contentDetails": {"videoId": "old1", "videoPublishedAt": (AS_OF - timedelta(days=2)).isoformat()}})
    script = [(200, ok, channels_body(CHANNEL)), (200, ok, json.dumps(page)), (200, ok, videos_body(["new1", "new2", "new3"]))]
    with ScriptedServer(script) as server:
        source, landing = make_source(server.url, tmp_path)
        source.extract([AccountRef("youtube:X:0", CHANNEL)], as_of=AS_OF, repull_days=1)
        landing.close()
    assert [urlsplit(p).path for p in server.requests] == ["/channels", "/playlistItems", "/videos"]
    assert parse_qs(urlsplit(server.requests[2]).query)["id"] == ["new1,new2,new3"]


def test_missing_channel_and_missing_playlist_are_recorded_not_raised(tmp_path) -> None:
    ok = {"Content-Type": "application/json"}
    other = "UCbbbbbbbbbbbbbbbbbbbbbb"
    not_found = json.dumps({"error": {"code": 404, "message": "The playlist identified with the request's playlistId parameter cannot be found.",
                                      "errors": [{"reason": "playlistNotFound", "domain": "youtube.playlistItem"}]}})
    script = [(200, ok, channels_body(CHANNEL)), (404, ok, not_found)]
    with ScriptedServer(script) as server:
        source, landing = make_source(server.url, tmp_path)
        result = source.extract([AccountRef("youtube:A:0", CHANNEL), AccountRef("youtube:B:0", other)], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["youtube:B:0"].status == "not_found"
    assert result.outcomes["youtube:B:0"].message == f"source=youtube channel {other} not returned by channels.list"
    assert result.outcomes["youtube:A:0"].status == "not_found"
    assert "playlistNotFound" in result.outcomes["youtube:A:0"].message


def test_budget_spent_defers_remaining_accounts(tmp_path) -> None:
    ok = {"Content-Type": "application/json"}
    second = "UCbbbbbbbbbbbbbbbbbbbbbb"
    script = [(200, ok, channels_body(CHANNEL, second)), (200, ok, uploads_page(["v1"], None)), (200, ok, videos_body(["v1"]))]
    with ScriptedServer(script) as server:
        source, landing = make_source(server.url, tmp_path, budget=2)
        result = source.extract([AccountRef("youtube:A:0", CHANNEL), AccountRef("youtube:B:0", second)], as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 2  # channels + A's uploads; the budget stops B's uploads
    assert {k: v.status for k, v in result.outcomes.items()} == {"youtube:A:0": "deferred", "youtube:B:0": "deferred"}


def test_an_invalid_key_stops_at_the_first_call_and_records_token_expired_naming_the_connection(tmp_path) -> None:
    body = json.dumps({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                 "errors": [{"reason": "badRequest"}], "status": "INVALID_ARGUMENT",
                                 "details": [{"reason": "API_KEY_INVALID"}]}})
    second = "UCbbbbbbbbbbbbbbbbbbbbbb"
    with ScriptedServer([(400, {}, body)]) as server:
        source, landing = make_source(server.url, tmp_path)
        result = source.extract([AccountRef("youtube:A:0", CHANNEL), AccountRef("youtube:B:0", second)], as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 1
    message = (
        "source=youtube status=400 reason=badRequest: YouTube refuses the credentials of connection 'youtube_api' "
        "(API_KEY_INVALID, INVALID_ARGUMENT, badRequest); check the API key"
    )
    assert {k: (v.status, v.message) for k, v in result.outcomes.items()} == {
        "youtube:A:0": ("token_expired", message), "youtube:B:0": ("token_expired", message)}
