"""The report's Indonesian formats, its escaping and its CSV formula guard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd

from etl.report import _environment, count, decimal, generated_at, guard_formulas, long_day, percent, short_day, web_link


def test_indonesian_numbers_and_dates() -> None:
    assert [count(42131240), count(0), count(None), count(float("nan"))] == ["42.131.240", "0", "—", "—"]
    assert [decimal(2.345), decimal(10.4575), decimal(-0.256, 2), decimal(pd.NA)] == ["2,3", "10,5", "-0,26", "—"]
    assert [percent(0.8), percent(1.0), percent(0.394)] == ["80%", "100%", "39%"]
    assert long_day(date(2026, 8, 7)) == "7 Agustus 2026" and long_day(pd.Timestamp("2026-05-01")) == "1 Mei 2026"
    assert short_day(date(2026, 8, 7)) == "Jum, 7 Agu"


def test_generated_time_is_jakarta_time() -> None:
    assert generated_at(datetime(2026, 8, 6, 17, 4, tzinfo=UTC)) == "7 Agustus 2026 00.04 WIB"


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    frame = pd.DataFrame({"name": ["=1+2", "+62 812", "-cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\ry", "Kementerian A", None],
                          "n": [-5, 1, 2, 3, 4, 5, 6, 7]})
    guarded = guard_formulas(frame)
    assert guarded["name"].iloc[:7].tolist() == ["'=1+2", "'+62 812", "'-cmd|' /C calc'!A0", "'@SUM(A1)", "'\tx", "'\ry", "Kementerian A"]
    assert pd.isna(guarded["name"].iloc[7])
    assert guarded["n"].tolist() == [-5, 1, 2, 3, 4, 5, 6, 7]  # numbers stay numbers
    assert frame["name"].iloc[0] == "=1+2"  # the frame itself is untouched


def test_html_templates_escape_their_values() -> None:
    environment = _environment()
    assert environment.autoescape("report.html.j2") is True and environment.autoescape("agency.html.j2") is True
    page = environment.get_template("agency.html.j2").render(
        day=date(2026, 9, 7), sandbox=False, generated="-", agency={"agency_name": "<script>alert(1)</script>", "category": "kabkota", "ranked": False, "engagement": None,
                                                  "engagement_rate": None, "engagement_rate_percentile": None, "follower_band": None,
                                                  "coverage": 0.5},
        platforms=[], trend=[], ranks=[], campaign_posts=[], news_installed=False, mentions=[], problems=[],
    )
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page and "Kabupaten/Kota · 7 September 2026" in page


def test_only_web_addresses_become_links() -> None:
    assert [web_link("https://x.go.id/a"), web_link("HTTP://x"), web_link("javascript:alert(1)"), web_link(" data:text/html,x"), web_link(None)] == [
        "https://x.go.id/a", "HTTP://x", "", "", ""]
