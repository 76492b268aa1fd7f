"""A platform that refuses our credentials fails its own tasks, fast, with a message naming the connection,
after loading the ledger that says so for every account."""

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
    failed = warehouse.query("SELECT status, message FROM etl_run WHERE task_id = 'collect_youtube.load' AND source = 'youtube' ORDER BY started_at DESC")
    ledger = warehouse.query("SELECT DISTINCT status, message FROM etl_account_coverage WHERE platform = 'youtube'")
    (accounts,) = warehouse.query("SELECT COUNT(*) FROM dim_account WHERE platform = 'youtube'")[0]
    warehouse.dispose()
    refusal = ("source=youtube status=400 reason=badRequest: YouTube refuses the credentials of connection 'youtube_api' "
               "(API_KEY_INVALID, INVALID_ARGUMENT, badRequest); check the API key")
    # The ledger says why for every account, and the load task fails naming the connection.
    assert [tuple(r) for r in ledger] == [("token_expired", refusal)]
    assert failed[0][0] == "failed"
    assert failed[0][1] == (f"CredentialsRejected: {accounts} of {accounts} accounts recorded token_expired in etl_account_coverage "
                            f"(the rest of the shard is loaded): {refusal}")
    assert "revoked-key" not in failed[0][1]
