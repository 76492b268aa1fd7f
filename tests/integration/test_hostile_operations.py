"""Hostile input and unsafe operations on DuckDB and PostgreSQL (issue 9): quarantine keys, repaired text in the
warehouse, concurrent migrations, dropped connections, days loaded out of order, killed tasks, orphaned landing files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl.http import CallRecord
from etl.landing import LandingWriter, landing_path, remove_orphans
from etl.pipeline import compute_indicators, load_shard, parse_validate_shard, sync_registry
from etl.runtime import INTERRUPTED, RunContext, TaskAudit, audited
from etl.sandbox.server import SandboxServer
from etl.settings import PROJECT_ROOT, load_settings
from etl.warehouse import MIGRATIONS_DIR, Warehouse
from tests.conftest import _pg_admin
from tests.integration.test_news_pipeline import _run as news_run
from tests.integration.test_news_pipeline import news_env, sandbox  # noqa: F401 - fixtures
from tests.scenario import D1, D2, D3, build_scenario

DAY = date(2026, 11, 20)
AUTHOR = "1166941040371339264"


def _tweet(number: int, text: str) -> dict:
    return {"id": f"18590000000000000{number:02d}", "author_id": AUTHOR, "created_at": "2026-11-20T02:15:07.000Z", "text": text,
            "public_metrics": {"like_count": number, "reply_count": 0, "retweet_count": 0, "quote_count": 0}}


def _malformed(number: int) -> dict:
    # No id: nothing to key the row by but the record itself.
    return {"author_id": AUTHOR, "created_at": "2026-11-20T02:15:07.000Z", "text": f"tanpa id {number}",
            "public_metrics": {"like_count": 1, "reply_count": 0, "retweet_count": 0, "quote_count": 0}}


def _land_shard(tmp_path: Path, run: RunContext, shard: int, tweets: list[dict]) -> dict:
    part = f"x-{shard:03d}"
    path = landing_path(tmp_path / "landing", "x", DAY, run.run_id, part)
    with LandingWriter(path, source="x") as landing:
        landing.context = {"endpoint": "user_tweets", "account": "x:KEM-A:0"}
        # As X sends it: NUL and lone surrogates JSON-escaped.
        landing.write(CallRecord("GET", "http://x/2/users/1/tweets", 200, json.dumps({"data": tweets}, ensure_ascii=True), 3, 1))
    outcomes = path.with_name(f"{part}.outcomes.json")
    outcomes.write_text(json.dumps({
        "platform": "x", "accounts": {"x:KEM-A:0": AUTHOR}, "outcomes": {"x:KEM-A:0": {"status": "ok", "message": None}},
        "api_calls": 1, "api_retries": 0, "quota_units": 0,
    }))
    return {"platform": "x", "part": part, "shard": shard, "landing": str(path), "outcomes": str(outcomes)}


@pytest.fixture
def x_warehouse(warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "agencies", pd.DataFrame([{"agency_code": "KEM-A", "name": "Kementerian A", "category": "kementerian",
                                                          "short_name": None, "parent_agency_code": None, "region_code": None}]), "dim_agency")
        warehouse.merge(conn, "accounts", pd.DataFrame([{
            "account_key": "x:KEM-A:0", "agency_code": "KEM-A", "platform": "x", "handle": "@a", "platform_account_id": AUTHOR,
            "layer": 0, "active_from": date(2020, 1, 1), "active_to": None, "is_sandbox": False}]), "dim_account", {"closed_on": DAY})
    return warehouse


def test_hostile_text_is_loaded_repaired_and_keyless_rows_keep_their_own_quarantine_rows(
    x_warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse = x_warehouse
    run = RunContext.for_day(DAY, run_id="manual__hostile", dag_id="social_metrics")
    good = [_tweet(1, "Rapat koordinasi"), _tweet(2, "Rusak\u0000 \ud83d #ok"), _tweet(3, "Jadwal"), _tweet(4, "Pengumuman")]
    bad = [_malformed(1), _malformed(2), _malformed(3)]
    for shard in (0, 1):  # two shards with the same key-less rows must not overwrite each other
        extracted = _land_shard(tmp_path, run, shard, good + bad)
        validated = parse_validate_shard(extracted, run, load_settings())
        assert validated["counts"] == {"rows_extracted": 14, "rows_valid": 8, "rows_quarantined": 6}
        load_shard(validated, run, load_settings())

    posts = warehouse.query("SELECT platform_post_id, text, text_repairs FROM dim_post ORDER BY platform_post_id")
    assert [tuple(r) for r in posts] == [
        ("1859000000000000001", "Rapat koordinasi", None),
        ("1859000000000000002", "Rusak \ufffd #ok", "text: removed 1 NUL byte; text: replaced 1 lone surrogate with U+FFFD"),
        ("1859000000000000003", "Jadwal", None),
        ("1859000000000000004", "Pengumuman", None),
    ]
    rows = warehouse.query("SELECT part, frame, record_key, record FROM etl_quarantine ORDER BY part, frame, record")
    # Three malformed tweets are three rows per frame, in each of the two shards: 12, keyed by a hash of the record.
    assert len(rows) == 12
    assert {(r[0], r[1]) for r in rows} == {(p, f) for p in ("x-000", "x-001") for f in ("posts", "post_metrics")}
    assert len({(r[0], r[1], r[2]) for r in rows}) == 12 and all(r[2].startswith("record:") for r in rows)
    assert sorted(json.loads(r[3])["text"] for r in rows if r[0] == "x-000" and r[1] == "posts") == [
        "tanpa id 1", "tanpa id 2", "tanpa id 3"]
    audit = warehouse.query("SELECT map_index, message FROM etl_run WHERE task_id = 'collect_x.parse_validate' ORDER BY map_index")
    assert [tuple(r) for r in audit] == [
        (shard, "posts: text repaired in 1 row(s) (x|1859000000000000002: text: removed 1 NUL byte; "
                "text: replaced 1 lone surrogate with U+FFFD)") for shard in (0, 1)]

    # A rerun of one shard replaces only that shard's quarantine rows.
    extracted = _land_shard(tmp_path, run, 1, good)
    load_shard(parse_validate_shard(extracted, run, load_settings()), run, load_settings())
    assert [tuple(r) for r in warehouse.query("SELECT part, COUNT(*) FROM etl_quarantine GROUP BY part")] == [("x-000", 6)]


# -- migrations, connections --------------------------------------------------------------


@pytest.mark.postgres
def test_three_processes_migrating_a_fresh_database_all_succeed(pg_url: str) -> None:
    code = "import sys; from etl.warehouse import Warehouse; w = Warehouse(sys.argv[1]); print(len(w.migrate())); w.dispose()"
    processes = [subprocess.Popen([sys.executable, "-c", code, pg_url], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
    results = [(p.wait(timeout=120), p.stdout.read().strip().splitlines()[-1], p.stderr.read()) for p in processes]
    assert [r[0] for r in results] == [0, 0, 0], [r[2][-2000:] for r in results]
    migrations = len(list(MIGRATIONS_DIR.glob("*.sql")))
    assert sorted(int(r[1]) for r in results) == [0, 0, migrations]  # one applied them all, the others found them applied
    warehouse = Warehouse(pg_url)
    assert warehouse.query("SELECT COUNT(*) FROM schema_migrations")[0][0] == migrations
    warehouse.dispose()


@pytest.mark.postgres
def test_a_connection_dropped_while_idle_does_not_abort_the_run(pg_url: str) -> None:
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    try:
        (pid,) = warehouse.query("SELECT pg_backend_pid()")[0]
        with _pg_admin() as admin:  # the server (a restart, an idle timeout, a failover) drops the pooled connection
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        time.sleep(0.2)
        assert warehouse.query("SELECT COUNT(*) FROM etl_run")[0][0] == 0  # pre-ping found it dead and reconnected
        assert warehouse.query("SELECT pg_backend_pid()")[0][0] != pid
        assert [warehouse.query(f"SHOW {name}")[0][0] for name in ("statement_timeout", "lock_timeout")] == ["30min", "2min"]
    finally:
        warehouse.dispose()


@pytest.mark.postgres
def test_statement_and_lock_timeouts_end_a_stuck_query(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    monkeypatch.setenv("PANTAU_PG_STATEMENT_TIMEOUT_SECONDS", "0.3")
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    try:
        with pytest.raises(sa.exc.OperationalError, match="canceling statement due to statement timeout"):
            warehouse.query("SELECT pg_sleep(2)")
    finally:
        warehouse.dispose()
    monkeypatch.setenv("PANTAU_PG_STATEMENT_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("PANTAU_PG_LOCK_TIMEOUT_SECONDS", "0.2")
    warehouse = Warehouse(pg_url)
    try:
        # A forgotten session holds a lock the run needs: the run fails in 0.2 s instead of hanging.
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as holder:
            holder.execute("LOCK TABLE etl_run IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(sa.exc.OperationalError, match="canceling statement due to lock timeout"):
                warehouse.query("SELECT COUNT(*) FROM etl_run")
    finally:
        warehouse.dispose()


# -- days out of order ----------------------------------------------------------------------

INDICATOR_TABLES = ["agency_daily_indicators", "fact_post_daily_increase", "campaign_post", "agency_campaign_daily",
                    "agency_campaign_standings", "dim_post"]


def _tables(url: str) -> dict[str, list[tuple]]:
    warehouse = Warehouse(url)
    try:
        out = {}
        for table in INDICATOR_TABLES:
            df = warehouse.query_df(f"SELECT * FROM {table}")
            out[table] = sorted(tuple(None if pd.isna(v) else v for v in row) for row in df.astype(object).itertuples(index=False))
        return out
    finally:
        warehouse.dispose()


@pytest.fixture
def second_url(request: pytest.FixtureRequest, warehouse: Warehouse, tmp_path: Path) -> Iterator[str]:
    """Another empty warehouse on the same engine."""
    if warehouse.dialect == "duckdb":
        yield f"duckdb:///{tmp_path / 'second.duckdb'}"
        return
    name = f"pantau_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{warehouse.url.rsplit('/', 1)[0]}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _build(url: str, days: tuple[date, ...], monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple]]:
    monkeypatch.setenv("WAREHOUSE_URL", url)
    warehouse = Warehouse(url)
    warehouse.migrate()
    build_scenario(warehouse, days)
    warehouse.dispose()
    return _tables(url)


def test_days_loaded_out_of_order_end_as_in_order(warehouse: Warehouse, second_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    in_order = _build(warehouse.url, (D1, D2, D3), monkeypatch)
    assert len(in_order["agency_daily_indicators"]) > 0 and len(in_order["fact_post_daily_increase"]) > 0
    backwards = _build(second_url, (D3, D1, D2), monkeypatch)
    assert backwards == in_order


@pytest.mark.postgres
def test_days_loaded_concurrently_end_as_in_order(warehouse: Warehouse, second_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if warehouse.dialect != "postgresql":
        pytest.skip("DuckDB lets one process write at a time")
    in_order = _build(warehouse.url, (D1, D2, D3), monkeypatch)
    monkeypatch.setenv("WAREHOUSE_URL", second_url)
    target = Warehouse(second_url)
    target.migrate()
    build_scenario(target, ())  # the dimensions
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda day: build_scenario(Warehouse(second_url), (day,)), (D3, D2, D1)))
    target.dispose()
    assert _tables(second_url) == in_order


# -- killed tasks, orphaned landing files ---------------------------------------------------

KILLED = """
import os, signal, sys
from datetime import date
from etl.runtime import RunContext, TaskAudit, audited
from etl.warehouse import Warehouse
warehouse = Warehouse(sys.argv[1])
run = RunContext.for_day(date(2026, 11, 20), run_id="manual__killed", dag_id="social_metrics")
with audited(warehouse, run, TaskAudit("collect_x.extract", map_index=0, source="x")):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_task_is_marked_failed_by_the_next_try(warehouse: Warehouse) -> None:
    warehouse.dispose()  # DuckDB: let the child open the file
    done = subprocess.run([sys.executable, "-c", KILLED, warehouse.url], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr[-2000:]
    assert [tuple(r) for r in warehouse.query("SELECT run_id, status, finished_at FROM etl_run")] == [("manual__killed", "running", None)]

    rerun = RunContext.for_day(DAY, run_id="manual__rerun", dag_id="social_metrics")
    with audited(warehouse, rerun, TaskAudit("collect_x.extract", map_index=0, source="x")):
        pass
    rows = warehouse.query("SELECT run_id, status, message FROM etl_run ORDER BY run_id")
    assert [tuple(r) for r in rows] == [
        ("manual__killed", "failed", INTERRUPTED.format(run_id="manual__rerun")),
        ("manual__rerun", "success", None),
    ]


def test_orphaned_partial_landing_files_are_removed_by_the_rerun(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    new = landing_path(landing, "x", DAY, "rerun", "x-000")
    killed = landing_path(landing, "x", DAY, "killed", "x-000").with_suffix(".gz.partial")
    running = landing_path(landing, "x", DAY, "running", "x-000").with_suffix(".gz.partial")
    other_part = landing_path(landing, "x", DAY, "killed", "x-001").with_suffix(".gz.partial")
    for path in (killed, running, other_part):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a gzip")
    old = time.time() - 7 * 3600
    for path in (killed, other_part):
        os.utime(path, (old, old))
    same = new.with_suffix(".gz.partial")  # a retry of the same run: the orphan has the writer's own name
    same.parent.mkdir(parents=True, exist_ok=True)
    same.write_bytes(b"half a gzip")

    with LandingWriter(new, source="x") as writer:
        assert writer.removed_orphans == [killed]
        writer.write(CallRecord("GET", "http://x/2/users", 200, "{}", 1, 1))
    assert not killed.exists() and not same.exists() and new.exists()
    assert running.exists() and other_part.exists()  # a task may still be writing it; another shard's is not ours
    assert remove_orphans(landing_path(landing, "x", DAY, "rerun", "x-001")) == [other_part]


# -- news: a hostile feed item, undated articles ---------------------------------------------


def test_a_hostile_feed_item_loads_repaired_and_undated_articles_count_in_no_indicator(
    news_env: RunContext, warehouse: Warehouse, sandbox: SandboxServer,  # noqa: F811 - the imported fixtures
) -> None:
    run = news_env
    sandbox.faults["feeds.hostile_text"] = 1
    sync_registry(run)
    news_run(run)
    repaired = warehouse.query("SELECT title, text_repairs FROM fact_news_article WHERE text_repairs IS NOT NULL")
    assert [r[1] for r in repaired] == ["feed text: invalid character reference &#xD83D; repaired; feed text: removed 1 NUL byte"]
    assert repaired[0][0].startswith("\ufffd") and "\x00" not in repaired[0][0]
    assert {r[0] for r in warehouse.query("SELECT last_status FROM etl_news_feed_health")} == {"ok"}

    compute_indicators(run)
    # An agency's story that is the only article of its cluster named on the day: undated, it no longer counts.
    agency, article = warehouse.query(
        "SELECT m.agency_code, MIN(m.article_id) FROM fact_news_mention m JOIN fact_news_article a USING (article_id) "
        "WHERE m.published_on = :day AND a.duplicate_of IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM fact_news_article c WHERE c.cluster_id = a.cluster_id AND c.article_id <> a.article_id) "
        "GROUP BY m.agency_code ORDER BY m.agency_code LIMIT 1", {"day": DAY})[0]

    def mentions() -> int:
        return warehouse.query("SELECT news_mentions FROM agency_daily_indicators WHERE indicator_date = :day "
                               "AND platform = 'all' AND agency_code = :agency", {"day": DAY, "agency": agency})[0][0]

    before = mentions()
    with warehouse.transaction() as conn:
        conn.execute(sa.text("UPDATE fact_news_article SET published_estimated = TRUE WHERE article_id = :a"), {"a": article})
    compute_indicators(run)
    assert (before, mentions()) == (before, before - 1) and before >= 1
