"""The pantau command outside Airflow: argument checks and a real run against a scripted YouTube."""

from __future__ import annotations

import pytest

from etl.cli import _days, main


def test_day_range_is_inclusive() -> None:
    from datetime import date

    assert _days(date(2026, 11, 1), date(2026, 11, 3)) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    with pytest.raises(SystemExit, match="pantau: --to 2026-10-31 is before --date 2026-11-01"):
        _days(date(2026, 11, 1), date(2026, 10, 31))


def test_run_without_a_key_names_the_setting(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_key,agency_code,platform,handle,platform_account_id,layer,active_from,active_to\n"
        "youtube:KEM-KOMDIGI:0,KEM-KOMDIGI,youtube,,UCp2Zq3nq8QmC6Xq0eW1xY4A,0,2020-01-01,\n"
    )
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    assert main(["run", "--date", "2026-11-20"]) == 1
    assert [line for line in capsys.readouterr().err.splitlines() if line.startswith("pantau")] == [
        "pantau: 2026-11-20 youtube failed: source=youtube: no API key; set the password of Airflow connection 'youtube_api' "
        "or the environment variable YOUTUBE_API_KEY",
        "pantau: 1 platform run(s) failed; the other platforms and the indicators are loaded (see etl_run and etl_account_coverage)",
    ]
    assert (tmp_path / "warehouse.duckdb").exists()


def test_run_collects_a_day_against_the_sandbox(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from etl.runtime import RunContext
    from etl.sandbox.server import SandboxServer
    from etl.warehouse import Warehouse

    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_key,agency_code,platform,handle,platform_account_id,layer,active_from,active_to\n"
        "youtube:KEM-KOMDIGI:0,KEM-KOMDIGI,youtube,,UCp2Zq3nq8QmC6Xq0eW1xY4A,0,2020-01-01,\n"
        "youtube:PROV-21:0,PROV-21,youtube,,UCz9Wq1mR5tY8uI3oP6aS2dF,0,2020-01-01,\n"
    )
    day = date(2026, 11, 20)
    with SandboxServer(accounts, api_key="cli-key") as api:
        api.set_clock(RunContext.for_day(day, run_id="-", dag_id="-").as_of)
        monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
        monkeypatch.delenv("WAREHOUSE_URL", raising=False)
        monkeypatch.setenv("YOUTUBE_API_BASE", f"{api.base_url}/youtube/v3")
        monkeypatch.setenv("YOUTUBE_API_KEY", "cli-key")
        assert main(["run", "--date", day.isoformat()]) == 0
        served = api.stats["requests"]
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    counts = warehouse.table_counts(["fact_account_daily", "etl_account_coverage"])
    warehouse.dispose()
    assert counts == {"fact_account_daily": 2, "etl_account_coverage": 2}
    assert served["youtube.channels"] == 1  # both channels in one 50-id call


def test_one_failed_platform_does_not_stop_the_others(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """X fails (no key), YouTube is still collected and the indicators computed; one line per failure."""
    from datetime import date

    from etl.runtime import RunContext
    from etl.sandbox.server import SandboxServer
    from etl.warehouse import Warehouse

    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_key,agency_code,platform,handle,platform_account_id,layer,active_from,active_to\n"
        "youtube:KEM-KOMDIGI:0,KEM-KOMDIGI,youtube,,UCp2Zq3nq8QmC6Xq0eW1xY4A,0,2020-01-01,\n"
        "x:KEM-KOMDIGI:0,KEM-KOMDIGI,x,@kemkomdigi,1166941040371339264,0,2020-01-01,\n"
    )
    day = date(2026, 11, 20)
    monkeypatch.setenv("PANTAU_NO_AIRFLOW_CONNECTIONS", "1")
    from etl.platforms import get_platform

    monkeypatch.delenv(get_platform("x").secret_env, raising=False)
    with SandboxServer(accounts, api_key="cli-key") as api:
        api.set_clock(RunContext.for_day(day, run_id="-", dag_id="-").as_of)
        monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
        monkeypatch.delenv("WAREHOUSE_URL", raising=False)
        monkeypatch.setenv("YOUTUBE_API_BASE", f"{api.base_url}/youtube/v3")
        monkeypatch.setenv("YOUTUBE_API_KEY", "cli-key")
        code = main(["run", "--date", day.isoformat(), "--platform", "x", "--platform", "youtube"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("pantau")]
    assert code == 1
    assert len(lines) == 2 and lines[0].startswith("pantau: 2026-11-20 x failed: source=x: no API key;"), lines
    assert lines[1].startswith("pantau: 1 platform run(s) failed;")
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    counts = warehouse.table_counts(["fact_account_daily", "agency_daily_indicators"])
    statuses = warehouse.query("SELECT task_id, status FROM etl_run WHERE task_id LIKE 'collect_%' ORDER BY task_id")
    warehouse.dispose()
    assert counts["fact_account_daily"] == 1 and counts["agency_daily_indicators"] > 0  # YouTube, after X failed
    assert [tuple(r) for r in statuses] == [
        ("collect_x.extract", "failed"), ("collect_youtube.extract", "success"), ("collect_youtube.load", "success"),
        ("collect_youtube.parse_validate", "success"),
    ]


def test_limits_lists_the_blocks_and_lifts_them(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime, timedelta

    from etl.budget import SharedBudget
    from etl.pipeline import open_warehouse

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    now = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    warehouse = open_warehouse()
    budget = SharedBudget("x", 100, connection="x_api", warehouse=warehouse, run_id="r", clock=lambda: now)
    budget.block("user_tweets", now + timedelta(days=3650), "X rate limit on user_tweets resets in 900s; deferring the rest")
    budget.observe("users", remaining=12)
    budget.close()
    warehouse.dispose()
    capsys.readouterr()  # the setup's own logs
    assert main(["limits"]) == 0
    assert capsys.readouterr().out == (
        "x_api        user_tweets    blocked until 2036-11-18 18:00:00 UTC (deferred): "
        "X rate limit on user_tweets resets in 900s; deferring the rest\n"
        "x_api        users          open [calls_remaining=12]\n"
    )
    assert main(["limits", "--clear", "x_api"]) == 0
    assert capsys.readouterr().out == (
        "x_api: 1 block(s) lifted\n"
        "x_api        user_tweets    open\n"
        "x_api        users          open [calls_remaining=12]\n"
    )
