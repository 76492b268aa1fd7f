"""agency_indicators: daily per-agency indicators, after social_metrics publishes a day (or at 03:00).

Idempotent for any date: the day's rows are deleted and recomputed in one
transaction, so backfills and reruns give the same table.  Asset-triggered
runs compute every day named by the triggering events.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronDataIntervalTimetable, dag, get_current_context, task

from etl.assets import table_uri
from etl.operations import DAGRUN_TIMEOUTS, default_args

FACT_ACCOUNT_DAILY = Asset(table_uri("fact_account_daily"))
FACT_POST_METRICS_DAILY = Asset(table_uri("fact_post_metrics_daily"))
AGENCY_DAILY_INDICATORS = Asset(table_uri("agency_daily_indicators"))


@dag(
    dag_id="agency_indicators",
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 3 * * *", timezone="Asia/Jakarta"),
        assets=(FACT_ACCOUNT_DAILY & FACT_POST_METRICS_DAILY),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    dagrun_timeout=DAGRUN_TIMEOUTS["agency_indicators"],
    tags=["pantau", "indicators"],
    doc_md=__doc__,
)
def agency_indicators() -> None:
    @task(
        outlets=[AGENCY_DAILY_INDICATORS],
        doc_md="Recomputes every model in sql/indicators for the day(s) in one transaction; safe to clear and rerun "
        "for any date (backfills: `airflow backfill create --dag-id agency_indicators --from-date ... --to-date ...`).",
    )
    def compute(triggering_asset_events: Any = None) -> dict[str, int]:
        from etl.pipeline import compute_indicators
        from etl.runtime import RunContext

        run = RunContext.from_airflow(get_current_context())
        days = sorted(
            {
                event.extra["day"]
                for events in (triggering_asset_events or {}).values()
                for event in events
                if "day" in (event.extra or {})
            }
        )
        if not days:
            return {run.data_date.isoformat(): compute_indicators(run)}
        return {day: compute_indicators(run.on_day(pendulum.Date.fromisoformat(day))) for day in days}

    compute()


agency_indicators()
