"""What a task knows about the run it is part of, and the audit trail it leaves in ``etl_run``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import structlog

log = structlog.get_logger(__name__)
JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class RunContext:
    """One data interval of one DAG run: the snapshot day and the moment counters are read."""

    run_id: str
    dag_id: str
    data_date: date  # the Jakarta calendar day this run measures
    as_of: datetime  # aware; when the platform counters are read (end of the data interval)

    @classmethod
    def for_day(cls, day: date, *, run_id: str, dag_id: str) -> RunContext:
        """The nightly run for ``day``: counters read at 01:00 Jakarta time the next morning."""
        as_of = datetime.combine(day + timedelta(days=1), datetime.min.time(), JAKARTA) + timedelta(hours=1)
        return cls(run_id=run_id, dag_id=dag_id, data_date=day, as_of=as_of)

    @classmethod
    def from_airflow(cls, context: Mapping[str, Any]) -> RunContext:
        """From an Airflow task context: the data interval's start gives the day, its end the read time."""
        start = context.get("data_interval_start") or context.get("logical_date")
        end = context.get("data_interval_end") or start
        dag_run = context["dag_run"]
        if start is None:  # asset-triggered runs have no interval: measure the day that just ended
            end = datetime.now(UTC)
            start = end - timedelta(days=1)
        # Plain datetimes: pendulum's arithmetic drops a ZoneInfo time zone.
        start = datetime.fromtimestamp(start.timestamp(), tz=JAKARTA)
        end = datetime.fromtimestamp(end.timestamp(), tz=JAKARTA)
        return cls(run_id=dag_run.run_id, dag_id=dag_run.dag_id, data_date=start.date(), as_of=end)

    def on_day(self, day: date) -> RunContext:
        """The same run, measuring another day (asset-triggered runs that cover several days)."""
        return RunContext.for_day(day, run_id=self.run_id, dag_id=self.dag_id)

    def log_extra(self, **more: Any) -> dict[str, Any]:
        return {"run_id": self.run_id, "dag_id": self.dag_id, "data_date": self.data_date.isoformat(), **more}


@dataclass
class TaskAudit:
    """Counters a task fills in; written to ``etl_run`` whether the task succeeds or fails."""

    task_id: str
    map_index: int = -1
    source: str | None = None
    shard: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    status: str = "success"
    message: str | None = None


AUDIT_COUNTS = ("rows_extracted", "rows_valid", "rows_quarantined", "rows_loaded", "api_calls", "api_retries")


def _audit_record(run: RunContext, audit: TaskAudit, started: datetime, seconds: float | None) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "dag_id": run.dag_id,
        "task_id": audit.task_id,
        "map_index": audit.map_index,
        "source": audit.source,
        "shard": audit.shard,
        "data_date": run.data_date,
        "started_at": started,
        "finished_at": None if seconds is None else datetime.now(UTC).replace(tzinfo=None),
        "status": audit.status if seconds is not None else "running",
        **{name: audit.counts.get(name) for name in AUDIT_COUNTS},
        "seconds": seconds,
        "message": audit.message,
    }


#: A try that was killed (SIGKILL, lost worker) never writes its end: the next try of the task finds it "running".
INTERRUPTED = "interrupted: the task was killed before it finished; found by the next try ({run_id})"


def _start(warehouse: Any, run: RunContext, audit: TaskAudit, started: datetime) -> None:
    """Mark earlier tries of this task for this day still "running" as failed, then record this try as running."""
    import sqlalchemy as sa  # noqa: PLC0415 - runtime stays importable without the warehouse stack

    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "UPDATE etl_run SET status = 'failed', finished_at = :now, message = :message "
                "WHERE status = 'running' AND dag_id = :dag_id AND task_id = :task_id AND map_index = :map_index "
                "AND data_date = :day"
            ),
            {"now": started, "message": INTERRUPTED.format(run_id=run.run_id), "dag_id": run.dag_id, "task_id": audit.task_id,
             "map_index": audit.map_index, "day": run.data_date},
        )
        warehouse.merge(conn, "etl_run", pd.DataFrame([_audit_record(run, audit, started, None)]), "etl_run")


@contextmanager
def audited(warehouse: Any, run: RunContext, audit: TaskAudit) -> Iterator[TaskAudit]:
    """Run a block and record it in ``etl_run``: running when it starts, then success, partial (some accounts
    failed) or failed with the error. A try killed before its end stays "running" until the next try of the
    same task and day marks it failed (:data:`INTERRUPTED`)."""
    started = datetime.now(UTC).replace(tzinfo=None)
    clock = time.perf_counter()
    try:
        _start(warehouse, run, audit, started)
    except Exception:  # noqa: BLE001 - the audit must never stop the task
        log.exception("could not record the task start in etl_run", **run.log_extra(task=audit.task_id))
    try:
        yield audit
    except BaseException as exc:
        audit.status = "failed"
        audit.message = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        record = _audit_record(run, audit, started, round(time.perf_counter() - clock, 3))
        try:
            with warehouse.transaction() as conn:
                warehouse.merge(conn, "etl_run", pd.DataFrame([record]), "etl_run")
        except Exception:  # noqa: BLE001 - the audit must never hide the task's own error
            log.exception("could not record the task in etl_run", **run.log_extra(task=audit.task_id))
