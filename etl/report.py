"""A static HTML report for one day, in Indonesian: leaderboards, trend, campaign standings, news, coverage, one page per agency.

It opens from the file system with no server and no internet: charts are
SVG drawn by matplotlib and inlined, styles are inline, and it prints on A4
(``--pdf`` prints it through headless Chromium). Every table shown is also
written as CSV next to the page, with cells that a spreadsheet would run as a
formula defused. Text from the registry or the news is escaped (autoescape).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCALE = "id_ID"
WIB = ZoneInfo("Asia/Jakarta")
CATEGORIES = ("kementerian", "lembaga", "provinsi", "kabkota")
CATEGORY_TITLES = {"kementerian": "Kementerian", "lembaga": "Lembaga", "provinsi": "Provinsi", "kabkota": "Kabupaten/Kota"}
PLATFORM_TITLES = {"all": "Semua platform", "youtube": "YouTube", "x": "X", "instagram": "Instagram", "facebook": "Facebook",
                   "tiktok": "TikTok"}
STATUS_TITLES = {"ok": "terkumpul", "deferred": "ditunda (kuota habis)", "not_found": "akun tidak ditemukan", "api_error": "galat API",
                 "token_expired": "token kedaluwarsa", "private": "privat atau dibatasi"}
BAND_TITLES = {"lt_1k": "< 1.000", "1k_10k": "1.000–9.999", "10k_100k": "10.000–99.999", "100k_1m": "100.000–999.999",
               "ge_1m": "≥ 1.000.000"}
EXCLUSION_TITLES = {"no campaign post": "tanpa unggahan kampanye", "coverage below 80%": "cakupan di bawah 80%"}
TREND_DAYS = 14
LEADERBOARD_SIZE = 10
#: What a spreadsheet starts a formula with (OWASP "CSV injection"); such a text cell gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


@dataclass
class ReportData:
    day: date
    sandbox: bool
    leaderboard: pd.DataFrame
    campaigns: pd.DataFrame
    trend: pd.DataFrame
    completeness: pd.DataFrame
    low_coverage: pd.DataFrame
    news: pd.DataFrame | None


@dataclass
class AgencyData:
    """Everything the per-agency pages show, for every agency at once (one query per section)."""

    profile: pd.DataFrame       # agency x day x platform over the trend window
    ranks: pd.DataFrame         # agency x day: rank, percentile, band, coverage
    campaign_posts: pd.DataFrame
    mentions: pd.DataFrame | None
    problems: pd.DataFrame      # accounts not collected on the day, with the reason


def collect(warehouse: Warehouse, day: date) -> ReportData:
    """Read what the report shows for ``day`` from the report_* views (small, per-day frames)."""
    first = day - timedelta(days=TREND_DAYS - 1)
    leaderboard = warehouse.query_df(
        "SELECT * FROM report_daily_leaderboard WHERE indicator_date = :day ORDER BY category, engagement_rank, agency_name", {"day": day}
    )
    campaigns = warehouse.query_df(
        "SELECT * FROM report_campaign_leaderboard WHERE as_of_date = :day AND ranked "
        "ORDER BY campaign_code, category, rank_in_category, agency_name",
        {"day": day},
    )
    # A day whose previous day has no post snapshot has no baseline: old posts' increases are unknown, the sum is not a dip.
    trend = warehouse.query_df(
        "SELECT l.indicator_date, l.category, SUM(l.engagement) AS engagement, SUM(l.posts_published) AS posts, "
        "EXISTS (SELECT 1 FROM fact_post_metrics_daily m WHERE m.snapshot_date = l.indicator_date - 1) AS has_baseline "
        "FROM report_daily_leaderboard l WHERE l.indicator_date BETWEEN :first AND :day GROUP BY l.indicator_date, l.category "
        "ORDER BY l.indicator_date, l.category",
        {"first": first, "day": day},
    )
    completeness = warehouse.query_df(
        "SELECT platform, status, accounts, agencies FROM report_data_completeness WHERE snapshot_date = :day ORDER BY platform, status",
        {"day": day},
    )
    low = leaderboard[~leaderboard["ranked"].fillna(False).astype(bool)][["category", "agency_code", "agency_name", "coverage"]]
    return ReportData(day, is_sandbox(warehouse, day), leaderboard, campaigns, trend, completeness, low, _news(warehouse, day))


def is_sandbox(warehouse: Warehouse, day: date) -> bool:
    """True when any account collected on ``day`` is a sandbox account (synthetic data): the report then says so at the top."""
    rows = warehouse.query(
        "SELECT COUNT(*) FROM etl_account_coverage c JOIN dim_account a ON a.account_key = c.account_key "
        "WHERE c.snapshot_date = :day AND a.is_sandbox",
        {"day": day},
    )
    return bool(rows[0][0])


def _has_news(warehouse: Warehouse) -> bool:
    return "news_mentions" in set(warehouse.query_df("SELECT * FROM agency_daily_indicators WHERE 1 = 0").columns)


def _news(warehouse: Warehouse, day: date) -> pd.DataFrame | None:
    """News columns appear once the news pipeline is installed; the report shows them when they exist."""
    if not _has_news(warehouse):
        return None
    return warehouse.query_df(
        "SELECT a.agency_code, a.name AS agency_name, a.category, i.news_mentions, i.news_outlets, i.news_sentiment, i.news_negative_share "
        "FROM agency_daily_indicators i JOIN dim_agency a ON a.agency_code = i.agency_code "
        "WHERE i.indicator_date = :day AND i.platform = 'all' AND COALESCE(i.news_mentions, 0) > 0 "
        "ORDER BY i.news_mentions DESC, a.name LIMIT 20",
        {"day": day},
    )


def collect_agencies(warehouse: Warehouse, day: date) -> AgencyData:
    """The per-agency sections over the trend window."""
    window = {"first": day - timedelta(days=TREND_DAYS - 1), "day": day}
    profile = warehouse.query_df(
        "SELECT agency_code, indicator_date, platform, posts_published, followers, engagement, engagement_rate, coverage "
        "FROM report_agency_profile WHERE indicator_date BETWEEN :first AND :day ORDER BY agency_code, indicator_date, platform",
        window,
    )
    ranks = warehouse.query_df(
        "SELECT agency_code, indicator_date, engagement_rank, engagement_rate_percentile, follower_band, coverage, ranked "
        "FROM report_daily_leaderboard WHERE indicator_date BETWEEN :first AND :day ORDER BY agency_code, indicator_date DESC",
        window,
    )
    campaign_posts = warehouse.query_df(
        "SELECT cp.agency_code, c.name AS campaign_name, cp.platform, cp.published_on, cp.layer, cp.matched_term, "
        "COALESCE(p.title, p.text) AS text, p.url "
        "FROM campaign_post cp JOIN campaign c ON c.campaign_code = cp.campaign_code "
        "JOIN dim_post p ON p.platform = cp.platform AND p.platform_post_id = cp.platform_post_id "
        "WHERE cp.published_on BETWEEN :first AND :day ORDER BY cp.agency_code, cp.published_on DESC, cp.platform, cp.platform_post_id",
        window,
    )
    mentions = None
    if _has_news(warehouse):
        mentions = warehouse.query_df(
            "SELECT m.agency_code, m.published_on, o.name AS outlet, a.title, a.url, m.alias, m.sentiment "
            "FROM fact_news_mention m JOIN fact_news_article a ON a.article_id = m.article_id "
            "LEFT JOIN dim_outlet o ON o.outlet_code = a.outlet_code "
            "WHERE m.published_on BETWEEN :first AND :day AND a.duplicate_of IS NULL "
            "ORDER BY m.agency_code, m.published_on DESC, a.title",
            window,
        )
    problems = warehouse.query_df(
        "SELECT ac.agency_code, c.platform, ac.handle, ac.layer, c.status, c.message "
        "FROM etl_account_coverage c JOIN dim_account ac ON ac.account_key = c.account_key "
        "WHERE c.snapshot_date = :day AND c.status <> 'ok' ORDER BY ac.agency_code, c.platform, ac.handle",
        {"day": day},
    )
    return AgencyData(profile, ranks, campaign_posts, mentions, problems)


def trend_chart(trend: pd.DataFrame) -> str:
    """Engagement per category over the last days, as an inline SVG string; days without a baseline are marked, not drawn."""
    import matplotlib  # noqa: PLC0415 - heavy; only when a report is built

    matplotlib.use("svg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib import dates as mdates  # noqa: PLC0415
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    figure, axis = plt.subplots(figsize=(9, 3.2))
    measured = trend[trend["has_baseline"].astype(bool)]
    for category in CATEGORIES:
        series = measured[measured["category"] == category]
        if not series.empty:
            axis.plot(pd.to_datetime(series["indicator_date"]), series["engagement"].fillna(0), marker="o", label=CATEGORY_TITLES[category], gid=f"trend-{category}")
    for day in sorted(set(trend.loc[~trend["has_baseline"].astype(bool), "indicator_date"])):
        axis.axvspan(pd.Timestamp(day) - pd.Timedelta(hours=12), pd.Timestamp(day) + pd.Timedelta(hours=12), color="#999", alpha=0.15)
        axis.annotate("tanpa pembanding", (pd.Timestamp(day), 0.5), xycoords=("data", "axes fraction"), rotation=90,
                      ha="center", va="center", fontsize=8, color="#555")
    axis.xaxis.set_major_locator(mdates.DayLocator())
    axis.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_date(mdates.num2date(x).date(), "d MMM", locale=LOCALE)))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda y, _: format_decimal(y, format="#,##0", locale=LOCALE)))
    axis.set_ylabel("engagement per hari")
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(CATEGORIES), fontsize=8, frameon=False)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # no timestamp: same data, same page
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype for inlining


def guard_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where every text cell that a spreadsheet would read as a formula starts with an apostrophe."""
    guarded = frame.copy()
    for column in guarded.columns:
        if guarded[column].dtype == object or pd.api.types.is_string_dtype(guarded[column]):
            guarded[column] = guarded[column].map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v, na_action="ignore")
    return guarded


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    guard_formulas(frame).to_csv(path, index=False)


def _environment():  # noqa: ANN202 - jinja2 is imported lazily
    from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: PLC0415

    # The templates are *.html.j2: select_autoescape matches the end of the name, so "html.j2" must be listed.
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "html.j2"]))
    environment.filters.update(count=count, decimal=decimal, percent=percent, day=long_day, short_day=short_day, category=_title(CATEGORY_TITLES),
                               platform=_title(PLATFORM_TITLES), status=_title(STATUS_TITLES), band=_title(BAND_TITLES),
                               exclusion=_title(EXCLUSION_TITLES), link=web_link, page=_safe_name)
    return environment


def write_report(warehouse: Warehouse, day: date, out_dir: Path) -> Path:
    """Build ``<out_dir>/<day>/index.html``, one page per agency under ``instansi/`` and a CSV per table; returns the HTML path."""
    data = collect(warehouse, day)
    target = out_dir / day.isoformat()
    (target / "instansi").mkdir(parents=True, exist_ok=True)
    exports = {
        "daily_leaderboard.csv": data.leaderboard,
        "campaign_leaderboard.csv": data.campaigns,
        "trend.csv": data.trend,
        "data_completeness.csv": data.completeness,
    }
    if data.news is not None:
        exports["news.csv"] = data.news
    for name, frame in exports.items():
        write_csv(frame, target / name)
    boards = {
        CATEGORY_TITLES[c]: data.leaderboard[(data.leaderboard["category"] == c) & data.leaderboard["ranked"].fillna(False).astype(bool)]
        .sort_values(["engagement_rank", "agency_name"])
        .head(LEADERBOARD_SIZE)
        .to_dict("records")
        for c in CATEGORIES
    }
    environment = _environment()
    common = {"day": day, "sandbox": data.sandbox, "generated": generated_at(datetime.now(UTC))}
    html = environment.get_template("report.html.j2").render(
        **common,
        boards=boards,
        campaigns=data.campaigns.groupby(["campaign_name", "category"], sort=False).head(5).to_dict("records"),
        chart=trend_chart(data.trend) if not data.trend.empty else None,
        no_baseline=sorted(set(data.trend.loc[~data.trend["has_baseline"].astype(bool), "indicator_date"])) if not data.trend.empty else [],
        completeness=data.completeness.to_dict("records"),
        low_coverage=data.low_coverage.sort_values(["category", "agency_name"]).to_dict("records"),
        news=None if data.news is None else data.news.to_dict("records"),
        exports=sorted(exports),
        agencies=len(data.leaderboard),
    )
    page = target / "index.html"
    page.write_text(html, encoding="utf-8")
    write_agency_pages(environment, collect_agencies(warehouse, day), data, target / "instansi", common)
    return page


def write_agency_pages(environment, agencies: AgencyData, data: ReportData, folder: Path, common: dict) -> int:  # noqa: ANN001
    """``instansi/<agency_code>.html`` for every agency in the day's leaderboard: a page an agency can be sent."""
    template = environment.get_template("agency.html.j2")
    sections = {"ranks": agencies.ranks, "campaign_posts": agencies.campaign_posts, "problems": agencies.problems,
                "mentions": agencies.mentions if agencies.mentions is not None else pd.DataFrame(columns=["agency_code"])}
    by_agency = {name: {code: rows.to_dict("records") for code, rows in frame.groupby("agency_code", sort=False)}
                 for name, frame in sections.items()}
    # One pivot for every agency, cut per agency (a pivot per agency was half the report's time): an agency's cut keeps
    # the platforms it has values for, as its own pivot would.
    pivot = agencies.profile.pivot_table(index=["agency_code", "indicator_date"], columns="platform", values="engagement", aggfunc="sum")
    trends = {code: rows.droplevel(0).dropna(axis=1, how="all").sort_index(ascending=False)
              for code, rows in pivot.groupby(level=0, sort=False)}
    for row in data.leaderboard.to_dict("records"):
        code = row["agency_code"]
        trend = trends.get(code, pd.DataFrame())
        html = template.render(
            **common,
            agency=row,
            platforms=[p for p in PLATFORM_TITLES if p in trend.columns],
            trend=[(day, values.to_dict()) for day, values in trend.iterrows()],
            news_installed=agencies.mentions is not None,
            **{name: rows.get(code, []) for name, rows in by_agency.items()},
        )
        (folder / f"{_safe_name(code)}.html").write_text(html, encoding="utf-8")
    return len(data.leaderboard)


def web_link(value: object) -> str:
    """An http(s) address, or '' (a `javascript:` or `data:` address from a feed or a platform never becomes a link)."""
    return value if isinstance(value, str) and value.lower().startswith(("http://", "https://")) else ""


def _safe_name(code: str) -> str:
    """An agency code as a file name (codes are `KAB-73.24`-like; anything else becomes '_')."""
    return "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in code)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def print_pdf(page: Path, pdf: Path, profile_dir: Path | None = None) -> Path:
    """Print ``page`` to ``pdf`` (A4, from the page's print CSS) with headless Chromium."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("pantau report --pdf needs Chromium (Debian: apt-get install chromium; `make chromium` does it)")
    profile = profile_dir or pdf.parent / ".chromium-profile"
    result = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    if profile_dir is None:
        shutil.rmtree(profile, ignore_errors=True)
    if result.returncode != 0 or not pdf.exists():
        raise RuntimeError(f"Chromium could not print {page} to PDF (exit {result.returncode}): {result.stderr.strip()[-300:]}")
    return pdf


def generated_at(moment: datetime) -> str:
    """``moment`` as Jakarta wall time: '7 September 2026 08.04 WIB'."""
    return format_datetime(moment, "d MMMM y HH.mm", tzinfo=WIB, locale=LOCALE) + " WIB"


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def count(value: object) -> str:
    """42131240 -> '42.131.240'."""
    return "—" if _missing(value) else format_decimal(int(value), locale=LOCALE)  # type: ignore[call-overload]


def decimal(value: object, places: int = 1) -> str:
    """2.345 -> '2,3'."""
    return "—" if _missing(value) else format_decimal(float(value), format="#,##0." + "0" * places, locale=LOCALE)  # type: ignore[arg-type]


def percent(value: object) -> str:
    """0.8 -> '80%'."""
    return "—" if _missing(value) else format_percent(float(value), locale=LOCALE)  # type: ignore[arg-type]


def long_day(value: object) -> str:
    """2026-09-07 -> '7 September 2026'."""
    return "—" if _missing(value) else format_date(pd.Timestamp(value).date(), "d MMMM y", locale=LOCALE)  # type: ignore[arg-type]


def short_day(value: object) -> str:
    """2026-09-07 -> 'Sen, 7 Sep'."""
    return "—" if _missing(value) else format_date(pd.Timestamp(value).date(), "EEE, d MMM", locale=LOCALE)  # type: ignore[arg-type]


def _title(titles: dict[str, str]):  # noqa: ANN202
    return lambda value: "—" if _missing(value) else titles.get(str(value), str(value))


def latest_day(warehouse: Warehouse) -> date | None:
    return warehouse.query("SELECT MAX(indicator_date) FROM agency_daily_indicators")[0][0]


def build(day: date | None, out_dir: Path | None = None, *, pdf: bool = False) -> int:
    """What ``pantau report [--date YYYY-MM-DD] [--pdf]`` does: the report of ``day`` (default: the latest day with
    indicators) into ``out_dir`` (default reports/), and its PDF; prints where, returns the exit status."""
    from etl.pipeline import open_warehouse  # noqa: PLC0415

    warehouse = open_warehouse()
    try:
        day = day or latest_day(warehouse)
        if day is None:
            print("pantau: no indicators in the warehouse yet: run `make demo` or the DAGs first", file=sys.stderr)
            return 1
        page = write_report(warehouse, day, out_dir or PROJECT_ROOT / "reports")
    finally:
        warehouse.dispose()
    print(f"report for {day}: {page}")
    if pdf:
        try:
            printed = print_pdf(page, page.parent / f"laporan-{day.isoformat()}.pdf")
        except RuntimeError as exc:
            print(f"pantau: {exc}", file=sys.stderr)
            return 1
        print(f"PDF: {printed}")
    return 0
