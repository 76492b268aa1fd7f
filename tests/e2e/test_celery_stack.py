"""A real CeleryExecutor deployment of native processes, one night against the sandbox.

api-server, scheduler, dag-processor, triggerer and two Celery workers (each with its own home, working
directory, data folder and copy of the DAG files), Redis on 127.0.0.1:6379 as the broker, the metadata and the
warehouse in fresh PostgreSQL databases, landing and staging on an S3 server (moto) on 127.0.0.1. registry_sync
and social_metrics run for one day: every shard loads, the counts equal the DuckDB ``dag.test`` path for the same
day, and a rerun changes nothing. Everything it starts or creates is removed afterwards.
"""

from __future__ import annotations

import csv
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from etl.airflow_stack import AirflowStack, Worker, free_port
from etl.demo import fingerprint
from etl.harness import DagRunner, point_sources_at, prepare_airflow_db, sandbox, sandbox_sources
from etl.runtime import RunContext
from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse
from tests.conftest import _pg_admin
from tests.object_store import s3_server

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.celery]
DAY = date(2026, 11, 10)
#: Two agencies on every platform: 8 YouTube accounts (two shards of 4) and 2 on each other platform (one shard).
AGENCIES = {"KEM-KOMDIGI", "PROV-21"}
SHARD_SIZE = "4"
TABLES = ["dim_account", "dim_post", "fact_account_daily", "fact_post_metrics_daily", "etl_account_coverage"]
DATA_TABLES = ["dim_account", "dim_post", "fact_account_daily", "fact_post_metrics_daily", "etl_account_coverage", "etl_quarantine"]


def _accounts(tmp_path: Path) -> Path:
    with (PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if r["agency_code"] in AGENCIES]
    path = tmp_path / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _counts(url: str) -> tuple[dict[str, int], str]:
    warehouse = Warehouse(url)
    try:
        return warehouse.table_counts(TABLES), fingerprint(warehouse, DATA_TABLES)
    finally:
        warehouse.dispose()


def _duckdb_night(tmp_path: Path, accounts: Path, api, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, int], float]:
    """The same day with the embedded path: dag.test in this process, DuckDB, local storage."""
    url = f"duckdb:///{tmp_path / 'duckdb' / 'warehouse.duckdb'}"
    for key, value in {"WAREHOUSE_URL": url, "PANTAU_DATA_DIR": str(tmp_path / "duckdb"), "PANTAU_ACCOUNTS_FILE": str(accounts),
                       "PANTAU_SHARD_SIZE": SHARD_SIZE}.items():
        monkeypatch.setenv(key, value)
    for key in ("PANTAU_STORAGE_URL", "PANTAU_STORAGE_OPTIONS", "PANTAU_NO_AIRFLOW_CONNECTIONS"):
        monkeypatch.delenv(key, raising=False)
    point_sources_at(api)
    prepare_airflow_db()
    runner = DagRunner()
    started = time.perf_counter()
    states = [runner.run("registry_sync", DAY, 0, 30), runner.run("social_metrics", DAY, 1, 0)]
    seconds = time.perf_counter() - started
    assert states == ["success", "success"]
    return _counts(url)[0], seconds


def _forget_queue(broker_db: int, queue: str) -> None:
    """Remove what Celery left in Redis for this test's own queue (the server is shared: nothing else)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=broker_db)
    keys = [k for k in client.scan_iter(match=f"*{queue}*")]
    if keys:
        client.delete(*keys)


def test_celery_stack_runs_a_night_like_the_embedded_path(tmp_path: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = _accounts(tmp_path)
    tag = uuid.uuid4().hex[:10]
    meta_db, warehouse_db = f"pantau_e2e_meta_{tag}", f"pantau_e2e_wh_{tag}"
    queue, broker_db = f"pantau-e2e-{tag}", 7
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{meta_db}"')
        admin.execute(f'CREATE DATABASE "{warehouse_db}"')
    warehouse_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{warehouse_db}"
    stack = None
    try:
        with s3_server() as store, sandbox(accounts) as api:
            api.set_clock(RunContext.for_day(DAY, run_id="-", dag_id="social_metrics").as_of)
            workers = [Worker("worker-a", tmp_path / "worker-a"), Worker("worker-b", tmp_path / "worker-b")]
            stack = AirflowStack(
                home=tmp_path / "airflow", metadata_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{meta_db}",
                broker_url=f"redis://127.0.0.1:6379/{broker_db}", queue=queue, api_port=free_port(),
                extra_env={
                    **store.env, **sandbox_sources(api.base_url),
                    "AIRFLOW_CONN_WAREHOUSE": f"postgresql://postgres@127.0.0.1:5432/{warehouse_db}",
                    "PANTAU_ACCOUNTS_FILE": str(accounts), "PANTAU_SHARD_SIZE": SHARD_SIZE,
                    "PANTAU_DATA_DIR": str(tmp_path / "airflow" / "data"),
                    # Runs only when triggered (no scheduled run of today), and DAGs start unpaused.
                    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
                },
            )
            setup = stack.cli("pantau", "airflow-setup")
            assert "pool youtube_api: 4 slots" in setup and "connection warehouse: configured" in setup
            stack.start(workers)
            stack.wait_until_up()
            stack.wait_for_workers(workers)
            stack.wait_for_dags({"registry_sync", "social_metrics"})

            started = time.perf_counter()
            assert stack.backfill("registry_sync", DAY, 0, 30)[1] == "success"
            run_id, night = stack.backfill("social_metrics", DAY, 1, 0)
            celery_seconds = time.perf_counter() - started
            tasks = stack.task_instances("social_metrics", run_id)
            assert night == "success", [t for t in tasks if t[2] != "success"]
            counts, first = _counts(warehouse_url)

            # A rerun of the same day changes nothing.
            assert stack.backfill("social_metrics", DAY, 1, 0, rerun=True)[1] == "success"
            assert _counts(warehouse_url)[1] == first
            store_keys = store.keys()
            stack.stop()

            api.reset()
            duckdb_counts, duckdb_seconds = _duckdb_night(tmp_path, accounts, api, monkeypatch)
    finally:
        if stack is not None:
            stack.stop()
        _forget_queue(broker_db, queue)
        with _pg_admin() as admin:
            for name in (meta_db, warehouse_db):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"\nnight of {DAY}: CeleryExecutor (2 workers) {celery_seconds:.1f} s, DuckDB dag.test {duckdb_seconds:.1f} s")
    # Every shard loads: two YouTube shards, one per other platform.
    loads = {(t[0], t[1]): t[2] for t in tasks if t[0].endswith(".load")}
    assert loads == {("collect_youtube.load", 0): "success", ("collect_youtube.load", 1): "success",
                     **{(f"collect_{p}.load", 0): "success" for p in ("x", "instagram", "facebook", "tiktok")}}
    # Both workers ran tasks, and neither kept a landing or staging file of its own: they went to the object store.
    assert {t[3] for t in tasks} == {"worker-a", "worker-b"}
    for worker in workers:
        assert not (worker.root / "data").exists() or not any((worker.root / "data").rglob("*.*"))
    landed = {key.rsplit("/", 1)[1] for key in store_keys if key.startswith("pantau/landing/")}
    assert landed == {f"{part}{suffix}" for part in ("youtube-000", "youtube-001", "x-000", "instagram-000", "facebook-000", "tiktok-000")
                      for suffix in (".jsonl.gz", ".outcomes.json")}
    assert counts == duckdb_counts
    assert counts["fact_post_metrics_daily"] > 0 and counts["dim_account"] == 16
