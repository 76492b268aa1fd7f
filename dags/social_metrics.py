"""social_metrics: nightly public metrics of every registered account, one mapped task group per platform shard.

The first task, ``import_exports``, takes the platform analytics exports
dropped in PANTAU_DROPBOX_DIR since the last run (each file once, by its
content hash) and loads them like API rows; a file it cannot read fails that
task only (without retries), after the others are loaded, and the run at the end.

extract (API calls, raw landing) -> parse_validate (canonical frames, Great
Expectations, quarantine) -> load (staging + merge, one transaction).  An
account that fails is recorded in etl_account_coverage and does not fail its
shard. A platform that refuses our credentials stops at the first refusal
(its other shards see the block in etl_rate_limit and make no call), its
accounts are recorded token_expired, and its load tasks fail without retries
naming the connection; the other platforms load as usual.  The
final ``publish`` task emits one event per warehouse table for the day.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, TriggerRule, dag, get_current_context, task, task_group

from etl.assets import SOCIAL_TABLES, table_uri
from etl.operations import DAGRUN_TIMEOUTS, EXTRACT_TIMEOUT, default_args
from etl.platforms import PLATFORMS

TABLE_ASSETS = [Asset(table_uri(table)) for table in SOCIAL_TABLES]


def _run() -> Any:
    from etl.runtime import RunContext

    return RunContext.from_airflow(get_current_context())


@dag(
    dag_id="social_metrics",
    schedule=CronDataIntervalTimetable("0 1 * * *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    dagrun_timeout=DAGRUN_TIMEOUTS["social_metrics"],
    tags=["pantau", "social"],
    doc_md=__doc__,
)
def social_metrics() -> None:
    @task
    def plan(platform: str) -> list[dict[str, Any]]:
        from etl.pipeline import plan_shards

        return plan_shards(platform, _run())

    @task
    def import_exports() -> dict[str, int]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl.dropbox import import_dropbox

        results = import_dropbox(_run())
        failed = [r.summary() for r in results if r.failed]
        if failed:
            # An unreadable file stays unreadable: no retry; the API collection goes on regardless.
            raise AirflowFailException(f"{len(failed)} of {len(results)} export files need fixing "
                                       f"(the others are loaded): {'; '.join(failed)}"[:2000])
        return {status: sum(r.status == status for r in results) for status in ("loaded", "duplicate", "quarantined")}

    imported = import_exports()
    loaded = []
    for platform in PLATFORMS.values():

        @task_group(group_id=f"collect_{platform.name}")
        def collect(shard: dict[str, Any], pool: str = platform.pool) -> Any:
            @task(
                pool=pool,
                execution_timeout=EXTRACT_TIMEOUT,
                doc_md="Calls the platform for one shard of accounts and lands every response raw (landing/ in the "
                "storage). Accounts that fail are recorded, not raised; a refused token stops the platform's shards. "
                "Clear it to call the API again for this shard (the night's budget is shared with the other shards).",
            )
            def extract(shard: dict[str, Any]) -> dict[str, Any]:
                from etl.pipeline import extract_shard

                return extract_shard(shard["platform"], shard["shard"], shard["shards"], _run())

            @task(doc_md="Parses the shard's landing file, validates each frame with its Great Expectations suite, "
                  "quarantines bad rows (etl_quarantine) and writes the valid frames as Parquet to staging/. "
                  "Clearing it re-parses the landed answers without calling the API.")
            def parse_validate(extracted: dict[str, Any]) -> dict[str, Any]:
                from airflow.sdk.exceptions import AirflowFailException

                from etl.errors import DeterministicError
                from etl.pipeline import parse_validate_shard

                try:
                    return parse_validate_shard(extracted, _run())
                except DeterministicError as exc:
                    # The same landing fails the same way: fail now, naming the row, without retries.
                    raise AirflowFailException(str(exc)) from exc

            @task(doc_md="Merges the shard's staged frames and its coverage ledger in one transaction. Fails without "
                  "retries when the platform refused our credentials (the message names the connection).")
            def load(validated: dict[str, Any]) -> dict[str, int]:
                from airflow.sdk.exceptions import AirflowFailException

                from etl.errors import DeterministicError
                from etl.http import CredentialsRejected
                from etl.pipeline import load_shard

                try:
                    return load_shard(validated, _run())
                except (CredentialsRejected, DeterministicError) as exc:
                    # The ledger and what was read are loaded; retrying cannot renew a token or change the data:
                    # fail now, without retries.
                    raise AirflowFailException(str(exc)) from exc

            return load(parse_validate(extract(shard)))

        # After the dropped exports, whatever became of them: a bad export file must not stop the API collection.
        shards = plan.override(task_id=f"plan_{platform.name}", trigger_rule=TriggerRule.ALL_DONE)(platform.name)
        imported >> shards
        loaded.append((shards, collect.expand(shard=shards)))

    # No retries: it counts failed shards, and a retry cannot change the count.
    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=TABLE_ASSETS, retries=0)
    def publish(planned: list[Any], results: list[Any], outlet_events: Any = None, ti: Any = None, dag_run: Any = None) -> dict[str, int]:
        """Announce the day's tables, and fail the run (after the good shards loaded) if any shard failed."""
        run = _run()
        expected = sum(len(list(p or [])) for p in planned)
        # Task states, not XCom counts: a rerun of the same interval must not see the previous run's results.
        failed = ti.get_ti_count(
            dag_id=ti.dag_id,
            task_ids=[f"collect_{platform}.load" for platform in PLATFORMS],
            run_ids=[dag_run.run_id],
            states=["failed", "upstream_failed"],
        )
        exports_failed = ti.get_ti_count(dag_id=ti.dag_id, task_ids=["import_exports"], run_ids=[dag_run.run_id], states=["failed"])
        for asset in TABLE_ASSETS:
            outlet_events[asset].extra = {"day": run.data_date.isoformat(), "shards_loaded": expected - failed, "shards_planned": expected}
        if exports_failed and not failed:
            raise RuntimeError(f"import_exports failed for {run.data_date}: some dropped export files need fixing (see its log and "
                               "etl_export_file); every shard loaded")
        if failed:
            raise RuntimeError(
                f"{failed} of {expected} shards failed to load for {run.data_date}; "
                "the others are loaded, see etl_run for the failed ones"
            )
        return {"shards": expected - failed}

    publish([p for p, _ in loaded], [r for _, r in loaded])


social_metrics()
