"""Feeds and GDELT as they really answer: strict dates, charsets, article identity, hostile items, throttling."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl.http import ApiClient, CallRecord
from etl.news.canonical import article_id
from etl.news.dates import parse_feed_date
from etl.news.sources import FeedListError, FeedSpec, fetch_feed, fetch_gdelt, parse_feed, read_feed_list
from tests.scripted_server import ScriptedServer

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
SPEC = FeedSpec("kabar", "Kabar", "https://kabar.example.id/rss")


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        # feedparser reads this as 02:02, dropping the PM: 14:02 in Jakarta (no zone given) is 07:02 UTC.
        ("Sat, Dec 16 2023 02:02:33 PM", datetime(2023, 12, 16, 7, 2, 33)),
        ("Sat, Dec 16 2023 02:02:33 PM +0000", datetime(2023, 12, 16, 14, 2, 33)),
        ("05 Agustus 2019", datetime(2019, 8, 4, 17, 0)),  # midnight in Jakarta
        ("Senin, 5 Agt 2019 10.30 WIB", datetime(2019, 8, 5, 3, 30)),
        ("Senin, 5 Agt 2019 10.30 WITA", datetime(2019, 8, 5, 2, 30)),
        ("Senin, 5 Agt 2019 10.30 WIT", datetime(2019, 8, 5, 1, 30)),
        ("Selasa, 29 Agustus 2023 pukul 10.15 WIB", datetime(2023, 8, 29, 3, 15)),
        ("Jumat, 16 Februari 2024 - 09:15 WIB", datetime(2024, 2, 16, 2, 15)),
        ("Mon, 05 Aug 2019 10:30:00", datetime(2019, 8, 5, 3, 30)),  # no zone from an Indonesian outlet: Jakarta, not UTC
        ("Mon, 05 Aug 2019 03:30:00 GMT", datetime(2019, 8, 5, 3, 30)),
        ("Mon, 05 Aug 2019 10:30:00 +0700", datetime(2019, 8, 5, 3, 30)),
        ("Mon, 05 Aug 2019 03:30:00 EST", datetime(2019, 8, 5, 8, 30)),
        ("2019-08-05T10:30:00+07:00", datetime(2019, 8, 5, 3, 30)),
        ("2019-08-05 10:30", datetime(2019, 8, 5, 3, 30)),
        ("2019-08-05T03:30:00Z", datetime(2019, 8, 5, 3, 30)),
        # Unreadable: an hour that contradicts its PM, an unknown word, a wrong day, a zone we do not know.
        ("Sat, Dec 16 2023 14:02:33 PM", None),
        ("kemarin sore", None),
        ("31 Februari 2024", None),
        ("Mon, 05 Aug 2019 10:30:00 XYZ", None),
        ("Senin, 5 Agt 2019 10.30 WIB lalu", None),
        ("", None),
    ],
)
def test_feed_dates_are_read_whole_or_not_at_all(raw: str, utc: datetime | None) -> None:
    assert parse_feed_date(raw) == utc


def test_a_date_without_zone_is_in_the_feeds_time_zone() -> None:
    assert parse_feed_date("05 Aug 2019 10:30", ZoneInfo("Asia/Makassar")) == datetime(2019, 8, 5, 2, 30)


def _rss(*items: str, encoding: str = "utf-8") -> bytes:
    return (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>Kabar</title>'
            + "".join(f"<item>{i}</item>" for i in items) + "</channel></rss>").encode("utf-8")


def test_feed_timezone_column_dates_its_items() -> None:
    wita = FeedSpec("kabar", "Kabar", "https://kabar.example.id/rss", timezone="Asia/Makassar")
    body = _rss("<title>Rapat</title><link>https://kabar.example.id/a/1</link><pubDate>05 Aug 2019 10:30</pubDate>")
    items, problems = parse_feed(body, wita, NOW)
    assert (items[0].published_at, items[0].published_estimated, problems) == (datetime(2019, 8, 5, 2, 30), False, [])


def test_an_unreadable_date_is_estimated_and_said() -> None:
    body = _rss("<title>Rapat</title><link>https://kabar.example.id/a/1</link><pubDate>kemarin sore</pubDate>")
    items, problems = parse_feed(body, SPEC, NOW)
    assert (items[0].published_at, items[0].published_estimated) == (datetime(2026, 11, 20, 18, 0), True)
    assert problems == ["feed https://kabar.example.id/rss: entry 1 ('Rapat'): field pubDate: unreadable 'kemarin sore'; "
                        "the fetch time stands in"]


def test_http_charset_wins_over_a_wrong_xml_declaration() -> None:
    # Declared UTF-8, sent as ISO-8859-2 (the header says so). Without the header feedparser falls back to
    # windows-1252 once UTF-8 fails: "\u0141\u00f3d\u017a" would come out as "\u00a3\u00f3d\u00bc".
    body = _rss("<title>Kunjungan ke \u0141\u00f3d\u017a</title><link>https://kabar.example.id/a/1</link>").decode("utf-8").encode("iso-8859-2")
    with ScriptedServer([(200, {"Content-Type": "application/rss+xml; charset=ISO-8859-2"}, body)]) as server:
        client = ApiClient(source="feeds", max_attempts=1, sleep=lambda s: None)
        result = fetch_feed(client, FeedSpec("k", "K", f"{server.url}/rss"), etag=None, last_modified=None, fetched_at=NOW)
    assert [i.title for i in result.items] == ["Kunjungan ke \u0141\u00f3d\u017a"]
    assert parse_feed(body, SPEC, NOW)[0][0].title == "Kunjungan ke \u00a3\u00f3d\u00bc"


def test_article_identity_link_then_guid_then_title_and_date() -> None:
    body = _rss(
        "<title>Berita satu</title><link>https://kabar.example.id/berita/1?utm_source=rss</link><guid>g1</guid>",
        # Two items on the home page with different guids and titles: two articles.
        "<title>Live: sidang</title><link>https://kabar.example.id/</link><guid isPermaLink='false'>live-1</guid>",
        "<title>Live: rapat</title><link>https://kabar.example.id/</link><guid isPermaLink='false'>live-2</guid>",
        # No link: kept by its guid, or by its title and date.
        "<title>Tanpa tautan</title><guid isPermaLink='false'>only-guid</guid>",
        "<title>Tanpa apa pun</title><pubDate>Senin, 5 Agt 2019 10.30 WIB</pubDate>",
        # Neither link, guid nor date: nothing to know it by.
        "<title>Hilang</title>",
    )
    items, problems = parse_feed(body, SPEC, NOW)
    feed = SPEC.feed_url
    assert [(i.title, i.article_id) for i in items] == [
        ("Berita satu", article_id("https://kabar.example.id/berita/1")),
        ("Live: sidang", article_id("https://kabar.example.id/#guid=live-1")),
        ("Live: rapat", article_id("https://kabar.example.id/#guid=live-2")),
        ("Tanpa tautan", article_id(f"{feed}#guid=only-guid")),
        ("Tanpa apa pun", article_id(f"{feed}#title=Tanpa apa pun|2019-08-05T03:30:00")),
    ]
    assert [i.url for i in items][3:] == [feed, feed]
    assert problems[-1] == f"feed {feed}: entry 6 ('Hilang'): no link, no guid and no date; entry skipped"


def test_a_malformed_item_fails_only_itself() -> None:
    # &#xD83D; (a lone surrogate) makes feedparser raise on the whole feed; a raw NUL is no XML either.
    body = _rss(
        "<title>Sebelum</title><link>https://kabar.example.id/a/1</link><pubDate>05 Agustus 2019</pubDate>",
        "<title>Emoji &#xD83D; rusak\x00</title><link>https://kabar.example.id/a/2</link><pubDate>05 Agustus 2019</pubDate>",
        "<title>Emoji utuh &#xD83D;&#xDE00;</title><link>https://kabar.example.id/a/3</link><pubDate>05 Agustus 2019</pubDate>",
        "<title>Sesudah</title><link>https://kabar.example.id/a/4</link><pubDate>05 Agustus 2019</pubDate>",
    )
    items, problems = parse_feed(body, SPEC, NOW)
    assert [i.title for i in items] == ["Sebelum", "Emoji \ufffd rusak", "Emoji utuh \U0001f600", "Sesudah"]
    assert [i.text_repairs for i in items] == [
        None, "feed text: invalid character reference &#xD83D; repaired; feed text: removed 1 NUL byte", None, None,
    ]
    assert problems == [
        "feed https://kabar.example.id/rss: entry 2 ('Emoji \ufffd rusak'): text repaired: feed text: invalid character "
        "reference &#xD83D; repaired; feed text: removed 1 NUL byte",
    ]


def test_a_body_feedparser_cannot_read_fails_its_feed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedparser

    def explode(*args: object, **kwargs: object) -> None:
        raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(feedparser, "parse", explode)
    items, problems = parse_feed(_rss("<title>x</title>"), SPEC, NOW)
    assert items == []
    assert problems == ["feed https://kabar.example.id/rss: unreadable (UnicodeEncodeError: 'utf-8' codec can't encode "
                        "character '\\ud83d' in position 0: surrogates not allowed); feed skipped"]


def test_feed_list_accepts_a_bom_and_checks_the_timezone(tmp_path: Path) -> None:
    path = tmp_path / "news_feeds.csv"
    path.write_bytes(b"\xef\xbb\xbfoutlet_code,outlet_name,feed_url,timezone\nk,K,https://k.id/rss,Asia/Makassar\nj,J,https://j.id/rss,\n")
    assert [(f.outlet_code, f.timezone) for f in read_feed_list(path)] == [("k", "Asia/Makassar"), ("j", "Asia/Jakarta")]
    path.write_text("outlet_code,outlet_name,feed_url,timezone\nk,K,https://k.id/rss,WIB\n")
    with pytest.raises(FeedListError, match=rf"^{path}:2: field timezone: 'WIB' is not an IANA time zone such as Asia/Jakarta$"):
        read_feed_list(path)


THROTTLED = b"Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com for larger queries."


def test_gdelt_please_limit_requests_in_a_200_is_waited_out_not_fatal() -> None:
    article = b'{"articles": [{"url": "https://a.id/berita/1", "title": "Kemenkeu", "seendate": "20261120T100000Z", "domain": "a.id"}]}'
    script = [(200, {"Content-Type": "text/html"}, THROTTLED), (200, {"Content-Type": "text/html"}, THROTTLED),
              (200, {"Content-Type": "application/json"}, article)]
    records: list[CallRecord] = []
    waits: list[float] = []
    with ScriptedServer(script) as server:
        client = ApiClient(source="gdelt", max_attempts=2, sleep=lambda s: None, on_response=records.append)
        [result] = fetch_gdelt(client, f"{server.url}/doc", ["Kemenkeu sourcecountry:ID"], start=NOW, end=NOW,
                               pacing_seconds=5, sleep=waits.append)
    assert (result.status, [i.title for i in result.items], result.error) == ("ok", ["Kemenkeu"], None)
    assert waits == [10, 20]  # the pacing, doubled after each throttled answer
    assert (len(records), client.retries) == (3, 2)


def test_gdelt_throttled_every_time_fails_that_query_only() -> None:
    article = b'{"articles": []}'
    script = [(200, {}, THROTTLED)] * 4 + [(200, {}, article)]
    with ScriptedServer(script) as server:
        client = ApiClient(source="gdelt", max_attempts=2, sleep=lambda s: None)
        results = fetch_gdelt(client, f"{server.url}/doc", ["a sourcecountry:ID", "b sourcecountry:ID"], start=NOW, end=NOW,
                              pacing_seconds=0, sleep=lambda s: None)
    assert [r.status for r in results] == ["failed", "ok"]
    assert results[0].error == f"source=gdelt account=a sourcecountry:ID status=200 reason=throttled: GDELT throttled the query: {THROTTLED.decode()}"
