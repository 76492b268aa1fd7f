"""Benchmark: one night (registry_sync + social_metrics) on the native CeleryExecutor stack with two workers vs the
embedded DuckDB ``dag.test`` path, same day, same sandbox accounts, same machine. Prints the wall times.

    .venv/bin/python scripts/bench_celery.py                      # the sandbox registry's 1,560 accounts
    .venv/bin/python scripts/bench_celery.py --agency KEM-KOMDIGI --agency PROV-21 --shard-size 4

Needs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), like the tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.celery_stack import celery_deployment, duckdb_night, sandbox_accounts  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 10))
    parser.add_argument("--agency", action="append", help="only these agencies' accounts (default: all 1,560)")
    parser.add_argument("--shard-size", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per Celery worker")
    args = parser.parse_args()
    from etl.harness import configure_airflow  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="pantau-bench-celery-") as tmp, pytest.MonkeyPatch.context() as mp:
        work = Path(tmp)
        configure_airflow(work / "embedded-airflow")  # the dag.test side, in this process
        accounts = sandbox_accounts(work, set(args.agency) if args.agency else None)
        count = sum(1 for _ in accounts.open(encoding="utf-8")) - 1
        with celery_deployment(work, accounts, args.day, args.shard_size, args.concurrency) as deployment:
            started = time.perf_counter()
            sync = deployment.stack.backfill("registry_sync", args.day, 0, 30)
            night = deployment.stack.backfill("social_metrics", args.day, 1, 0, timeout=3600)
            celery_seconds = time.perf_counter() - started
            tasks = deployment.stack.task_instances("social_metrics", night[0])
            shards = sum(1 for t in tasks if t[0].endswith(".load"))
            print(f"night of {args.day}, {count} accounts, {shards} shards: CeleryExecutor, 2 workers x {args.concurrency} "
                  f"slots: {celery_seconds:.1f} s (registry_sync {sync[1]}, social_metrics {night[1]})", flush=True)
            deployment.stack.stop()
            deployment.api.reset()
            _, duckdb_seconds = duckdb_night(work, accounts, args.day, args.shard_size, deployment.api, mp)
    print(f"night of {args.day}, {count} accounts: DuckDB dag.test: {duckdb_seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
