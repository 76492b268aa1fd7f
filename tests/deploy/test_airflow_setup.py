"""``pantau airflow-setup``: pools, connection checks, the UI login and a storage probe, as a deployment runs it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from etl.cli import main
from tests.object_store import s3_server


@pytest.fixture
def setup_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PANTAU_NO_AIRFLOW_CONNECTIONS", raising=False)
    monkeypatch.setenv("PANTAU_STORAGE_URL", str(tmp_path / "storage"))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(tmp_path / "auth" / "passwords.json"))
    for conn in ("WAREHOUSE", "YOUTUBE_API", "X_API", "META_GRAPH", "TIKTOK_API", "NEWS_FEEDS", "GDELT_API", "SMTP_DEFAULT",
                 "PANTAU_ALERT_WEBHOOK"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn}", raising=False)
    return tmp_path


def test_a_missing_warehouse_connection_stops_the_setup(setup_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["airflow-setup"]) == 1
    assert capsys.readouterr().err == ("pantau: airflow-setup: required connection(s) missing: warehouse "
                                       "(set AIRFLOW_CONN_WAREHOUSE in .env or add it in the UI)\n")


def test_setup_creates_pools_writes_the_login_and_creates_the_bucket(
    setup_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgresql://pantau:secret@db.example.go.id:5432/pantau")
    monkeypatch.setenv("AIRFLOW_CONN_YOUTUBE_API", json.dumps({"conn_type": "http", "password": "k"}))
    monkeypatch.setenv("PANTAU_ADMIN_PASSWORD", "s3cret-login")
    with s3_server(bucket="already-there") as store:
        for key, value in store.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("PANTAU_STORAGE_URL", "s3://fresh-bucket/pantau")  # not created yet: the setup makes it
        assert main(["airflow-setup"]) == 0
        assert store.keys() == []  # the probe is gone
    out = capsys.readouterr().out.splitlines()
    assert out[-16:] == [  # after the migration's own log lines
        "pool youtube_api: 4 slots", "pool x_api: 2 slots", "pool instagram_api: 2 slots", "pool facebook_api: 2 slots",
        "pool tiktok_api: 2 slots",
        "connection youtube_api: configured", "connection x_api: missing", "connection meta_graph: missing",
        "connection tiktok_api: missing", "connection warehouse: configured", "connection news_feeds: missing",
        "connection gdelt_api: missing", "connection smtp_default: missing", "connection pantau_alert_webhook: missing",
        "storage s3://fresh-bucket/pantau: writable",
        "UI login: admin",
    ]
    login = setup_env / "auth" / "passwords.json"
    assert json.loads(login.read_text(encoding="utf-8")) == {"admin": "s3cret-login"}
    assert stat.S_IMODE(login.stat().st_mode) == 0o600


def test_storage_that_takes_no_write_stops_the_setup(setup_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    blocker = setup_env / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("PANTAU_STORAGE_URL", str(blocker / "storage"))
    assert main(["airflow-setup", "--require", "none"]) == 1
    # (the last line: Airflow's logging may complain first about a stream an earlier test's capture closed)
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"pantau: storage {blocker / 'storage'}: not writable (NotADirectoryError: ")
