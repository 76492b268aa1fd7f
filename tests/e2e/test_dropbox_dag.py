"""social_metrics with Airflow picks up the dropped exports first: loaded once, and a file it cannot read fails
import_exports (without retries) and the run, not the API collection."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest

from etl.harness import DagRunner, prepare_airflow_db
from etl.warehouse import Warehouse

pytestmark = pytest.mark.airflow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 11, 21)


def test_the_nightly_dag_imports_the_dropbox_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = tmp_path / "accounts.csv"
    with accounts.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_key", "agency_code", "platform", "handle", "platform_account_id", "layer",
                         "active_from", "active_to", "collected_by"])
        writer.writerow(["tiktok:KEM-KEMENKOPOLKAM:0", "KEM-KEMENKOPOLKAM", "tiktok", "@sandbox_kemenko_tt", "sandbox_kemenko_tt",
                         0, "2020-01-01", "", "export"])
        writer.writerow(["x:KEM-KEMENKOPOLKAM:0", "KEM-KEMENKOPOLKAM", "x", "@sandbox_kemenko_x", "1700000000000000001",
                         0, "2020-01-01", "", "export"])
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    dropbox = tmp_path / "dropbox"
    (dropbox / "tiktok" / "sandbox_kemenko_tt").mkdir(parents=True)
    (dropbox / "x").mkdir(parents=True)
    shutil.copy(FIXTURES / "tiktok/exports/tiktok_studio_content.xlsx", dropbox / "tiktok" / "Content.xlsx")
    shutil.copy(FIXTURES / "tiktok/exports/pengikut_id.csv", dropbox / "tiktok" / "sandbox_kemenko_tt" / "Followers.csv")
    shutil.copy(FIXTURES / "x/exports/account_analytics_content.csv", dropbox / "x" / "account_analytics_content.csv")
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PANTAU_DROPBOX_DIR", str(dropbox))
    monkeypatch.setenv("WAREHOUSE_URL", url)
    prepare_airflow_db()
    runner = DagRunner()
    assert runner.run("registry_sync", DAY, 0, 30) == "success"
    assert runner.run("social_metrics", DAY, 1, 0) == "success"
    assert runner.task_states("social_metrics")[("import_exports", -1)] == ("success", 1)
    warehouse = Warehouse(url)
    loaded = [tuple(r) for r in warehouse.query(
        "SELECT account_key, COUNT(*), MIN(source) FROM fact_post_metrics_daily GROUP BY account_key ORDER BY 1")]
    assert loaded == [("tiktok:KEM-KEMENKOPOLKAM:0", 2, "export"), ("x:KEM-KEMENKOPOLKAM:0", 2, "export")]
    warehouse.dispose()

    shutil.copy(FIXTURES / "x/exports/not_an_export.csv", dropbox / "x" / "kontak humas.csv")
    assert runner.run("social_metrics", DAY, 1, 0) == "failed"
    states = runner.task_states("social_metrics")
    assert states[("import_exports", -1)] == ("failed", 1)  # no retry: the file will not read better
    assert states[("plan_tiktok", -1)][0] == "success"  # the API side ran regardless
    assert states[("publish", -1)] == ("failed", 1)
    warehouse = Warehouse(url)
    files = [tuple(r) for r in warehouse.query("SELECT file_name, status FROM etl_export_file ORDER BY file_name")]
    audits = [tuple(r) for r in warehouse.query(
        "SELECT status, message FROM etl_run WHERE task_id LIKE 'import_exports.%' AND status <> 'success'")]
    warehouse.dispose()
    assert files == [("Content.xlsx", "loaded"), ("Followers.csv", "loaded"), ("account_analytics_content.csv", "loaded"),
                     ("kontak humas.csv", "rejected")]
    # etl_run has one row per file imported (import_exports.<hash>): the rejected one says why.
    assert [(status, msg.split(";")[0]) for status, msg in audits] == [
        ("partial", "kontak humas.csv: rejected: export file kontak humas.csv: unknown format")]
