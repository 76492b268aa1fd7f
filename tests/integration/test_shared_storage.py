"""Landing, staging and outcomes on an object store (moto's S3 server on 127.0.0.1): the same night as on the
local disk, nothing written to the local data folder, and tasks hand each other URLs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.cli import run_day
from etl.runtime import RunContext
from etl.sandbox.server import SandboxServer
from etl.storage import locate, storage_options
from etl.warehouse import Warehouse
from tests.e2e.test_nightly_dags import write_accounts
from tests.object_store import s3_server

DAY = date(2026, 11, 10)
TABLES = ["dim_post", "fact_post_metrics_daily", "fact_account_daily", "etl_account_coverage", "agency_daily_indicators"]


def _night(tmp_path: Path, name: str, served: Path, registered: Path, env: dict[str, str], mp: pytest.MonkeyPatch) -> dict[str, int]:
    url = f"duckdb:///{tmp_path / f'{name}.duckdb'}"
    for key, value in {"WAREHOUSE_URL": url, "PANTAU_DATA_DIR": str(tmp_path / name), "PANTAU_ACCOUNTS_FILE": str(registered),
                       **env}.items():
        mp.setenv(key, value)
    with SandboxServer(served) as api:
        api.set_clock(RunContext.for_day(DAY, run_id="-", dag_id="-").as_of)
        mp.setenv("YOUTUBE_API_BASE", f"{api.base_url}/youtube/v3")
        mp.setenv("YOUTUBE_API_KEY", "sbxkey-demo")
        run_day(DAY, ["youtube"], run_id="night")
    warehouse = Warehouse(url)
    try:
        return warehouse.table_counts(TABLES) | {
            "landing_files": warehouse.query("SELECT COUNT(DISTINCT landing_file) FROM etl_quarantine")[0][0]
        }
    finally:
        warehouse.dispose()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix != ".duckdb")


def test_a_night_on_the_object_store_loads_what_the_local_disk_loads(tmp_path: Path) -> None:
    served, registered = write_accounts(tmp_path)
    with s3_server() as store, pytest.MonkeyPatch.context() as mp:
        for key in ("PANTAU_STORAGE_URL", "PANTAU_STORAGE_OPTIONS"):
            mp.delenv(key, raising=False)
        local = _night(tmp_path, "local", served, registered, {}, mp)
        remote = _night(tmp_path, "remote", served, registered, store.env, mp)
        keys = store.keys()
    assert local["fact_post_metrics_daily"] > 0 and local["dim_post"] > 0
    assert remote == local
    # The same landing, outcomes and staging files, in the bucket under the storage root instead of the data folder.
    local_files = _files(tmp_path / "local")
    assert local_files and any(f.endswith(".jsonl.gz") for f in local_files) and any(f.endswith(".parquet") for f in local_files)
    assert keys == [f"pantau/{f}" for f in local_files]
    assert not (tmp_path / "remote" / "landing").exists() and not (tmp_path / "remote" / "staging").exists()


def test_a_location_from_another_task_is_opened_with_the_storage_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_STORAGE_OPTIONS", '{"endpoint_url": "http://127.0.0.1:9000"}')
    path = locate("s3://pantau/landing/youtube/2026-11-10/night/youtube-000.jsonl.gz")
    assert (path.protocol, path.storage_options, path.name) == ("s3", {"endpoint_url": "http://127.0.0.1:9000"}, "youtube-000.jsonl.gz")
    assert locate("/srv/pantau/landing/x.jsonl.gz").protocol in ("", "file")


def test_storage_options_that_are_not_a_json_object_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_STORAGE_OPTIONS", "endpoint_url=http://minio:9000")
    with pytest.raises(ValueError) as error:
        storage_options()
    assert str(error.value) == 'setting PANTAU_STORAGE_OPTIONS must be a JSON object, e.g. {"endpoint_url": "http://minio:9000"}'
