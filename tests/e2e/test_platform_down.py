"""A platform that refuses our credentials fails its own tasks, fast, with a message naming the connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.harness import DagRunner, prepare_airflow_db, sandbox
from etl.warehouse import Warehouse
from tests.e2e.test_nightly_dags import DAYS, write_accounts

pytestmark = pytest.mark.airflow


def test_a_rejected_key_fails_social_metrics_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served, registered = write_accounts(tmp_path)
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    monkeypatch.delenv("PANTAU_NO_AIRFLOW_CONNECTIONS", raising=False)
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(registered))
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAREHOUSE_URL", url)
    prepare_airflow_db()
    with sandbox(served) as api:
        monkeypatch.setenv("AIRFLOW_CONN_YOUTUBE_API", json.dumps(
            {"conn_type": "http", "host": f"{api.base_url}/youtube/v3", "password": "revoked-key"}))
        states = DagRunner().night(DAYS[0], api)
        calls = api.stats()["requests"]
    assert states == {"registry_sync": "success", "social_metrics": "failed", "news_mentions": "success", "agency_indicators": "success"}
    assert calls.get("youtube.channels") == 1  # no retry: neither the client's nor Airflow's
    warehouse = Warehouse(url)
    failed = warehouse.query("SELECT status, message FROM etl_run WHERE task_id = 'collect_youtube.extract' AND source = 'youtube' ORDER BY started_at DESC")
    warehouse.dispose()
    assert failed[0][0] == "failed"
    assert failed[0][1].startswith("PlatformUnavailable: source=youtube status=400 reason=badRequest: YouTube refuses the "
                                   "credentials of connection 'youtube_api'")
    assert "revoked-key" not in failed[0][1]
