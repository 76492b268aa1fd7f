"""A hand-made scenario: three agencies in two categories, six accounts, three days, one campaign.

The data and every expected value are written out in tests/integration/test_indicator_scenario.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from etl.pipeline import compute_indicators
from etl.runtime import RunContext
from etl.settings import load_settings
from etl.warehouse import Warehouse

D1, D2, D3 = date(2026, 9, 5), date(2026, 9, 6), date(2026, 9, 7)
WIB = timedelta(hours=7)


def utc(day: date, hour_wib: int) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour_wib) - WIB


def captured(day: date) -> datetime:
    return utc(day + timedelta(days=1), 1)


def build_scenario(warehouse: Warehouse, days: tuple[date, ...] | None = None) -> Warehouse:
    """Load the scenario into ``warehouse`` and compute D1..D3 (WAREHOUSE_URL must point at it).

    With ``days``, each day's facts (snapshots, metrics, coverage, the posts published by then) are loaded and its
    indicators computed one day at a time, in that order, as nightly runs or a backfill would.
    """
    agencies = pd.DataFrame(
        [("KEM-A", "Kementerian A", "kementerian"), ("KEM-B", "Kementerian B", "kementerian"), ("PROV-C", "Provinsi C", "provinsi")],
        columns=["agency_code", "name", "category"],
    ).assign(short_name=None, parent_agency_code=None, region_code=None)
    accounts = pd.DataFrame(
        [("yt:A0", "KEM-A", 0, "youtube"), ("yt:A1", "KEM-A", 1, "youtube"), ("x:A0", "KEM-A", 0, "x"), ("x:A1", "KEM-A", 1, "x"),
         ("yt:B0", "KEM-B", 0, "youtube"), ("yt:C0", "PROV-C", 0, "youtube")],
        columns=["account_key", "agency_code", "layer", "platform"],
    ).assign(handle=None, platform_account_id=lambda d: d["account_key"], active_from=date(2020, 1, 1), active_to=None, is_sandbox=False)
    platform_of = dict(zip(accounts["account_key"], accounts["platform"], strict=True))
    campaigns = pd.DataFrame([{"campaign_code": "CAMP", "name": "KTT ASEAN", "theme": None, "hashtags": "aseanmatters",
                               "keywords": "KTT ASEAN", "starts_on": D1, "ends_on": D3, "is_sandbox": False}])
    terms = pd.DataFrame([("CAMP", "hashtag", "aseanmatters"), ("CAMP", "keyword", "KTT ASEAN")], columns=["campaign_code", "term_kind", "term"])
    followers = {"yt:A0": [1000, 1010, 1030], "yt:A1": [100, 100, 100], "x:A0": [500, 500, 500], "x:A1": [80, 80, 80],
                 "yt:B0": [2000, 2000, 1990]}
    snapshots = pd.DataFrame(
        [{"account_key": k, "snapshot_date": d, "captured_at": captured(d), "followers": f, "following": None, "total_posts": None,
          "total_views": None} for k, values in followers.items() for d, f in zip((D1, D2, D3), values, strict=True)]
    ).astype({"followers": "Int64", "following": "Int64", "total_posts": "Int64", "total_views": "Int64"})
    videos = pd.DataFrame(
        [
            ("a1", "yt:A0", D1, 2, "aseanmatters", "KTT ASEAN di Jakarta"),
            ("a2", "yt:A0", D2, 10, None, "Layanan publik"),
            ("l1", "yt:A1", D1, 12, "aseanmatters", "Dukung"),
            ("b1", "yt:B0", D1, 9, "aseanmatters", "ASEAN"),
            ("b2", "yt:B0", D3, 8, None, "Liputan ktt asean hari ketiga"),
        ],
        columns=["platform_post_id", "account_key", "published_on", "hour", "hashtags", "title"],
    ).assign(post_type="video", text=None, referenced_post_id=None, reference_kind=None)
    tweets = pd.DataFrame(  # no metric snapshots: only what they reference matters here
        [
            ("xa1", "x:A0", D1, 7, "Jadwal layanan publik pekan ini", None, None),
            ("xa2", "x:A0", D1, 11, "Rapat koordinasi daerah", None, None),
            ("xa3", "x:A0", D1, 15, "Pengumuman seleksi pegawai", None, None),
            ("xl1", "x:A1", D2, 20, "RT @kema: Jadwal layanan publik pekan ini", "xa1", "repost"),
            ("xl2", "x:A1", D3, 12, "Simak rapat kemarin lusa", "xa2", "quote"),
            ("xl3", "x:A1", D1, 16, "Terima kasih infonya", "xa3", "reply"),
        ],
        columns=["platform_post_id", "account_key", "published_on", "hour", "text", "referenced_post_id", "reference_kind"],
    ).assign(hashtags=None, title=None, post_type=lambda d: d["reference_kind"].fillna("post"))
    posts = pd.concat([videos, tweets], ignore_index=True)
    posts = posts.assign(platform=posts["account_key"].map(platform_of),
                         published_at=[utc(d, h) for d, h in zip(posts["published_on"], posts["hour"], strict=True)],
                         url=None).drop(columns=["hour"])
    counters = {
        "a1": {D1: (10, 2, 100), D2: (30, 4, 300), D3: (40, 5, 350)},
        "a2": {D2: (5, 0, 50), D3: (9, 1, 80)},
        "l1": {D1: (1, 0, 10), D2: (2, 0, 20), D3: (3, 0, 30)},
        "b1": {D1: (20, 0, 200), D2: (20, 1, 260), D3: (25, 1, 300)},
        "b2": {D3: (7, None, 70)},
    }
    owner = dict(zip(posts["platform_post_id"], posts["account_key"], strict=True))
    metrics = pd.DataFrame(
        [{"platform": "youtube", "platform_post_id": pid, "snapshot_date": d, "account_key": owner[pid], "captured_at": captured(d),
          "likes": c[0], "comments": c[1], "views": c[2], "shares": None, "saves": None, "quotes": None,
          "unavailable_metrics": None}
         for pid, days in counters.items() for d, c in days.items()]
    )
    metrics = metrics.astype({c: "Int64" for c in ["likes", "comments", "shares", "views", "saves", "quotes"]})
    coverage = pd.DataFrame(
        [{"account_key": k, "snapshot_date": d, "platform": platform_of[k], "status": "api_error" if k == "yt:C0" else "ok", "message": None}
         for k in accounts["account_key"] for d in (D1, D2, D3)]
    )
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "agencies", agencies, "dim_agency")
        warehouse.merge(conn, "accounts", accounts, "dim_account", {"closed_on": D3})
        warehouse.merge(conn, "campaigns", campaigns, "campaign")
        warehouse.merge(conn, "campaign_terms", terms, "campaign_term")
    if days is not None:
        for day in days:
            with warehouse.transaction() as conn:
                warehouse.merge(conn, "account_snapshots", snapshots[snapshots["snapshot_date"] == day], "fact_account_daily")
                warehouse.merge(conn, "posts", posts[posts["published_on"] <= day], "dim_post", {"snapshot_date": day})
                warehouse.merge(conn, "post_metrics", metrics[metrics["snapshot_date"] == day], "fact_post_metrics_daily")
                warehouse.merge(conn, "account_coverage", coverage[coverage["snapshot_date"] == day], "etl_account_coverage")
            compute_indicators(RunContext.for_day(day, run_id=f"day-{day}", dag_id="agency_indicators"), load_settings())
        return warehouse
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "account_snapshots", snapshots, "fact_account_daily")
        warehouse.merge(conn, "posts", posts, "dim_post", {"snapshot_date": D1})
        warehouse.merge(conn, "post_metrics", metrics, "fact_post_metrics_daily")
        warehouse.merge(conn, "account_coverage", coverage, "etl_account_coverage")
    run = RunContext.for_day(D1, run_id="test", dag_id="agency_indicators")
    for day in (D1, D2, D3):
        compute_indicators(run.on_day(day), load_settings())
    return warehouse
