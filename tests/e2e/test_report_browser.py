"""The HTML report on the hand-made scenario, opened from the file system in headless Chromium, and its PDF.

Values are the scenario's (tests/integration/test_indicator_scenario.py computes them by hand): KEM-A has 1,530
followers and 16 engagement on D3 (ER 10.5 per 1,000), KEM-B 1,990 followers and 12 (6.0); both in the 1,000-9,999 band.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import cli
from etl.report import CHROMIUM_FLAGS, chromium, write_report
from etl.warehouse import Warehouse
from tests.scenario import D1, D2, D3, build_scenario

CHROMIUM = chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Chromium not installed (make test installs it)")
HOSTILE = '<script>document.body.setAttribute("data-pwned","script")</script><img src=x onerror="document.body.setAttribute(\'data-pwned\',\'img\')">'


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    monkeypatch.setenv("WAREHOUSE_URL", url)
    warehouse = Warehouse(url)
    warehouse.migrate()
    build_scenario(warehouse)
    yield warehouse
    warehouse.dispose()


@pytest.fixture
def report(scenario: Warehouse, tmp_path: Path) -> Path:
    return write_report(scenario, D3, tmp_path / "reports")


def run_chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "CI must have Chromium: make test installs it"
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def dom(page: Path, tmp_path: Path) -> str:
    result = run_chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert result.returncode == 0, result.stderr[-1000:]
    return result.stdout


def test_report_files(report: Path) -> None:
    assert report == report.parent / "index.html" and report.parent.name == "2026-09-07"
    assert sorted(p.name for p in report.parent.glob("*.csv")) == [
        "campaign_leaderboard.csv", "daily_leaderboard.csv", "data_completeness.csv", "news.csv", "trend.csv",
    ]
    assert sorted(p.name for p in (report.parent / "instansi").iterdir()) == ["KEM-A.html", "KEM-B.html", "PROV-C.html"]
    html = report.read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="https?://', html) == []  # nothing to fetch: opens offline
    board = (report.parent / "daily_leaderboard.csv").read_text(encoding="utf-8").splitlines()
    assert board[1].startswith("2026-09-07,kementerian,KEM-A,Kementerian A,0,0,1530,20,16,80,10.4575")


def test_report_speaks_indonesian(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "<title>Pantau — laporan 7 September 2026</title>" in html
    assert re.search(r"dibuat \d{1,2} \w+ \d{4} \d{2}\.\d{2} WIB", html)
    row = re.search(r'<a href="instansi/KEM-A.html">Kementerian A</a>.*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="[^"]+">([^<]*)</td>', row)
    # posts, followers, engagement, ER/1.000, percentile, band, coverage
    assert cells == ["0", "1.530", "16", "10,5", "100%", "1.000–9.999", "100%"]
    assert "<td>Galat API</td>" not in html and "<td>galat API</td>" in html and "<td>terkumpul</td>" in html
    assert ">api_error<" not in html and ">ok<" not in html and ">kementerian<" not in html
    assert 'id="footnotes"' in html and "kelompok jumlah pengikut yang sama" in html
    assert 'id="sandbox-banner"' not in html  # the scenario's accounts are real ones


def test_first_day_without_baseline_is_marked_not_drawn(report: Path) -> None:
    trend = list(csv.DictReader((report.parent / "trend.csv").open(encoding="utf-8")))
    assert [(r["indicator_date"], r["category"], r["has_baseline"]) for r in trend] == [
        ("2026-09-05", "kementerian", "False"), ("2026-09-05", "provinsi", "False"),
        ("2026-09-06", "kementerian", "True"), ("2026-09-06", "provinsi", "True"),
        ("2026-09-07", "kementerian", "True"), ("2026-09-07", "provinsi", "True"),
    ]
    html = report.read_text(encoding="utf-8")
    assert re.search(r'id="no-baseline">Tanpa pembanding[^:]*: 5 September 2026\.', html)
    chart = html[html.index('<figure id="trend-chart">'):html.index("</figure>")]
    assert "tanpa pembanding" in chart
    # Each category's line has two points (6 and 7 September), not three: the first day is left out.
    for category in ("kementerian", "provinsi"):
        line = re.search(rf'<g id="trend-{category}">\s*<path d="([^"]*)"', chart).group(1)
        assert len(re.findall(r"[ML] [\d.]+ [\d.]+", line)) == 2


def test_sandbox_data_carries_a_banner_on_every_page(scenario: Warehouse, tmp_path: Path) -> None:
    with scenario.transaction() as conn:
        conn.exec_driver_sql("UPDATE dim_account SET is_sandbox = TRUE WHERE account_key = 'yt:B0'")
    page = write_report(scenario, D3, tmp_path / "reports")
    assert page.read_text(encoding="utf-8").count('id="sandbox-banner"') == 1
    assert 'id="sandbox-banner">DATA SANDBOX' in (page.parent / "instansi" / "PROV-C.html").read_text(encoding="utf-8")


def test_days_to_first_post_counts_from_the_first_day_of_data(scenario: Warehouse, tmp_path: Path) -> None:
    # KEM-B's accounts were first collected on D2; its first campaign post (b1) is of D1, seen on D2.
    with scenario.transaction() as conn:
        conn.exec_driver_sql(f"DELETE FROM etl_account_coverage WHERE account_key = 'yt:B0' AND snapshot_date = DATE '{D1}'")
    rows = scenario.query_df(
        "SELECT agency_code, first_post_lag_days, first_post_counted_from, days_to_first_post, data_started_late "
        "FROM report_campaign_leaderboard WHERE as_of_date = :d AND ranked ORDER BY agency_code", {"d": D3}
    )
    assert rows.astype({"first_post_counted_from": str}).values.tolist() == [["KEM-A", 0, str(D1), 0, False], ["KEM-B", 0, str(D2), 0, True]]
    html = write_report(scenario, D3, tmp_path / "reports").read_text(encoding="utf-8")
    campaign_rows = re.findall(r"<tr><td>KTT ASEAN</td>.*?</tr>", html, re.S)
    assert [re.findall(r'<td class="num">([^<]*)</td>', r)[-2] for r in campaign_rows] == ["0", "0*"]


def test_every_campaign_rank_shows_its_coverage(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    table = html[html.index('<section id="campaigns">'):html.index('<section id="news">')]
    assert "<th class=\"num\">Cakupan²</th>" in table
    assert [re.findall(r'<td class="num">([^<]*)</td>', r)[-1] for r in re.findall(r"<tr><td>KTT ASEAN</td>.*?</tr>", table, re.S)] == ["100%", "100%"]


def test_agency_page(report: Path) -> None:
    page = (report.parent / "instansi" / "PROV-C.html").read_text(encoding="utf-8")
    assert "<h1>Provinsi C</h1>" in page and "Provinsi · 7 September 2026" in page
    problems = page[page.index('id="agency-coverage"'):]
    assert "<td>YouTube</td><td>—</td><td class=\"num\">0</td>\n      <td>galat API</td>" in problems
    kem_a = (report.parent / "instansi" / "KEM-A.html").read_text(encoding="utf-8")
    trend = kem_a[kem_a.index('id="agency-trend"'):kem_a.index('id="rank-history"')]
    assert re.findall(r"<tr><td>([^<]+)</td>", trend) == ["Sen, 7 Sep", "Min, 6 Sep", "Sab, 5 Sep"]
    # Each page has the platforms its agency has figures on (KEM-B has no X account), from one pivot of them all.
    headers = {}
    for code in ("KEM-A", "KEM-B"):
        html = (report.parent / "instansi" / f"{code}.html").read_text(encoding="utf-8")
        headers[code] = re.findall(r'<th class="num">([^<]+)</th>', html[html.index('id="agency-trend"'):html.index('id="rank-history"')])
    assert headers == {"KEM-A": ["Semua platform", "YouTube", "X"], "KEM-B": ["Semua platform", "YouTube"]}
    assert '<tr><td>Sen, 7 Sep</td><td class="num">16</td><td class="num">16</td><td class="num">0</td></tr>' in trend
    history = kem_a[kem_a.index('id="rank-history"'):kem_a.index('id="campaign-posts"')]
    assert re.findall(r'<td class="num">(\d)</td>', history) == ["1", "1", "2"]
    posts = kem_a[kem_a.index('id="campaign-posts"'):kem_a.index('id="agency-news"')]
    assert posts.count("<td>KTT ASEAN</td>") == 2 and "KTT ASEAN di Jakarta" in posts


@needs_chromium
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    page = dom(report, tmp_path)
    assert page.count('<table class="leaderboard">') == 1  # only kementerian has ranked agencies
    assert ">Kementerian A</a></td>" in page and ">Kementerian B</a></td>" in page
    assert 'id="trend-chart"' in page and "<svg" in page
    shot = tmp_path / "report.png"
    result = run_chromium([f"--screenshot={shot}", "--window-size=1280,900", "--hide-scrollbars", report.as_uri()], tmp_path)
    assert result.returncode == 0, result.stderr[-1000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    saved = Path(os.environ.get("PANTAU_SCREENSHOT_DIR", tmp_path)) / "report-2026-09-07.png"
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, saved)


@needs_chromium
def test_hostile_registry_names_do_not_run_in_the_browser(scenario: Warehouse, tmp_path: Path) -> None:
    with scenario.transaction() as conn:
        conn.execute(sa.text("UPDATE dim_agency SET name = :n WHERE agency_code = 'KEM-A'"), {"n": "Kementerian " + HOSTILE})
        conn.execute(sa.text("UPDATE campaign SET name = :n"), {"n": "=HYPERLINK(\"http://x\") " + HOSTILE})
    report = write_report(scenario, D3, tmp_path / "reports")
    for page in (report, report.parent / "instansi" / "KEM-A.html"):
        text = page.read_text(encoding="utf-8")
        assert "&lt;script&gt;document.body.setAttribute(" in text and "<script>" not in text
        rendered = dom(page, tmp_path)
        assert "data-pwned" not in rendered.split("<body", 1)[1].split(">", 1)[0]  # neither the script nor onerror ran
        assert "&lt;img src=x onerror=" in rendered
    campaigns = list(csv.reader((report.parent / "campaign_leaderboard.csv").open(encoding="utf-8")))
    assert {row[campaigns[0].index("campaign_name")] for row in campaigns[1:]} == {"'=HYPERLINK(\"http://x\") " + HOSTILE}


@needs_chromium
@pytest.mark.skipif(shutil.which("pdftoppm") is None and os.environ.get("CI") != "true", reason="poppler-utils not installed (make test installs it)")
def test_pdf_export_first_page(scenario: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("etl.report.PROJECT_ROOT", tmp_path)
    monkeypatch.setattr("etl.pipeline.open_warehouse", lambda: Warehouse(os.environ["WAREHOUSE_URL"]))
    scenario.dispose()  # DuckDB: one process-wide writer; the command opens its own
    assert cli.main(["report", "--date", D3.isoformat(), "--pdf"]) == 0
    pdf = tmp_path / "reports" / "2026-09-07" / "laporan-2026-09-07.pdf"
    assert capsys.readouterr().out.splitlines()[-1] == f"PDF: {pdf}"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Pantau — kinerja media sosial instansi pemerintah" in text and "7 September 2026" in text
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image  # noqa: PLC0415 - Pillow comes with matplotlib

    image = Image.open(tmp_path / "page-1.png").convert("RGB")
    assert image.size == (331, 468)  # A4 at 40 dpi
    # The header band prints in its colour (print-color-adjust), and the page is not blank below it.
    assert image.getpixel((165, 28)) == (0x12, 0x35, 0x5B)
    assert len({image.getpixel((x, y)) for x in range(0, 331, 7) for y in range(60, 460, 7)}) > 20
