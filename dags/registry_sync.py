"""registry_sync: load the registry files (agencies, aliases, accounts, campaigns) into the dimension tables.

Runs before the nightly collection; the load is idempotent, so running it on
every change of the files, or twice, leaves the same dimensions.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task

from etl.assets import OWNER, table_uri


@dag(
    dag_id="registry_sync",
    schedule=CronDataIntervalTimetable("30 0 * * *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": OWNER, "retries": 2},
    tags=["pantau", "registry"],
    doc_md=__doc__,
)
def registry_sync() -> None:
    @task(outlets=[Asset(table_uri("dim_agency")), Asset(table_uri("dim_account"))])
    def sync() -> dict[str, int]:
        from etl.pipeline import sync_registry
        from etl.runtime import RunContext

        return sync_registry(RunContext.from_airflow(get_current_context()))

    sync()


registry_sync()
