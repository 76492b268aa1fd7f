"""``make demo``: seven nightly runs of the real DAGs against the sandbox, into data/warehouse.duckdb.

Prints rows per table, rows quarantined, API calls made, the top five
agencies by engagement in each category, and a fingerprint of the data
tables: run the demo twice and the fingerprint is the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import warnings
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path

from etl.settings import PROJECT_ROOT

DEMO_DAYS = 7
#: Accounts per shard in the demo, unless PANTAU_SHARD_SIZE is set: every platform of the sandbox registry (YouTube's
#: 1,032 accounts the most) is one shard. Shards exist to run in parallel; under dag.test tasks run one at a time, so
#: the default 250 only added tasks (9 shards of three tasks a night instead of 5), each with Airflow's, Great
#: Expectations' and the warehouse's fixed costs: warm nights took 29-30 s instead of 35-39 s, for a peak RSS of
#: 1.15-1.22 GB instead of 0.78-0.80 GB (three-night runs, issue 11).
DEMO_SHARD_SIZE = 2000
#: The sandbox works out its YouTube channels' videos of this many days ahead, while the first night's other tasks
#: run (see YouTubeUniverse.warm): the 7 nights, the 30-day re-pull and the last uploads page's older videos.
SANDBOX_WARM_DAYS = 75
#: Warnings libraries raise about their own dependencies, not about Pantau or the user's setup: a new user's first line
#: should be Pantau's. Each is matched at the start of its message.
KNOWN_THIRD_PARTY_WARNINGS = (
    "Using `httpx` with `starlette.testclient` is deprecated",  # fastapi.testclient, imported by Airflow's in-process API
)
#: Rows digested at once by :func:`fingerprint`.
FINGERPRINT_BATCH = 50_000
#: Every table a rerun must leave unchanged (etl_run and the feed health ledger record each run: they grow and move).
DATA_TABLES = [
    "dim_agency", "dim_agency_alias", "dim_account", "campaign", "campaign_term", "dim_post", "fact_account_daily",
    "fact_post_metrics_daily", "fact_post_daily_increase", "etl_account_coverage", "agency_daily_indicators",
    "campaign_post", "agency_campaign_daily", "agency_campaign_standings", "etl_quarantine",
    "dim_outlet", "fact_news_article", "fact_news_mention",
]
TOP_ENGAGEMENT_SQL = """
SELECT a.category, a.name, SUM(i.engagement) AS engagement, SUM(i.posts_published) AS posts
FROM agency_daily_indicators i JOIN dim_agency a ON a.agency_code = i.agency_code
WHERE i.platform = 'all' AND i.indicator_date BETWEEN :first AND :last
GROUP BY a.category, a.name
HAVING SUM(i.engagement) IS NOT NULL
ORDER BY a.category, engagement DESC, a.name
"""


EXPORT_AGENCY_SQL = """
SELECT l.agency_name, SUM(l.engagement), MAX(CASE WHEN l.indicator_date = :last THEN l.followers END), MIN(l.coverage),
       MIN(l.data_source)
FROM report_daily_leaderboard l
WHERE l.agency_code = :code AND l.indicator_date BETWEEN :first AND :last
GROUP BY l.agency_name
"""


def fingerprint(warehouse, tables: list[str]) -> str:
    """A digest of the tables' contents, in primary-key order, fetched in batches (no table is held in memory)."""
    digest = hashlib.sha256()
    # The DB-API cursor's batches of plain tuples: SQLAlchemy's row objects and fetch per row were half its time.
    connection = warehouse.engine.raw_connection()
    try:
        # PostgreSQL: a server-side cursor, or the client would receive each whole table at once.
        cursor = connection.cursor(name="pantau_fingerprint") if warehouse.dialect == "postgresql" else connection.cursor()
        for table in tables:
            cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
            columns = [c[0] for c in cursor.description]
            cursor.execute(f"SELECT * FROM {table} ORDER BY {', '.join(columns)}")
            digest.update(table.encode())
            while batch := cursor.fetchmany(FINGERPRINT_BATCH):
                digest.update("".join(map(repr, batch)).encode())
        cursor.close()
    finally:
        connection.close()
    return digest.hexdigest()[:16]


def quiet_known_warnings() -> None:
    """Silence KNOWN_THIRD_PARTY_WARNINGS in this process (the processes Airflow starts get PYTHONWARNINGS from configure_airflow)."""
    for message in KNOWN_THIRD_PARTY_WARNINGS:
        warnings.filterwarnings("ignore", message=re.escape(message))


def use_demo_shards(environ: MutableMapping[str, str]) -> None:
    """One shard per platform for the demo (DEMO_SHARD_SIZE); a PANTAU_SHARD_SIZE the user set wins."""
    environ.setdefault("PANTAU_SHARD_SIZE", str(DEMO_SHARD_SIZE))


def main() -> int:
    started = time.perf_counter()
    quiet_known_warnings()
    from etl.harness import (  # noqa: PLC0415
        DagRunner,
        configure_airflow,
        latest_measured_day,
        nightly_days,
        point_sources_at,
        prepare_airflow_db,
        sandbox,
    )

    accounts = PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv"
    os.environ.setdefault("PANTAU_DATA_DIR", str(PROJECT_ROOT / "data"))
    use_demo_shards(os.environ)
    # One agency has no API access: its operator drops analytics exports (sandbox-generated) before each night.
    from etl.sandbox.exports import ExportOnlyAgency  # noqa: PLC0415

    data_dir = Path(os.environ["PANTAU_DATA_DIR"])
    exports = ExportOnlyAgency.prepare(accounts, data_dir / "sandbox-registry", data_dir / "dropbox")
    os.environ["PANTAU_ACCOUNTS_FILE"] = str(exports.accounts_file)
    os.environ["PANTAU_DROPBOX_DIR"] = str(exports.dropbox)
    os.environ.pop("WAREHOUSE_URL", None)
    days = nightly_days(latest_measured_day(datetime.now(UTC)), DEMO_DAYS)
    print(f"Pantau demo: {DEMO_DAYS} nightly runs, {days[0]} .. {days[-1]}, against the sandbox APIs", flush=True)
    configure_airflow(PROJECT_ROOT / ".airflow")
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    prepare_airflow_db()

    from etl.pipeline import WAREHOUSE_TABLES, open_warehouse  # noqa: PLC0415

    failures = []
    # The tasks run in this process: this connection keeps one DuckDB database loaded for all of them (each task
    # still opens and closes its own connections). Without it each of a night's ~30 tasks loaded the file and,
    # closing it, folded the write-ahead log into it: ~5% of the demo (issue 11). It is folded in once, at the end.
    warehouse = open_warehouse()
    try:
        with sandbox(accounts, warm_days=SANDBOX_WARM_DAYS) as api:
            point_sources_at(api)
            print(f"  sandbox listening on {api.base_url}", flush=True)
            runner = DagRunner()
            for day in days:
                t0 = time.perf_counter()
                exports.drop(day)
                states = runner.night(day, api)
                failures += [f"{dag_id} {day}" for dag_id, state in states.items() if state != "success"]
                print(f"  {day}: " + ", ".join(f"{k} {v}" for k, v in states.items()) + f" ({time.perf_counter() - t0:.1f}s)", flush=True)
            calls = api.stats()["requests"]

        counts = warehouse.table_counts(WAREHOUSE_TABLES)
        print("\nRows per table (data/warehouse.duckdb):")
        for table, n in counts.items():
            print(f"  {table:<26} {n:>9,}")
        quarantined = counts["etl_quarantine"]
        print(f"\nRows quarantined: {quarantined:,}")
        print("API calls made: " + ", ".join(f"{k} {v:,}" for k, v in sorted(calls.items())) + f" (total {sum(calls.values()):,})")
        from etl.platforms.usage import api_calls_vs_minimum  # noqa: PLC0415

        totals: dict[str, list[int]] = {}
        for row in api_calls_vs_minimum(warehouse, days[0], days[-1]):
            made_min = totals.setdefault(row["platform"], [0, 0])
            made_min[0] += int(row["calls_made"])
            made_min[1] += int(row["minimum_calls"])
        print("API calls per platform over the nights, made (retries included) vs the fewest the batch sizes allow:")
        for platform, (made, least) in sorted(totals.items()):
            print(f"  {platform:<10} {made:>7,} made, {least:>7,} minimum ({made / least if least else 0:.2f}x)")
        rows = warehouse.query(TOP_ENGAGEMENT_SQL, {"first": days[0], "last": days[-1]})
        print(f"\nTop 5 agencies by engagement, {days[0]} .. {days[-1]} (sandbox data):")
        for category in ("kementerian", "lembaga", "provinsi", "kabkota"):
            print(f"  {category}")
            for rank, row in enumerate([r for r in rows if r[0] == category][:5], start=1):
                print(f"    {rank}. {row[1]:<60} {int(row[2]):>10,} engagement, {int(row[3])} posts")
        [(name, engagement, followers, coverage, source)] = warehouse.query(EXPORT_AGENCY_SQL, {"code": exports.agency_code, "first": days[0], "last": days[-1]})
        print(f"\nMeasured only from dropped exports (sandbox-generated YouTube Studio and TikTok Studio files): {name}: "
              f"{int(engagement or 0):,} engagement, {int(followers or 0):,} followers on {days[-1]}, "
              f"lowest coverage {float(coverage or 0):.0%}, numbers from: {source}")
        print(f"\nWarehouse fingerprint (same on every rerun): {fingerprint(warehouse, DATA_TABLES)}")
        from etl.report import write_report  # noqa: PLC0415

        report_started = time.perf_counter()
        page = write_report(warehouse, days[-1], PROJECT_ROOT / "reports")
        print(f"Report for {days[-1]}: {page.relative_to(PROJECT_ROOT)} (built in {time.perf_counter() - report_started:.1f}s)")
    finally:
        warehouse.dispose()
    print(f"Done in {time.perf_counter() - started:.0f}s. Query it: duckdb {Path('data/warehouse.duckdb')}")
    if failures:
        print("Runs that failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from etl.harness import exit_quietly

    exit_quietly(main())
