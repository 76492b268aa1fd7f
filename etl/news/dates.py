"""Feed dates as outlets really write them, read strictly.

feedparser's own date reading is lenient: ``Sat, Dec 16 2023 02:02:33 PM`` comes
back as 02:02 (the ``PM`` dropped), and Indonesian month names are not read at all.
:func:`parse_feed_date` reads the raw text itself and accepts a date only when
every part of it is understood:

* ISO 8601 (``2019-08-05T10:30:00+07:00``, ``2019-08-05 10:30``);
* day-month-year and month-day-year, in English or Indonesian, with an optional
  weekday (``Senin, 5 Agt 2019 10.30 WIB``, ``05 Agustus 2019``,
  ``Sat, Dec 16 2023 02:02:33 PM``, RFC 822 ``Mon, 05 Aug 2019 03:30:00 GMT``);
* a time with ``:`` or ``.`` separators and an optional AM/PM;
* a zone: WIB, WITA, WIT, GMT/UT/UTC/Z, the RFC 822 US zones, or ``+0700`` / ``+07:00``.

A date without a zone is in the feed's own time zone (the ``timezone`` column of
``registry/news_feeds.csv``, Asia/Jakarta by default), never UTC. Anything left
over (an unknown word, an hour 13 with ``PM``) makes the whole date unreadable:
the caller stores the article with ``published_estimated = true``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")

MONTHS = {
    **{name: n for n, name in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"], start=1)},
    **{name: n for n, name in enumerate(
        ["januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
         "november", "desember"], start=1)},
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "mei": 5, "jun": 6, "jul": 7, "aug": 8, "agu": 8, "agt": 8,
    "ags": 8, "agust": 8, "sep": 9, "sept": 9, "oct": 10, "okt": 10, "nov": 11, "nop": 11, "dec": 12, "des": 12,
    "pebruari": 2, "nopember": 11,
}
WEEKDAYS = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun", "tues", "thur", "thurs",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad",
    "sen", "sel", "rab", "kam", "jum", "sab", "min",
}
ZONES = {
    "wib": 7, "wita": 8, "wit": 9, "gmt": 0, "ut": 0, "utc": 0, "z": 0,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
}
_WORD = r"[a-z']+"
_DATE_TEXT = re.compile(
    rf"^(?:(?P<weekday>{_WORD})\s*,?\s+)?"
    rf"(?:(?P<day1>\d{{1,2}})\s*[-/ ]?\s*(?P<month1>{_WORD})\.?|(?P<month2>{_WORD})\.?\s+(?P<day2>\d{{1,2}}))"
    r"\s*[-/, ]\s*(?P<year>\d{4})"
    r"(?:\s*[,-]?\s*(?:(?:pukul|jam|at)\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?)?"
    r"(?:\s*(?P<zone>[a-z]{1,4}|[+-]\d{2}:?\d{2}|(?:gmt|utc)[+-]\d{1,2}(?::?\d{2})?))?$"
)
_OFFSET = re.compile(r"^(?:gmt|utc)?([+-])(\d{1,2}):?(\d{2})?$")


def _zone(text: str | None, default: tzinfo) -> tzinfo | None:
    if not text:
        return default
    if text in ZONES:
        return timezone(timedelta(hours=ZONES[text]))
    match = _OFFSET.match(text)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-offset if sign == "-" else offset)


def _hour(hour: int, ampm: str | None) -> int | None:
    if ampm is None:
        return hour
    if not 1 <= hour <= 12:
        return None  # "14:02 PM" says two different things
    return (hour % 12) + (12 if ampm.startswith("p") else 0)


def _naive_utc(value: datetime, default: tzinfo) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=default)
    return aware.astimezone(UTC).replace(tzinfo=None)


def parse_feed_date(raw: str | None, default_zone: tzinfo = JAKARTA) -> datetime | None:
    """``raw`` as naive UTC, or None when any part of it cannot be read; no zone means ``default_zone``."""
    if not raw or not raw.strip():
        return None
    text = " ".join(raw.strip().split())
    try:
        return _naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")), default_zone)
    except ValueError:
        pass
    match = _DATE_TEXT.match(text.lower())
    if not match:
        return None
    parts = match.groupdict()
    if parts["weekday"] and parts["weekday"] not in WEEKDAYS:
        return None
    month = MONTHS.get(parts["month1"] or parts["month2"] or "")
    zone = _zone(parts["zone"], default_zone)
    hour = _hour(int(parts["hour"] or 0), parts["ampm"].replace(".", "") if parts["ampm"] else None)
    if month is None or zone is None or hour is None:
        return None
    try:
        local = datetime(
            int(parts["year"]), month, int(parts["day1"] or parts["day2"]), hour, int(parts["minute"] or 0),
            int(parts["second"] or 0), tzinfo=zone,
        )
    except ValueError:
        return None  # 31 Februari, minute 61
    return _naive_utc(local, default_zone)
