"""social_metrics, run by Airflow (dag.test), through each sandbox fault on all five platforms at once, on DuckDB.

The sandbox runs in-process (a thread of the test), so the test reads what it
really sent: the ids of every post it served in a complete answer, the posts
it deleted between two pages, and the faults it served. dag.test runs the
tasks in this process too, so the small page sizes patched here are the ones
the sources use. Asserted for every fault: the run's state; every post served
is in dim_post and in the day's fact_post_metrics_daily exactly once; the
coverage ledger has one row per registered account with the expected status;
a rerun of the day changes nothing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from etl import http
from etl.harness import NEWS_ENV, SANDBOX_KEY, DagRunner, point_sources_at, prepare_airflow_db
from etl.platforms.facebook import source as facebook_source
from etl.platforms.instagram import source as instagram_source
from etl.platforms.tiktok import source as tiktok_source
from etl.platforms.x import source as x_source
from etl.platforms.youtube import source as youtube_source
from etl.runtime import RunContext
from etl.sandbox.server import SandboxServer
from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse

pytestmark = pytest.mark.airflow

PLATFORMS = ["youtube", "x", "instagram", "facebook", "tiktok"]
CONNECTIONS = {"youtube": "youtube_api", "x": "x_api", "instagram": "meta_graph", "facebook": "meta_graph", "tiktok": "tiktok_api"}
DAY = date(2026, 11, 15)
REPULL_DAYS = 7  # about ten posts per account in the window: two or three pages of five
#: X from all three agencies, every other platform from the first two (YouTube: the official channel only).
#: With PANTAU_SHARD_SIZE=2, X has two shards (two accounts and one), every other platform one.
AGENCIES = ["KEM-KEMENKOPOLKAM", "KEM-KEMENKOKUMHAMIMIPAS", "KEM-KEMENKOPEREKONOMIAN"]
SHARDS = {"youtube": 1, "x": 2, "instagram": 1, "facebook": 1, "tiktok": 1}
SLOW_SECONDS, CLIENT_TIMEOUT = 1.5, 0.5
ENV_SET_BY_HARNESS = ("AIRFLOW_CONN_YOUTUBE_API", "AIRFLOW_CONN_X_API", "AIRFLOW_CONN_META_GRAPH", "AIRFLOW_CONN_TIKTOK_API",
                      "PANTAU_INSTAGRAM_USER_ID", *NEWS_ENV)


@dataclass(frozen=True)
class Fault:
    switches: dict[str, Any]  # sandbox fault switches, set under every platform's prefix
    served: dict[str, int]  # faults_served counters expected per platform
    retries: int  # calls the HTTP client retried, per platform
    env: dict[str, str]


FAULTS = {
    "429_burst": Fault({"status_burst": {"status": 429, "count": 2}}, {"status_burst": 2}, 2, {}),
    "503_burst": Fault({"status_burst": {"status": 503, "count": 2}}, {"status_burst": 2}, 2, {}),
    "slow_past_timeout": Fault({"slow_seconds": SLOW_SECONDS, "slow_count": 1}, {"slow": 1}, 1,
                               {"PANTAU_HTTP_TIMEOUT": str(CLIENT_TIMEOUT)}),
    "truncated_json": Fault({"truncate_count": 2}, {"truncate": 2}, 2, {}),
    # Nothing to retry: the next page is served whole, the vanished post was read on the page before.
    "deleted_between_pages": Fault({"delete_between_pages": 1}, {"delete_between_pages": 1}, 0, {}),
}


def write_accounts(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The registry's accounts file for this test, and account key -> platform."""
    with (PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    chosen = []
    for platform in PLATFORMS:
        agencies = AGENCIES if SHARDS[platform] == 2 else AGENCIES[:2]
        chosen += [r for r in rows if r["platform"] == platform and r["agency_code"] in agencies and r["layer"] == "0"]
    path = tmp_path / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(chosen)
    return path, {r["account_key"]: r["platform"] for r in chosen}


@dataclass
class World:
    sandbox: SandboxServer
    runner: DagRunner
    accounts: dict[str, str]  # account key -> platform
    url: str

    def social_metrics(self) -> str:
        return self.runner.run("social_metrics", DAY, 1, 0)

    def served(self, platform: str) -> set[str]:
        """Posts the sandbox sent in complete answers; for Instagram only those inside the re-pull window
        (the page that crosses the cutoff carries older media too, which are not the night's to load)."""
        if platform == "youtube":
            return set(self.sandbox.youtube_served)
        api = self.api(platform)
        if platform != "instagram":
            return set(api.served)
        now = self.sandbox.now()
        posts = {p.post_id: p for a in api.universe.accounts for p in api.universe.posts(a, now)}
        return {i for i in api.served if i not in posts or posts[i].published >= now - timedelta(days=REPULL_DAYS)}

    def api(self, platform: str) -> Any:
        graph = self.sandbox.graph
        return {"x": self.sandbox.x, "instagram": graph.instagram, "facebook": graph.facebook, "tiktok": self.sandbox.tiktok}[platform]

    def api_post_id(self, platform: str, post_id: str) -> str:
        """A sandbox post's id as its API spells it (Facebook: ``<page id>_<post id>``)."""
        if platform != "facebook":
            return post_id
        post = self.api(platform).universe.post(post_id, self.sandbox.now())
        return f"{post.account_id}_{post_id}"

    def requests_to(self, platform: str) -> int:
        return sum(n for endpoint, n in self.sandbox.stats["requests"].items() if endpoint.startswith(f"{platform}."))

    def state(self) -> dict[str, Any]:
        """Per platform: dim_post ids, the day's fact_post_metrics_daily ids (sorted, repeats kept), the day's
        account snapshots; and the day's ledger, account key -> (platform, status, message)."""
        warehouse = Warehouse(self.url)
        try:
            def ids(sql: str, params: dict[str, Any] | None = None) -> dict[str, list[str]]:
                found: dict[str, list[str]] = {p: [] for p in PLATFORMS}
                for platform, post_id in warehouse.query(sql, params):
                    found[platform].append(post_id)
                return {p: sorted(v) for p, v in found.items()}

            accounts = dict.fromkeys(PLATFORMS, 0)
            for platform, count in warehouse.query(
                "SELECT a.platform, COUNT(*) FROM fact_account_daily f JOIN dim_account a USING (account_key) "
                "WHERE f.snapshot_date = :day GROUP BY a.platform", {"day": DAY}
            ):
                accounts[platform] = count
            return {
                "posts": ids("SELECT platform, platform_post_id FROM dim_post"),  # the warehouse holds this one night
                "metrics": ids("SELECT platform, platform_post_id FROM fact_post_metrics_daily WHERE snapshot_date = :day", {"day": DAY}),
                "account_snapshots": accounts,
                "ledger": {k: (p, s, m) for k, p, s, m in warehouse.query(
                    "SELECT account_key, platform, status, message FROM etl_account_coverage WHERE snapshot_date = :day", {"day": DAY})},
            }
        finally:
            warehouse.dispose()

    def retries(self) -> dict[str, int]:
        """Calls the HTTP client retried in this run's extract tasks, per platform (etl_run.api_retries)."""
        warehouse = Warehouse(self.url)
        try:
            rows = warehouse.query(
                "SELECT source, SUM(api_retries) FROM etl_run WHERE dag_id = 'social_metrics' AND run_id = :run "
                "AND task_id LIKE 'collect_%.extract' GROUP BY source", {"run": self.runner.last_run_ids["social_metrics"]})
        finally:
            warehouse.dispose()
        return {source: int(n) for source, n in rows}

    def load_audit(self) -> dict[tuple[str, int], tuple[str, str | None]]:
        """etl_run rows of this run's load tasks: (task id, shard) -> (status, message)."""
        warehouse = Warehouse(self.url)
        try:
            rows = warehouse.query(
                "SELECT task_id, map_index, status, message FROM etl_run WHERE dag_id = 'social_metrics' AND run_id = :run "
                "AND task_id LIKE 'collect_%.load'", {"run": self.runner.last_run_ids["social_metrics"]})
        finally:
            warehouse.dispose()
        return {(t, i): (s, m) for t, i, s, m in rows}


@pytest.fixture(scope="module")
def runner() -> DagRunner:
    prepare_airflow_db()
    return DagRunner()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: DagRunner) -> Iterator[World]:
    """The registry synced by Airflow, the in-process sandbox serving it, its clock at the night's read time."""
    accounts_csv, accounts = write_accounts(tmp_path)
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    monkeypatch.delenv("PANTAU_NO_AIRFLOW_CONNECTIONS", raising=False)  # credentials come from the Airflow connections
    for name in ENV_SET_BY_HARNESS:  # point_sources_at sets these; monkeypatch puts the old values back after the test
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "PANTAU_ACCOUNTS_FILE": str(accounts_csv), "PANTAU_DATA_DIR": str(tmp_path / "data"), "WAREHOUSE_URL": url,
        "PANTAU_REPULL_DAYS": str(REPULL_DAYS), "PANTAU_SHARD_SIZE": "2", "PANTAU_HTTP_MAX_ATTEMPTS": "8",
    }.items():
        monkeypatch.setenv(name, value)
    # Short jittered backoff (only the HTTP client's); waits the server asks for (X's x-rate-limit-reset) are kept.
    monkeypatch.setattr(http, "random", SimpleNamespace(uniform=lambda a, b: min(b, 0.01)))
    # Small pages, so every account's walk has a second page for a post to vanish before.
    monkeypatch.setattr(youtube_source, "UPLOADS", replace(youtube_source.UPLOADS, page_size=5))
    monkeypatch.setattr(x_source, "TIMELINE", replace(x_source.TIMELINE, page_size=5))
    monkeypatch.setattr(instagram_source, "DISCOVERY", replace(instagram_source.DISCOVERY, page_size=5))
    monkeypatch.setattr(facebook_source, "POSTS", replace(facebook_source.POSTS, page_size=5))
    monkeypatch.setattr(tiktok_source, "VIDEO_QUERY", replace(tiktok_source.VIDEO_QUERY, page_size=10))
    with SandboxServer(accounts_csv, api_key=SANDBOX_KEY) as sandbox:
        point_sources_at(sandbox)
        assert runner.run("registry_sync", DAY, 0, 30) == "success"
        sandbox.set_clock(RunContext.for_day(DAY, run_id="-", dag_id="social_metrics").as_of)
        yield World(sandbox, runner, accounts, url)


def assert_every_served_post_loaded_once(world: World, state: dict[str, Any]) -> None:
    for platform in PLATFORMS:
        served = sorted(world.served(platform))
        assert served, f"the sandbox served no {platform} post"
        assert state["posts"][platform] == served, platform
        assert state["metrics"][platform] == served, platform


@pytest.mark.parametrize("fault", list(FAULTS))
def test_social_metrics_through_a_fault_on_every_platform(world: World, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    spec = FAULTS[fault]
    for name, value in spec.env.items():
        monkeypatch.setenv(name, value)
    world.sandbox.faults.update({f"{p}.{switch}": value for p in PLATFORMS for switch, value in spec.switches.items()})

    assert world.social_metrics() == "success"
    # Every task succeeded on its first try: the faults were absorbed by the HTTP client, not by Airflow retries.
    assert {ti: s for ti, s in world.runner.task_states("social_metrics").items() if s != ("success", 1)} == {}
    state = world.state()
    assert_every_served_post_loaded_once(world, state)
    assert state["ledger"] == {key: (platform, "ok", None) for key, platform in world.accounts.items()}
    assert state["account_snapshots"] == {p: list(world.accounts.values()).count(p) for p in PLATFORMS}
    expected_faults = {f"{p}.{counter}": n for p in PLATFORMS for counter, n in spec.served.items()}
    assert world.sandbox.stats["faults_served"] == expected_faults
    assert world.retries() == dict.fromkeys(PLATFORMS, spec.retries)  # the slow answer: the client timed out and asked again
    if fault == "deleted_between_pages":
        for platform in (p for p in PLATFORMS if p != "youtube"):
            # The vanished post was served on the page before: it is loaded like the others (checked above).
            (gone,) = world.api(platform).deleted
            assert world.api_post_id(platform, gone) in state["posts"][platform], platform
        # YouTube lists uploads without metrics: a video gone before videos.list was never served whole, so not loaded.
        (gone,) = world.sandbox.youtube_deleted
        assert gone not in state["posts"]["youtube"] and gone not in world.served("youtube")
    served = {p: world.served(p) for p in PLATFORMS}

    # The rerun of the day (the one-shot faults are spent) adds nothing and loses nothing.
    assert world.social_metrics() == "success"
    assert world.state() == state
    assert {p: world.served(p) for p in PLATFORMS} == served  # it read no post the first run had not
    assert world.sandbox.stats["faults_served"] == expected_faults
    assert world.retries() == dict.fromkeys(PLATFORMS, 0)


#: X (two shards) and TikTok: two separate connections. Meta's token (meta_graph) serves Instagram and Facebook
#: alike, so expiring it expires two platforms at once; with X and TikTok, both Meta platforms and YouTube stay healthy.
EXPIRED = ("x", "tiktok")
RENEWED_TOKEN = "renewed-sandbox-token"


def test_an_expired_token_fails_its_platform_only_and_a_renewed_token_collects_the_day(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sandbox.faults.update({f"{p}.token_expired": True for p in EXPIRED})

    assert world.social_metrics() == "failed"
    # The first refused call stops the platform: one request, not one per account or per shard.
    assert {p: world.requests_to(p) for p in EXPIRED} == {"x": 1, "tiktok": 1}
    state = world.state()
    ledger = state["ledger"]
    assert sorted(ledger) == sorted(world.accounts)
    for key, (platform, status, message) in ledger.items():
        if platform in EXPIRED:
            assert status == "token_expired", key
            assert f"connection '{CONNECTIONS[platform]}'" in message and SANDBOX_KEY not in message, (key, message)
        else:
            assert (status, message) == ("ok", None), key
    for platform in PLATFORMS:
        if platform in EXPIRED:
            assert world.served(platform) == set()
            assert (state["posts"][platform], state["metrics"][platform], state["account_snapshots"][platform]) == ([], [], 0)
        else:  # the healthy platforms are loaded
            assert state["posts"][platform] == state["metrics"][platform] == sorted(world.served(platform)) != [], platform

    tasks = world.runner.task_states("social_metrics")
    loads = {ti: s for ti, s in tasks.items() if ti[0].endswith(".load")}
    assert loads == {
        (f"collect_{p}.load", shard): ("failed" if p in EXPIRED else "success", 1)  # failed without an Airflow retry
        for p in PLATFORMS for shard in range(SHARDS[p])
    }
    assert tasks[("publish", -1)] == ("failed", 1)  # it ran once (after the good shards loaded) and failed the run
    audit = world.load_audit()
    assert {ti: s for ti, (s, _) in audit.items()} == {ti: s for ti, (s, _) in loads.items()}
    for (task_id, _), (_, message) in audit.items():
        platform = task_id.split(".")[0].removeprefix("collect_")
        if platform in EXPIRED:
            assert f"connection '{CONNECTIONS[platform]}'" in message and SANDBOX_KEY not in message, (task_id, message)

    # The tokens are renewed: the platforms accept them, the operator puts them in the connections (a token that
    # was refused stays blocked for the day, etl/budget.py; a new one is tried). The rerun collects every account, once.
    world.sandbox.faults.update({f"{p}.token_expired": None for p in EXPIRED})
    for platform in EXPIRED:
        world.api(platform).tokens.add(RENEWED_TOKEN)
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTIONS[platform].upper()}",
                           json.dumps({"conn_type": "http", "host": world.sandbox.base_url, "password": RENEWED_TOKEN}))
    assert world.social_metrics() == "success"
    state = world.state()
    assert_every_served_post_loaded_once(world, state)
    assert state["ledger"] == {key: (platform, "ok", None) for key, platform in world.accounts.items()}
    assert state["account_snapshots"] == {p: list(world.accounts.values()).count(p) for p in PLATFORMS}
    assert {ti: s for ti, (s, _) in world.load_audit().items()} == {ti: "success" for ti in loads}


def test_hostile_text_in_one_post_and_one_feed_item_loses_nothing(world: World) -> None:
    """A NUL and a lone surrogate in one X post, and a feed item with ``&#xD83D;`` and a NUL: every other post,
    account and feed loads; the two are loaded repaired, noted in ``text_repairs``; the audit says so; no task
    needed a retry."""
    world.sandbox.faults.update({"x.hostile_text": 1, "feeds.hostile_text": 1})

    assert world.social_metrics() == "success"
    assert {ti: s for ti, s in world.runner.task_states("social_metrics").items() if s != ("success", 1)} == {}
    state = world.state()
    assert_every_served_post_loaded_once(world, state)
    assert state["ledger"] == {key: (platform, "ok", None) for key, platform in world.accounts.items()}
    assert state["account_snapshots"] == {p: list(world.accounts.values()).count(p) for p in PLATFORMS}
    (hostile,) = world.api("x").hostile
    warehouse = Warehouse(world.url)
    try:
        repaired = warehouse.query("SELECT platform_post_id, text, text_repairs FROM dim_post WHERE text_repairs IS NOT NULL")
        quarantined = warehouse.query("SELECT COUNT(*) FROM etl_quarantine")[0][0]
        audit = warehouse.query(
            "SELECT shard, status, message FROM etl_run WHERE task_id = 'collect_x.parse_validate' AND message IS NOT NULL")
    finally:
        warehouse.dispose()
    assert [(r[0], r[2]) for r in repaired] == [(hostile, "text: removed 1 NUL byte; text: replaced 1 lone surrogate with U+FFFD")]
    assert repaired[0][1].endswith(" \ufffd") and "\x00" not in repaired[0][1]
    assert quarantined == 0  # a repaired row is a valid row
    [(shard, status, message)] = audit
    assert status == "success" and message.startswith(f"posts: text repaired in 1 row(s) (x|{hostile}: text: removed 1 NUL byte")
    assert world.sandbox.stats["faults_served"] == {"x.hostile_text": 1}

    assert world.runner.run("news_mentions", DAY, 0, 30) == "success"
    assert {ti: s for ti, s in world.runner.task_states("news_mentions").items() if s != ("success", 1)} == {}
    warehouse = Warehouse(world.url)
    try:
        health = warehouse.query("SELECT feed_url, last_status, last_problem FROM etl_news_feed_health ORDER BY feed_url")
        articles = warehouse.query("SELECT outlet_code, title, text_repairs FROM fact_news_article WHERE text_repairs IS NOT NULL")
        per_outlet = dict(warehouse.query("SELECT outlet_code, COUNT(*) FROM fact_news_article GROUP BY outlet_code"))
    finally:
        warehouse.dispose()
    assert world.sandbox.stats["faults_served"]["feeds.hostile_text"] == 1
    assert {status for _, status, _ in health} == {"ok"} and len(health) == 8  # every feed loaded, the poisoned one too
    [(outlet, title, repairs)] = articles
    assert title.startswith("\ufffd") and "\x00" not in title
    assert repairs == "feed text: invalid character reference &#xD83D; repaired; feed text: removed 1 NUL byte"
    assert per_outlet[outlet] > 1  # the item's neighbours in its feed are loaded too
    assert [p for _, _, p in health if p and "text repaired" in p][0].endswith(f"text repaired: {repairs}")


def test_a_deterministic_data_error_fails_its_task_at_once_without_retries(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quality gate that fails (here forced: no share of bad rows is allowed, not even 0 %) fails the same way on
    every try: parse_validate fails on its first try, naming the suite, and is not retried."""
    monkeypatch.setenv("PANTAU_MAX_QUARANTINE_SHARE", "-1")
    assert world.social_metrics() == "failed"
    tasks = world.runner.task_states("social_metrics")
    parse = {ti: s for ti, s in tasks.items() if ti[0].endswith(".parse_validate")}
    assert parse == {(f"collect_{p}.parse_validate", shard): ("failed", 1) for p in PLATFORMS for shard in range(SHARDS[p])}
    warehouse = Warehouse(world.url)
    try:
        messages = [m for (m,) in warehouse.query(
            "SELECT message FROM etl_run WHERE task_id LIKE 'collect_%.parse_validate' AND status = 'failed'")]
    finally:
        warehouse.dispose()
    assert len(messages) == sum(SHARDS.values())
    assert all(m.startswith("QualityGateFailed: source=") and "the rows are in etl_quarantine" in m for m in messages), messages
