"""The morning freshness check: the night's tables must hold the day; an empty one fails, named in the message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from etl.freshness import StaleTables, check_freshness
from etl.runtime import RunContext
from etl.warehouse import Warehouse
from tests.scenario import D3, build_scenario


@pytest.fixture
def scenario(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    return build_scenario(warehouse)


def _run(day) -> RunContext:
    return RunContext.for_day(day, run_id="freshness", dag_id="warehouse_freshness")


def test_a_loaded_day_is_fresh(scenario: Warehouse) -> None:
    # D3 of the scenario: five accounts with a follower snapshot (yt:A0, yt:A1, x:A0, x:A1, yt:B0), five videos with
    # metrics (a1, a2, l1, b1, b2), and the indicator rows the models wrote.
    counts = check_freshness(_run(D3))
    expected = {table: scenario.query(f"SELECT COUNT(*) FROM {table} WHERE {column} = :day", {"day": D3})[0][0]
                for table, column in (("fact_account_daily", "snapshot_date"), ("fact_post_metrics_daily", "snapshot_date"),
                                      ("agency_daily_indicators", "indicator_date"))}
    assert counts == expected
    assert (counts["fact_account_daily"], counts["fact_post_metrics_daily"]) == (5, 5)


def test_a_missing_night_names_every_empty_table(scenario: Warehouse) -> None:
    day = D3 + timedelta(days=1)
    with pytest.raises(StaleTables) as error:
        check_freshness(_run(day))
    assert str(error.value) == (f"warehouse not fresh for {day}: no rows in fact_account_daily, fact_post_metrics_daily, "
                                "agency_daily_indicators (rows: fact_account_daily=0, fact_post_metrics_daily=0, agency_daily_indicators=0)")


def test_indicators_not_computed_yet_are_stale(scenario: Warehouse) -> None:
    with scenario.transaction() as conn:
        conn.exec_driver_sql(f"DELETE FROM agency_daily_indicators WHERE indicator_date = '{D3.isoformat()}'")
    with pytest.raises(StaleTables) as error:
        check_freshness(_run(D3))
    assert str(error.value) == (f"warehouse not fresh for {D3}: no rows in agency_daily_indicators (rows: fact_account_daily=5, fact_post_metrics_daily=5, agency_daily_indicators=0)")
