"""News in the sandbox: RSS/Atom feeds and a GDELT DOC 2.0 endpoint over one deterministic story universe.

Paths (mounted on :class:`~etl.sandbox.server.SandboxServer`):

* ``/feeds/sandbox/<outlet>.xml`` - synthetic feeds built from templates:
  ``kabar`` (RSS 2.0, national), ``warta`` (RSS 2.0, Riau Islands; it
  syndicates a third of kabar's stories under new headlines), ``atom``
  (Atom 1.0), ``rdf`` (RSS 1.0), ``broken`` (a bad encoding declaration,
  truncated XML, a non-RFC date, an item without link or guid);
* ``/feeds/tempo/<name>.xml`` - the real Tempo feeds of tests/fixtures/news/tempo-rss, as recorded;
* ``/feeds/seeds.xml`` - the five real seed articles of tests/fixtures/news/seeds, dated as published,
  each titled with its headline (:func:`seed_headline`), not a date line or a region name above it;
* ``/api/v2/doc/doc`` - GDELT DOC 2.0 ``mode=artlist&format=json`` over the same stories and those of
  ``lintas``, an outlet with no feed that only GDELT finds, with
  GDELT's habits: a plain-text error with status 200 for a bad query, 429 with a plain-text body
  (fault ``gdelt.status_burst``), ``\\'`` escapes in titles with an apostrophe, and ``{}`` (no
  ``articles`` key) when nothing matched.

Feeds answer conditional GETs (ETag, Last-Modified) with 304. Stories are a
function of the seed and the Jakarta day, over the last three days of the
sandbox clock, so a second fetch of a feed adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from etl.runtime import JAKARTA
from etl.settings import PROJECT_ROOT

from .mounted import ENDPOINT_HEADER, dumps

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "news"
ALIASES_CSV = PROJECT_ROOT / "registry" / "agency_aliases.csv"
SEED_DATES = {"000": "2023-08-29T10:00:00+08:00", "001": "2023-08-29T12:00:00+07:00", "002": "2023-08-29T15:00:00+07:00",
              "003": "2022-08-25T18:20:49+07:00", "004": "2022-08-25T20:00:00+07:00"}
OUTLETS = {
    "kabar": ("Kabar Sandbox", "kabar.sandbox.test", "rss"),
    "warta": ("Warta Kepri Sandbox", "wartakepri.sandbox.test", "rss"),
    "atom": ("Atom Harian Sandbox", "atomharian.sandbox.test", "atom"),
    "rdf": ("Berita RDF Sandbox", "beritardf.sandbox.test", "rdf"),
    "lintas": ("Lintas Nusantara Sandbox", "lintasnusantara.sandbox.test", "gdelt"),  # no feed: GDELT's own find
}
TEMPLATES = [
    ("{a} Raih Penghargaan Keterbukaan Informasi Publik", "{a} meraih penghargaan atas layanan informasi yang cepat dan transparan. Warga mengapresiasi keberhasilan itu."),
    ("{a} Sukses Gelar Pelatihan Literasi Digital bagi Warga", "Pelatihan yang digelar {a} berjalan lancar dan diikuti ratusan peserta. Kegiatan dinilai sangat bermanfaat."),
    ("{a} Dikritik karena Layanan Pengaduan Lambat", "Warga mengeluhkan layanan pengaduan {a} yang lambat dan tidak responsif. Sejumlah laporan tidak kunjung ditindaklanjuti."),
    ("Kebocoran Data, {a} Diminta Bertanggung Jawab", "Dugaan kebocoran data membuat warga khawatir. {a} belum memberikan penjelasan yang memuaskan."),
    ("{a} Gelar Rapat Koordinasi Persiapan Anggaran 2027", "Rapat koordinasi {a} membahas rencana kerja dan anggaran tahun depan bersama perangkat daerah."),
    ("{a} Tanggapi Isu 'Data Bocor' di Media Sosial", "{a} menyebut isu itu hoaks dan meminta warga tidak resah."),
    ("{a} Luncurkan Aplikasi Layanan Publik Terpadu", "Aplikasi baru {a} memudahkan warga mengurus dokumen. Warga menyebut layanan itu tidak buruk untuk tahap awal."),
]
#: Sentences that make each synthetic story its own (templates alone would look like syndicated copies).
DETAILS = [
    "Acara berlangsung di aula kantor dengan {n} peserta.", "Menurut panitia, kegiatan serupa akan digelar lagi bulan depan.",
    "Program ini menyasar {n} desa di wilayah tersebut.", "Anggaran yang disiapkan mencapai Rp{n} juta.",
    "Kepala bidang menyebut evaluasi dilakukan setiap triwulan.", "Sebanyak {n} laporan warga tercatat sepanjang tahun ini.",
    "Rencana itu dibahas bersama DPRD dalam rapat kerja.", "Masyarakat dapat memantau perkembangannya melalui situs resmi.",
    "Tim teknis dijadwalkan turun ke lapangan pekan ini.", "Data terbaru akan diumumkan pada akhir bulan.",
    "Sejumlah tokoh masyarakat turut hadir dalam kegiatan itu.", "Langkah tersebut merupakan tindak lanjut instruksi pimpinan.",
]
STORIES_PER_OUTLET_DAY = 4
FEED_DAYS = 3


def _load_names(path: Path = ALIASES_CSV) -> list[tuple[str, str, date | None, date | None]]:
    """(agency_code, name, valid_from, valid_to) of every institution name in the registry (kind name or short)."""
    names = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            alias = row["alias"]
            if row["kind"] in ("name", "short") and alias.split(" ")[0] in ("Kementerian", "Pemerintah", "Pemprov", "Pemkab", "Pemkot", "Badan"):
                frm, to = row["valid_from"] or None, row["valid_to"] or None
                names.append((row["agency_code"], alias, date.fromisoformat(frm) if frm else None, date.fromisoformat(to) if to else None))
    return names


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


class NewsUniverse:
    """The synthetic stories of each outlet and day; a pure function of (seed, day)."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.names = _load_names()

    def stories(self, day: date) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        valid = [n for n in self.names if (n[2] is None or n[2] <= day) and (n[3] is None or day <= n[3])]
        out: list[dict[str, Any]] = []
        for outlet in ("kabar", "atom", "rdf"):
            for number in range(STORIES_PER_OUTLET_DAY):
                code, name, *_ = rng.choice(valid)
                title_t, body_t = rng.choice(TEMPLATES)
                minute = rng.randrange(0, 24 * 60)
                published = datetime.combine(day, datetime.min.time(), JAKARTA) + timedelta(minutes=minute)
                details = " ".join(d.format(n=rng.randint(11, 987)) for d in rng.sample(DETAILS, 3))
                body = f"{body_t.format(a=name)} {details}"
                out.append(self._story(outlet, day, number, title_t.format(a=name), body, published, code, name))
        # warta syndicates every third kabar story an hour later, under its own headline and a small edit.
        for story in [s for s in out if s["outlet"] == "kabar"][::3]:
            title = f"Terkini: {story['title']}"
            body = story["body"] + " (Red)"
            out.append(
                self._story("warta", day, story["number"], title, body, story["published"] + timedelta(hours=1), story["agency_code"], story["agency_name"])
            )
        for number in range(STORIES_PER_OUTLET_DAY):  # the outlet only GDELT finds (after the others: their stories stay as they were)
            code, name, *_ = rng.choice(valid)
            title_t, body_t = rng.choice(TEMPLATES)
            published = datetime.combine(day, datetime.min.time(), JAKARTA) + timedelta(minutes=rng.randrange(0, 24 * 60))
            details = " ".join(d.format(n=rng.randint(11, 987)) for d in rng.sample(DETAILS, 3))
            out.append(self._story("lintas", day, number, title_t.format(a=name), f"{body_t.format(a=name)} {details}", published, code, name))
        return sorted(out, key=lambda s: s["published"], reverse=True)

    @staticmethod
    def _story(outlet: str, day: date, number: int, title: str, body: str, published: datetime, code: str, name: str) -> dict[str, Any]:
        host = OUTLETS[outlet][1]
        url = f"https://www.{host}/{day:%Y/%m/%d}/{_slug(title)}-{number}"
        return {"outlet": outlet, "number": number, "title": title, "body": body, "published": published, "url": url,
                "agency_code": code, "agency_name": name, "guid": hashlib.sha1(url.encode()).hexdigest()[:12]}

    def recent(self, now: datetime, days: int = FEED_DAYS) -> list[dict[str, Any]]:
        today = now.astimezone(JAKARTA).date()
        stories = [s for n in range(days) for s in self.stories(today - timedelta(days=n))]
        return [s for s in stories if s["published"] <= now]


def _rss(title: str, link: str, stories: list[dict[str, Any]], now: datetime | None = None) -> str:
    items = "".join(
        f"<item><title>{escape(s['title'])}</title><link>{escape(s['url'])}?utm_source=rss&amp;utm_medium=feed</link>"
        f"<guid isPermaLink=\"false\">{s['guid']}</guid><pubDate>{format_datetime(s['published'])}</pubDate>"
        f"<description>{escape(s['body'])}</description></item>"
        for s in stories
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>{link}</link><description>{escape(title)}</description><language>id</language>{items}</channel></rss>")


def _atom(title: str, link: str, stories: list[dict[str, Any]], now: datetime) -> str:
    entries = "".join(
        f"<entry><title>{escape(s['title'])}</title><link rel=\"alternate\" href=\"{escape(s['url'])}\"/>"
        f"<id>urn:sandbox:{s['guid']}</id><updated>{s['published'].isoformat()}</updated>"
        f"<summary>{escape(s['body'])}</summary></entry>"
        for s in stories
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(title)}</title>'
            f'<link href="{link}"/><id>{link}</id><updated>{now.isoformat()}</updated>{entries}</feed>')


def _rdf(title: str, link: str, stories: list[dict[str, Any]], now: datetime | None = None) -> str:
    items = "".join(
        f"<item rdf:about=\"{escape(s['url'])}\"><title>{escape(s['title'])}</title><link>{escape(s['url'])}</link>"
        f"<description>{escape(s['body'])}</description><dc:date>{s['published'].isoformat()}</dc:date></item>"
        for s in stories
    )
    return ('<?xml version="1.0" encoding="UTF-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="{link}"><title>{escape(title)}</title><link>{link}</link><description>{escape(title)}</description></channel>'
            f"{items}</rdf:RDF>")


def broken_feed(now: datetime) -> bytes:
    """A feed with the faults real feeds have: wrong encoding declaration, a non-RFC date, no link, cut off."""
    day = now.astimezone(JAKARTA)
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Broken Sandbox</title>'
        "<link>https://broken.sandbox.test/</link><description>x</description>"
        f"<item><title>Pemprov Kepri Gelar Rapat Evaluasi Layanan</title><link>https://broken.sandbox.test/{day:%Y/%m/%d}/rapat-evaluasi</link>"
        "<pubDate>Selasa, 29 Agustus 2023 pukul 10.15 WIB</pubDate><description>Rapat berjalan lancar.</description></item>"
        "<item><title>Berita tanpa tautan</title><description>Tidak ada link maupun guid.</description></item>"
        f"<item><title>Diskominfo Kabupaten Luwu Timur Raih Penghargaan</title><link>https://broken.sandbox.test/{day:%Y/%m/%d}/penghargaan</link>"
        f"<pubDate>{format_datetime(day.replace(hour=8, minute=0, second=0, microsecond=0))}</pubDate>"
        "<description>Penghargaan itu diraih berkat layanan yang cepat. Kata \u201csukses\u201d terdengar.</description></item>"
        "<item><title>Berita terpotong</title><link>https://broken.sandbox.test/terpotong</li"
    )
    return body.encode("utf-8")  # declared ISO-8859-1, sent as UTF-8: the quotes are mojibake unless detected


_PAGE_CHROME = {"Logo", "Connect with us", "Published", "on"}
_DATE_LINE = re.compile(r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} \w+ \d{4}")
_PHOTO_CREDIT = re.compile(r"\s*\(Foto:[^)]*\)$")


def seed_headline(text: str) -> str:
    """The headline of a copied article page: the first line that is not page chrome ("Logo"), a date line
    ("Jumat, 20 September 2024") or a region tag of one or two words ("Kepri"); a photo credit is cut off."""
    for line in (raw.strip() for raw in text.splitlines()):
        if line and line not in _PAGE_CHROME and not _DATE_LINE.fullmatch(line) and len(line.split()) >= 3:
            return _PHOTO_CREDIT.sub("", line)
    raise ValueError("no headline in the article text")


def seeds_feed() -> str:
    items = []
    for path in sorted((FIXTURES / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = seed_headline(text)
        published = datetime.fromisoformat(SEED_DATES[path.name[:3]])
        items.append({"title": title, "url": f"https://seeds.sandbox.test/{path.stem}", "guid": path.stem, "published": published, "body": text})
    return _rss("Seed articles (test fixtures)", "https://seeds.sandbox.test/", items)


class NewsApi:
    """The feeds and the GDELT endpoint; ``mount_on`` registers both prefixes with the sandbox server."""

    def __init__(self, *, faults: Any, clock: Callable[[], datetime], count_fault: Callable[[str], None], seed: int = 7) -> None:
        self.faults = faults
        self.clock = clock
        self.count_fault = count_fault
        self.universe = NewsUniverse(seed)

    def mount_on(self, server: Any) -> None:
        server.mount("/feeds", self.feeds)
        server.mount("/api/v2/doc", self.gdelt)

    # -- feeds ------------------------------------------------------------------------

    def feeds(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        faults = self.faults.take("feeds")
        if "burst" in faults:
            self.count_fault("feeds.status_burst")
            return faults["burst"]["status"], {"Content-Type": "text/html", ENDPOINT_HEADER: "feeds.burst"}, b"<html>Service Unavailable</html>"
        path = request.path.removeprefix("/feeds/")
        now = self.clock()
        content_type = "application/rss+xml; charset=UTF-8"
        if path == "seeds.xml":
            body = seeds_feed().encode("utf-8")
        elif path.startswith("tempo/") and re.fullmatch(r"tempo/[a-z-]+\.xml", path) and (FIXTURES / "tempo-rss" / path[6:]).exists():
            body = (FIXTURES / "tempo-rss" / path[6:]).read_bytes()
        elif path == "sandbox/broken.xml":
            body, content_type = broken_feed(now), "application/rss+xml"
        elif path.startswith("sandbox/") and OUTLETS.get(path[8:].removesuffix(".xml"), ("", "", "gdelt"))[2] != "gdelt":
            outlet = path[8:].removesuffix(".xml")
            name, host, kind = OUTLETS[outlet]
            stories = [s for s in self.universe.recent(now) if s["outlet"] == outlet]
            link = f"https://www.{host}/"
            text = {"rss": _rss, "atom": _atom, "rdf": _rdf}[kind](name, link, stories, now)
            body = self._hostile(text.encode("utf-8"))
            content_type = "application/atom+xml; charset=utf-8" if kind == "atom" else content_type
        else:
            return 404, {"Content-Type": "text/html", ENDPOINT_HEADER: "feeds.not_found"}, b"<html>Not Found</html>"
        if faults.get("truncate"):
            body = body[: len(body) // 2]
            self.count_fault("feeds.truncate")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        last_modified = format_datetime(now.astimezone(UTC).replace(minute=0, second=0, microsecond=0), usegmt=True)
        headers = {"Content-Type": content_type, "ETag": etag, ENDPOINT_HEADER: "feeds.get"}
        if request.headers.get("If-None-Match") == etag:
            headers[ENDPOINT_HEADER] = "feeds.not_modified"
            return 304, headers, b""
        if path.startswith("tempo/"):
            headers["Last-Modified"] = "Sun, 07 Jun 2026 08:20:25 GMT"
        else:
            headers["Last-Modified"] = last_modified
        return 200, headers, body

    def _hostile(self, body: bytes) -> bytes:
        """Fault ``feeds.hostile_text`` (N): the next N outlet feeds served carry, in their first item's title, a
        character reference to a lone surrogate (``&#xD83D;``, which makes XML parsers refuse the whole feed)
        and a raw NUL byte."""
        left = int(self.faults.get("feeds.hostile_text") or 0)
        match = re.search(rb"<(?:item|entry)[\s>].*?<title[^>]*>", body, re.S)
        if left <= 0 or match is None:
            return body
        self.faults["feeds.hostile_text"] = left - 1 if left > 1 else None
        self.count_fault("feeds.hostile_text")
        return body[: match.end()] + b"&#xD83D;\x00 " + body[match.end() :]

    # -- GDELT --------------------------------------------------------------------------

    def gdelt(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        text_headers = {"Content-Type": "text/html; charset=utf-8", ENDPOINT_HEADER: "gdelt.doc"}
        faults = self.faults.take("gdelt")
        if "burst" in faults:
            self.count_fault("gdelt.status_burst")
            # GDELT answers a too-fast client with 429 and a plain-text sentence, no JSON, no Retry-After.
            return faults["burst"]["status"], text_headers, b"Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com for larger queries."
        q = {k: v[-1] for k, v in request.query.items()}
        query = q.get("query", "")
        if q.get("mode", "").lower() != "artlist" or q.get("format", "").lower() != "json":
            return 200, text_headers, b"Invalid mode or format: this sandbox serves mode=artlist&format=json only."
        terms = re.findall(r'"([^"]+)"|([^\s()"]+)', query)
        words = [a or b for a, b in terms if (a or b) and (a or b).upper() != "OR" and ":" not in (a or b)]
        if not words or any(len(w) < 3 for w in words):
            # GDELT's real sentence for this, with status 200.
            return 200, text_headers, b"Your search contained a keyword that was too short. Please lengthen it and try again."
        if query.count("(") != query.count(")"):
            return 200, text_headers, b"Parentheses may only be used around OR'd statements."
        try:
            start = datetime.strptime(q["startdatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            end = datetime.strptime(q["enddatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            return 200, text_headers, b"Invalid STARTDATETIME or ENDDATETIME: use YYYYMMDDHHMMSS."
        limit = min(int(q.get("maxrecords") or 75), 250)
        lowered = [w.lower() for w in words]
        days = (end.date() - start.date()).days + 2
        found = [
            s for n in range(days) for s in self.universe.stories(end.astimezone(JAKARTA).date() - timedelta(days=n))
            if start <= s["published"] < end and any(w in s["title"].lower() for w in lowered)
        ]
        found.sort(key=lambda s: s["published"], reverse=True)
        if not found:
            return 200, {"Content-Type": "application/json; charset=utf-8", ENDPOINT_HEADER: "gdelt.doc"}, b"{}"
        articles = []
        for number, s in enumerate(found[:limit]):
            # Every other article comes with its AMP or tracking variant, as GDELT crawls them.
            url = s["url"] + ("/amp" if number % 2 else "?utm_source=gdelt")
            articles.append({
                "url": url, "url_mobile": "", "title": s["title"],
                "seendate": s["published"].astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"), "socialimage": "",
                "domain": OUTLETS[s["outlet"]][1], "language": "Indonesian", "sourcecountry": "Indonesia",
            })
        body = dumps({"articles": articles}).decode("utf-8")
        # GDELT escapes apostrophes as \' (invalid JSON); the sandbox does the same to titles that have one.
        body = body.replace("'", "\\'")
        return 200, {"Content-Type": "application/json; charset=utf-8", ENDPOINT_HEADER: "gdelt.doc"}, body.encode("utf-8")


def feed_url(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}/feeds/{quote(path)}"
