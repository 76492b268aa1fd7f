"""News sources: RSS/Atom feeds (feedparser) and GDELT DOC 2.0, both through the shared :class:`~etl.http.ApiClient`.

Every response lands raw before parsing (the client's ``on_response`` hook).
A feed that fails is recorded and does not stop the others; a malformed
feed yields what feedparser could read plus one problem line per thing it
could not (missing link, unreadable date, XML error), each naming the feed
and the field. One item that breaks the parser fails only that item; a body
that breaks feedparser itself fails only its feed.

Hostile text is repaired before feedparser sees it: a character reference to
a lone UTF-16 surrogate (``&#xD83D;``) becomes U+FFFD (a referenced surrogate
pair is joined into its character), NUL bytes and ``&#0;`` are removed; the
item's ``text_repairs`` says so. Dates are read strictly (etl/news/dates.py).

Article identity: the canonical link; when a link is no article's own (a
homepage, or one link shared by items with different guids or titles), the
guid; without either, the title and date.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import feedparser
import structlog

from etl.http import ApiClient, ApiError, FatalApiError, RetriableApiError
from etl.news.canonical import UrlError, article_id, canonical_url
from etl.news.dates import parse_feed_date
from etl.registry import RegistryError, csv_rows
from etl.sources.frames import repair_fields

log = structlog.get_logger(__name__)

GDELT_DEFAULT_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
GDELT_MAX_RECORDS = 250
USER_AGENT = "Pantau/1.0 (news monitoring of Indonesian government institutions)"
FEED_COLUMNS = ["outlet_code", "outlet_name", "feed_url", "domain", "province_code", "language", "timezone"]
DEFAULT_FEED_TIMEZONE = "Asia/Jakarta"


class FeedListError(ValueError):
    """A feed list file that cannot be used as it is."""


@dataclass(frozen=True)
class FeedSpec:
    outlet_code: str
    outlet_name: str
    feed_url: str
    domain: str | None = None  # the outlet's web domain: GDELT articles from it belong to this outlet
    province_code: str | None = None
    language: str = "id"
    timezone: str = DEFAULT_FEED_TIMEZONE  # the zone of the feed's dates that name none


@dataclass
class NewsItem:
    """One article as a source reported it, before de-duplication and matching."""

    source: str  # "feed" or "gdelt"
    origin: str  # the feed URL or the GDELT query group
    outlet_code: str
    outlet_name: str
    url: str
    canonical_url: str
    article_id: str
    title: str
    summary: str
    published_at: datetime  # UTC, naive
    guid: str | None
    language: str | None
    published_estimated: bool = False  # no readable date: the fetch time stands in
    text_repairs: str | None = None  # NUL bytes removed, lone surrogates replaced (what and where)


@dataclass
class FetchResult:
    """What one feed or one GDELT query gave."""

    origin: str
    status: str  # ok, not_modified, failed
    http_status: int | None = None
    items: list[NewsItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def read_feed_list(path: Path, feeds_base: str | None = None) -> list[FeedSpec]:
    """The feeds of ``registry/news_feeds.csv``; stops on the first bad line naming file, line and field.

    A feed URL may start with ``{feeds_base}`` (the sandbox's feed list does): it is replaced by
    ``feeds_base``, the host of the ``news_feeds`` connection.
    """
    try:
        rows = csv_rows(path, FEED_COLUMNS[:3])
    except RegistryError as exc:
        raise FeedListError(str(exc)) from None
    feeds, seen = [], set()
    for line, row in rows:
        for column in FEED_COLUMNS[:3]:
            if not row.get(column):
                raise FeedListError(f"{path}:{line}: field {column} is empty")
        if "{feeds_base}" in row["feed_url"]:
            if not feeds_base:
                raise FeedListError(
                    f"{path}:{line}: field feed_url: uses {{feeds_base}} but the news_feeds connection "
                    "(or PANTAU_NEWS_FEEDS_BASE) gives no host"
                )
            row["feed_url"] = row["feed_url"].replace("{feeds_base}", feeds_base.rstrip("/"))
        if not row["feed_url"].startswith(("http://", "https://")):
            raise FeedListError(f"{path}:{line}: field feed_url: {row['feed_url']!r} is not an http(s) URL")
        if row["feed_url"] in seen:
            raise FeedListError(f"{path}:{line}: field feed_url: {row['feed_url']!r} appears twice")
        seen.add(row["feed_url"])
        zone = row.get("timezone") or DEFAULT_FEED_TIMEZONE
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise FeedListError(f"{path}:{line}: field timezone: {zone!r} is not an IANA time zone such as Asia/Jakarta") from None
        feeds.append(
            FeedSpec(
                row["outlet_code"], row["outlet_name"], row["feed_url"], outlet_code_for_domain(row.get("domain") or "") or None,
                row.get("province_code") or None, row.get("language") or "id", zone,
            )
        )
    return feeds


def _utc(value: datetime) -> datetime:
    return (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)


DATE_KEYS = ("published", "updated", "created", "pubdate", "date", "dc_date")


def _entry_date(entry: Any, zone: ZoneInfo) -> tuple[datetime | None, str | None]:
    """The entry's date read strictly from its raw text (never feedparser's lenient ``*_parsed``), and that text."""
    raw = next((entry.get(key) for key in DATE_KEYS if entry.get(key)), None)
    return parse_feed_date(raw, zone), raw


#: Character references XML forbids, which make expat (and then feedparser's fallback parser) give up on the whole
#: feed: surrogates (a referenced pair is joined back into its character) and NUL.
_CHAR_REFS = re.compile(rb"&#(x[0-9a-f]+|\d+);(?:&#(x[0-9a-f]+|\d+);)?", re.I)
_ITEM = re.compile(rb"<(item|entry)[\s>].*?</\1\s*>", re.S | re.I)


def _code_point(ref: bytes) -> int:
    return int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)


def _repair_chunk(chunk: bytes) -> tuple[bytes, list[str]]:
    bad: list[str] = []

    def fix(ref: bytes, whole: bytes) -> bytes:
        point = _code_point(ref)
        if point == 0 or 0xD800 <= point <= 0xDFFF:
            bad.append(whole.decode("ascii"))
            return b"" if point == 0 else b"&#xFFFD;"
        return whole

    def refs(match: re.Match[bytes]) -> bytes:
        first, second = match[1], match[2]
        if second is not None and 0xD800 <= _code_point(first) <= 0xDBFF and 0xDC00 <= _code_point(second) <= 0xDFFF:
            high, low = _code_point(first), _code_point(second)
            return b"&#x%X;" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        out = fix(first, b"&#" + first + b";")
        return out + (fix(second, b"&#" + second + b";") if second is not None else b"")

    chunk = _CHAR_REFS.sub(refs, chunk)
    repairs = [f"invalid character reference{'s' * (len(bad) > 1)} {', '.join(sorted(set(bad)))} repaired"] if bad else []
    nul = chunk.count(b"\x00")
    if nul:
        chunk = chunk.replace(b"\x00", b"")
        repairs.append(f"removed {nul} NUL byte{'s' * (nul > 1)}")
    return chunk, repairs


def sanitise_feed(content: bytes) -> tuple[bytes, dict[int, list[str]]]:
    """The body with what breaks every XML parser repaired, and the repairs per entry number (0: outside entries).

    UTF-16 bodies (a byte-order mark) are left alone: their NUL bytes are characters' halves.
    """
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content, {}
    repairs: dict[int, list[str]] = {}
    out, position = [], 0
    for number, match in enumerate(_ITEM.finditer(content), start=1):
        head, head_repairs = _repair_chunk(content[position : match.start()])
        item, item_repairs = _repair_chunk(match[0])
        out += [head, item]
        position = match.end()
        if head_repairs:
            repairs.setdefault(0, []).extend(head_repairs)
        if item_repairs:
            repairs[number] = item_repairs
    tail, tail_repairs = _repair_chunk(content[position:])
    if tail_repairs:
        repairs.setdefault(0, []).extend(tail_repairs)
    return b"".join([*out, tail]), repairs


def _own_link(canonical: str | None) -> bool:
    """A link that can be an article's identity: not a site's home page."""
    return bool(canonical) and urlsplit(canonical).path.strip("/") != ""


def parse_feed(
    content: bytes, spec: FeedSpec, fetched_at: datetime, headers: dict[str, str] | None = None
) -> tuple[list[NewsItem], list[str]]:
    """Every readable entry of a feed body, and one problem line per thing that could not be read.

    ``headers`` are the HTTP response headers: their ``charset`` wins over the XML declaration.
    """
    problems: list[str] = []
    content, repairs = sanitise_feed(content)
    if 0 in repairs:
        problems.append(f"feed {spec.feed_url}: {'; '.join(repairs[0])} (outside entries)")
    try:
        parsed = feedparser.parse(content, response_headers={k.lower(): v for k, v in (headers or {}).items()})
    except Exception as exc:  # noqa: BLE001 - a body feedparser cannot read fails this feed only, recorded in its health
        problems.append(f"feed {spec.feed_url}: unreadable ({type(exc).__name__}: {exc}); feed skipped")
        return [], problems
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problems.append(f"feed {spec.feed_url}: not well-formed ({type(exc).__name__}: {exc}); kept what could be read")
    entries = []
    for number, entry in enumerate(parsed.entries, start=1):
        try:
            entries.append(_read_entry(number, entry, spec, fetched_at, repairs.get(number, []), problems))
        except Exception as exc:  # noqa: BLE001 - one item that breaks the reader fails only that item
            problems.append(f"feed {spec.feed_url}: entry {number}: unreadable ({type(exc).__name__}: {exc}); entry skipped")
    return _with_identity([e for e in entries if e is not None], spec, problems), problems


def _read_entry(
    number: int, entry: Any, spec: FeedSpec, fetched_at: datetime, repairs: list[str], problems: list[str]
) -> NewsItem | None:
    text = {
        "title": " ".join(str(entry.get("title") or "").split()),
        "summary": " ".join(re.sub(r"<[^>]+>", " ", str(entry.get("summary") or "")).split()),
        "link": str(entry.get("link") or ""),
        "guid": str(entry.get("id") or "") or None,
    }
    notes = [f"feed text: {r}" for r in repairs] + ([fixed] if (fixed := repair_fields(text)) else [])
    title, link, guid = text["title"], text["link"], text["guid"]
    where = f"feed {spec.feed_url}: entry {number}" + (f" ({title[:60]!r})" if title else "")
    if not link and guid and guid.startswith(("http://", "https://")):
        link = guid
    canonical = None
    if link:
        try:
            canonical = canonical_url(link)
        except UrlError as exc:
            if not guid:
                problems.append(f"{where}: field link: {exc}; entry skipped")
                return None
            problems.append(f"{where}: field link: {exc}; identified by its guid")
    if not title:
        problems.append(f"{where}: field title: missing; entry skipped")
        return None
    published, raw = _entry_date(entry, ZoneInfo(spec.timezone))
    estimated = published is None
    if estimated:
        if not canonical and not guid:
            problems.append(f"{where}: no link, no guid and {'no' if not raw else 'an unreadable'} date; entry skipped")
            return None
        problems.append(f"{where}: field pubDate: {'missing' if not raw else f'unreadable {raw!r}'}; the fetch time stands in")
        published = _utc(fetched_at)
    if notes:
        problems.append(f"{where}: text repaired: {'; '.join(notes)}")
    return NewsItem(
        "feed", spec.feed_url, spec.outlet_code, spec.outlet_name, link or spec.feed_url, canonical or "", "", title,
        text["summary"], published, guid, spec.language, estimated, "; ".join(notes) or None,
    )


def _with_identity(items: list[NewsItem], spec: FeedSpec, problems: list[str]) -> list[NewsItem]:
    """Give each item its ``article_id``: canonical link, then guid, then title and date.

    A link is not an identity when it is a home page, or when items of the feed with different guids or
    titles share it; such items are told apart by guid (or title and date). Items without a link get the
    feed's URL as ``url`` and their identity as ``canonical_url``.
    """
    sharing: dict[str, set[tuple[str | None, str]]] = {}
    for item in items:
        if item.canonical_url:
            sharing.setdefault(item.canonical_url, set()).add((item.guid, item.title))
    kept: dict[str, NewsItem] = {}
    for item in items:
        link = item.canonical_url
        if _own_link(link) and len(sharing[link]) == 1:
            identity = link
        elif item.guid:
            identity = f"{link or spec.feed_url}#guid={item.guid}"
        elif not item.published_estimated:
            identity = f"{link or spec.feed_url}#title={item.title}|{item.published_at.isoformat()}"
        else:
            problems.append(f"feed {spec.feed_url}: entry {item.title[:60]!r}: shared link, no guid and no date; entry skipped")
            continue
        item.canonical_url = link or identity
        item.article_id = article_id(identity)
        kept.setdefault(item.article_id, item)
    return list(kept.values())


def fetch_feed(
    client: ApiClient, spec: FeedSpec, *, etag: str | None, last_modified: str | None, fetched_at: datetime
) -> FetchResult:
    """One conditional GET of a feed; never raises for the feed's own failures (they are in the result)."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        response = client.get_raw(spec.feed_url, account=spec.outlet_code, headers=headers)
    except ApiError as exc:
        log.warning("feed failed", source="feeds", feed=spec.feed_url, status=exc.status, error=str(exc))
        return FetchResult(spec.feed_url, "failed", exc.status, error=str(exc), etag=etag, last_modified=last_modified)
    if response.not_modified:
        return FetchResult(spec.feed_url, "not_modified", 304, etag=etag, last_modified=last_modified)
    items, problems = parse_feed(response.content, spec, fetched_at, dict(response.headers))
    result = FetchResult(
        spec.feed_url, "ok", response.status, items, problems,
        etag=response.headers.get("ETag") or etag, last_modified=response.headers.get("Last-Modified") or last_modified,
    )
    if not items and problems:
        result.status, result.error = "failed", problems[0]
    return result


# -- GDELT DOC 2.0 --------------------------------------------------------------------------


def gdelt_queries(aliases: Iterable[tuple[str, str]], *, group_size: int = 20, country_filter: str = "sourcecountry:ID") -> list[str]:
    """GDELT queries, one per group of ``group_size`` aliases: ``("a" OR "b" ...) sourcecountry:ID``.

    ``aliases`` are (agency_code, alias) pairs valid on the day; aliases shorter
    than four characters are left out (GDELT refuses keywords that short, and
    acronyms are too ambiguous in a worldwide index).
    """
    terms = sorted({a.replace('"', "") for _, a in aliases if len(a) >= 4})
    queries = []
    for start in range(0, len(terms), group_size):
        group = terms[start : start + group_size]
        inner = " OR ".join(f'"{t}"' if " " in t or "-" in t else t for t in group)
        queries.append(f"({inner}) {country_filter}" if len(group) > 1 else f"{inner} {country_filter}")
    return queries


def _gdelt_time(value: datetime) -> str:
    return _utc(value).strftime("%Y%m%d%H%M%S")


#: Queries in a row without any HTTP answer after which the remaining ones are skipped.
UNREACHABLE_AFTER = 2
_BAD_ESCAPE = re.compile(r'\\(?!["\\/bfnrtu])')
#: GDELT's plain-text answer (HTTP 200) when asked more often than once every five seconds.
THROTTLED = re.compile(r"please limit requests", re.I)
#: Throttled answers of one query after which it is given up (recorded as failed, the others still run).
THROTTLED_TRIES = 4


class GdeltThrottled(RetriableApiError):
    """GDELT answered 200 with "Please limit requests": not a bad query, a request too soon."""


def parse_gdelt_body(text: str, query: str) -> list[dict[str, Any]]:
    """The ``articles`` of a GDELT answer body, with its quirks handled.

    * no ``articles`` key (or an empty object) when nothing matched: no articles;
    * invalid escapes such as ``\\'`` and raw control characters inside strings: repaired;
    * "Please limit requests ..." with status 200 is throttling: :class:`GdeltThrottled` (wait and ask again);
    * any other plain-text body with status 200 is GDELT's way of reporting a bad query: :class:`FatalApiError`.
    """
    body = text.strip()
    if not body:
        return []
    if THROTTLED.search(body[:300]):
        raise GdeltThrottled(f"GDELT throttled the query: {body[:200]}", source="gdelt", account=query[:80], status=200, reason="throttled")
    if not body.startswith(("{", "[")):
        raise FatalApiError(f"GDELT refused the query: {body[:200]}", source="gdelt", account=query[:80], status=200, reason="query_error")
    try:
        payload = json.loads(body, strict=False)
    except ValueError:
        try:
            # GDELT writes an apostrophe as \' : it means "'"; any other stray backslash is kept as a backslash.
            payload = json.loads(_BAD_ESCAPE.sub(r"\\\\", body.replace("\\'", "'")), strict=False)
        except ValueError as exc:
            raise RetriableApiError(
                f"GDELT body is not JSON even after repairing escapes: {exc}", source="gdelt", account=query[:80], status=200,
                reason="invalid_json",
            ) from None
    articles = payload.get("articles") if isinstance(payload, dict) else None
    return [a for a in articles or [] if isinstance(a, dict)]


def _gdelt_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None


def fetch_gdelt(
    client: ApiClient,
    base_url: str,
    queries: list[str],
    *,
    start: datetime,
    end: datetime,
    pacing_seconds: float = 5.0,
    max_records: int = GDELT_MAX_RECORDS,
    sleep: Callable[[float], None] = time.sleep,
    outlets: dict[str, str] | None = None,
) -> list[FetchResult]:
    """Run each query over [start, end) with ``pacing_seconds`` between requests; one failed query does not stop the rest.

    ``outlets`` maps a domain to a registry outlet code, so a listed outlet's GDELT articles are that outlet's.
    """
    outlets = outlets or {}
    results: list[FetchResult] = []
    unreachable = 0
    for number, query in enumerate(queries):
        group = f"gdelt:{number:03d}"
        if unreachable >= UNREACHABLE_AFTER:
            # GDELT is down (no HTTP answer at all): do not spend every query's retries on it.
            results.append(FetchResult(group, "failed", None, error=f"skipped: GDELT unreachable for {unreachable} queries in a row"))
            continue
        if number and pacing_seconds > 0:
            sleep(pacing_seconds)  # GDELT asks for at most one request every 5 seconds
        params = {
            "query": query, "mode": "artlist", "format": "json", "maxrecords": min(max_records, GDELT_MAX_RECORDS),
            "startdatetime": _gdelt_time(start), "enddatetime": _gdelt_time(end), "sort": "datedesc",
        }
        try:
            response, articles = _gdelt_query(client, base_url, params, query, group, pacing_seconds, sleep)
        except ApiError as exc:
            unreachable = unreachable + 1 if exc.status is None else 0
            log.warning("gdelt query failed", source="gdelt", query_group=group, status=exc.status, error=str(exc))
            results.append(FetchResult(group, "failed", exc.status, error=str(exc)))
            continue
        unreachable = 0
        result = FetchResult(group, "ok", response.status)
        for index, article in enumerate(articles, start=1):
            text = {"url": str(article.get("url") or ""), "title": " ".join(str(article.get("title") or "").split())}
            repaired = repair_fields(text)
            url, title = text["url"], text["title"]
            where = f"gdelt {group}: article {index}"
            try:
                canonical = canonical_url(url)
            except UrlError as exc:
                result.problems.append(f"{where}: field url: {exc}; skipped")
                continue
            seen = _gdelt_date(article.get("seendate"))
            if seen is None:
                result.problems.append(f"{where}: field seendate: unreadable {article.get('seendate')!r}; skipped")
                continue
            if not title:
                result.problems.append(f"{where}: field title: missing; skipped")
                continue
            domain = (article.get("domain") or canonical.split("/")[2]).lower()
            result.items.append(
                NewsItem(
                    "gdelt", group, outlets.get(outlet_code_for_domain(domain), outlet_code_for_domain(domain)), domain, url, canonical, article_id(canonical), title, "",
                    seen, None, (article.get("language") or "").lower() or None, text_repairs=repaired,
                )
            )
        results.append(result)
    return results


def _gdelt_query(
    client: ApiClient, base_url: str, params: dict[str, Any], query: str, group: str, pacing: float, sleep: Callable[[float], None]
) -> tuple[Any, list[dict[str, Any]]]:
    """One GDELT query; a throttled answer is waited out (pacing doubled each time) and asked again, up to
    :data:`THROTTLED_TRIES` answers; the last throttled answer fails the query."""
    attempt = 1
    while True:
        response = client.get_raw(base_url, params, account=group)
        try:
            return response, parse_gdelt_body(response.text, query)
        except GdeltThrottled:
            if attempt == THROTTLED_TRIES:
                raise
        wait = max(pacing, 1.0) * 2**attempt
        log.warning("gdelt throttled", source="gdelt", query_group=group, attempt=attempt, wait_seconds=wait)
        client.retries += 1  # counted with the client's own retries in the audit
        sleep(wait)
        attempt += 1


def outlet_code_for_domain(domain: str) -> str:
    """The outlet code of a news domain (``www.tempo.co`` -> ``tempo.co``): GDELT names outlets by domain only."""
    domain = domain.lower().strip(".")
    for prefix in ("www.", "m.", "amp."):
        if domain.startswith(prefix) and domain.count(".") >= 2:
            return domain[len(prefix) :]
    return domain


def window(day: date, as_of: datetime, lookback_hours: int) -> tuple[datetime, datetime]:
    """The GDELT window of a run: ``lookback_hours`` before its read time (overlap is harmless: ids de-duplicate)."""
    return as_of - timedelta(hours=lookback_hours), as_of
