"""Platform analytics exports (the file-drop source): reading, format detection, numbers, hashing, account matching.

An agency without API access can still download its own analytics from the
platform (Meta Business Suite, YouTube Studio, TikTok Studio, X analytics).
This module is what every export format shares; each platform declares its
formats in ``etl/platforms/<platform>/export.py`` as :class:`ExportFormat`
values and turns one row into one :class:`ExportRow`.

- Files are read whatever the platform or a spreadsheet made of them: CSV or
  TSV in UTF-8 (with or without a byte-order mark) or UTF-16 (Meta's), a
  ``sep=,`` hint line (Excel's), ``;`` lists (Excel in an Indonesian locale),
  XLSX (the first sheet).
- The format is told by the header row alone, never the file name: a format
  matches when every column it requires is there, in English or in the
  platform's Indonesian localisation.
- Numbers come as platforms and spreadsheets write them: ``1,234`` and
  ``1.234`` (thousands), ``1.234,00`` (Indonesian decimal comma). Counts must
  be whole: ``12,5`` is not a count and the row goes to quarantine.
- The account is read from the file (an id, a username, a link) or declared by
  the operator (the drop folder ``<platform>/<handle or id>/`` or ``--account``)
  and must match one registered account; it is never guessed from a display name.

Imports no platform: the formats are passed in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from etl.sources.readers import JAKARTA, ParseIssue, naive_utc

#: Rows scanned for the header: some exports put a title or an Excel ``sep=`` line above it.
HEADER_SCAN_ROWS = 10
#: Kinds of export: one row per post (lifetime totals as of the export's end) or one row per day for the account.
POSTS, ACCOUNT_DAILY = "posts", "account_daily"


class ExportError(ValueError):
    """An export file that cannot be imported as it is (the message names the file)."""


class UnknownExportFormat(ExportError):
    """No known export format has this header."""


@dataclass(frozen=True)
class ExportTable:
    """The cells of an export file, as text, with where the header was found."""

    name: str
    rows: list[list[str]]
    encoding: str  # utf-8, utf-8-sig, utf-16, xlsx
    delimiter: str | None = None  # None for XLSX


@dataclass
class ExportRow:
    """What one export row says, in Pantau's terms (counters are whole numbers or None when the export has no column)."""

    account: str | None = None  # an account id or username read from the row (None: the file does not say)
    post_id: str | None = None
    published_at: datetime | None = None  # naive UTC
    post_type: str | None = None
    title: str | None = None
    text: str | None = None
    url: str | None = None
    day: date | None = None  # account_daily rows: the day the values are for
    counts: dict[str, int | None] = field(default_factory=dict)  # likes, comments, shares, views, saves, quotes, followers
    #: This row's counters left NULL on purpose, with the reason (``unavailable_metrics``), beside the format's gaps.
    gaps: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportFormat:
    """One export a platform produces: its columns (English and Indonesian headers) and how a row reads."""

    name: str
    platform: str
    kind: str  # POSTS or ACCOUNT_DAILY
    description: str
    #: field -> the headers the platform writes for it, English first, then its Indonesian localisation.
    columns: dict[str, tuple[str, ...]]
    #: fields whose column must be present for a header to be this format (the rest are optional).
    required: tuple[str, ...]
    read_row: Callable[[ExportCells], ExportRow]
    #: Rows to skip: YouTube Studio's first data row is the table's "Total".
    skip_row: Callable[[ExportCells], bool] = lambda _cells: False
    #: Counters the platform's API source reads that this export has no column for, with the reason
    #: (``unavailable_metrics``); counters neither has stay NULL without one, as on the API's rows.
    gaps: tuple[tuple[str, str], ...] = ()

    def header_map(self, header: Sequence[str]) -> dict[str, int] | None:
        """field -> column index when ``header`` is this format (every required column present), else None."""
        positions = {normalise_header(h): i for i, h in enumerate(header) if h and h.strip()}
        found = {}
        for name, names in self.columns.items():
            for candidate in names:
                index = positions.get(normalise_header(candidate))
                if index is not None:
                    found[name] = index
                    break
        return found if all(r in found for r in self.required) else None


@dataclass
class ExportCells:
    """One data row by field name; ``get`` gives the stripped text or None for an empty or absent cell.

    ``count``, ``number``, ``time`` and ``day`` never raise: a value that cannot be read is None and its
    :class:`ParseIssue` is kept in ``issues``, so the rest of the row (its account, its post) still reads and
    the row reaches the quality gate, which quarantines it naming the field.
    """

    values: dict[str, str]
    line: int  # 1-based row number in the file (for messages)
    issues: list[str] = field(default_factory=list)

    def _read(self, reader: Callable[[str | None, str], Any], name: str) -> Any:
        try:
            return reader(self.get(name), name)
        except ParseIssue as exc:
            self.issues.append(str(exc))
            return None

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def count(self, name: str) -> int | None:
        """A whole count in any of the notations exports use; None when the column is absent or empty."""
        return self._read(export_count, name)

    def number(self, name: str) -> Decimal | None:
        return self._read(export_number, name)

    def time(self, name: str) -> datetime | None:
        """A time as naive UTC (Jakarta when the export gives no zone)."""
        return self._read(export_local_time, name)

    def day(self, name: str) -> date | None:
        return self._read(export_day, name)

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise ParseIssue(f"{name}: empty")
        return value


@dataclass(frozen=True)
class DetectedExport:
    """A table recognised as a format: the header row and where each field is."""

    format: ExportFormat
    header_row: int  # index into table.rows
    columns: dict[str, int]

    def cells(self, table: ExportTable) -> Iterable[ExportCells]:
        for index in range(self.header_row + 1, len(table.rows)):
            row = table.rows[index]
            if not any(c.strip() for c in row):
                continue
            values = {name: row[i] if i < len(row) else "" for name, i in self.columns.items()}
            cells = ExportCells(values, index + 1)
            if not self.format.skip_row(cells):
                yield cells


# -- reading -------------------------------------------------------------------------------


def file_hash(data: bytes) -> str:
    """SHA-256 of the file's bytes: the same export dropped twice, under any name, has the same hash."""
    return hashlib.sha256(data).hexdigest()


def read_export(name: str, data: bytes) -> ExportTable:
    """The cells of an export file's bytes: XLSX (first sheet) or delimited text in UTF-8/UTF-16."""
    if data[:4] == b"PK\x03\x04":
        return ExportTable(name, _xlsx_rows(name, data), "xlsx")
    text, encoding = _decode(name, data)
    lines = text.splitlines()
    delimiter = None
    if lines and lines[0].strip().lower().startswith("sep=") and len(lines[0].strip()) == 5:
        delimiter = lines[0].strip()[4]  # Excel's hint line names the delimiter
        lines = lines[1:]
    delimiter = delimiter or _sniff_delimiter(lines[:HEADER_SCAN_ROWS])
    rows = [list(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)]
    return ExportTable(name, rows, encoding, delimiter)


def _decode(name: str, data: bytes) -> tuple[str, str]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), "utf-16"
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8"), "utf-8-sig"
    if len(data) >= 4 and data[1] == 0 and data[3] == 0:  # UTF-16 LE without a byte-order mark
        return data.decode("utf-16-le"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        raise ExportError(f"export file {name}: not UTF-8 or UTF-16 text, nor XLSX (byte {exc.start})") from None


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most header-like line into the most cells (tab, comma or semicolon)."""
    best, best_cells = ",", 0
    for candidate in ("\t", ",", ";"):
        cells = max((len(next(csv.reader([line], delimiter=candidate), [])) for line in lines if line.strip()), default=0)
        if cells > best_cells:
            best, best_cells = candidate, cells
    return best


def _xlsx_rows(name: str, data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # noqa: PLC0415 - only XLSX files need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ExportError(f"export file {name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        sheet = book.worksheets[0]
        return [[_xlsx_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _xlsx_text(value: Any) -> str:
    """A cell as the text a CSV export would hold: whole floats without '.0', dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def normalise_header(value: str) -> str:
    """Headers compared without case, byte-order marks, quotes or repeated spaces."""
    return " ".join(value.replace("\ufeff", "").strip().strip('"').lower().split())


def detect_format(table: ExportTable, formats: Sequence[ExportFormat]) -> DetectedExport:
    """The one format whose required columns the header has (the header is one of the first rows).

    When several match, the one that recognises the most columns wins; a tie is an error (drop the file in its
    platform's folder, or name the platform). No match: :class:`UnknownExportFormat` naming the headers seen.
    """
    matches: list[DetectedExport] = []
    for index, row in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        for fmt in formats:
            columns = fmt.header_map(row)
            if columns is not None:
                matches.append(DetectedExport(fmt, index, columns))
        if matches:
            break
    if not matches:
        seen = next((r for r in table.rows[:HEADER_SCAN_ROWS] if sum(bool(c.strip()) for c in r) >= 2), [])
        headers = ", ".join(repr(c.strip()) for c in seen if c.strip()) or "none"
        raise UnknownExportFormat(
            f"export file {table.name}: unknown format; headers seen: {headers}; "
            f"known formats: {', '.join(sorted({f.name for f in formats}))}"
        )
    matches.sort(key=lambda m: len(m.columns), reverse=True)
    tied = [m for m in matches if len(m.columns) == len(matches[0].columns)]
    if len({m.format.name for m in tied}) > 1:
        raise ExportError(
            f"export file {table.name}: header fits {', '.join(sorted(m.format.name for m in tied))}; "
            "drop it in its platform's folder (data/dropbox/<platform>/) or pass --platform"
        )
    return matches[0]


# -- values --------------------------------------------------------------------------------

_GROUPED = {",": re.compile(r"^\d{1,3}(,\d{3})+$"), ".": re.compile(r"^\d{1,3}(\.\d{3})+$")}


def export_number(value: str | None, field_name: str) -> Decimal | None:
    """A number as exports write it: ``1234``, ``1,234`` / ``1.234`` (thousands), ``1.234,5`` / ``1,234.5``, ``12,5``.

    With both separators the last one is the decimal mark; with one, it is a thousands separator when it groups
    exactly three digits (``1.234``, ``12,345,678``), otherwise the decimal mark (``12,5``, ``0.25``).
    """
    if value is None:
        return None
    text = value.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    if text in ("", "-", "--", "—"):
        return None
    negative = text.startswith("-")
    digits = text.lstrip("+-")
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
        digits = digits.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif "," in digits or "." in digits:
        mark = "," if "," in digits else "."
        digits = digits.replace(mark, "") if _GROUPED[mark].match(digits) else digits.replace(",", ".")
    try:
        number = Decimal(digits)
    except InvalidOperation:
        raise ParseIssue(f"{field_name}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ParseIssue(f"{field_name}: {value!r} is not a number")
    return -number if negative else number


def export_count(value: str | None, field_name: str) -> int | None:
    """A whole count (``1.234``, ``1,234``, ``1.234,00``); a fraction is a parse issue, not rounded."""
    number = export_number(value, field_name)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ParseIssue(f"{field_name}: {value!r} is not a whole count")
    return int(number)


_MONTHS = {
    # English and Indonesian month names and abbreviations as the platforms print them.
    "jan": 1, "january": 1, "januari": 1, "feb": 2, "february": 2, "februari": 2, "mar": 3, "march": 3, "maret": 3,
    "apr": 4, "april": 4, "may": 5, "mei": 5, "jun": 6, "june": 6, "juni": 6, "jul": 7, "july": 7, "juli": 7,
    "aug": 8, "august": 8, "agu": 8, "agt": 8, "agustus": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "okt": 10, "oktober": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12, "des": 12, "desember": 12,
}
_NAMED_DATE = re.compile(r"^(?:[A-Za-z]{3,9},?\s+)?(?:(?P<d1>\d{1,2})\s+(?P<m1>[A-Za-z]+)\.?,?\s+(?P<y1>\d{4})|(?P<m2>[A-Za-z]+)\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4}))"
                         r"(?:,?\s+(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?))?$")
_OFFSET = re.compile(r"^(.*\d)\s*([+-]\d{2}):?(\d{2})$")
_SLASHED = re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?:\s+(?P<time>\d{1,2}:\d{2}(?::\d{2})?))?$")


def export_local_time(value: str | None, field_name: str) -> datetime:
    """A time printed by an export, read as Jakarta local time when it carries no zone; returned as naive UTC.

    Accepted: ISO 8601 (``2026-11-20 10:15``, ``2026-11-20T10:15:00+07:00``), ``Nov 20, 2026``,
    ``20 Nov 2026 10.15`` (English and Indonesian month names), and Meta's ``11/20/2026 10:15`` (month first).
    A date alone is midnight Jakarta time.
    """
    if value is None or not value.strip():
        raise ParseIssue(f"{field_name}: missing time")
    text = _OFFSET.sub(r"\1\2:\3", value.strip())  # "2026-11-19 04:00 +0000" (X's older export) -> ISO offset
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = _named_or_slashed(text)
    if parsed is None:
        raise ParseIssue(f"{field_name}: {value!r} is not a date or time this export writes")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=JAKARTA)
    return naive_utc(parsed)


def _named_or_slashed(text: str) -> datetime | None:
    match = _NAMED_DATE.match(text)
    if match:
        month = _MONTHS.get((match["m1"] or match["m2"]).lower())
        if month is None:
            return None
        day, year = int(match["d1"] or match["d2"]), int(match["y1"] or match["y2"])
    else:
        match = _SLASHED.match(text)
        if not match:
            return None
        month, day, year = int(match["m"]), int(match["d"]), int(match["y"])
    clock = time()
    if match["time"]:
        parts = [int(p) for p in re.split(r"[:.]", match["time"])]
        clock = time(*parts)
    try:
        return datetime.combine(date(year, month, day), clock)
    except ValueError:
        return None


def export_day(value: str | None, field_name: str) -> date:
    """The calendar day of a date column (Jakarta)."""
    moment = export_local_time(value, field_name)
    return moment.replace(tzinfo=UTC).astimezone(JAKARTA).date()


def followers_by_day(cells: ExportCells) -> ExportRow:
    """A row of a daily account table: the day (column ``date``) and the follower count that day (``followers``)."""
    return ExportRow(day=cells.day("date"), counts={"followers": cells.count("followers")})


# -- accounts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredAccount:
    """What matching needs of a registry account."""

    account_key: str
    platform: str
    handle: str | None
    platform_account_id: str | None


def _handle(value: str) -> str:
    return value.strip().lstrip("@").lower()


class AccountMatcher:
    """Matches the account an export names (an id or a username) to exactly one registered account of its platform."""

    def __init__(self, accounts: Iterable[RegisteredAccount]) -> None:
        self._by_id: dict[tuple[str, str], set[str]] = {}
        self._by_handle: dict[tuple[str, str], set[str]] = {}
        for a in accounts:
            if a.platform_account_id:
                self._by_id.setdefault((a.platform, a.platform_account_id.strip()), set()).add(a.account_key)
            if a.handle:
                self._by_handle.setdefault((a.platform, _handle(a.handle)), set()).add(a.account_key)

    def match(self, platform: str, named: str | None) -> tuple[str | None, str | None]:
        """(account_key, None) for a match; (None, reason) otherwise."""
        if named is None or not named.strip():
            return None, (f"the export names no {platform} account; drop it in data/dropbox/{platform}/<handle or id>/ "
                          "or pass --account")
        keys = self._by_id.get((platform, named.strip())) or self._by_handle.get((platform, _handle(named))) or set()
        if len(keys) == 1:
            return next(iter(keys)), None
        if keys:
            return None, f"{platform} account {named!r} matches {len(keys)} registered accounts: {', '.join(sorted(keys))}"
        return None, f"{platform} account {named!r} is not in the registry (registry/accounts.csv: platform_account_id or handle)"
