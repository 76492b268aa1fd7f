"""Per-platform parsers beside :func:`etl.parse.parse_youtube`; :data:`PLATFORM_PARSERS` is merged into ``parse.PARSERS``.

Each parser reads landed lines (only complete 200 answers) into the same four
frames with the same columns; a count the platform did not send stays None,
a value that cannot be read goes to ``parse_issue`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from etl.parse import JAKARTA, ParseIssue, ok_payloads, to_utc


def jakarta_day(value: Any, field_name: str) -> date:
    return to_utc(value, field_name).replace(tzinfo=UTC).astimezone(JAKARTA).date()


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def graph_time(value: Any, field_name: str) -> datetime:
    """Graph API timestamps (``2026-11-20T03:04:05+0000``) as naive UTC."""
    if isinstance(value, str) and len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    return to_utc(value, field_name)


def _load() -> dict[str, Callable[..., Any]]:
    from etl.parsers.meta import parse_facebook, parse_instagram  # noqa: PLC0415
    from etl.parsers.tiktok import parse_tiktok  # noqa: PLC0415
    from etl.parsers.x import parse_x  # noqa: PLC0415

    return {"x": parse_x, "instagram": parse_instagram, "facebook": parse_facebook, "tiktok": parse_tiktok}


__all__ = ["ParseIssue", "graph_time", "jakarta_day", "naive_utc", "ok_payloads", "platform_parsers"]


def platform_parsers() -> dict[str, Callable[..., Any]]:
    """The parsers of the platforms added after YouTube, by source name."""
    return _load()
