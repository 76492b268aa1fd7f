"""agency_daily_indicators on a scenario small enough to compute by hand, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from etl.pipeline import compute_indicators
from etl.runtime import RunContext
from etl.settings import load_settings
from etl.warehouse import Warehouse

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)
AGENCIES = pd.DataFrame(
    [
        {"agency_code": "KEM-A", "name": "Kementerian A", "short_name": "A", "category": "kementerian", "parent_agency_code": None, "region_code": None},
        {"agency_code": "PROV-B", "name": "Provinsi B", "short_name": "B", "category": "provinsi", "parent_agency_code": None, "region_code": "99"},
    ]
)
ACCOUNTS = pd.DataFrame(
    [
        ("youtube:KEM-A:0", "KEM-A", "youtube", "UCa", 0),
        ("youtube:KEM-A:1", "KEM-A", "youtube", "UCa1", 1),
        ("youtube:PROV-B:0", "PROV-B", "youtube", "UCb", 0),
        ("instagram:PROV-B:0", "PROV-B", "instagram", "17841", 0),
    ],
    columns=["account_key", "agency_code", "platform", "platform_account_id", "layer"],
).assign(handle=None, active_from=date(2020, 1, 1), active_to=None, is_sandbox=False)


def account_snapshot(key: str, day: date, followers: int) -> dict:
    return {"account_key": key, "snapshot_date": day, "captured_at": datetime(2026, 11, 3), "followers": followers,
            "following": None, "total_posts": None, "total_views": None}


def post(pid: str, key: str, published_on: date) -> dict:
    return {"platform": "youtube", "platform_post_id": pid, "account_key": key, "published_at": datetime.combine(published_on, datetime.min.time()),
            "published_on": published_on, "post_type": "video", "title": pid, "text": None, "hashtags": None, "url": None,
            "referenced_post_id": None, "reference_kind": None}


def metric(pid: str, key: str, day: date, likes, comments, views) -> dict:
    return {"platform": "youtube", "platform_post_id": pid, "snapshot_date": day, "account_key": key, "captured_at": datetime(2026, 11, 3),
            "likes": likes, "comments": comments, "shares": None, "views": views, "saves": None, "quotes": None,
            "unavailable_metrics": None}


@pytest.fixture
def scenario(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    snapshots = pd.DataFrame(
        [account_snapshot("youtube:KEM-A:0", D1, 1000), account_snapshot("youtube:KEM-A:0", D2, 1100),
         account_snapshot("youtube:KEM-A:1", D2, 50), account_snapshot("youtube:PROV-B:0", D2, 500)]
    ).astype({"followers": "Int64", "following": "Int64", "total_posts": "Int64", "total_views": "Int64"})
    posts = pd.DataFrame(
        [post("pA1", "youtube:KEM-A:0", D1), post("pA2", "youtube:KEM-A:0", D2), post("pAold", "youtube:KEM-A:0", date(2026, 10, 1)),
         post("pL1", "youtube:KEM-A:1", D2), post("pB1", "youtube:PROV-B:0", D2)]
    )
    metrics = pd.DataFrame(
        [
            metric("pA1", "youtube:KEM-A:0", D1, 10, 2, 100),
            metric("pA1", "youtube:KEM-A:0", D2, 15, 3, 180),  # +5 likes +1 comment, +80 views
            metric("pA2", "youtube:KEM-A:0", D2, 4, None, 50),  # new today, comments off: 4, 50 views
            metric("pAold", "youtube:KEM-A:0", D2, 100, 0, 900),  # first seen, old: baseline unknown, not counted
            metric("pL1", "youtube:KEM-A:1", D2, 1000, 0, 5000),  # layer 1: not the agency's own engagement
            metric("pB1", "youtube:PROV-B:0", D2, None, 7, 70),  # hidden likes: 7, 70 views
        ]
    ).astype({c: "Int64" for c in ["likes", "comments", "shares", "views", "saves", "quotes"]})
    coverage = pd.DataFrame(
        [
            {"account_key": k, "snapshot_date": D2, "platform": k.split(":")[0], "status": s, "message": None}
            for k, s in [("youtube:KEM-A:0", "ok"), ("youtube:KEM-A:1", "ok"), ("youtube:PROV-B:0", "ok"), ("instagram:PROV-B:0", "api_error")]
        ]
    )
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "agencies", AGENCIES, "dim_agency")
        warehouse.merge(conn, "accounts", ACCOUNTS, "dim_account", {"closed_on": D2})
        warehouse.merge(conn, "account_snapshots", snapshots, "fact_account_daily")
        warehouse.merge(conn, "posts", posts, "dim_post", {"snapshot_date": D2})
        warehouse.merge(conn, "post_metrics", metrics, "fact_post_metrics_daily")
        warehouse.merge(conn, "account_coverage", coverage, "etl_account_coverage")
    return warehouse


COLUMNS = ["agency_code", "platform", "posts_published", "followers", "follower_growth", "engagement", "views",
           "engagement_rate", "accounts_registered", "accounts_collected", "coverage"]
EXPECTED_D2 = [
    ("KEM-A", "all", 1, 1100, 100, 10, 130, 10 * 1000 / 1100, 2, 2, 1.0),
    ("KEM-A", "youtube", 1, 1100, 100, 10, 130, 10 * 1000 / 1100, 2, 2, 1.0),
    ("PROV-B", "all", 1, 500, None, 7, 70, 14.0, 2, 1, 0.5),
    ("PROV-B", "instagram", 0, None, None, None, None, None, 1, 0, 0.0),
    ("PROV-B", "youtube", 1, 500, None, 7, 70, 14.0, 1, 1, 1.0),
]


def indicators(warehouse: Warehouse, day: date) -> list[tuple]:
    rows = warehouse.query(
        f"SELECT {', '.join(COLUMNS)} FROM agency_daily_indicators WHERE indicator_date = :day ORDER BY agency_code, platform", {"day": day}
    )
    return [tuple(None if v is None else (round(float(v), 6) if isinstance(v, float) else v) for v in r) for r in rows]


def expected(rows: list[tuple]) -> list[tuple]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows]


def test_hand_computed_indicators(scenario: Warehouse) -> None:
    run = RunContext.for_day(D2, run_id="test", dag_id="agency_indicators")
    assert compute_indicators(run, load_settings()) == 5
    assert indicators(scenario, D2) == expected(EXPECTED_D2)


def test_tables_the_models_fill_are_analyzed_before_the_next_model(scenario: Warehouse) -> None:
    """PostgreSQL: the planner's statistics hold the night's rows of every table a model reads, the registry's and
    those the models fill themselves (-1 = never analyzed: on a first night the planner took the day's agency rows,
    and dim_account, for a handful of rows and nested-looped the UPDATEs)."""
    if scenario.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    compute_indicators(RunContext.for_day(D2, run_id="test", dag_id="agency_indicators"), load_settings())
    rows = scenario.query("SELECT relname, reltuples FROM pg_class WHERE relname IN ('agency_daily_indicators', "
                          "'fact_post_daily_increase', 'campaign_post', 'agency_campaign_daily', 'dim_account', "
                          "'dim_agency', 'campaign', 'campaign_term', 'fact_news_mention') ORDER BY relname")
    assert [tuple(r) for r in rows] == [("agency_campaign_daily", 0.0), ("agency_daily_indicators", 5.0),
                                        ("campaign", 0.0), ("campaign_post", 0.0), ("campaign_term", 0.0),
                                        ("dim_account", 4.0), ("dim_agency", 2.0), ("fact_news_mention", 0.0),
                                        ("fact_post_daily_increase", 5.0)]


def test_recomputing_a_day_changes_nothing(scenario: Warehouse) -> None:
    run = RunContext.for_day(D2, run_id="test", dag_id="agency_indicators")
    compute_indicators(run, load_settings())
    compute_indicators(run.on_day(D1), load_settings())
    compute_indicators(run, load_settings())
    assert indicators(scenario, D2) == expected(EXPECTED_D2)
    # Day 1: pA1 published that day counts in full (10 + 2), followers 1000, no growth known.
    assert indicators(scenario, D1)[0] == expected([("KEM-A", "all", 1, 1000, None, 12, 100, 12.0, 2, 0, 0.0)])[0]


def test_previous_snapshot_across_missed_nights(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """The increase is taken from each post's latest earlier snapshot inside the lookback (repull + 30 = 60 days),
    whether that is the night before, a night before a gap, or none."""
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    key = "youtube:KEM-A:0"
    day = D2
    back = [day - pd.Timedelta(days=n).to_pytimedelta() for n in range(80)]
    posts = pd.DataFrame([post("pDaily", key, back[20]), post("pGap", key, back[10]), post("pStale", key, back[70]),
                          post("pNew", key, day), post("pEdge", key, back[65])])
    metrics = pd.DataFrame([
        metric("pDaily", key, back[5], 1, 1, 10), metric("pDaily", key, back[1], 20, 2, 200),
        metric("pDaily", key, day, 26, 3, 260),            # since the night before: +6 +1, +60 views
        metric("pGap", key, back[3], 10, 0, 100), metric("pGap", key, day, 25, 0, 160),  # missed 2 nights: +15, +60
        metric("pStale", key, back[61], 5, 5, 50), metric("pStale", key, day, 9, 5, 90),  # older than the lookback
        metric("pEdge", key, back[60], 7, 0, 70), metric("pEdge", key, day, 8, 0, 75),    # on the lookback's first day
        metric("pNew", key, day, 3, 1, 30),                # published today: counts in full
    ]).astype({c: "Int64" for c in ["likes", "comments", "shares", "views", "saves", "quotes"]})
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "agencies", AGENCIES, "dim_agency")
        warehouse.merge(conn, "accounts", ACCOUNTS, "dim_account", {"closed_on": day})
        warehouse.merge(conn, "posts", posts, "dim_post", {"snapshot_date": day})
        warehouse.merge(conn, "post_metrics", metrics, "fact_post_metrics_daily")
    compute_indicators(RunContext.for_day(day, run_id="test", dag_id="agency_indicators"), load_settings())
    rows = warehouse.query("SELECT platform_post_id, engagement, views FROM fact_post_daily_increase "
                           "WHERE snapshot_date = :day ORDER BY platform_post_id", {"day": day})
    assert [tuple(r) for r in rows] == [("pDaily", 7, 60), ("pEdge", 1, 5), ("pGap", 15, 60), ("pNew", 4, 30),
                                        ("pStale", None, None)]
