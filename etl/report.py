"""A static HTML report for one day: leaderboards, trends, campaign standings, news, coverage warnings, CSV exports.

It opens from the file system with no server and no internet: charts are
SVG drawn by matplotlib and inlined, styles are inline. Every table shown is
also written as CSV next to the page.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse

TEMPLATES = Path(__file__).resolve().parent / "templates"
CATEGORIES = ("kementerian", "lembaga", "provinsi", "kabkota")
CATEGORY_TITLES = {"kementerian": "Kementerian", "lembaga": "Lembaga", "provinsi": "Provinsi", "kabkota": "Kabupaten/Kota"}
TREND_DAYS = 14
LEADERBOARD_SIZE = 10


@dataclass
class ReportData:
    day: date
    leaderboard: pd.DataFrame
    campaigns: pd.DataFrame
    trend: pd.DataFrame
    completeness: pd.DataFrame
    low_coverage: pd.DataFrame
    news: pd.DataFrame | None


def collect(warehouse: Warehouse, day: date) -> ReportData:
    """Read what the report shows for ``day`` from the report_* views (small, per-day frames)."""
    leaderboard = warehouse.query_df(
        "SELECT * FROM report_daily_leaderboard WHERE indicator_date = :day ORDER BY category, engagement_rank, agency_name", {"day": day}
    )
    campaigns = warehouse.query_df(
        "SELECT * FROM report_campaign_leaderboard WHERE as_of_date = :day AND ranked "
        "ORDER BY campaign_code, category, rank_in_category, agency_name",
        {"day": day},
    )
    trend = warehouse.query_df(
        "SELECT indicator_date, category, SUM(engagement) AS engagement, SUM(posts_published) AS posts "
        "FROM report_daily_leaderboard WHERE indicator_date BETWEEN :first AND :day GROUP BY indicator_date, category "
        "ORDER BY indicator_date, category",
        {"first": day - timedelta(days=TREND_DAYS - 1), "day": day},
    )
    completeness = warehouse.query_df(
        "SELECT platform, status, accounts, agencies FROM report_data_completeness WHERE snapshot_date = :day ORDER BY platform, status",
        {"day": day},
    )
    low = leaderboard[~leaderboard["ranked"].fillna(False).astype(bool)][["category", "agency_name", "coverage"]]
    return ReportData(day, leaderboard, campaigns, trend, completeness, low, _news(warehouse, day))


def _news(warehouse: Warehouse, day: date) -> pd.DataFrame | None:
    """News columns appear once the news pipeline is installed; the report shows them when they exist."""
    columns = set(warehouse.query_df("SELECT * FROM agency_daily_indicators WHERE 1 = 0").columns)
    if "news_mentions" not in columns:
        return None
    return warehouse.query_df(
        "SELECT a.name AS agency_name, a.category, i.news_mentions, i.news_outlets, i.news_sentiment, i.news_negative_share "
        "FROM agency_daily_indicators i JOIN dim_agency a ON a.agency_code = i.agency_code "
        "WHERE i.indicator_date = :day AND i.platform = 'all' AND COALESCE(i.news_mentions, 0) > 0 "
        "ORDER BY i.news_mentions DESC, a.name LIMIT 20",
        {"day": day},
    )


def trend_chart(trend: pd.DataFrame) -> str:
    """Engagement per category over the last days, as an inline SVG string."""
    import matplotlib  # noqa: PLC0415 - heavy; only when a report is built

    matplotlib.use("svg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axis = plt.subplots(figsize=(9, 3.2))
    for category in CATEGORIES:
        series = trend[trend["category"] == category]
        if not series.empty:
            axis.plot(pd.to_datetime(series["indicator_date"]), series["engagement"].fillna(0), marker="o", label=CATEGORY_TITLES[category])
    from matplotlib import dates as mdates  # noqa: PLC0415

    axis.xaxis.set_major_locator(mdates.DayLocator())
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    axis.set_ylabel("engagement per day")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8, frameon=False)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # no timestamp: same data, same page
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype for inlining


def write_report(warehouse: Warehouse, day: date, out_dir: Path) -> Path:
    """Build ``<out_dir>/<day>/index.html`` and a CSV per table; returns the HTML path."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: PLC0415

    data = collect(warehouse, day)
    target = out_dir / day.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    exports = {
        "daily_leaderboard.csv": data.leaderboard,
        "campaign_leaderboard.csv": data.campaigns,
        "trend.csv": data.trend,
        "data_completeness.csv": data.completeness,
    }
    if data.news is not None:
        exports["news.csv"] = data.news
    for name, frame in exports.items():
        frame.to_csv(target / name, index=False)
    boards = {
        CATEGORY_TITLES[c]: data.leaderboard[(data.leaderboard["category"] == c) & data.leaderboard["ranked"].fillna(False).astype(bool)]
        .sort_values(["engagement_rank", "agency_name"])
        .head(LEADERBOARD_SIZE)
        .to_dict("records")
        for c in CATEGORIES
    }
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    environment.filters.update(count=_count, decimal=_decimal, percent=_percent)
    html = environment.get_template("report.html.j2").render(
        day=day,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        boards=boards,
        campaigns=data.campaigns.groupby(["campaign_name", "category"], sort=False).head(5).to_dict("records"),
        chart=trend_chart(data.trend) if not data.trend.empty else None,
        completeness=data.completeness.to_dict("records"),
        low_coverage=data.low_coverage.sort_values(["category", "agency_name"]).to_dict("records"),
        news=None if data.news is None else data.news.to_dict("records"),
        exports=sorted(exports),
        agencies=len(data.leaderboard),
    )
    page = target / "index.html"
    page.write_text(html, encoding="utf-8")
    return page


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _count(value: object) -> str:
    return "—" if _missing(value) else f"{int(value):,}"  # type: ignore[call-overload]


def _decimal(value: object, places: int = 1) -> str:
    return "—" if _missing(value) else f"{float(value):.{places}f}"  # type: ignore[arg-type]


def _percent(value: object) -> str:
    return "—" if _missing(value) else f"{100 * float(value):.0f}%"  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m etl.report [--date YYYY-MM-DD] [--out reports/]``: default the latest day with indicators."""
    parser = argparse.ArgumentParser(prog="python -m etl.report")
    parser.add_argument("--date", type=date.fromisoformat)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports")
    args = parser.parse_args(argv)
    from etl.pipeline import open_warehouse  # noqa: PLC0415

    warehouse = open_warehouse()
    try:
        day = args.date or warehouse.query("SELECT MAX(indicator_date) FROM agency_daily_indicators")[0][0]
        if day is None:
            print("no indicators in the warehouse yet: run `make demo` or the DAGs first", file=sys.stderr)
            return 1
        page = write_report(warehouse, day, args.out)
    finally:
        warehouse.dispose()
    print(f"report for {day}: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
