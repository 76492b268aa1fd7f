"""What the Graph API's two parsers share (Instagram business_discovery, Facebook Pages).

Graph timestamps are ``2026-11-20T03:04:05+0000``. A field a newer Graph API
version no longer has was dropped from the request by
:class:`etl.platforms.graph.source.GraphCalls`; the landed line names it in
``dropped_fields`` with the ``graph_version``, and its metric is NULL with the
reason ``not served by Graph API <version>``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from etl.sources.readers import jakarta_day, to_utc


def graph_time(value: Any, field_name: str) -> datetime:
    """Graph API timestamps (``2026-11-20T03:04:05+0000``) as naive UTC."""
    if isinstance(value, str) and len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    return to_utc(value, field_name)


def graph_day(value: Any, field_name: str) -> date:
    return jakarta_day(graph_time(value, field_name).isoformat() + "Z", field_name)


def dropped_fields(line: dict[str, Any]) -> dict[str, str]:
    """Fields dropped from this call because the Graph API version no longer serves them, each with its reason."""
    version = line.get("graph_version") or "?"
    return {str(f): f"not served by Graph API {version}" for f in line.get("dropped_fields") or []}
