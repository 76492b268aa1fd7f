"""What every DAG gets from operations: an owner, retries, time limits and a failure alert.

Read by the DAG files at parse time, so it imports nothing heavy: the alert
callback imports its machinery only when a task has failed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from etl.assets import OWNER

#: Longest a task may run before Airflow fails it (a hung HTTP read or a lock wait must not hold a slot all night).
TASK_TIMEOUT = timedelta(minutes=30)
#: An extract walks a shard's accounts against the platform's rate limits, waiting up to 300 s for a window.
EXTRACT_TIMEOUT = timedelta(hours=2)
#: Longest a run of each DAG may take before Airflow fails it; each is well inside the DAG's schedule interval.
DAGRUN_TIMEOUTS = {
    "registry_sync": timedelta(minutes=30),
    "social_metrics": timedelta(hours=6),
    "news_mentions": timedelta(hours=3),
    "agency_indicators": timedelta(hours=2),
    "warehouse_freshness": timedelta(minutes=30),
}
#: Hour (Asia/Jakarta) by which the night's tables must hold the previous day; PANTAU_FRESHNESS_HOUR overrides.
DEFAULT_FRESHNESS_HOUR = 7


def on_task_failure(context: Any) -> None:
    """Airflow ``on_failure_callback``: send the failure to the configured channels (see :mod:`etl.alerts`)."""
    from etl.alerts import alert_failure  # noqa: PLC0415 - only when something failed

    alert_failure(context)


def default_args(retries: int = 2) -> dict[str, Any]:
    """The ``default_args`` of every Pantau DAG."""
    return {
        "owner": OWNER,
        "retries": retries,
        "execution_timeout": TASK_TIMEOUT,
        "on_failure_callback": on_task_failure,
    }


def freshness_hour() -> int:
    """The hour of the freshness check (0-23), from PANTAU_FRESHNESS_HOUR."""
    value = os.environ.get("PANTAU_FRESHNESS_HOUR") or str(DEFAULT_FRESHNESS_HOUR)
    if not value.isdigit() or not 0 <= int(value) <= 23:
        raise ValueError(f"setting PANTAU_FRESHNESS_HOUR must be an hour 0-23, got {value!r}")
    return int(value)
