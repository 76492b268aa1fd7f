"""Is the night's data there? The morning check behind the ``warehouse_freshness`` DAG.

By PANTAU_FRESHNESS_HOUR (Jakarta time) the tables analysts read each morning
must hold the previous day; a table without a row for it fails the check, and
the failure alert (etl/alerts.py) names the tables, so a silent night — a
paused DAG, a scheduler that was down, a run still stuck — is noticed before
the report goes out.
"""

from __future__ import annotations

import structlog

from etl.runtime import RunContext
from etl.settings import Settings, load_settings
from etl.warehouse import sql_file

log = structlog.get_logger(__name__)


class StaleTables(RuntimeError):
    """The night's tables do not hold the day yet."""


def check_freshness(run: RunContext, settings: Settings | None = None) -> dict[str, int]:
    """Rows of ``run.data_date`` per checked table; raises :class:`StaleTables` naming every empty one."""
    from etl.pipeline import open_warehouse  # noqa: PLC0415

    warehouse = open_warehouse(settings or load_settings())
    try:
        counts = {table: int(rows) for table, rows in warehouse.query(sql_file("checks/freshness"), {"day": run.data_date})}
    finally:
        warehouse.dispose()
    stale = [table for table, rows in counts.items() if rows == 0]
    if stale:
        raise StaleTables(f"warehouse not fresh for {run.data_date}: no rows in {', '.join(stale)} "
                          f"(rows: {', '.join(f'{t}={n}' for t, n in counts.items())})")
    log.info("warehouse fresh", **run.log_extra(**counts))
    return counts
