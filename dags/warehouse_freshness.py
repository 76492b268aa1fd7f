"""warehouse_freshness: each morning, check that the night's tables hold the previous day.

At PANTAU_FRESHNESS_HOUR (default 07:00 Asia/Jakarta) the check counts the
day's rows in fact_account_daily, fact_post_metrics_daily and
agency_daily_indicators; a table without any fails the task and its failure
alert names the empty tables.  It does not retry: a later try would only
hide how late the data is.  Rerun it (clear) once the night has caught up.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task

from etl.operations import DAGRUN_TIMEOUTS, default_args, freshness_hour


@dag(
    dag_id="warehouse_freshness",
    schedule=CronDataIntervalTimetable(f"0 {freshness_hour()} * * *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    dagrun_timeout=DAGRUN_TIMEOUTS["warehouse_freshness"],
    tags=["pantau", "operations"],
    doc_md=__doc__,
)
def warehouse_freshness() -> None:
    @task(retries=0, doc_md="Fails, and alerts, when a nightly table has no row for the day; its message lists every table's count.")
    def check() -> dict[str, int]:
        from etl.freshness import check_freshness
        from etl.runtime import RunContext

        return check_freshness(RunContext.from_airflow(get_current_context()))

    check()


warehouse_freshness()
