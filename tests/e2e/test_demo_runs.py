"""The demo's runs look like the schedule's in the Airflow UI: scheduled, started when they ran, lasting what they took."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl.harness import DagRunner, prepare_airflow_db
from tests.e2e.test_nightly_dags import DAYS, write_accounts

pytestmark = pytest.mark.airflow


def test_a_demo_run_is_recorded_as_scheduled_with_its_real_duration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    _, registered = write_accounts(tmp_path)
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(registered))
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    prepare_airflow_db()
    before = datetime.now(UTC)
    runner = DagRunner()
    assert runner.run("registry_sync", DAYS[0], 0, 30) == "success"
    after = datetime.now(UTC)
    with create_session() as session:
        run = session.execute(select(DagRun).where(DagRun.dag_id == "registry_sync", DagRun.run_id == runner.last_run_ids["registry_sync"])).scalar_one()
        run_type, start, end, logical = str(run.run_type), run.start_date, run.end_date, run.logical_date
    assert run_type == "scheduled"
    assert before <= start <= end <= after and end - start < timedelta(minutes=10)
    assert logical == datetime(DAYS[0].year, DAYS[0].month, DAYS[0].day, 17, 30, tzinfo=UTC)  # 00:30 WIB the morning after


def test_the_local_metadata_database_commits_without_an_fsync_each_time() -> None:
    """dag.test commits every task state change; on SQLite's defaults each waits for the disk (see harness)."""
    from airflow import settings

    prepare_airflow_db()
    with settings.engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (journal, synchronous) == ("wal", 1)  # 1 = NORMAL: the WAL is synced at checkpoints, not at each commit
