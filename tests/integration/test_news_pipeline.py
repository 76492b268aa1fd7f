"""news_mentions end to end against the sandbox, on DuckDB and PostgreSQL: extract, transform_validate, load, indicators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from etl.news.pipeline import extract_news, load_news, transform_news
from etl.pipeline import compute_indicators, sync_registry
from etl.runtime import JAKARTA, RunContext
from etl.sandbox.news import NewsUniverse
from etl.sandbox.server import SandboxServer
from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse

DAY = date(2026, 11, 20)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "news"
SEEDS = json.loads((FIXTURES / "seed_matches.json").read_text(encoding="utf-8"))


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv") as server:
        yield server


@pytest.fixture
def news_env(tmp_path: Path, warehouse: Warehouse, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> RunContext:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv"))
    monkeypatch.setenv("PANTAU_NEWS_FEEDS_FILE", str(PROJECT_ROOT / "registry" / "sandbox" / "news_feeds.csv"))
    monkeypatch.setenv("PANTAU_NEWS_FEEDS_BASE", sandbox.base_url)
    monkeypatch.setenv("PANTAU_GDELT_BASE", f"{sandbox.base_url}/api/v2/doc/doc")
    monkeypatch.setenv("PANTAU_GDELT_PACING_SECONDS", "0")
    monkeypatch.setenv("PANTAU_GDELT_GROUP_SIZE", "400")
    monkeypatch.setenv("PANTAU_NEWS_FEED_MAX_FAILURES", "2")
    monkeypatch.setenv("PANTAU_HTTP_MAX_ATTEMPTS", "1")
    run = RunContext.for_day(DAY, run_id="scheduled__news", dag_id="news_mentions")
    sandbox.set_clock(run.as_of)
    return run


def _run(run: RunContext) -> dict[str, int]:
    return load_news(transform_news(extract_news(run), run), run)


def test_news_run_loads_articles_copies_mentions_and_feed_health(news_env: RunContext, warehouse: Warehouse, sandbox: SandboxServer) -> None:
    run = news_env
    recent = NewsUniverse(7).recent(run.as_of)
    # lintas has no feed: only GDELT finds its stories, those of the 24 hours GDELT is asked about.
    gdelt_only = [s for s in recent if s["outlet"] == "lintas" and s["published"] >= run.as_of - timedelta(hours=24)]
    stories = [s for s in recent if s["outlet"] != "lintas"] + gdelt_only
    loaded = _run(run)
    articles = warehouse.query_df("SELECT * FROM fact_news_article")
    # Every synthetic story once (the GDELT sightings of the same URLs fold into them), the seeds, 18 Tempo items, 2 broken-feed items.
    assert len(gdelt_only) == 4 and len(articles) == len(stories) + 5 + 18 + 2 == loaded["fact_news_article"]
    assert sorted(articles.loc[articles["source"] == "gdelt", "canonical_url"]) == sorted(
        s["url"].replace("https://www.", "https://") for s in gdelt_only)
    copies = articles[articles["duplicate_of"].notna()]
    warta = {s["url"].replace("https://www.", "https://") for s in stories if s["outlet"] == "warta"}
    assert set(copies["canonical_url"]) == warta  # every syndicated copy, and nothing else
    originals = articles.set_index("article_id").loc[copies["duplicate_of"], "outlet_code"]
    assert set(originals) == {"sandbox-kabar"}
    assert (articles["cluster_id"] == articles["article_id"]).sum() == len(articles) - len(copies)

    mentions = warehouse.query_df("SELECT m.*, a.canonical_url FROM fact_news_mention m JOIN fact_news_article a USING (article_id)")
    for name, spec in SEEDS.items():
        found = sorted(mentions.loc[mentions["canonical_url"] == f"https://seeds.sandbox.test/{name[:-4]}", "agency_code"])
        assert found == spec["agencies"], name
    for story in stories:  # each synthetic story names its agency (and the template names no other)
        codes = set(mentions.loc[mentions["canonical_url"] == story["url"].replace("https://www.", "https://"), "agency_code"])
        assert story["agency_code"] in codes, story["title"]
    assert mentions["sentiment"].between(-1, 1).all() and mentions["confidence"].between(0, 1).all()
    # Every mention carries its role and its tone toward the agency (issue 16); the templates decide the tone.
    assert mentions["mention_role"].isin(["institution", "head", "deputy", "unit"]).all()
    assert mentions["tone"].isin(["negative", "neutral", "positive"]).all() and mentions["tone_method"].eq("rules-v1").all()
    template_tone = {"Raih Penghargaan": "positive", "Dikritik": "negative", "Gelar Rapat Koordinasi": "neutral"}
    checked = 0
    for story in stories:
        for words, tone in template_tone.items():
            if words in story["title"]:
                row = mentions[(mentions["canonical_url"] == story["url"].replace("https://www.", "https://")) & (mentions["agency_code"] == story["agency_code"])]
                assert list(row["tone"]) == [tone], story["title"]
                checked += 1
    assert checked == 9  # the day's stories from those three templates (one of them lintas', found by GDELT only)
    # The real Tempo items and seeds name heads (Kapolri) and units (Brimob, Kepala Dinas Komunikasi DKI Jakarta) too.
    assert set(mentions["mention_role"]) == {"institution", "head", "unit"}

    health = warehouse.query_df("SELECT * FROM etl_news_feed_health ORDER BY feed_url").set_index("feed_url")
    assert len(health) == 8 and set(health["last_status"]) == {"ok"} and health["consecutive_failures"].eq(0).all()
    broken = health.loc[f"{sandbox.base_url}/feeds/sandbox/broken.xml"]
    # Not well-formed, and two items with nothing to know them by (its Indonesian date is read: no problem).
    assert (broken["items_last_fetch"], broken["new_items_last_fetch"], broken["problems_last_fetch"]) == (2, 2, 3)
    assert broken["last_problem"].endswith("entry 4 ('Berita terpotong'): no link, no guid and no date; entry skipped")

    # A second fetch adds nothing: every feed answers 304, GDELT's articles are known ones.
    before = warehouse.query_df("SELECT article_id, cluster_id, duplicate_of FROM fact_news_article ORDER BY article_id")
    mention_count = len(mentions)
    _run(run)
    health = warehouse.query_df("SELECT * FROM etl_news_feed_health")
    assert set(health["last_status"]) == {"not_modified"} and health["new_items_last_fetch"].eq(0).all()
    after = warehouse.query_df("SELECT article_id, cluster_id, duplicate_of FROM fact_news_article ORDER BY article_id")
    pd.testing.assert_frame_equal(before, after)
    assert warehouse.table_counts(["fact_news_mention"])["fact_news_mention"] == mention_count


def test_failing_feeds_are_counted_then_disabled_with_a_reason(news_env: RunContext, warehouse: Warehouse, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    run = news_env
    monkeypatch.setenv("PANTAU_GDELT_ENABLED", "0")
    sandbox.faults["feeds.status_burst"] = {"status": 503, "count": 16}
    _run(run)
    [(status, message)] = warehouse.query("SELECT status, message FROM etl_run WHERE dag_id = 'news_mentions' AND task_id = 'extract'")
    assert status == "partial" and message.startswith("8 of 8 feeds/queries failed: ")
    health = warehouse.query_df("SELECT * FROM etl_news_feed_health")
    assert set(health["last_status"]) == {"failed"} and health["consecutive_failures"].eq(1).all() and not health["is_disabled"].any()
    _run(run)
    health = warehouse.query_df("SELECT * FROM etl_news_feed_health")
    assert health["consecutive_failures"].eq(2).all() and health["is_disabled"].all()
    assert set(health["disabled_reason"]) == {
        f"disabled after 2 consecutive failures; last error: source=feeds account={code} status=503: gave up after 1 attempts: "
        "Service Unavailable"  # the HTML body read as text
        for code in health["outlet_code"]
    }
    assert warehouse.table_counts(["fact_news_article"]) == {"fact_news_article": 0}
    calls = sandbox.stats["requests"].get("feeds.get", 0)
    _run(run)  # disabled feeds are not called again
    assert sandbox.stats["requests"].get("feeds.get", 0) == calls


def test_news_indicators_for_the_day(news_env: RunContext, warehouse: Warehouse) -> None:
    run = news_env
    sync_registry(RunContext.for_day(DAY, run_id="scheduled__registry", dag_id="registry_sync"))
    _run(run)
    compute_indicators(RunContext.for_day(DAY, run_id="scheduled__indicators", dag_id="agency_indicators"))
    got = warehouse.query_df(
        "SELECT agency_code, news_mentions, news_mentions_institution, news_copies, news_outlets, news_sentiment, "
        "news_negative_mentions, news_positive_mentions, news_negative_share "
        "FROM agency_daily_indicators WHERE indicator_date = :day AND platform = 'all' ORDER BY agency_code", {"day": DAY}
    ).set_index("agency_code")
    rows = warehouse.query_df(
        "SELECT m.agency_code, m.sentiment, m.mention_role, m.tone, a.cluster_id, a.duplicate_of, a.outlet_code "
        "FROM fact_news_mention m JOIN fact_news_article a USING (article_id) WHERE m.published_on = :day", {"day": DAY}
    )
    assert len(rows) > 0
    for code, g in rows.groupby("agency_code"):
        assert got.loc[code, "news_mentions"] == g["cluster_id"].nunique()
        assert got.loc[code, "news_copies"] == g["duplicate_of"].notna().sum()
        assert got.loc[code, "news_outlets"] == g["outlet_code"].nunique()
        assert got.loc[code, "news_sentiment"] == pytest.approx(g["sentiment"].mean())
        assert got.loc[code, "news_mentions_institution"] == g.loc[g["mention_role"] == "institution", "cluster_id"].nunique()
        assert got.loc[code, "news_negative_mentions"] == (g["tone"] == "negative").sum()
        assert got.loc[code, "news_positive_mentions"] == (g["tone"] == "positive").sum()
        assert got.loc[code, "news_negative_share"] == pytest.approx((g["tone"] == "negative").mean())
    # The report view splits the same rows by role and tone, with the tone method's measured quality beside them.
    view = warehouse.query_df("SELECT * FROM report_news_mentions_by_role WHERE published_on = :day", {"day": DAY}).set_index("agency_code")
    assert set(view.index) == set(rows["agency_code"])
    for code, g in rows.groupby("agency_code"):
        assert view.loc[code, "articles"] == len(g)
        assert view.loc[code, "articles_institution"] == (g["mention_role"] == "institution").sum()
        assert view.loc[code, "tone_negative"] == (g["tone"] == "negative").sum()
        assert view.loc[code, "tone_positive"] == (g["tone"] == "positive").sum()
    assert set(view["tone_method"]) == {"rules-v1"} and set(view["tone_macro_f1"]) == {0.7824} and set(view["tone_negative_f1"]) == {0.8276}
    [quality] = warehouse.query("SELECT tone_method, mentions, floor_met FROM report_news_tone_quality")
    assert tuple(quality) == ("rules-v1", 241, True)
    quiet = got.drop(index=rows["agency_code"].unique())
    assert quiet["news_mentions"].eq(0).all() and quiet["news_sentiment"].isna().all()
    # Published on DAY in Jakarta time, as the indicator counts it.
    day_articles = warehouse.query_df("SELECT published_at FROM fact_news_article WHERE published_on = :day", {"day": DAY})
    assert all(pd.Timestamp(t).tz_localize("UTC").tz_convert(JAKARTA).date() == DAY for t in day_articles["published_at"])
    assert DAY - timedelta(days=1) not in set(rows.get("published_on", []))


def test_news_on_the_object_store_loads_what_the_local_disk_loads(news_env: RunContext, warehouse: Warehouse, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """news_mentions hands its tasks locations on the shared storage, so each may run on another worker."""
    from tests.object_store import s3_server

    tables = ["dim_outlet", "fact_news_article", "fact_news_mention", "etl_news_feed_health"]
    _run(news_env)
    local = warehouse.table_counts(tables)
    assert (tmp_path / "landing" / "feeds").is_dir() and (tmp_path / "staging" / "news").is_dir()
    with s3_server() as store:
        for key, value in store.env.items():
            monkeypatch.setenv(key, value)
        rerun = RunContext.for_day(DAY, run_id="scheduled__news_on_s3", dag_id="news_mentions")
        extracted = extract_news(rerun)
        assert extracted["items"].startswith("s3://") and all(p is None or p.startswith("s3://") for p in extracted["landing"])
        remote = load_news(transform_news(extracted, rerun), rerun)
        keys = store.keys()
    # The feeds answer 304 now (conditional GET): GDELT's articles come again, through the bucket, and change nothing.
    assert remote["fact_news_article"] > 0 and warehouse.table_counts(tables) == local
    assert any(k.endswith("fetches.json") for k in keys) and any("/landing/feeds/" in k for k in keys)
    assert not any("scheduled__news_on_s3" in str(p) for p in tmp_path.rglob("*"))


def test_the_next_night_reuses_the_windows_sketches_and_survives_an_unreadable_one(
    news_env: RunContext, warehouse: Warehouse, sandbox: SandboxServer, tmp_path: Path,
) -> None:
    from structlog.testing import capture_logs

    from etl.news.dedupe import SKETCH_VERSION

    sketches = tmp_path / "cache" / "news_sketches"
    stale = sketches / f"{DAY - timedelta(days=5)}.{SKETCH_VERSION}.parquet"  # older than any window reads
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    first = news_env
    _run(first)
    loaded = warehouse.table_counts(["fact_news_article"])["fact_news_article"]
    assert sorted(p.name for p in sketches.iterdir()) == [f"{DAY}.{SKETCH_VERSION}.parquet"]  # the stale file removed

    second = RunContext.for_day(DAY + timedelta(days=1), run_id="scheduled__news2", dag_id="news_mentions")
    sandbox.set_clock(second.as_of)
    window = warehouse.query("SELECT COUNT(*) FROM fact_news_article WHERE published_at >= :since",
                             {"since": second.as_of.astimezone(UTC).replace(tzinfo=None) - timedelta(days=3)})[0][0]
    with capture_logs() as logs:
        _run(second)
    [clustered] = [e for e in logs if e["event"] == "news clustered"]
    # Every article of the first night still in the window came with its sketch; only the new ones were sketched.
    assert clustered["sketches_reused"] == window > 0 and clustered["sketched"] == clustered["articles"] - window
    assert clustered["sketched"] == warehouse.table_counts(["fact_news_article"])["fact_news_article"] - loaded

    # A damaged file costs the work it would have spared, with a warning naming it, and changes no cluster.
    (sketches / f"{DAY}.{SKETCH_VERSION}.parquet").write_bytes(b"PAR1 torn")
    before = warehouse.query_df("SELECT article_id, cluster_id, duplicate_of, similarity FROM fact_news_article ORDER BY article_id")
    with capture_logs() as logs:
        _run(second)
    [warning] = [e for e in logs if e["event"].startswith("news sketches unreadable")]
    assert warning["file"].endswith(f"{DAY}.{SKETCH_VERSION}.parquet") and warning["log_level"] == "warning"
    pd.testing.assert_frame_equal(before, warehouse.query_df(
        "SELECT article_id, cluster_id, duplicate_of, similarity FROM fact_news_article ORDER BY article_id"))
