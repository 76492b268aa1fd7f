"""Canonical frames: what every platform parser fills from landing lines.

Frames (columns in :data:`FRAME_COLUMNS`):
- ``account_snapshots`` — an account's public counters as of the run;
- ``posts`` — one row per post seen;
- ``post_metrics`` — a post's cumulative counters as of the run;
- ``post_deletions`` — posts we asked for by id that the platform no longer serves.

A value that cannot be read is not guessed: the row keeps ``parse_issue``
naming the field, and the quality gate sends it to quarantine.

Hostile text (a NUL byte, a lone UTF-16 surrogate such as ``\\ud83d``) is not a
failure: PostgreSQL refuses NUL and Parquet refuses surrogates, so such text
is repaired when the row is built (NUL removed, each lone surrogate replaced
by U+FFFD) and the repair is written in the row's ``text_repairs``. The row
stays valid (``parse_issue`` is for values that could not be read); the raw
record keeps the original text (JSON-escaped) and landing keeps the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from etl.jsontext import loads, record_json
from etl.sources.readers import ParseIssue

FRAME_COLUMNS: dict[str, list[str]] = {
    "account_snapshots": [
        "platform", "platform_account_id", "snapshot_date", "captured_at", "followers", "following",
        "total_posts", "total_views", "parse_issue", "text_repairs", "record",
    ],
    "posts": [
        "platform", "platform_post_id", "platform_account_id", "published_at", "published_on", "post_type",
        "title", "text", "hashtags", "url", "referenced_post_id", "reference_kind", "parse_issue", "text_repairs", "record",
    ],
    "post_metrics": [
        "platform", "platform_post_id", "snapshot_date", "captured_at", "likes", "comments", "shares",
        "views", "saves", "quotes", "unavailable_metrics", "parse_issue", "text_repairs", "record",
    ],
    "post_deletions": ["platform", "platform_post_id", "snapshot_date"],
}
#: What a post reposts, quotes or replies to (``reference_kind``), as the platform id of that post; None for an
#: original post and wherever the platform does not say.
REFERENCE_KINDS = ("repost", "quote", "reply")
#: Text columns a parser may leave out of a row: NULL, never the float NaN pandas would fill in.
OPTIONAL_TEXT_COLUMNS = ("unavailable_metrics", "referenced_post_id", "reference_kind", "text_repairs")
INT_COLUMNS = {"followers", "following", "total_posts", "total_views", "likes", "comments", "shares", "views", "saves", "quotes"}


@dataclass
class Frames:
    """Rows per frame, collected while reading a landing file."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in FRAME_COLUMNS})
    calls_read: int = 0
    calls_skipped: int = 0

    def frame(self, name: str) -> pd.DataFrame:
        df = pd.DataFrame(self.rows[name], columns=FRAME_COLUMNS[name])
        for column in INT_COLUMNS.intersection(df.columns):
            df[column] = df[column].astype("Int64")
        for column in (c for c in OPTIONAL_TEXT_COLUMNS if c in df.columns):
            # A parser that has nothing to say leaves the key out: NULL, never the float NaN pandas fills in.
            df[column] = df[column].astype(object).where(df[column].notna(), None)
        return df


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: str) -> bool:
    # Fast path: most text is ASCII without NUL (str.isascii is a flag check, no scan of the characters).
    return "\x00" not in value and (value.isascii() or not _SURROGATE.search(value))


def repair_text(value: str) -> tuple[str, list[str]]:
    """``value`` without NUL bytes and lone UTF-16 surrogates, and what was repaired (empty when nothing).

    A surrogate pair split over two code points (``"\\ud83d\\ude00"`` decoded leniently) is joined into its
    character; a surrogate without its partner becomes U+FFFD.
    """
    if _clean(value):
        return value, []
    repairs = []
    nul = value.count("\x00")
    if nul:
        value = value.replace("\x00", "")
        repairs.append(f"removed {nul} NUL byte{'s' * (nul > 1)}")
    if _SURROGATE.search(value):
        before = value.count("\ufffd")
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        lone = value.count("\ufffd") - before
        if lone:
            repairs.append(f"replaced {lone} lone surrogate{'s' * (lone > 1)} with U+FFFD")
    return value, repairs


def repair_fields(values: dict[str, Any], columns: Iterable[str] | None = None) -> str | None:
    """Repair every text value of ``values`` (or of ``columns``) in place; the note for ``text_repairs``, or None."""
    # One scan of all the text at once settles the common case, clean text. Under cProfile the per-value checks
    # were a fifth of a YouTube night's parse; outside it the gain was within the machine's noise (issue 11).
    # Joining creates no NUL and no surrogate, so a clean join is clean text.
    names = list(values if columns is None else columns)
    if _clean("".join([v for v in map(values.get, names) if isinstance(v, str)])):
        return None
    notes = []
    for column in names:
        value = values.get(column)
        if isinstance(value, str) and not _clean(value):
            values[column], repairs = repair_text(value)
            notes += [f"{column}: {r}" for r in repairs]
    return "; ".join(notes) or None


def row(base: dict[str, Any], readers: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Build a row; every reader failure is written into ``parse_issue`` instead of raising, every text repair
    into ``text_repairs``."""
    built = dict(base)
    issues = []
    for column, read in readers.items():
        try:
            built[column] = read()
        except ParseIssue as exc:
            built[column] = None
            issues.append(str(exc))
    built["text_repairs"] = repair_fields(built)
    built["parse_issue"] = "; ".join(repair_text(i)[0] for i in issues) if issues else None
    built["record"] = record_json(item)
    return built


def ok_payloads(lines: Iterable[dict[str, Any]], frames: Frames) -> Iterator[tuple[dict[str, Any], Any]]:
    """(line, decoded body) for every 200 line with a JSON body; counts the others (failed tries, cut bodies) as skipped."""
    for line in lines:
        if line.get("status") != 200:
            frames.calls_skipped += 1
            continue
        try:
            payload = loads(line["body"])
        except (ValueError, KeyError):
            frames.calls_skipped += 1
            continue
        frames.calls_read += 1
        yield line, payload


def iter_frames(frames: Frames) -> Iterator[tuple[str, pd.DataFrame]]:
    for name in FRAME_COLUMNS:
        yield name, frames.frame(name)
