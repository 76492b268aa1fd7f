"""Platform analytics exports (the file drop) end to end on DuckDB and PostgreSQL: each format, a duplicate drop,
a corrected drop, an unmatched account, an unknown format, the dropbox, and no double count with API snapshots."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from etl.dropbox import import_dropbox, import_export
from etl.pipeline import compute_indicators, plan_accounts, sync_registry
from etl.runtime import RunContext
from etl.settings import PROJECT_ROOT, load_settings
from etl.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 11, 21)
AGENCY = "KEM-KEMENKOPOLKAM"
#: The registry accounts the fixtures name (sandbox-style synthetic ids and handles).
ACCOUNTS = [
    ("facebook:KEM-KEMENKOPOLKAM:0", "facebook", "@sandbox_kemenko_fb", "100000000000001", "export"),
    ("instagram:KEM-KEMENKOPOLKAM:0", "instagram", "@sandbox_kemenko_ig", "17841400000000002", "export"),
    ("youtube:KEM-KEMENKOPOLKAM:0", "youtube", "@sandbox-kemenko", "UCsbxKemenkoPolkam000001", "export"),
    ("tiktok:KEM-KEMENKOPOLKAM:0", "tiktok", "@sandbox_kemenko_tt", "sandbox_kemenko_tt", "export"),
    ("x:KEM-KEMENKOPOLKAM:0", "x", "@sandbox_kemenko_x", "1700000000000000001", "api"),
]


@pytest.fixture
def env(tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> dict:
    accounts = tmp_path / "accounts.csv"
    with accounts.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_key", "agency_code", "platform", "handle", "platform_account_id", "layer",
                         "active_from", "active_to", "collected_by"])
        for key, platform, handle, account_id, collected_by in ACCOUNTS:
            writer.writerow([key, AGENCY, platform, handle, account_id, 0, "2020-01-01", "", collected_by])
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("PANTAU_REGISTRY_DIR", str(PROJECT_ROOT / "registry"))
    run = RunContext.for_day(DAY, run_id="manual__exports", dag_id="social_metrics")
    return {"run": run, "settings": load_settings(), "tmp": tmp_path}


def _import(env: dict, warehouse: Warehouse, path: Path, **kwargs):
    return import_export(path, kwargs.pop("run", env["run"]), env["settings"], warehouse=warehouse, **kwargs)


def _rows(warehouse: Warehouse, sql: str) -> list[tuple]:
    return [tuple(r) for r in warehouse.query(sql)]


# (fixture, declared account (drop folder), format, rows loaded per table, one table's rows to check)
FORMATS = [
    ("facebook/exports/meta_facebook_posts.csv", None, "meta_facebook_posts",
     {"dim_post": 2, "fact_post_metrics_daily": 2, "fact_account_daily": 0, "etl_account_coverage": 1},
     "SELECT platform_post_id, likes, comments, shares, views FROM fact_post_metrics_daily ORDER BY 1",
     [("100000000000001_5550001", 1234, 56, 78, None), ("100000000000001_5550002", 45, 3, 0, None)]),
    ("facebook/exports/halaman_harian_id.csv", "100000000000001", "meta_facebook_page_daily",
     {"dim_post": 0, "fact_post_metrics_daily": 0, "fact_account_daily": 2, "etl_account_coverage": 2},
     "SELECT snapshot_date, followers, source FROM fact_account_daily ORDER BY 1",
     [(date(2026, 11, 19), 12340, "export"), (date(2026, 11, 20), 12345, "export")]),
    ("instagram/exports/meta_instagram_posts_utf16.tsv", None, "meta_instagram_posts",
     {"dim_post": 2, "fact_post_metrics_daily": 2, "fact_account_daily": 0, "etl_account_coverage": 1},
     "SELECT p.platform_post_id, p.post_type, p.published_at, m.likes, m.comments, m.saves FROM dim_post p "
     "JOIN fact_post_metrics_daily m USING (platform, platform_post_id) ORDER BY 1",
     [("17900000000000001", "image", datetime(2026, 11, 20, 12, 30), 2345, 67, None),
      ("17900000000000002", "reel", datetime(2026, 11, 21, 0, 5), 512, 21, None)]),
    ("instagram/exports/account_daily.csv", "17841400000000002", "meta_instagram_account_daily",
     {"dim_post": 0, "fact_post_metrics_daily": 0, "fact_account_daily": 2, "etl_account_coverage": 2},
     "SELECT snapshot_date, followers, captured_at FROM fact_account_daily ORDER BY 1",
     [(date(2026, 11, 20), 23456, datetime(2026, 11, 20, 17, 0)), (date(2026, 11, 21), 23470, datetime(2026, 11, 21, 17, 0))]),
    ("youtube/exports/table_data_content.csv", "@sandbox-kemenko", "youtube_studio_content",
     {"dim_post": 2, "fact_post_metrics_daily": 2, "fact_account_daily": 0, "etl_account_coverage": 1},
     "SELECT platform_post_id, views, likes, comments, shares FROM fact_post_metrics_daily ORDER BY 1",
     [("sbxVideo001", 12000, 700, 50, None), ("sbxVideo002", 3100, 112, 14, None)]),
    ("youtube/exports/tabel_tanggal_id.csv", "UCsbxKemenkoPolkam000001", "youtube_studio_date",
     {"dim_post": 0, "fact_post_metrics_daily": 0, "fact_account_daily": 2, "etl_account_coverage": 2},
     "SELECT snapshot_date, followers, total_views FROM fact_account_daily ORDER BY 1",
     [(date(2026, 11, 20), None, None), (date(2026, 11, 21), None, None)]),
    ("tiktok/exports/tiktok_studio_content.xlsx", None, "tiktok_studio_content",
     {"dim_post": 2, "fact_post_metrics_daily": 2, "fact_account_daily": 0, "etl_account_coverage": 1},
     "SELECT platform_post_id, views, likes, comments, shares FROM fact_post_metrics_daily ORDER BY 1",
     [("7300000000000000001", 25000, 1500, 42, 17), ("7300000000000000002", 4100, 300, 8, 2)]),
    ("tiktok/exports/pengikut_id.csv", "sandbox_kemenko_tt", "tiktok_studio_followers",
     {"dim_post": 0, "fact_post_metrics_daily": 0, "fact_account_daily": 2, "etl_account_coverage": 2},
     "SELECT snapshot_date, followers FROM fact_account_daily ORDER BY 1",
     [(date(2026, 11, 20), 8010), (date(2026, 11, 21), 8025)]),
    ("x/exports/account_analytics_content.csv", None, "x_post_activity",
     {"dim_post": 2, "fact_post_metrics_daily": 2, "fact_account_daily": 0, "etl_account_coverage": 1},
     "SELECT platform_post_id, likes, comments, shares, views, saves, quotes, unavailable_metrics FROM fact_post_metrics_daily ORDER BY 1",
     [("1860000000000000001", 321, 15, 44, 10400, 12, None, "quotes=not in the X post activity export"),
      ("1860000000000000002", 9, 1, 2, 800, 0, None, "quotes=not in the X post activity export")]),
    ("x/exports/tweet_activity_legacy.csv", None, "x_tweet_activity",
     {"dim_post": 1, "fact_post_metrics_daily": 1, "fact_account_daily": 0, "etl_account_coverage": 1},
     "SELECT p.post_type, p.published_at, m.likes, m.shares, m.views, m.unavailable_metrics FROM dim_post p "
     "JOIN fact_post_metrics_daily m USING (platform, platform_post_id)",
     # A repost earns nothing of its own, as the API source says: its counters are NULL with the reason.
     [("repost", datetime(2026, 11, 19, 4, 0), None, None, None,
       "; ".join(f"{m}=repost: X sends the original's counts" for m in sorted(["likes", "comments", "shares", "views", "saves", "quotes"])))]),
]


@pytest.mark.parametrize(("fixture", "account", "fmt", "loaded", "sql", "expected"), FORMATS, ids=[f[2] for f in FORMATS])
def test_each_format_lands_validates_and_merges(env: dict, warehouse: Warehouse, fixture: str, account: str | None,
                                                 fmt: str, loaded: dict, sql: str, expected: list) -> None:
    platform = fixture.split("/")[0]
    result = _import(env, warehouse, FIXTURES / fixture, platform=platform, account=account)
    assert (result.status, result.export_format, result.loaded) == ("loaded", fmt, loaded)
    assert _rows(warehouse, sql) == expected
    # Provenance on every row: source, file name and hash; the raw file landed byte for byte.
    provenance = _rows(warehouse, "SELECT DISTINCT source, export_file, export_hash FROM fact_post_metrics_daily "
                                  "UNION SELECT DISTINCT source, export_file, export_hash FROM fact_account_daily")
    assert provenance == [("export", Path(fixture).name, result.file_hash)]
    (landed,) = _rows(warehouse, "SELECT landing_file FROM etl_export_file")
    assert Path(landed[0]).read_bytes() == (FIXTURES / fixture).read_bytes()
    key = f"{platform}:{AGENCY}:0"
    coverage = _rows(warehouse, "SELECT DISTINCT account_key, status FROM etl_account_coverage")
    assert coverage == [(key, "ok_export")]


def test_a_fraction_where_a_count_belongs_is_quarantined_with_its_line(env: dict, warehouse: Warehouse) -> None:
    result = _import(env, warehouse, FIXTURES / "facebook/exports/halaman_harian_id.csv", platform="facebook", account="100000000000001")
    assert result.quarantined == 1
    assert _rows(warehouse, "SELECT source, frame, record_key, account, failed_expectations, parse_issue FROM etl_quarantine") == [
        ("export", "account_snapshots", "facebook|100000000000001|2026-11-21", "facebook:KEM-KEMENKOPOLKAM:0",
         '["expect_column_values_to_be_null(parse_issue)"]', "followers: '12.351,5' is not a whole count"),
    ]


def test_the_same_file_dropped_twice_changes_nothing(env: dict, warehouse: Warehouse) -> None:
    first = _import(env, warehouse, FIXTURES / "x/exports/account_analytics_content.csv")
    before = {t: _rows(warehouse, f"SELECT * FROM {t} ORDER BY 1, 2") for t in
              ("dim_post", "fact_post_metrics_daily", "etl_account_coverage", "etl_export_file", "etl_quarantine", "etl_run")}
    again = env["tmp"] / "copy with another name.csv"
    shutil.copy(FIXTURES / "x/exports/account_analytics_content.csv", again)
    later = RunContext.for_day(date(2026, 11, 23), run_id="manual__later", dag_id="social_metrics")
    second = _import(env, warehouse, again, run=later)
    assert (first.status, second.status, second.file_hash) == ("loaded", "duplicate", first.file_hash)
    assert second.summary().startswith("copy with another name.csv: already imported (as account_analytics_content.csv at ")
    assert {t: _rows(warehouse, f"SELECT * FROM {t} ORDER BY 1, 2") for t in before} == before


def test_a_corrected_file_replaces_the_earlier_rows_for_its_account_and_day(env: dict, warehouse: Warehouse) -> None:
    original = FIXTURES / "x/exports/account_analytics_content.csv"
    first = _import(env, warehouse, original)
    lines = original.read_text(encoding="utf-8").splitlines()
    # The corrected export: the first post's likes fixed (321 -> 330), the second post gone.
    corrected = env["tmp"] / "account_analytics_content (1).csv"
    corrected.write_text("\n".join([lines[0], lines[1].replace(",321,", ",330,")]) + "\n", encoding="utf-8")
    second = _import(env, warehouse, corrected)
    assert (second.status, second.loaded["fact_post_metrics_daily"]) == ("loaded", 1)
    assert _rows(warehouse, "SELECT platform_post_id, likes, export_file FROM fact_post_metrics_daily") == [
        ("1860000000000000001", 330, "account_analytics_content (1).csv")]
    assert _rows(warehouse, "SELECT file_name, status FROM etl_export_file ORDER BY file_name") == [
        ("account_analytics_content (1).csv", "loaded"), ("account_analytics_content.csv", "replaced")]
    # The day before is another period: not touched by the correction.
    assert first.period == second.period == (DAY, DAY)


def test_an_unmatched_account_goes_to_quarantine_with_the_reason(env: dict, warehouse: Warehouse) -> None:
    result = _import(env, warehouse, FIXTURES / "x/exports/unregistered_account.csv")
    assert (result.status, result.quarantined, result.loaded["fact_post_metrics_daily"]) == ("quarantined", 2, 0)
    reason = "account: x account 'akun_tak_terdaftar' is not in the registry (registry/accounts.csv: platform_account_id or handle)"
    assert result.message == reason
    assert _rows(warehouse, "SELECT record_key, account, failed_expectations, parse_issue FROM etl_quarantine ORDER BY 1") == [
        ("line:2", None, '["account registered (registry/accounts.csv)"]', reason),
        ("line:3", None, '["account registered (registry/accounts.csv)"]', reason),
    ]
    assert _rows(warehouse, "SELECT account_key, status, message FROM etl_export_file") == [("-", "quarantined", reason)]
    assert _rows(warehouse, "SELECT COUNT(*) FROM dim_post") == [(0,)]


def test_a_file_without_an_account_column_needs_its_drop_folder(env: dict, warehouse: Warehouse) -> None:
    result = _import(env, warehouse, FIXTURES / "tiktok/exports/pengikut_id.csv", platform="tiktok")
    assert result.status == "quarantined"
    assert result.message == ("account: the export names no tiktok account; drop it in data/dropbox/tiktok/<handle or id>/ "
                              "or pass --account")


def test_an_unknown_format_is_rejected_naming_the_file_and_its_headers(env: dict, warehouse: Warehouse) -> None:
    result = _import(env, warehouse, FIXTURES / "x/exports/not_an_export.csv")
    assert result.status == "rejected"
    assert result.message.startswith("export file not_an_export.csv: unknown format; headers seen: 'Nama', 'Jabatan', 'Telepon'; known formats: ")
    assert _rows(warehouse, "SELECT frame, record_key, parse_issue FROM etl_quarantine") == [("export_file", "file:not_an_export.csv", result.message)]
    assert _rows(warehouse, "SELECT status FROM etl_export_file") == [("rejected",)]
    assert _import(env, warehouse, FIXTURES / "x/exports/not_an_export.csv").status == "duplicate"


def test_the_dropbox_takes_new_files_once_and_reads_the_account_from_its_folder(env: dict, warehouse: Warehouse) -> None:
    dropbox = env["settings"].dropbox_dir
    (dropbox / "youtube" / "@sandbox-kemenko").mkdir(parents=True)
    (dropbox / "x").mkdir(parents=True)
    shutil.copy(FIXTURES / "youtube/exports/table_data_content.csv", dropbox / "youtube" / "@sandbox-kemenko" / "Table data.csv")
    shutil.copy(FIXTURES / "x/exports/account_analytics_content.csv", dropbox / "x" / "content.csv")
    first = import_dropbox(env["run"], env["settings"])
    assert [(r.file, r.status, r.accounts) for r in first] == [  # platforms in registry order
        ("Table data.csv", "loaded", ["youtube:KEM-KEMENKOPOLKAM:0"]), ("content.csv", "loaded", ["x:KEM-KEMENKOPOLKAM:0"])]
    again = import_dropbox(env["run"], env["settings"])
    assert [r.status for r in again] == ["duplicate", "duplicate"]


def _api_snapshot(warehouse: Warehouse, day: date, likes: int) -> None:
    """The X API's read of post 1860000000000000001 on ``day`` (through the API merges)."""
    post = pd.DataFrame([{"account_key": "x:KEM-KEMENKOPOLKAM:0", "platform": "x", "platform_post_id": "1860000000000000001",
                          "platform_account_id": "1700000000000000001", "published_at": datetime(2026, 11, 19, 17, 0, 5),
                          "published_on": date(2026, 11, 20), "post_type": "post", "title": None,
                          "text": "Rapat koordinasi #ASEAN2023", "hashtags": "asean2023", "url": "https://x.com/i/web/status/1860000000000000001",
                          "referenced_post_id": None, "reference_kind": None}])
    metrics = pd.DataFrame([{"account_key": "x:KEM-KEMENKOPOLKAM:0", "platform": "x", "platform_post_id": "1860000000000000001",
                             "snapshot_date": day, "captured_at": datetime(2026, 11, 21, 18, 0), "likes": likes, "comments": 15,
                             "shares": 44, "views": 10_000, "saves": 12, "quotes": 1, "unavailable_metrics": None}])
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", post, "dim_post", {"snapshot_date": day})
        warehouse.merge(conn, "post_metrics", metrics, "fact_post_metrics_daily")


@pytest.mark.parametrize("api_first", [True, False], ids=["api_then_export", "export_then_api"])
def test_an_export_and_an_api_snapshot_of_the_same_post_and_day_count_once(env: dict, warehouse: Warehouse, api_first: bool) -> None:
    sync_registry(env["run"], env["settings"])
    _api_snapshot(warehouse, date(2026, 11, 20), likes=300)  # the day before: the baseline
    if api_first:
        _api_snapshot(warehouse, DAY, likes=310)
        _import(env, warehouse, FIXTURES / "x/exports/account_analytics_content.csv")
    else:
        _import(env, warehouse, FIXTURES / "x/exports/account_analytics_content.csv")
        _api_snapshot(warehouse, DAY, likes=310)
    # One row per post and day; the API's read (likes 310) wins over the export's (321), whichever came first.
    assert _rows(warehouse, "SELECT platform_post_id, snapshot_date, likes, source FROM fact_post_metrics_daily ORDER BY 1, 2") == [
        ("1860000000000000001", date(2026, 11, 20), 300, "api"),
        ("1860000000000000001", DAY, 310, "api"),
        ("1860000000000000002", DAY, 9, "export"),
    ]
    # The API's publication time stays (the export only says the day, in Jakarta).
    assert _rows(warehouse, "SELECT published_at FROM dim_post WHERE platform_post_id = '1860000000000000001'") == [
        (datetime(2026, 11, 19, 17, 0, 5),)]
    compute_indicators(env["run"], env["settings"])
    # Engagement on DAY: post 1 earned 310 - 300 likes (nothing else moved: 15, 44, 12 and 1 both days) = 10;
    # post 2, published on DAY and first seen that day, counts in full: 9 + 1 + 2 + 0 saves = 12. Together 22.
    # Counted twice (API and export) it would be 10 + 21 + 12 = 43 or more.
    assert _rows(warehouse, f"SELECT engagement, posts_published FROM agency_daily_indicators "
                            f"WHERE agency_code = '{AGENCY}' AND indicator_date = '{DAY}' AND platform = 'x'") == [(22, 1)]


def test_export_coverage_counts_as_collected_and_the_report_says_where_numbers_come_from(env: dict, warehouse: Warehouse) -> None:
    sync_registry(env["run"], env["settings"])
    # Export-only accounts are not planned for the API sources.
    assert plan_accounts(warehouse, "tiktok", 0, 1, DAY) == []
    assert [a.account_key for a in plan_accounts(warehouse, "x", 0, 1, DAY)] == ["x:KEM-KEMENKOPOLKAM:0"]
    assert _rows(warehouse, "SELECT COUNT(*) FROM dim_account WHERE collected_by = 'export'") == [(4,)]
    _import(env, warehouse, FIXTURES / "tiktok/exports/tiktok_studio_content.xlsx", platform="tiktok")
    _import(env, warehouse, FIXTURES / "tiktok/exports/pengikut_id.csv", platform="tiktok", account="sandbox_kemenko_tt")
    compute_indicators(env["run"], env["settings"])
    rows = _rows(warehouse, f"SELECT platform, accounts_registered, accounts_collected, accounts_by_export, coverage, followers "
                            f"FROM agency_daily_indicators WHERE agency_code = '{AGENCY}' AND indicator_date = '{DAY}' "
                            f"AND platform IN ('all', 'tiktok') ORDER BY platform")
    assert rows == [("all", 5, 1, 1, 0.2, 8025), ("tiktok", 1, 1, 1, 1.0, 8025)]
    assert _rows(warehouse, f"SELECT data_source FROM report_daily_leaderboard WHERE agency_code = '{AGENCY}' AND indicator_date = '{DAY}'") == [("export",)]


def test_a_quarantined_file_loads_when_imported_again_after_the_registry_is_fixed(env: dict, warehouse: Warehouse) -> None:
    path = FIXTURES / "x/exports/unregistered_account.csv"
    assert _import(env, warehouse, path).status == "quarantined"
    assert _import(env, warehouse, path).status == "duplicate"  # the nightly dropbox does not retry it on its own
    with Path(env["settings"].accounts_file).open("a", encoding="utf-8") as fh:
        fh.write(f"x:{AGENCY}:1,{AGENCY},x,@akun_tak_terdaftar,1700000000000000002,1,2020-01-01,,export\n")
    retried = _import(env, warehouse, path, retry_quarantined=True)  # what `pantau import` does
    assert (retried.status, retried.accounts, retried.quarantined) == ("loaded", [f"x:{AGENCY}:1"], 0)
    assert _rows(warehouse, "SELECT COUNT(*) FROM etl_quarantine") == [(0,)]
    assert _rows(warehouse, "SELECT account_key, status FROM etl_export_file") == [(f"x:{AGENCY}:1", "loaded")]


def test_a_mostly_unreadable_file_loads_nothing_and_fails(env: dict, warehouse: Warehouse) -> None:
    lines = (FIXTURES / "x/exports/account_analytics_content.csv").read_text(encoding="utf-8").splitlines()
    broken = env["tmp"] / "broken.csv"
    broken.write_text("\n".join([lines[0]] + [line.replace(",321,", ",banyak,").replace(",9,", ",sedikit,") for line in lines[1:]]) + "\n",
                      encoding="utf-8")
    result = _import(env, warehouse, broken)
    assert (result.status, result.failed, result.quarantined, result.loaded["fact_post_metrics_daily"]) == ("quarantined", True, 4, 0)
    assert result.message.startswith("quality gate: source=export broken.csv suite posts: 2 of 2 rows failed (100% > 50% allowed)")
    assert _rows(warehouse, "SELECT COUNT(*) FROM fact_post_metrics_daily") == [(0,)]
    assert _rows(warehouse, "SELECT task_id, status, rows_extracted, rows_valid, rows_quarantined, rows_loaded FROM etl_run") == [
        (f"import_exports.{result.file_hash[:12]}", "partial", 2, 0, 4, 0)]
