"""Benchmark: load one night at national scale into the warehouse, against the engine's own limit.

National scale is about 10,000 accounts and 1,000,000 post-metric snapshots a night. The night is
loaded the way ``load_shard`` loads it (one transaction per shard of ``PANTAU_SHARD_SIZE`` accounts,
staging + merge through :func:`etl.pipeline.merge_shard`), three times:

- ``first``:  day D-1 into an empty warehouse (every row new);
- ``night``:  day D, the normal night (every post already known: dim_post updated, snapshots new);
- ``rerun``:  day D again (every row a conflict).

The limit is measured in the same run, on the same rows, committed once into a copy of the empty warehouse:
PostgreSQL raw ``COPY`` of already rendered CSV into the target tables; DuckDB ``INSERT .. SELECT`` from the
frame registered as an Arrow table (as the loader registers it) into them. Each load prints rows/s and its ratio
to that limit (issue 11: >= 0.6x, rerun >= 0.4x on PostgreSQL).

    .venv/bin/python scripts/bench_warehouse.py --snapshots 1000000 --accounts 10000 [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from etl.bench import drop_postgres_database, fresh_postgres_database
from etl.pipeline import INDICATOR_MODELS, STATISTICS_AFTER, indicator_params, merge_shard, prepare_indicator_session
from etl.settings import load_settings
from etl.warehouse import Warehouse, _arrow_table, _csv_bytes

DAY = date(2026, 11, 20)
TARGETS = {"posts": "dim_post", "post_metrics": "fact_post_metrics_daily", "account_snapshots": "fact_account_daily"}


def shard_frames(first_account: int, accounts: int, per_account: int, day: date) -> dict[str, pd.DataFrame]:
    """One shard's canonical frames: ``per_account`` posts (and their snapshots) for each of its accounts."""
    account_ids = np.arange(first_account, first_account + accounts)
    ids = np.arange(first_account * per_account, (first_account + accounts) * per_account)
    account = ids // per_account
    published_days = ids % 30
    keys = pd.Series([f"youtube:A{a:05d}:0" for a in account_ids])
    post_keys = keys.to_numpy()[account - first_account]
    captured = datetime.combine(day, datetime.min.time())
    published = pd.to_datetime(np.datetime64(DAY) - published_days.astype("timedelta64[D]"))
    posts = pd.DataFrame({
        "platform": "youtube",
        "platform_post_id": [f"p{i:09d}" for i in ids],
        "account_key": post_keys,
        "published_at": published,
        "published_on": published.date,
        "post_type": "video", "title": "t", "text": None, "hashtags": None, "url": None,
        "referenced_post_id": None, "reference_kind": None, "text_repairs": None,
    })
    n = len(ids)
    metrics = pd.DataFrame({
        "platform": "youtube",
        "platform_post_id": posts["platform_post_id"],
        "snapshot_date": day,
        "account_key": post_keys,
        "captured_at": captured,
        "likes": pd.array(ids % 1000 + (day - DAY).days * 3, dtype="Int64"),
        "comments": pd.array(ids % 50, dtype="Int64"),
        "shares": pd.array([None] * n, dtype="Int64"),
        "views": pd.array(ids % 100000, dtype="Int64"),
        "saves": pd.array([None] * n, dtype="Int64"),
        "quotes": pd.array([None] * n, dtype="Int64"),
        "unavailable_metrics": None,
    })
    snapshots = pd.DataFrame({
        "account_key": keys, "snapshot_date": day, "captured_at": captured,
        "followers": pd.array(account_ids * 7, dtype="Int64"), "following": pd.array([None] * accounts, dtype="Int64"),
        "total_posts": pd.array(account_ids % 900, dtype="Int64"), "total_views": pd.array(account_ids * 1000, dtype="Int64"),
    })
    deletions = pd.DataFrame({"platform": pd.Series(dtype=object), "platform_post_id": pd.Series(dtype=object),
                              "snapshot_date": pd.Series(dtype=object)})
    return {"posts": posts, "post_metrics": metrics, "account_snapshots": snapshots, "post_deletions": deletions}


def coverage(frames: dict[str, pd.DataFrame], day: date) -> pd.DataFrame:
    return pd.DataFrame({"account_key": frames["account_snapshots"]["account_key"], "snapshot_date": day,
                         "platform": "youtube", "status": "ok", "message": None})


def night(args: argparse.Namespace, day: date) -> Iterator[dict[str, pd.DataFrame]]:
    per_account = args.snapshots // args.accounts
    for first in range(0, args.accounts, args.shard_size):
        yield shard_frames(first, min(args.shard_size, args.accounts - first), per_account, day)


def measure_limit(warehouse: Warehouse, args: argparse.Namespace, day: date) -> tuple[float, float, int]:
    """Seconds a plain bulk load of the night's frames into the empty target tables takes, committed once, in a copy
    of the empty warehouse (the loads then start from tables the limit never touched).

    PostgreSQL: render each frame as CSV (Arrow, the loader's own renderer) and COPY it into the table; also returns
    the rendering's share. DuckDB: INSERT .. SELECT from the frame registered as an Arrow table, as the loader
    registers it (conversion included; a registered DataFrame of Python strings scans ~4x slower).

    Committed, because a load must: DuckDB writes the rows into the table, its index and its log at commit. In a
    copy, because a limit rolled back in the warehouse itself leaves PostgreSQL's tables and indexes holding every
    row of the night as dead entries, which the first night's inserts of the same keys must then step over.
    """
    with empty_copy(warehouse, args) as copy:
        checkpoint(copy)
        return _bulk_insert(copy, args, day, commit=True)


def rolled_back_duckdb_insert(warehouse: Warehouse, args: argparse.Namespace, day: date) -> float:
    """Seconds of the DuckDB limit's inserts rolled back instead of committed (the limit until 7 December 2026)."""
    with empty_copy(warehouse, args) as copy:
        return _bulk_insert(copy, args, day, commit=False)[0]


@contextmanager
def empty_copy(warehouse: Warehouse, args: argparse.Namespace) -> Iterator[Warehouse]:
    """A throwaway copy of the warehouse: DuckDB's file, or a PostgreSQL database made from it as a template (both
    need the warehouse closed first)."""
    if warehouse.dialect == "duckdb":  # everything in the file itself, none of it left in the write-ahead log
        with warehouse.transaction() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    warehouse.dispose()
    if warehouse.dialect == "postgresql":
        target = f"{warehouse.engine.url.database}_limit"
        url = fresh_postgres_database(args.url, target, template=warehouse.engine.url.database)
    else:
        source_file = Path(warehouse.engine.url.database)
        target_file = source_file.with_name(f"limit-{source_file.name}")
        shutil.copyfile(source_file, target_file)
        url = f"duckdb:///{target_file}"
    copy = Warehouse(url)
    try:
        yield copy
    finally:
        copy.dispose()
        if warehouse.dialect == "postgresql":
            drop_postgres_database(args.url, target)
        else:
            target_file.unlink()


def _bulk_insert(warehouse: Warehouse, args: argparse.Namespace, day: date, commit: bool) -> tuple[float, float, int]:
    with warehouse.transaction() as conn:
        columns = {frame: warehouse.staging_columns(conn, frame) for frame in TARGETS}
    seconds, rendering, rows = 0.0, 0.0, 0
    with warehouse.engine.connect() as conn:
        raw = conn.connection.driver_connection
        transaction = conn.begin()
        for frames in night(args, day):
            for frame, table in TARGETS.items():
                df = frames[frame][columns[frame]]
                if frame == "posts":  # the columns dim_post's merge fills, so the rows fit the table as loaded
                    df = df.assign(is_deleted=False, deleted_seen_on=None, first_seen_on=day)
                rows += len(df)
                if warehouse.dialect == "postgresql":
                    started = time.perf_counter()
                    rendered = _csv_bytes(df)
                    rendering += time.perf_counter() - started
                    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(df.columns)}) FROM STDIN (FORMAT csv)") as copy:
                        copy.write(rendered)
                else:
                    started = time.perf_counter()
                    raw.register("incoming", _arrow_table(df))  # the loader's own conversion (an Arrow table)
                    raw.execute(f"INSERT INTO {table} ({', '.join(df.columns)}) SELECT * FROM incoming")
                    raw.unregister("incoming")
                seconds += time.perf_counter() - started
        started = time.perf_counter()
        if commit:
            transaction.commit()
            seconds += time.perf_counter() - started
        else:
            transaction.rollback()
    return seconds, rendering, rows


def checkpoint(warehouse: Warehouse) -> None:
    """Start each measurement with PostgreSQL's dirty pages written out, so that a checkpoint the previous load's WAL
    set off does not land inside the next one. A user without the right (superuser or pg_checkpoint) is told once."""
    global _CHECKPOINT_REFUSED
    if warehouse.dialect != "postgresql" or _CHECKPOINT_REFUSED:
        return
    try:
        with warehouse.engine.connect() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    except sa.exc.ProgrammingError as exc:
        _CHECKPOINT_REFUSED = True
        print(f"  (no CHECKPOINT before each measurement: {str(exc.orig).splitlines()[0]}; figures are noisier)")


_CHECKPOINT_REFUSED = False


def load_night(warehouse: Warehouse, args: argparse.Namespace, day: date) -> tuple[float, int]:
    checkpoint(warehouse)
    seconds, rows = 0.0, 0
    with warehouse.kept_open():  # the DuckDB file opened once, as the limit's connection does
        for frames in night(args, day):
            ledger = coverage(frames, day)
            started = time.perf_counter()
            with warehouse.transaction() as conn:
                merge_shard(warehouse, conn, frames, ledger, day)
            seconds += time.perf_counter() - started
            rows += sum(len(frames[f]) for f in TARGETS)
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--shard-size", type=int, default=int(os.environ.get("PANTAU_SHARD_SIZE", 250)))
    parser.add_argument("--url", help="warehouse URL (default: a temporary DuckDB file)")
    parser.add_argument("--no-indicators", action="store_true", help="measure the load only")
    args = parser.parse_args()
    url = args.url or f"duckdb:///{Path(tempfile.mkdtemp()) / 'bench.duckdb'}"
    database = f"pantau_bench_warehouse_{os.getpid()}"
    if url.startswith("postgresql"):  # a database of its own next to the given one, dropped at the end
        url = fresh_postgres_database(url, database)
    try:
        measure(url, args)
    finally:
        if url.startswith("postgresql"):
            drop_postgres_database(args.url, database)


def measure(url: str, args: argparse.Namespace) -> None:
    warehouse = Warehouse(url)
    warehouse.migrate()
    agencies = pd.DataFrame({"agency_code": [f"A{a:05d}" for a in range(args.accounts)], "name": "x", "short_name": None,
                             "category": "kabkota", "parent_agency_code": None, "region_code": None})
    accounts = pd.DataFrame({"account_key": [f"youtube:A{a:05d}:0" for a in range(args.accounts)], "agency_code": agencies["agency_code"],
                             "platform": "youtube", "handle": None, "platform_account_id": agencies["agency_code"], "layer": 0,
                             "active_from": date(2020, 1, 1), "active_to": None, "is_sandbox": True})
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "agencies", agencies, "dim_agency")
        warehouse.merge(conn, "accounts", accounts, "dim_account", {"closed_on": DAY})
    print(f"{warehouse.dialect}: {args.snapshots:,} snapshots, {args.accounts:,} accounts, shards of {args.shard_size} accounts; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    limit_seconds, rendering, rows = measure_limit(warehouse, args, DAY)
    limit = rows / limit_seconds
    what = (f"COPY of the frames as CSV, {rendering:.1f}s of it rendering" if warehouse.dialect == "postgresql"
            else "INSERT .. SELECT from the frames as Arrow tables")
    print(f"  limit ({what}, committed into a copy of the empty tables): {rows:,} rows in {limit_seconds:.1f}s = {limit:,.0f} rows/s")
    if warehouse.dialect == "duckdb":
        unwritten = rolled_back_duckdb_insert(warehouse, args, DAY)
        print(f"  (the same inserts rolled back, never written: {unwritten:.1f}s = {rows / unwritten:,.0f} rows/s, "
              f"{limit_seconds / unwritten:.2f}x the limit's time)")
    for label, day in (("first", DAY - timedelta(days=1)), ("night", DAY), ("rerun", DAY)):
        seconds, rows = load_night(warehouse, args, day)
        rate = rows / seconds
        print(f"  load {label:<5} {day}: {rows:,} rows (posts + snapshots + accounts) in {seconds:.1f}s = "
              f"{rate:,.0f} rows/s = {rate / limit:.2f}x the limit")
    if not args.no_indicators:
        indicators(warehouse)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory (max RSS): {peak:,.0f} MiB; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    warehouse.dispose()


def indicators(warehouse: Warehouse) -> None:
    params = indicator_params(DAY, load_settings())
    started = time.perf_counter()
    timings = io.StringIO()
    with warehouse.transaction() as conn:
        prepare_indicator_session(warehouse, conn)
        for model in INDICATOR_MODELS:
            t0 = time.perf_counter()
            warehouse.run_file(conn, f"indicators/{model}", params)
            if model in STATISTICS_AFTER:
                warehouse.refresh_statistics(conn, STATISTICS_AFTER[model])
            timings.write(f" {model} {time.perf_counter() - t0:.1f}s;")
    print(f"  indicators for {DAY}: {time.perf_counter() - started:.1f}s ({timings.getvalue().strip()})")


if __name__ == "__main__":
    main()
