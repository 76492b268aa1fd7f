"""A real CeleryExecutor deployment of native processes, one night against the sandbox.

api-server, scheduler, dag-processor, triggerer and two Celery workers (each with its own home, working
directory, data folder and copy of the DAG files), Redis on 127.0.0.1:6379 as the broker, the metadata and the
warehouse in fresh PostgreSQL databases, landing and staging on an S3 server (moto) on 127.0.0.1. registry_sync
and social_metrics run for one day: every shard loads, the counts equal the DuckDB ``dag.test`` path for the same
day, and a rerun changes nothing. Everything it starts or creates is removed afterwards (tests/celery_stack.py).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from etl.demo import fingerprint
from etl.warehouse import Warehouse
from tests.celery_stack import celery_deployment, duckdb_night, sandbox_accounts

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.celery]
DAY = date(2026, 11, 10)
#: Two agencies on every platform: 8 YouTube accounts (two shards of 4) and 2 on each other platform (one shard).
AGENCIES = {"KEM-KOMDIGI", "PROV-21"}
SHARD_SIZE = 4
TABLES = ["dim_account", "dim_post", "fact_account_daily", "fact_post_metrics_daily", "etl_account_coverage"]


def _counts(url: str) -> tuple[dict[str, int], str]:
    warehouse = Warehouse(url)
    try:
        return warehouse.table_counts(TABLES), fingerprint(warehouse, [*TABLES, "etl_quarantine"])
    finally:
        warehouse.dispose()


def test_celery_stack_runs_a_night_like_the_embedded_path(tmp_path: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = sandbox_accounts(tmp_path, AGENCIES)
    with celery_deployment(tmp_path, accounts, DAY, SHARD_SIZE) as deployment:
        stack = deployment.stack
        started = time.perf_counter()
        assert stack.backfill("registry_sync", DAY, 0, 30)[1] == "success"
        run_id, night = stack.backfill("social_metrics", DAY, 1, 0)
        celery_seconds = time.perf_counter() - started
        tasks = stack.task_instances("social_metrics", run_id)
        assert night == "success", [t for t in tasks if t[2] != "success"]
        counts, first = _counts(deployment.warehouse_url)
        # A rerun of the same day changes nothing.
        assert stack.backfill("social_metrics", DAY, 1, 0, rerun=True)[1] == "success"
        assert _counts(deployment.warehouse_url)[1] == first
        store_keys = deployment.store.keys()
        stack.stop()
        deployment.api.reset()
        duckdb_url, duckdb_seconds = duckdb_night(tmp_path, accounts, DAY, SHARD_SIZE, deployment.api, monkeypatch)

    print(f"\nnight of {DAY}: CeleryExecutor (2 workers) {celery_seconds:.1f} s, DuckDB dag.test {duckdb_seconds:.1f} s")
    # Every shard loads: two YouTube shards, one per other platform.
    loads = {(t[0], t[1]): t[2] for t in tasks if t[0].endswith(".load")}
    assert loads == {("collect_youtube.load", 0): "success", ("collect_youtube.load", 1): "success",
                     **{(f"collect_{p}.load", 0): "success" for p in ("x", "instagram", "facebook", "tiktok")}}
    # Both workers ran tasks, and neither kept a landing or staging file of its own: they went to the object store.
    assert {t[3] for t in tasks} == {"worker-a", "worker-b"}
    for worker in deployment.workers:
        assert not (worker.root / "data").exists() or not any((worker.root / "data").rglob("*.*"))
    landed = {key.rsplit("/", 1)[1] for key in store_keys if key.startswith("pantau/landing/")}
    assert landed == {f"{part}{suffix}" for part in ("youtube-000", "youtube-001", "x-000", "instagram-000", "facebook-000", "tiktok-000")
                      for suffix in (".jsonl.gz", ".outcomes.json")}
    duckdb_counts = _counts(duckdb_url)[0]
    assert counts == duckdb_counts
    assert counts["fact_post_metrics_daily"] > 0 and counts["dim_account"] == 16
