"""Benchmark: load one night at national scale into the warehouse and compute its indicators.

Prints rows per second of the staging + merge path and of the indicator models, and peak memory.
National scale is about 10,000 accounts and 1,000,000 post-metric snapshots a night.

    .venv/bin/python scripts/bench_warehouse.py --snapshots 1000000 --accounts 10000 [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from etl.pipeline import INDICATOR_MODELS, STATISTICS_AFTER, STATISTICS_BEFORE
from etl.warehouse import Warehouse

DAY = date(2026, 11, 20)
CHUNK = 100_000


def frames(start: int, stop: int, accounts: int, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.arange(start, stop)
    account = ids % accounts
    published_days = ids % 30
    posts = pd.DataFrame({
        "platform": "youtube",
        "platform_post_id": [f"p{i:09d}" for i in ids],
        "account_key": [f"youtube:A{a:05d}:0" for a in account],
        "published_at": [datetime.combine(day - timedelta(days=int(d)), datetime.min.time()) for d in published_days],
        "published_on": [day - timedelta(days=int(d)) for d in published_days],
        "post_type": "video", "title": "t", "text": None, "hashtags": None, "url": None,
        "referenced_post_id": None, "reference_kind": None,
    })
    metrics = pd.DataFrame({
        "platform": "youtube",
        "platform_post_id": posts["platform_post_id"],
        "snapshot_date": day,
        "account_key": posts["account_key"],
        "captured_at": datetime.combine(day, datetime.min.time()),
        "likes": pd.array(ids % 1000 + (day - DAY).days * 3, dtype="Int64"),
        "comments": pd.array(ids % 50, dtype="Int64"),
        "shares": pd.array([None] * len(ids), dtype="Int64"),
        "views": pd.array(ids % 100000, dtype="Int64"),
        "saves": pd.array([None] * len(ids), dtype="Int64"),
        "quotes": pd.array([None] * len(ids), dtype="Int64"),
        "unavailable_metrics": None,
    })
    return posts, metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--url", help="warehouse URL (default: a temporary DuckDB file)")
    args = parser.parse_args()
    url = args.url or f"duckdb:///{Path(tempfile.mkdtemp()) / 'bench.duckdb'}"
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
    for day in (DAY - timedelta(days=1), DAY):
        started = time.perf_counter()
        for start in range(0, args.snapshots, CHUNK):
            posts, metrics = frames(start, min(start + CHUNK, args.snapshots), args.accounts, day)
            with warehouse.transaction() as conn:
                warehouse.merge(conn, "posts", posts, "dim_post", {"snapshot_date": day})
                warehouse.merge(conn, "post_metrics", metrics, "fact_post_metrics_daily")
        seconds = time.perf_counter() - started
        print(f"{warehouse.dialect} load {day}: {args.snapshots:,} posts + snapshots in {seconds:.1f}s "
              f"({args.snapshots / seconds:,.0f} snapshots/s, chunks of {CHUNK:,})")
    params = {"day": DAY, "previous_day": DAY - timedelta(days=1), "amplification_day": DAY - timedelta(days=2),
              "standings_since": DAY - timedelta(days=7), "lookback_start": DAY - timedelta(days=60)}
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        warehouse.refresh_statistics(conn, STATISTICS_BEFORE)
        for model in INDICATOR_MODELS:
            t0 = time.perf_counter()
            warehouse.run_file(conn, f"indicators/{model}", params)
            if model in STATISTICS_AFTER:
                warehouse.refresh_statistics(conn, STATISTICS_AFTER[model])
            print(f"  {model:<28} {time.perf_counter() - t0:6.1f}s")
    print(f"{warehouse.dialect} indicators for {DAY}: {time.perf_counter() - started:.1f}s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:,.0f} MiB")
    warehouse.dispose()


if __name__ == "__main__":
    main()
