"""News sources: RSS/Atom feeds (feedparser) and GDELT DOC 2.0, both through the shared :class:`~etl.http.ApiClient`.

Every response lands raw before parsing (the client's ``on_response`` hook).
A feed that fails is recorded and does not stop the others; a malformed
feed yields what feedparser could read plus one problem line per thing it
could not (missing link, unreadable date, XML error), each naming the feed
and the field.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import structlog

from etl.http import ApiClient, ApiError, FatalApiError, RetriableApiError
from etl.news.canonical import UrlError, article_id, canonical_url

log = structlog.get_logger(__name__)

GDELT_DEFAULT_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
GDELT_MAX_RECORDS = 250
USER_AGENT = "Pantau/1.0 (news monitoring of Indonesian government institutions)"
FEED_COLUMNS = ["outlet_code", "outlet_name", "feed_url", "domain", "province_code", "language"]


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
    if not path.exists():
        raise FeedListError(f"{path}: file not found")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in FEED_COLUMNS[:3] if c not in (reader.fieldnames or [])]
        if missing:
            raise FeedListError(f"{path}: missing column(s) {', '.join(missing)}")
        feeds, seen = [], set()
        for line, row in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in row.items() if k}
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
            feeds.append(
                FeedSpec(
                    row["outlet_code"], row["outlet_name"], row["feed_url"], outlet_code_for_domain(row.get("domain") or "") or None,
                    row.get("province_code") or None, row.get("language") or "id",
                )
            )
    return feeds


def _utc(value: datetime) -> datetime:
    return (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime(*parsed[:6])
    for key in ("published", "updated", "pubdate", "date"):
        raw = entry.get(key)
        if not raw:
            continue
        try:
            return _utc(parsedate_to_datetime(raw))
        except (TypeError, ValueError):
            pass
        try:
            return _utc(datetime.fromisoformat(raw.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    return None


def parse_feed(content: bytes, spec: FeedSpec, fetched_at: datetime) -> tuple[list[NewsItem], list[str]]:
    """Every readable entry of a feed body, and one problem line per thing that could not be read."""
    parsed = feedparser.parse(content)
    problems: list[str] = []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problems.append(f"feed {spec.feed_url}: not well-formed ({type(exc).__name__}: {exc}); kept what could be read")
    items: list[NewsItem] = []
    for number, entry in enumerate(parsed.entries, start=1):
        title = " ".join((entry.get("title") or "").split())
        where = f"feed {spec.feed_url}: entry {number}" + (f" ({title[:60]!r})" if title else "")
        link = entry.get("link") or ""
        guid = entry.get("id") or None
        if not link and guid and str(guid).startswith(("http://", "https://")):
            link = str(guid)
        if not link:
            problems.append(f"{where}: field link: missing; entry skipped")
            continue
        try:
            canonical = canonical_url(link)
        except UrlError as exc:
            problems.append(f"{where}: field link: {exc}; entry skipped")
            continue
        if not title:
            problems.append(f"{where}: field title: missing; entry skipped")
            continue
        published = _entry_date(entry)
        estimated = published is None
        if estimated:
            raw = entry.get("published") or entry.get("updated")
            problems.append(
                f"{where}: field pubDate: {'missing' if not raw else f'unreadable {raw!r}'}; the fetch time stands in"
            )
            published = _utc(fetched_at)
        summary = re.sub(r"<[^>]+>", " ", entry.get("summary") or "")
        items.append(
            NewsItem(
                "feed", spec.feed_url, spec.outlet_code, spec.outlet_name, link, canonical, article_id(canonical), title,
                " ".join(summary.split()), published, guid, spec.language, estimated,
            )
        )
    return items, problems


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
    items, problems = parse_feed(response.content, spec, fetched_at)
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


def parse_gdelt_body(text: str, query: str) -> list[dict[str, Any]]:
    """The ``articles`` of a GDELT answer body, with its quirks handled.

    * no ``articles`` key (or an empty object) when nothing matched: no articles;
    * invalid escapes such as ``\\'`` and raw control characters inside strings: repaired;
    * a plain-text body with status 200 is GDELT's way of reporting a bad query: :class:`FatalApiError`.
    """
    body = text.strip()
    if not body:
        return []
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
            response = client.get_raw(base_url, params, account=group)
            articles = parse_gdelt_body(response.text, query)
        except ApiError as exc:
            unreachable = unreachable + 1 if exc.status is None else 0
            log.warning("gdelt query failed", source="gdelt", query_group=group, status=exc.status, error=str(exc))
            results.append(FetchResult(group, "failed", exc.status, error=str(exc)))
            continue
        unreachable = 0
        result = FetchResult(group, "ok", response.status)
        for index, article in enumerate(articles, start=1):
            url, title = article.get("url") or "", " ".join((article.get("title") or "").split())
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
                    seen, None, (article.get("language") or "").lower() or None,
                )
            )
        results.append(result)
    return results


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
