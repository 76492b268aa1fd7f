"""News sources over real loopback HTTP: the sandbox's feeds (real Tempo RSS included) and GDELT's habits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl.http import ApiClient, CallRecord, FatalApiError, RetriableApiError
from etl.news.sources import (
    FeedListError,
    FeedSpec,
    fetch_feed,
    fetch_gdelt,
    gdelt_queries,
    parse_feed,
    parse_gdelt_body,
    read_feed_list,
)
from etl.sandbox.news import NewsUniverse
from etl.sandbox.server import SandboxServer
from etl.settings import PROJECT_ROOT
from tests.scripted_server import ScriptedServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv") as server:
        server.set_clock(NOW)
        yield server


def _client(source: str = "feeds", records: list[CallRecord] | None = None) -> ApiClient:
    return ApiClient(source=source, max_attempts=2, sleep=lambda s: None, on_response=(records.append if records is not None else None))


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "tempo-rss").glob("*.xml")))
def test_real_tempo_feed_parses_completely_and_a_second_fetch_adds_nothing(sandbox: SandboxServer, name: str) -> None:
    spec = FeedSpec("tempo", "Tempo.co", f"{sandbox.base_url}/feeds/tempo/{name}", "tempo.co")
    records: list[CallRecord] = []
    first = fetch_feed(_client(records=records), spec, etag=None, last_modified=None, fetched_at=NOW)
    assert (first.status, first.http_status, len(first.items), first.problems) == ("ok", 200, 9, [])
    assert all(i.canonical_url.startswith("https://tempo.co/") and i.title and i.summary for i in first.items)
    assert len({i.article_id for i in first.items}) == 9
    assert first.items[0].published_at.date().isoformat().startswith("2026-0")
    second = fetch_feed(_client(records=records), spec, etag=first.etag, last_modified=first.last_modified, fetched_at=NOW)
    assert (second.status, second.http_status, second.items) == ("not_modified", 304, [])
    assert [r.status for r in records] == [200, 304]  # both exchanges reach the landing hook


def test_tempo_fixture_read_from_disk_matches(sandbox: SandboxServer) -> None:
    body = (FIXTURES / "tempo-rss" / "free-ekonomi.xml").read_bytes()
    items, problems = parse_feed(body, FeedSpec("tempo", "Tempo.co", "file://free-ekonomi.xml"), NOW)
    assert (len(items), problems) == (9, [])
    assert items[0].title == "8 Pinjaman Daring Masuk Pengawasan Khusus OJK"
    assert items[0].published_at == datetime(2026, 6, 7, 7, 53, 12)  # 14:53:12 +0700 in UTC
    assert items[0].guid == "1"


@pytest.mark.parametrize("outlet", ["kabar", "warta", "atom", "rdf"])
def test_rss2_atom_and_rss1_feeds(sandbox: SandboxServer, outlet: str) -> None:
    count = len([s for s in NewsUniverse(7).recent(NOW) if s["outlet"] == outlet])
    assert count >= 4
    spec = FeedSpec(outlet, outlet, f"{sandbox.base_url}/feeds/sandbox/{outlet}.xml")
    first = fetch_feed(_client(), spec, etag=None, last_modified=None, fetched_at=NOW)
    assert (first.status, len(first.items), first.problems) == ("ok", count, [])
    assert all("utm_" not in i.canonical_url and i.published_at <= NOW.replace(tzinfo=None) for i in first.items)
    again = fetch_feed(_client(), spec, etag=first.etag, last_modified=first.last_modified, fetched_at=NOW)
    assert again.status == "not_modified"


def test_malformed_feed_yields_what_can_be_read_and_says_what_could_not(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/feeds/sandbox/broken.xml"
    result = fetch_feed(_client(), FeedSpec("broken", "Broken", url), etag=None, last_modified=None, fetched_at=NOW)
    assert result.status == "ok"
    assert [i.title for i in result.items] == ["Pemprov Kepri Gelar Rapat Evaluasi Layanan", "Diskominfo Kabupaten Luwu Timur Raih Penghargaan"]
    # "Selasa, 29 Agustus 2023 pukul 10.15 WIB" is read (Indonesian names, WIB = UTC+7), not replaced by the fetch time.
    assert (result.items[0].published_estimated, result.items[0].published_at) == (False, datetime(2023, 8, 29, 3, 15))
    assert result.problems[0].startswith(f"feed {url}: not well-formed")
    assert result.problems[1:] == [
        f"feed {url}: entry 2 ('Berita tanpa tautan'): no link, no guid and no date; entry skipped",
        f"feed {url}: entry 4 ('Berita terpotong'): no link, no guid and no date; entry skipped",
    ]


def test_a_failing_feed_is_a_result_not_an_exception(sandbox: SandboxServer) -> None:
    result = fetch_feed(_client(), FeedSpec("x", "x", f"{sandbox.base_url}/feeds/nope.xml"), etag=None, last_modified=None, fetched_at=NOW)
    assert (result.status, result.http_status, result.items) == ("failed", 404, [])
    assert result.error == "source=feeds account=x status=404: Not Found"  # the HTML body read as text


def test_get_raw_passes_304_and_request_headers() -> None:
    with ScriptedServer([(304, {"ETag": '"abc"'}, b"")]) as server:
        response = _client().get_raw(f"{server.url}/feed.xml", headers={"If-None-Match": '"abc"'})
    assert response.not_modified and response.content == b""


def test_feed_list_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "news_feeds.csv"
    path.write_text("outlet_code,outlet_name,feed_url,domain,province_code,language\nx,X,ftp://x/feed,,,id\n", encoding="utf-8")
    with pytest.raises(FeedListError, match=r"news_feeds.csv:2: field feed_url: 'ftp://x/feed' is not an http\(s\) URL"):
        read_feed_list(path)
    path.write_text("outlet_code,outlet_name,feed_url\nx,X,{feeds_base}/f.xml\n", encoding="utf-8")
    with pytest.raises(FeedListError, match=r"news_feeds.csv:2: field feed_url: uses \{feeds_base\}"):
        read_feed_list(path)
    assert read_feed_list(path, "http://127.0.0.1:1/")[0].feed_url == "http://127.0.0.1:1/f.xml"
    assert [f.feed_url for f in read_feed_list(PROJECT_ROOT / "registry" / "news_feeds.csv")] == [
        "https://www.antaranews.com/rss/terkini.xml"
    ]


# -- GDELT quirks: one test each -------------------------------------------------------------------


def test_gdelt_queries_group_aliases_and_filter_the_country() -> None:
    queries = gdelt_queries([("A", "Kementerian Keuangan"), ("A", "Kemenkeu"), ("B", "BPS"), ("C", "Pemprov Kepri")], group_size=2)
    assert queries == ['(Kemenkeu OR "Kementerian Keuangan") sourcecountry:ID', '"Pemprov Kepri" sourcecountry:ID']


def test_gdelt_no_articles_key_means_nothing_matched() -> None:
    assert parse_gdelt_body("{}", "q") == []
    assert parse_gdelt_body("", "q") == []


def test_gdelt_plain_text_error_with_status_200_is_fatal_for_that_query() -> None:
    with pytest.raises(FatalApiError, match="status=200 reason=query_error: GDELT refused the query: Your search contained"):
        parse_gdelt_body("Your search contained a keyword that was too short.", "ab sourcecountry:ID")


def test_gdelt_malformed_escapes_are_repaired() -> None:
    body = '{"articles": [{"url": "https://a.id/x", "title": "Isu \\\'Data Bocor\\\'\tdi medsos", "seendate": "20261120T100000Z"}]}'
    assert parse_gdelt_body(body, "q")[0]["title"] == "Isu 'Data Bocor'\tdi medsos"
    assert parse_gdelt_body('{"articles": [{"title": "a \\q b"}]}', "q")[0]["title"] == "a \\q b"


def test_gdelt_unrepairable_body_is_retriable() -> None:
    with pytest.raises(RetriableApiError, match="not JSON even after repairing escapes"):
        parse_gdelt_body('{"articles": [', "q")


def test_gdelt_429_with_plain_text_body_is_retried_then_answers(sandbox: SandboxServer) -> None:
    sandbox.faults["gdelt.status_burst"] = {"status": 429, "count": 1}
    records: list[CallRecord] = []
    client = _client("gdelt", records)
    waits: list[float] = []
    results = fetch_gdelt(
        client, f"{sandbox.base_url}/api/v2/doc/doc", ['"Pemprov Kepri" sourcecountry:ID', "Kemenkeu sourcecountry:ID"],
        start=NOW - timedelta(days=3), end=NOW, pacing_seconds=5, sleep=waits.append,
    )
    assert [r.status for r in results] == ["ok", "ok"]
    assert [r.status for r in records] == [429, 200, 200]
    assert records[0].body.startswith("Please limit requests to one every 5 seconds")
    assert waits == [5]  # pacing between the two queries (the retry waited on the client's own backoff)
    assert client.retries == 1


def test_gdelt_articles_from_the_sandbox_are_canonical(sandbox: SandboxServer) -> None:
    [result] = fetch_gdelt(
        _client("gdelt"), f"{sandbox.base_url}/api/v2/doc/doc", ["(Tanggapi OR Luncurkan OR Gelar) sourcecountry:ID"],
        start=NOW - timedelta(days=3), end=NOW, pacing_seconds=0, outlets={"kabar.sandbox.test": "sandbox-kabar"},
    )
    assert result.status == "ok" and result.problems == []
    assert len(result.items) > 0
    assert all(not i.canonical_url.endswith("/amp") and "utm_" not in i.canonical_url for i in result.items)
    assert {i.outlet_code for i in result.items} <= {"sandbox-kabar", "wartakepri.sandbox.test", "atomharian.sandbox.test", "beritardf.sandbox.test",
                                                    "lintasnusantara.sandbox.test"}
    assert all("\\" not in i.title for i in result.items)


def test_gdelt_bad_query_fails_alone(sandbox: SandboxServer) -> None:
    results = fetch_gdelt(
        _client("gdelt"), f"{sandbox.base_url}/api/v2/doc/doc", ["ab sourcecountry:ID", "Kemenkeu sourcecountry:ID"],
        start=NOW - timedelta(days=1), end=NOW, pacing_seconds=0,
    )
    assert [(r.status, r.http_status) for r in results] == [("failed", 200), ("ok", 200)]
    assert "keyword that was too short" in (results[0].error or "")


def test_gdelt_unreachable_skips_the_remaining_queries() -> None:
    client = ApiClient(source="gdelt", max_attempts=1, sleep=lambda s: None, timeout=2)
    results = fetch_gdelt(client, "http://127.0.0.1:9/api/v2/doc/doc", ["Kemenkeu", "Kemenag", "Kemenkes", "Kemenhan"],
                          start=NOW - timedelta(days=1), end=NOW, pacing_seconds=0)
    assert [r.status for r in results] == ["failed"] * 4
    assert client.calls == 2
    assert results[3].error == "skipped: GDELT unreachable for 2 queries in a row"
