"""A native CeleryExecutor deployment for one night against the sandbox, and the embedded path to compare it with.

Used by tests/e2e/test_celery_stack.py and scripts/bench_celery.py. Everything it starts or creates (PostgreSQL
databases, the S3 server, the sandbox, Airflow's processes, the broker's keys of its queue) is removed on exit.
"""

from __future__ import annotations

import csv
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from etl.airflow_stack import AirflowStack, Worker, free_port
from etl.harness import DagRunner, Sandbox, point_sources_at, prepare_airflow_db, sandbox, sandbox_sources
from etl.runtime import RunContext
from etl.settings import PROJECT_ROOT
from tests.conftest import _pg_admin
from tests.object_store import ObjectStore, s3_server

#: Redis database of the broker (the server is shared: the test only ever deletes its own queue's keys there).
BROKER_DB = 7


def sandbox_accounts(tmp_path: Path, agencies: set[str] | None = None) -> Path:
    """The sandbox registry's accounts of ``agencies`` (all of them when None), as an accounts file."""
    with (PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if agencies is None or r["agency_code"] in agencies]
    path = tmp_path / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@dataclass
class CeleryDeployment:
    stack: AirflowStack
    workers: list[Worker]
    store: ObjectStore
    api: Sandbox
    warehouse_url: str


@contextmanager
def celery_deployment(tmp_path: Path, accounts: Path, day: date, shard_size: int, concurrency: int = 2) -> Iterator[CeleryDeployment]:
    """Two Celery workers (own home, data folder, DAG copy each), metadata and warehouse in fresh PostgreSQL
    databases, Redis broker, moto S3 storage, the sandbox's clock at the night of ``day``; DAGs parsed, workers ready."""
    tag = uuid.uuid4().hex[:10]
    meta_db, warehouse_db, queue = f"pantau_e2e_meta_{tag}", f"pantau_e2e_wh_{tag}", f"pantau-e2e-{tag}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{meta_db}"')
        admin.execute(f'CREATE DATABASE "{warehouse_db}"')
    stack = None
    try:
        with s3_server() as store, sandbox(accounts) as api:
            api.set_clock(RunContext.for_day(day, run_id="-", dag_id="social_metrics").as_of)
            workers = [Worker("worker-a", tmp_path / "worker-a"), Worker("worker-b", tmp_path / "worker-b")]
            stack = AirflowStack(
                home=tmp_path / "airflow", metadata_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{meta_db}",
                broker_url=f"redis://127.0.0.1:6379/{BROKER_DB}", queue=queue, api_port=free_port(),
                extra_env={
                    **store.env, **sandbox_sources(api.base_url),
                    "AIRFLOW_CONN_WAREHOUSE": f"postgresql://postgres@127.0.0.1:5432/{warehouse_db}",
                    "PANTAU_ACCOUNTS_FILE": str(accounts), "PANTAU_SHARD_SIZE": str(shard_size),
                    "PANTAU_DATA_DIR": str(tmp_path / "airflow" / "data"),
                    # Runs only when asked (no scheduled run of today), and DAGs start unpaused.
                    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
                },
            )
            setup = stack.cli("pantau", "airflow-setup")
            assert "pool youtube_api: 4 slots" in setup and "connection warehouse: configured" in setup, setup
            stack.start(workers, concurrency=concurrency)
            stack.wait_until_up()
            stack.wait_for_workers(workers)
            stack.wait_for_dags({"registry_sync", "social_metrics"})
            yield CeleryDeployment(stack, workers, store, api, f"postgresql+psycopg://postgres@127.0.0.1:5432/{warehouse_db}")
    finally:
        if stack is not None:
            stack.stop()
        _forget_queue(queue)
        with _pg_admin() as admin:
            for name in (meta_db, warehouse_db):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _forget_queue(queue: str) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=BROKER_DB)
    keys = list(client.scan_iter(match=f"*{queue}*"))
    if keys:
        client.delete(*keys)


def duckdb_night(tmp_path: Path, accounts: Path, day: date, shard_size: int, api: Sandbox, monkeypatch) -> tuple[str, float]:
    """The same night on the embedded path: ``dag.test`` in this process, DuckDB, local storage; (warehouse URL, seconds)."""
    url = f"duckdb:///{tmp_path / 'duckdb' / 'warehouse.duckdb'}"
    for key, value in {"WAREHOUSE_URL": url, "PANTAU_DATA_DIR": str(tmp_path / "duckdb"), "PANTAU_ACCOUNTS_FILE": str(accounts),
                       "PANTAU_SHARD_SIZE": str(shard_size)}.items():
        monkeypatch.setenv(key, value)
    for key in ("PANTAU_STORAGE_URL", "PANTAU_STORAGE_OPTIONS", "PANTAU_NO_AIRFLOW_CONNECTIONS"):
        monkeypatch.delenv(key, raising=False)
    point_sources_at(api)
    prepare_airflow_db()
    runner = DagRunner()
    started = time.perf_counter()
    states = [runner.run("registry_sync", day, 0, 30), runner.run("social_metrics", day, 1, 0)]
    seconds = time.perf_counter() - started
    if states != ["success", "success"]:
        raise RuntimeError(f"the DuckDB night failed: {states}")
    return url, seconds
