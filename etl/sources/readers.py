"""Value readers every parser shares: platform counters, timestamps, hashtags, metric gaps.

A value that cannot be read raises :class:`ParseIssue` naming the field; the
row builder (:func:`etl.sources.frames.row`) turns it into the row's
``parse_issue`` and the quality gate sends the row to quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
HASHTAG = re.compile(r"#(\w+)", re.UNICODE)


class ParseIssue(ValueError):
    """A field that cannot be read as what it should be."""


def to_count(value: Any, field_name: str) -> int | None:
    """A platform counter as int; absent stays None (hidden is not zero). Counts come as strings on YouTube."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseIssue(f"{field_name}: {value!r} is not a count")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ParseIssue(f"{field_name}: {value!r} is not a count")


def to_utc(value: Any, field_name: str) -> datetime:
    """An ISO 8601 timestamp as naive UTC (the warehouse stores UTC)."""
    if not isinstance(value, str) or not value:
        raise ParseIssue(f"{field_name}: missing timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseIssue(f"{field_name}: {value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ParseIssue(f"{field_name}: {value!r} has no time zone")
    return parsed.astimezone(UTC).replace(tzinfo=None)


def unavailable_metrics(reasons: Mapping[str, str | None]) -> str | None:
    """Why metrics are NULL because the platform did not serve them: ``"metric=reason; metric2=reason2"``.

    Sorted by metric so the same answer always gives the same string (reruns
    write identical rows); a metric whose reason is None was served and is
    left out; None when nothing is missing.
    """
    parts = [f"{metric}={reason}" for metric, reason in sorted(reasons.items()) if reason is not None]
    return "; ".join(parts) or None


def hashtags_of(*texts: str | None) -> str | None:
    """Hashtags in order of first use, lower-cased, '|'-joined (None when there are none)."""
    tags = list(dict.fromkeys(t.lower() for text in texts if text for t in HASHTAG.findall(text)))
    return "|".join(tags) if tags else None


def jakarta_day(value: Any, field_name: str) -> date:
    """The Jakarta calendar day of an ISO 8601 timestamp."""
    return to_utc(value, field_name).replace(tzinfo=UTC).astimezone(JAKARTA).date()


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
