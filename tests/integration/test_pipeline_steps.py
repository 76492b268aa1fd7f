"""parse_validate and load on a landing file of recorded-shape payloads, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from etl.http import CallRecord
from etl.landing import LandingWriter, landing_path
from etl.pipeline import load_shard, parse_validate_shard
from etl.runtime import RunContext
from etl.settings import load_settings
from etl.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"
DAY = date(2026, 11, 20)
CHANNEL = "UCp2Zq3nq8QmC6Xq0eW1xY4A"


@pytest.fixture
def landed(tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    run = RunContext.for_day(DAY, run_id="manual__test", dag_id="social_metrics")
    path = landing_path(tmp_path / "landing", "youtube", DAY, run.run_id, "youtube-000")
    with LandingWriter(path, source="youtube") as landing:
        landing.context = {"endpoint": "channels", "account": None}
        landing.write(CallRecord("GET", "http://x/channels?id=a", 200, (FIXTURES / "channels_list.json").read_text(), 3, 1))
        landing.context = {"endpoint": "videos", "account": None}
        landing.write(CallRecord("GET", "http://x/videos?id=x", 503, "{}", 3, 1))  # a failed attempt lands too
        landing.write(CallRecord("GET", "http://x/videos?id=dQw4w9WgXcQ,aBcD_12-xYz,Zz9_Yy8-Xx7,BadCount001", 200,
                                 (FIXTURES / "videos_list.json").read_text(), 3, 2))
    outcomes = path.with_name("youtube-000.outcomes.json")
    outcomes.write_text(json.dumps({
        "platform": "youtube", "accounts": {"youtube:KEM-A:0": CHANNEL},
        "outcomes": {"youtube:KEM-A:0": {"status": "ok", "message": None}}, "api_calls": 3, "api_retries": 1, "quota_units": 3,
    }))
    return {"run": run, "extracted": {"platform": "youtube", "part": "youtube-000", "shard": 0, "landing": str(path), "outcomes": str(outcomes)}}


def test_bad_rows_reach_quarantine_and_good_rows_the_warehouse(landed: dict, warehouse: Warehouse) -> None:
    run = landed["run"]
    validated = parse_validate_shard(landed["extracted"], run, load_settings())
    assert validated["counts"] == {"rows_extracted": 10, "rows_valid": 8, "rows_quarantined": 2}
    loaded = load_shard(validated, run, load_settings())
    assert loaded == {"dim_post": 4, "fact_account_daily": 1, "fact_post_metrics_daily": 3, "post_deletions": 0, "etl_account_coverage": 1}
    quarantined = warehouse.query("SELECT frame, record_key, account, failed_expectations, parse_issue FROM etl_quarantine ORDER BY frame, record_key")
    assert [tuple(r) for r in quarantined] == [
        ("account_snapshots", "youtube|UCz9Wq1mR5tY8uI3oP6aS2dF|2026-11-20", None,
         '["expect_column_values_to_not_be_null(account_key)"]', None),
        ("post_metrics", "youtube|BadCount001|2026-11-20", "youtube:KEM-A:0",
         '["expect_column_values_to_be_null(parse_issue)"]', "statistics.viewCount: 'many' is not a count"),
    ]
    hidden = warehouse.query("SELECT likes FROM fact_post_metrics_daily WHERE platform_post_id = 'aBcD_12-xYz'")
    assert [r[0] for r in hidden] == [None]
    runs = warehouse.query("SELECT task_id, status, rows_quarantined, rows_loaded, api_calls, api_retries FROM etl_run ORDER BY task_id")
    assert [tuple(r) for r in runs] == [("collect_youtube.load", "success", 2, 8, 3, 1), ("collect_youtube.parse_validate", "success", 2, None, None, None)]


def test_rerunning_the_steps_changes_nothing(landed: dict, warehouse: Warehouse) -> None:
    run, settings = landed["run"], load_settings()
    for _ in range(2):
        load_shard(parse_validate_shard(landed["extracted"], run, settings), run, settings)
    counts = warehouse.table_counts(["dim_post", "fact_post_metrics_daily", "fact_account_daily", "etl_quarantine"])
    assert counts == {"dim_post": 4, "fact_post_metrics_daily": 3, "fact_account_daily": 1, "etl_quarantine": 2}


def test_a_quarantined_post_takes_its_snapshot_with_it(tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    run = RunContext.for_day(DAY, run_id="manual__test", dag_id="social_metrics")
    videos = json.loads((FIXTURES / "videos_list.json").read_text())
    del videos["items"][0]["snippet"]["publishedAt"]  # dQw4w9WgXcQ: a post we cannot date
    path = landing_path(tmp_path / "landing", "youtube", DAY, run.run_id, "youtube-000")
    with LandingWriter(path, source="youtube") as landing:
        landing.context = {"endpoint": "videos", "account": None}
        landing.write(CallRecord("GET", "http://x/videos?id=dQw4w9WgXcQ,aBcD_12-xYz", 200, json.dumps(videos), 3, 1))
    outcomes = path.with_name("youtube-000.outcomes.json")
    outcomes.write_text(json.dumps({"platform": "youtube", "accounts": {"youtube:KEM-A:0": CHANNEL}, "outcomes": {},
                                    "api_calls": 1, "api_retries": 0, "quota_units": 1}))
    extracted = {"platform": "youtube", "part": "youtube-000", "shard": 0, "landing": str(path), "outcomes": str(outcomes)}
    load_shard(parse_validate_shard(extracted, run, load_settings()), run, load_settings())
    quarantined = warehouse.query("SELECT frame, record_key, failed_expectations FROM etl_quarantine WHERE record_key LIKE '%dQw4w9WgXcQ%' ORDER BY frame")
    assert [tuple(r) for r in quarantined] == [
        ("post_metrics", "youtube|dQw4w9WgXcQ|2026-11-20", '["expect_column_values_to_not_be_null(account_key)"]'),
        ("posts", "youtube|dQw4w9WgXcQ", '["expect_column_values_to_not_be_null(published_at)", "expect_column_values_to_be_null(parse_issue)"]'),
    ]
    assert warehouse.query("SELECT COUNT(*) FROM fact_post_metrics_daily WHERE platform_post_id = 'dQw4w9WgXcQ'")[0][0] == 0
