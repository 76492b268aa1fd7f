"""registry_sync: load the registry files (agencies, aliases, accounts, campaigns) into the dimension tables.

Runs before the nightly collection; the load is idempotent, so running it on
every change of the files, or twice, leaves the same dimensions.  A broken
registry file fails the task at once, without retries, naming the file, line
and field: a retry reads the same file.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task

from etl.assets import table_uri
from etl.operations import DAGRUN_TIMEOUTS, default_args


@dag(
    dag_id="registry_sync",
    schedule=CronDataIntervalTimetable("30 0 * * *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    dagrun_timeout=DAGRUN_TIMEOUTS["registry_sync"],
    tags=["pantau", "registry"],
    doc_md=__doc__,
)
def registry_sync() -> None:
    @task(
        outlets=[Asset(table_uri("dim_agency")), Asset(table_uri("dim_account"))],
        doc_md="Reads registry/ (agencies, aliases, accounts, campaigns) and merges the dimensions in one transaction. "
        "Fails at once on a registry error (file, line and field in the message): fix the file, then clear this task.",
    )
    def sync() -> dict[str, int]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl.errors import DeterministicError
        from etl.pipeline import sync_registry
        from etl.runtime import RunContext

        try:
            return sync_registry(RunContext.from_airflow(get_current_context()))
        except DeterministicError as exc:
            # A registry (or warehouse URL) error: the same file fails the same way on every try.
            raise AirflowFailException(str(exc)) from exc

    sync()


registry_sync()
