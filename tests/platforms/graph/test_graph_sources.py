"""Instagram and Facebook sources over real loopback HTTP: Graph errors, usage headers, cursor paging."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms.facebook.source import FacebookSource
from etl.platforms.instagram.source import InstagramSource
from etl.sources.base import AccountRef, CursorPaginator, RateBudget
from tests.scripted_server import ScriptedServer

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
OK = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def _own_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_INSTAGRAM_USER_ID", "17841400000000001")
    monkeypatch.delenv("PANTAU_GRAPH_API_VERSION", raising=False)


def make(cls, url: str, tmp_path: Path, budget: int = 100):
    landing = LandingWriter(tmp_path / "part.jsonl.gz", source=cls.__name__)
    client = ApiClient(source="graph", secrets=("m3ta",), on_response=landing.write, sleep=lambda s: None)
    return cls(client, url, "m3ta", RateBudget("graph", budget), landing), landing


def graph_error(code: int, subcode: int | None = None, message: str = "x") -> str:
    return json.dumps({"error": {"message": message, "type": "OAuthException", "code": code, **({"error_subcode": subcode} if subcode else {})}})


def media_page(timestamps: list[str], after: str | None) -> str:
    data = [{"id": f"1790000000000000{n}", "timestamp": t, "comments_count": 1} for n, t in enumerate(timestamps)]
    media = {"data": data, **({"paging": {"cursors": {"before": "B", "after": after}}} if after else {})}
    return json.dumps({"business_discovery": {"followers_count": 5, "media": media, "id": "17841401234567890"}, "id": "17841400000000001"})


def test_cursor_paginator_follows_graph_next_and_tiktok_has_more() -> None:
    graph = CursorPaginator(("paging", "cursors", "after"), "after", more_path=("paging", "next"))
    graph.update_state({"paging": {"cursors": {"after": "A1"}, "next": "https://..."}})
    assert graph.has_next_page and graph.update_request({"limit": 5}) == {"limit": 5, "after": "A1"}
    graph.update_state({"paging": {"cursors": {"after": "A2"}}})  # Meta keeps cursors on the last page
    assert not graph.has_next_page
    tiktok = CursorPaginator(("data", "cursor"), "cursor", more_path=("data", "has_more"))
    tiktok.update_state({"data": {"cursor": 100, "has_more": False}})
    assert not tiktok.has_next_page


def test_instagram_pages_with_after_until_the_window_ends(tmp_path: Path) -> None:
    script = [
        (200, OK, media_page(["2026-11-21T10:00:00+0000", "2026-11-20T10:00:00+0000"], "CUR1")),
        (200, OK, media_page(["2026-11-19T10:00:00+0000", "2026-10-01T10:00:00+0000"], "CUR2")),  # crosses the cutoff
    ]
    with ScriptedServer(script) as server:
        source, landing = make(InstagramSource, server.url, tmp_path)
        result = source.extract([AccountRef("instagram:A:0", "17841401234567890", "komdigi")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["instagram:A:0"].status == "ok"
    first, second = (urlsplit(r) for r in server.requests)
    assert first.path == "/v21.0/17841400000000001"
    fields = [parse_qs(u.query)["fields"][0] for u in (first, second)]
    assert fields[0].startswith("business_discovery.username(komdigi){followers_count,follows_count,media_count,media.limit(25){id,caption,")
    assert fields[1].startswith("business_discovery.username(komdigi){media.after(CUR1).limit(25){")
    assert len(server.requests) == 2  # no third page: the walk reached posts older than the window


@pytest.mark.parametrize(("code", "subcode"), [(4, None), (17, None), (32, None), (613, None), (80001, None)])
def test_graph_throttling_codes_are_retried(tmp_path: Path, code: int, subcode: int | None) -> None:
    script = [(400, OK, graph_error(code, subcode)), (200, OK, json.dumps({"id": "104560000000001", "followers_count": 9})),
              (200, OK, json.dumps({"data": []}))]
    with ScriptedServer(script) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract([AccountRef("facebook:A:0", "104560000000001")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["facebook:A:0"].status == "ok"
    assert (result.api_calls, result.retries) == (3, 1)


def test_a_page_meta_says_does_not_exist_is_not_found_at_once_not_retried(tmp_path: Path) -> None:
    with ScriptedServer([(400, OK, graph_error(100, 33))]) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract([AccountRef("facebook:A:0", "104560000000001")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert (result.api_calls, result.retries) == (1, 0)
    assert result.outcomes["facebook:A:0"].status == "not_found"
    assert result.outcomes["facebook:A:0"].message.startswith("source=facebook page 104560000000001 not found: ")


def test_graph_token_expired_stops_the_platform_and_names_the_connection(tmp_path: Path) -> None:
    body = (FIXTURES / "instagram" / "token_expired.json").read_text()
    with ScriptedServer([(400, OK, body)]) as server:
        source, landing = make(InstagramSource, server.url, tmp_path)
        accounts = [AccountRef(f"instagram:{n}:0", str(n), f"user{n}") for n in range(3)]
        result = source.extract(accounts, as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 1
    assert {v.status for v in result.outcomes.values()} == {"token_expired"}
    assert "connection 'meta_graph'" in result.outcomes["instagram:2:0"].message and "m3ta" not in result.outcomes["instagram:2:0"].message
    assert "access_token=m3ta" in server.requests[0]  # sent to Meta...
    assert all("m3ta" not in r["url"] and "m3ta" not in r["body"] for r in read_landing(tmp_path / "part.jsonl.gz"))  # ...never landed


def test_not_found_and_restricted_pages_go_to_the_ledger(tmp_path: Path) -> None:
    not_found = (FIXTURES / "instagram" / "business_discovery_not_found.json").read_text()
    with ScriptedServer([(400, OK, not_found)]) as server:
        source, landing = make(InstagramSource, server.url, tmp_path)
        result = source.extract([AccountRef("instagram:A:0", "1", "not_a_business")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["instagram:A:0"].status == "not_found"
    restricted = graph_error(10, message="(#10) This Page is restricted by age or country")
    with ScriptedServer([(400, OK, restricted)]) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract([AccountRef("facebook:A:0", "1")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["facebook:A:0"].status == "private"


def test_usage_headers_past_90_percent_defer_the_rest(tmp_path: Path) -> None:
    busy = {**OK, "X-Business-Use-Case-Usage": json.dumps({"1": [{"type": "pages", "call_count": 95, "total_cputime": 10, "total_time": 10}]})}
    script = [(200, busy, json.dumps({"id": "1", "followers_count": 9})), (200, OK, json.dumps({"data": []}))]
    with ScriptedServer(script) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract([AccountRef("facebook:A:0", "1"), AccountRef("facebook:B:0", "2")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 1
    assert {k: v.status for k, v in result.outcomes.items()} == {"facebook:A:0": "deferred", "facebook:B:0": "deferred"}
    assert "95%" in result.outcomes["facebook:B:0"].message


def test_facebook_follows_next_and_the_graph_version_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_GRAPH_API_VERSION", "v23.0")
    page = (FIXTURES / "facebook" / "published_posts_page.json").read_text()
    last = json.dumps({"data": [], "paging": {"cursors": {"before": "x", "after": "y"}}})
    script = [(200, OK, (FIXTURES / "facebook" / "page_fields.json").read_text()), (200, OK, page), (200, OK, last)]
    with ScriptedServer(script) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract([AccountRef("facebook:A:0", "104560000000001")], as_of=AS_OF, repull_days=30)
        landing.close()
    paths = [urlsplit(r) for r in server.requests]
    assert [p.path for p in paths] == ["/v23.0/104560000000001", "/v23.0/104560000000001/published_posts", "/v23.0/104560000000001/published_posts"]
    second = parse_qs(paths[2].query)
    assert second["after"] == ["QVFIUk5xYzB"] and second["limit"] == ["100"] and second["since"] == [str(int(AS_OF.timestamp()) - 30 * 86400)]
    assert result.outcomes["facebook:A:0"].status == "ok"
