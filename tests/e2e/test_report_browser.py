"""The HTML report, opened from the file system in headless Chromium: leaderboard and chart present, screenshot saved."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from etl.report import write_report
from etl.warehouse import Warehouse
from tests.scenario import D3, build_scenario

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    monkeypatch.setenv("WAREHOUSE_URL", url)
    warehouse = Warehouse(url)
    warehouse.migrate()
    build_scenario(warehouse)
    try:
        return write_report(warehouse, D3, tmp_path / "reports")
    finally:
        warehouse.dispose()


def test_report_files(report: Path) -> None:
    assert report == report.parent / "index.html" and report.parent.name == "2026-09-07"
    # news.csv joins them once migration 003 (news_mentions) adds the news columns.
    assert sorted(p.name for p in report.parent.glob("*.csv")) == [
        "campaign_leaderboard.csv", "daily_leaderboard.csv", "data_completeness.csv", "news.csv", "trend.csv",
    ]
    html = report.read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="https?://', html) == []  # nothing to fetch: opens offline
    board = (report.parent / "daily_leaderboard.csv").read_text(encoding="utf-8").splitlines()
    assert board[1].startswith("2026-09-07,kementerian,KEM-A,Kementerian A,0,0,1530,20,16,80,10.4575")


def run_chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Chromium not installed (make test installs it)")
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    assert CHROMIUM, "CI must have Chromium: make test installs it"
    dom = run_chromium(["--dump-dom", report.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-1000:]
    assert dom.stdout.count('<table class="leaderboard">') == 1  # only kementerian has ranked agencies
    assert "<td>Kementerian A</td>" in dom.stdout and "<td>Kementerian B</td>" in dom.stdout
    assert 'id="trend-chart"' in dom.stdout and "<svg" in dom.stdout
    shot = tmp_path / "report.png"
    result = run_chromium([f"--screenshot={shot}", "--window-size=1280,1600", report.as_uri()], tmp_path)
    assert result.returncode == 0, result.stderr[-1000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    saved = Path(os.environ.get("PANTAU_SCREENSHOT_DIR", tmp_path)) / "report-2026-09-07.png"
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, saved)
