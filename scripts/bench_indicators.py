"""Benchmark: the day's indicator models with a history of snapshots present (issue 11, target 5).

A warehouse is filled, set-based (INSERT .. SELECT from generate_series, sql/bench/), with ``--history-days`` nights
of the national shape: ``--snapshots`` post snapshots a night, i.e. ``--snapshots / 30`` posts published a day and
each re-pulled on the 30 days from its publication (a year holds ~12x the posts of one night's window), the accounts'
daily counters and coverage, ``--articles`` news articles a day, and what the indicator models left for every night
before the last (per-post increases, agency rows, campaign posts and days). Then the last night is computed the way
``etl.pipeline.compute_indicators`` does it, in one transaction: statistics, then each model of
``INDICATOR_MODELS``, each timed alone (wall seconds; CPU seconds of this process and, on PostgreSQL, of the server
backend that ran it) against the target (10 s on DuckDB, 20 s on PostgreSQL).

    .venv/bin/python scripts/bench_indicators.py --history-days 365 [--accounts 10000 --snapshots 1000000]
    .venv/bin/python scripts/bench_indicators.py --history-days 365 --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

``--keep NAME`` keeps the filled warehouse (DuckDB: the file NAME; PostgreSQL: the database NAME) and fills it only
when it does not exist yet; the day's computation is then rolled back, so that runs of other versions of the models
(e.g. before and after a change, each from its own checkout) time the same rows. A checkout with newer migrations
applies them to the kept warehouse first (016 rebuilds a table): time the older checkout first, or keep a copy each. ``--stale-statistics`` leaves the tables as a first night finds them on PostgreSQL (never analyzed before the load);
``--tablespace NAME`` (PostgreSQL) creates the database in that tablespace, e.g. one on a compressed filesystem when
the year does not fit the disk uncompressed; ``--explain DIR`` also writes each model's EXPLAIN ANALYZE (PostgreSQL) to DIR (timed models are not explained).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.bench import drop_postgres_database, fresh_postgres_database
from etl.pipeline import INDICATOR_MODELS, STATISTICS_AFTER, indicator_params, prepare_indicator_session
from etl.settings import load_settings
from etl.warehouse import Warehouse, split_statements, sql_file

DAY = date(2026, 11, 20)
TARGET_SECONDS = {"duckdb": 10.0, "postgresql": 20.0}
REPULL_DAYS = 30  # sql/bench/indicator_history_day.sql re-pulls each post on the 30 days from its publication
HISTORY_TABLES = ["dim_post", "fact_post_metrics_daily", "fact_account_daily", "etl_account_coverage",
                  "fact_news_article", "fact_news_mention", "fact_post_daily_increase", "campaign_post",
                  "agency_campaign_daily", "agency_daily_indicators"]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Clock:
    """Wall seconds, this process's CPU seconds and (PostgreSQL) the server backend's CPU seconds of a block."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.backend = None
        if dialect == "postgresql":
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            if Path(f"/proc/{pid}/stat").exists():  # the server runs on this machine
                self.backend = pid

    def _backend_cpu(self) -> float:
        if self.backend is None:
            return 0.0
        fields = Path(f"/proc/{self.backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    @contextmanager
    def measure(self, into: dict[str, tuple[float, float, float]], name: str) -> Iterator[None]:
        wall, cpu, backend = time.perf_counter(), time.process_time(), self._backend_cpu()
        yield
        into[name] = (time.perf_counter() - wall, time.process_time() - cpu, self._backend_cpu() - backend)


def fill_history(warehouse: Warehouse, args: argparse.Namespace) -> None:
    first_day = DAY - timedelta(days=args.history_days - 1)
    per_day = args.snapshots // REPULL_DAYS
    agencies = math.ceil(args.accounts / 16)
    common = {"day": DAY, "first_day": first_day, "days": args.history_days, "per_day": per_day,
              "accounts": args.accounts, "agencies": agencies, "articles": args.articles}
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        warehouse.run_file(conn, "bench/indicator_history_accounts", common)
    for night in range(args.history_days):
        if night == args.history_days - 1:
            analyze_history(warehouse, args)
        offsets = {"from_offset": -(REPULL_DAYS - 1) if night == 0 else night, "to_offset": night}
        with warehouse.transaction() as conn:  # one night, one transaction, as the loader's
            warehouse.run_file(conn, "bench/indicator_history_day", {**common, **offsets, "on": first_day + timedelta(days=night)})
        if night % 30 == 29:
            print(f"  filled {night + 1} nights in {time.perf_counter() - started:.0f}s; load average {load_average()}", flush=True)
    counts = warehouse.table_counts(HISTORY_TABLES)
    print(f"  history: {args.history_days} nights ({first_day} .. {DAY}) in {time.perf_counter() - started:.0f}s: "
          + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)
    print(f"  stored: {stored(warehouse)}", flush=True)


def stored(warehouse: Warehouse) -> str:
    """How large the warehouse is and, on PostgreSQL, in which tablespace (before any filesystem compression)."""
    if warehouse.dialect == "postgresql":
        [(size, tablespace)] = warehouse.query(
            "SELECT pg_database_size(current_database()), t.spcname FROM pg_database d "
            "JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = current_database()")
        return f"{size / 2**30:.1f} GiB in tablespace {tablespace}"
    return f"{Path(warehouse.engine.url.database).stat().st_size / 2**30:.1f} GiB"


def analyze_history(warehouse: Warehouse, args: argparse.Namespace) -> None:
    """The nights before the last one as autovacuum leaves them: analyzed (unless a first night is wanted)."""
    if warehouse.dialect == "postgresql" and not args.stale_statistics:
        with warehouse.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in HISTORY_TABLES + ["dim_account", "dim_agency", "campaign", "campaign_term"]:
                conn.execute(sa.text(f"VACUUM ANALYZE {table}"))


#: The timed day's rows of each table the models write, by the column that holds the day.
OUTPUTS = {"fact_post_daily_increase": "snapshot_date", "agency_daily_indicators": "indicator_date",
           "campaign_post": "published_on", "agency_campaign_daily": "indicator_date",
           "agency_campaign_standings": "as_of_date"}


def day_digest(conn: Connection) -> str:
    """A digest of the timed day's model output (same engine, same size: equal digests, equal results)."""
    digest = hashlib.sha256()
    for table, column in OUTPUTS.items():
        columns = [c[0] for c in conn.execute(sa.text(f"SELECT * FROM {table} WHERE 1 = 0")).cursor.description]
        result = conn.execute(sa.text(f"SELECT * FROM {table} WHERE {column} = :day ORDER BY {', '.join(columns)}"), {"day": DAY})
        digest.update(table.encode())
        for row in result:
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()[:16]


def explain(warehouse: Warehouse, conn: Connection, model: str, params: dict[str, Any], out: Path) -> None:
    """Each statement of the model under EXPLAIN ANALYZE (it runs, inside the transaction), written to out/model.txt."""
    lines: list[str] = []
    for statement in split_statements(sql_file(f"indicators/{model}")):
        lines.append(statement.splitlines()[0])
        lines.extend(r[0] for r in conn.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {statement}"), params))
        lines.append("")
    (out / f"{model}.txt").write_text("\n".join(lines), encoding="utf-8")


def compute_day(warehouse: Warehouse, args: argparse.Namespace) -> None:
    params = indicator_params(DAY, load_settings())
    timings: dict[str, tuple[float, float, float]] = {}
    with warehouse.engine.connect() as conn, conn.begin() as transaction:
        clock = Clock(conn, warehouse.dialect)
        with clock.measure(timings, "statistics (before)"):
            prepare_indicator_session(warehouse, conn)
        for model in INDICATOR_MODELS:
            with clock.measure(timings, model):
                warehouse.run_file(conn, f"indicators/{model}", params)
                warehouse.refresh_statistics(conn, STATISTICS_AFTER.get(model, []))
        rows = warehouse.scalar(conn, "SELECT COUNT(*) FROM agency_daily_indicators WHERE indicator_date = :day", {"day": DAY})
        if args.explain:
            out = Path(args.explain)
            out.mkdir(parents=True, exist_ok=True)
            for model in INDICATOR_MODELS:
                explain(warehouse, conn, model, params, out)
        digest = day_digest(conn)
        if args.keep:
            transaction.rollback()
    total = sum(t[0] for t in timings.values())
    target = TARGET_SECONDS[warehouse.dialect]
    print(f"  indicators for {DAY} ({rows:,} agency_daily_indicators rows), load average {load_average()}:")
    print(f"    {'model':<28} {'wall s':>8} {'cpu s':>7} {'server cpu s':>13}")
    for name, (wall, cpu, backend) in timings.items():
        print(f"    {name:<28} {wall:8.2f} {cpu:7.2f} {backend:13.2f}")
    print(f"    {'total':<28} {total:8.2f} {sum(t[1] for t in timings.values()):7.2f} "
          f"{sum(t[2] for t in timings.values()):13.2f}   = {total / target:.2f}x the {target:.0f} s target")
    print(f"  the day's results: digest {digest}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history-days", type=int, default=365, help="nights present, the timed day the last (>= 2)")
    parser.add_argument("--snapshots", type=int, default=1_000_000, help="post snapshots a night")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--articles", type=int, help="news articles a day (default: 50,000 per 10,000 accounts)")
    parser.add_argument("--url", help="warehouse URL (default: a temporary DuckDB file); PostgreSQL: a database of its own is made next to it")
    parser.add_argument("--keep", help="keep (and reuse) the filled warehouse: a DuckDB file or a PostgreSQL database name")
    parser.add_argument("--stale-statistics", action="store_true", help="PostgreSQL: never analyze the history")
    parser.add_argument("--tablespace", help="PostgreSQL: create the database in this (existing) tablespace")
    parser.add_argument("--explain", help="PostgreSQL: write each model's EXPLAIN ANALYZE to this directory")
    args = parser.parse_args()
    args.history_days = max(args.history_days, 2)
    if args.articles is None:
        args.articles = args.accounts * 5
    if args.tablespace and not (args.url or "").startswith("postgresql"):
        parser.error("--tablespace is for a PostgreSQL --url")
    if args.url and args.url.startswith("postgresql"):  # a database of its own next to the given one
        database = args.keep or f"pantau_bench_indicators_{os.getpid()}"
        admin = Warehouse(args.url)
        exists = bool(admin.query("SELECT 1 FROM pg_database WHERE datname = :d", {"d": database}))
        admin.dispose()
        url = (sa.make_url(args.url).set(database=database).render_as_string(hide_password=False) if exists
               else fresh_postgres_database(args.url, database, tablespace=args.tablespace))
    else:
        path = Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "bench_indicators.duckdb"
        exists, url = path.exists(), f"duckdb:///{path.resolve()}"
    warehouse = Warehouse(url)
    try:
        warehouse.migrate()
        print(f"{warehouse.dialect}: {args.accounts:,} accounts, {args.snapshots:,} snapshots a night, "
              f"{args.articles:,} articles a day, {args.history_days} nights; load average {load_average()}", flush=True)
        if exists:
            print(f"  reusing the history of {args.keep} (the same options filled it): {stored(warehouse)}")
        else:
            fill_history(warehouse, args)
        compute_day(warehouse, args)
    finally:
        warehouse.dispose()
        if not args.keep:
            if url.startswith("postgresql"):
                drop_postgres_database(args.url, database)
            else:
                Path(url.removeprefix("duckdb:///")).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
