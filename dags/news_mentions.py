"""news_mentions: news feeds and GDELT DOC 2.0, four times a day, matched to agencies and scored for sentiment.

extract (feeds with conditional GET, GDELT queries paced one per 5 s; every
response landed raw) -> transform_validate (canonical URL and article id,
de-duplication, near-duplicate clustering, agency matching, sentiment, feed
health, Great Expectations suites with quarantine) -> load (outlets,
articles, mentions and feed health merged in one transaction) -> publish
(one Asset event per news table).  A broken feed is recorded in
etl_news_feed_health and never stops the others; a feed that fails
PANTAU_NEWS_FEED_MAX_FAILURES times in a row is disabled with its reason.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task

from etl.assets import NEWS_TABLES, table_uri
from etl.operations import DAGRUN_TIMEOUTS, default_args

TABLE_ASSETS = [Asset(table_uri(table)) for table in NEWS_TABLES]


def _run() -> Any:
    from etl.runtime import RunContext

    return RunContext.from_airflow(get_current_context())


@dag(
    dag_id="news_mentions",
    schedule=CronDataIntervalTimetable("30 0,6,12,18 * * *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    dagrun_timeout=DAGRUN_TIMEOUTS["news_mentions"],
    tags=["pantau", "news"],
    doc_md=__doc__,
)
def news_mentions() -> None:
    @task(doc_md="Fetches every enabled feed (conditional GET) and the GDELT queries; every response lands raw. "
          "A broken feed is recorded in etl_news_feed_health and does not fail the task.")
    def extract() -> dict[str, Any]:
        from etl.news.pipeline import extract_news

        return extract_news(_run())

    @task
    def transform_validate(extracted: dict[str, Any]) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl.errors import DeterministicError
        from etl.news.pipeline import transform_news

        try:
            return transform_news(extracted, _run())
        except DeterministicError as exc:  # bad data fails the same way on every try: no retries
            raise AirflowFailException(str(exc)) from exc

    @task(doc_md="Merges outlets, articles, mentions and feed health in one transaction; a failed load rolls back whole, "
          "so clearing it repeats the merge.")
    def load(validated: dict[str, Any]) -> dict[str, int]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl.errors import DeterministicError
        from etl.news.pipeline import load_news

        try:
            return load_news(validated, _run())
        except DeterministicError as exc:  # bad data fails the same way on every try: no retries
            raise AirflowFailException(str(exc)) from exc

    @task(outlets=TABLE_ASSETS)
    def publish(loaded: dict[str, int], outlet_events: Any = None) -> dict[str, int]:
        run = _run()
        for asset in TABLE_ASSETS:
            outlet_events[asset].extra = {"day": run.data_date.isoformat(), **loaded}
        return loaded

    publish(load(transform_validate(extract())))


news_mentions()
