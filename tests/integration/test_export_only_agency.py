"""The demo's export-only agency (sandbox-generated files): no API account is planned for it, its dropped
exports reach the indicators, and the report's view says its numbers come from exports."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from etl.dropbox import import_dropbox
from etl.pipeline import compute_indicators, plan_accounts, sync_registry
from etl.runtime import RunContext
from etl.sandbox.exports import EXPORT_AGENCY, ExportOnlyAgency, _counts
from etl.settings import PROJECT_ROOT, load_settings
from etl.warehouse import Warehouse

DAYS = [date(2026, 11, 20), date(2026, 11, 21)]


def test_an_agency_measured_only_from_dropped_exports(tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    agency = ExportOnlyAgency.prepare(PROJECT_ROOT / "registry/sandbox/accounts.csv", tmp_path / "registry", tmp_path / "dropbox")
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(agency.accounts_file))
    monkeypatch.setenv("PANTAU_DROPBOX_DIR", str(agency.dropbox))
    settings = load_settings()
    for day in DAYS:
        run = RunContext.for_day(day, run_id=f"demo__{day}", dag_id="social_metrics")
        sync_registry(run, settings)
        files = agency.drop(day)
        assert files[0].read_text(encoding="utf-8").startswith("SANDBOX: synthetic export")
        results = import_dropbox(run, settings)
        assert [r.status for r in results if r.status != "duplicate"] == ["loaded", "loaded", "loaded"]
        compute_indicators(run, settings)
    youtube = [a.account_key for a in plan_accounts(warehouse, "youtube", 0, 1, DAYS[-1])]
    assert f"youtube:{EXPORT_AGENCY}:0" not in youtube and len(youtube) == 1031  # every other YouTube account is still read
    # Engagement on the second day, from the generator's own rules: YouTube counts likes + comments, TikTok also shares;
    # posts first seen that day in full when published that day, else their increase since the day before.
    engagement = 0
    for platform in ("youtube", "tiktok"):
        for post_id, published in agency._posts(platform, DAYS[1]):
            today = _counts(post_id, published, DAYS[1])
            metrics = ("likes", "comments") + (("shares",) if platform == "tiktok" else ())
            if published == DAYS[1]:
                engagement += sum(today[m] for m in metrics)
            elif published >= DAYS[1] - timedelta(days=13):  # listed the day before too
                before = _counts(post_id, published, DAYS[0])
                engagement += sum(today[m] - before[m] for m in metrics)
    rows = warehouse.query(
        "SELECT engagement, followers, follower_growth, coverage, accounts_by_export, posts_published FROM agency_daily_indicators "
        "WHERE agency_code = :code AND indicator_date = :day AND platform = 'all'", {"code": EXPORT_AGENCY, "day": DAYS[1]})
    assert [tuple(r) for r in rows] == [(engagement, 48_000 + 37 * 324, 37, 1.0, 2, 2)]
    assert [tuple(r) for r in warehouse.query(
        "SELECT data_source, ranked FROM report_daily_leaderboard WHERE agency_code = :code AND indicator_date = :day",
        {"code": EXPORT_AGENCY, "day": DAYS[1]})] == [("export", True)]


def test_a_new_demo_starts_from_an_empty_drop_of_sandbox_files(tmp_path: Path) -> None:
    """An interrupted demo leaves later nights' files behind; the next run must not import them on its first night."""
    accounts = PROJECT_ROOT / "registry/sandbox/accounts.csv"
    first = ExportOnlyAgency.prepare(accounts, tmp_path / "registry", tmp_path / "dropbox")
    left = first.drop(date(2026, 11, 30))
    operator_file = tmp_path / "dropbox" / "tiktok" / "agency-upload.csv"
    operator_file.write_text("Date,Followers\n", encoding="utf-8")
    ExportOnlyAgency.prepare(accounts, tmp_path / "registry", tmp_path / "dropbox")
    assert len(left) == 3 and not any(path.exists() for path in left)
    assert sorted(p.name for p in (tmp_path / "dropbox").rglob("*.csv")) == ["agency-upload.csv"]
