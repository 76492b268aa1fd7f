"""X, Instagram, Facebook and TikTok through sandbox faults, with the real pipeline steps on DuckDB.

Each run is extract_shard -> parse_validate_shard -> load_shard (what the
social_metrics DAG wires) against the in-process sandbox. Asserted for every
platform and fault: the run finishes; every post the sandbox sent in a
complete answer is in the warehouse exactly once; what could not be read is
in the coverage ledger; a rerun of the day duplicates nothing.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from etl.budget import clear_limits
from etl.http import CredentialsRejected
from etl.pipeline import extract_shard, load_shard, open_warehouse, parse_validate_shard, plan_shards, sync_registry
from etl.platforms.facebook import source as facebook_source
from etl.platforms.instagram import source as instagram_source
from etl.platforms.tiktok import source as tiktok_source
from etl.platforms.x import source as x_source
from etl.runtime import RunContext
from etl.sandbox.server import SandboxServer
from etl.settings import PROJECT_ROOT, load_settings

PLATFORMS = ["x", "instagram", "facebook", "tiktok"]
DAY = date(2026, 11, 20)
ACCOUNTS_PER_PLATFORM = 6
KEY = "sbxkey-demo"
ENV = {
    "x": ("X_API_BASE", "X_BEARER_TOKEN"),
    "instagram": ("META_GRAPH_BASE", "META_GRAPH_TOKEN"),
    "facebook": ("META_GRAPH_BASE", "META_GRAPH_TOKEN"),
    "tiktok": ("TIKTOK_API_BASE", "TIKTOK_CLIENT_TOKEN"),
}


def served_by(sandbox: SandboxServer, platform: str) -> set[str]:
    """Posts the sandbox sent whole; for Instagram only those inside the re-pull window (the page that crosses
    the cutoff carries older media too, which are not the night's to load)."""
    api = {"x": sandbox.x, "instagram": sandbox.graph.instagram, "facebook": sandbox.graph.facebook, "tiktok": sandbox.tiktok}[platform]
    if platform != "instagram":
        return set(api.served)
    now = sandbox.now()
    cutoff = now - timedelta(days=load_settings().repull_days)
    posts = {p.post_id: p for a in api.universe.accounts for p in api.universe.posts(a, now)}
    return {i for i in api.served if i not in posts or posts[i].published >= cutoff}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A sandbox and a DuckDB warehouse for the first accounts of each platform in the sandbox registry."""
    yield from make_world(tmp_path, monkeypatch, f"duckdb:///{tmp_path / 'warehouse.duckdb'}")


def make_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str, extra_rows: list[dict] | None = None):
    """The sandbox, the registry's first accounts of each platform (and ``extra_rows``) synced into the warehouse at ``warehouse_url``."""
    with (PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    chosen = [r for p in PLATFORMS for r in [r for r in rows if r["platform"] == p][:ACCOUNTS_PER_PLATFORM]]
    accounts = tmp_path / "accounts.csv"
    with accounts.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(chosen + (extra_rows or []))
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("PANTAU_INSTAGRAM_USER_ID", "17841400000000001")
    monkeypatch.setenv("PANTAU_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("PANTAU_HTTP_MAX_ATTEMPTS", "8")
    # Keep the client's jittered backoff short; waits the server asks for (x-rate-limit-reset) are kept.
    monkeypatch.setattr("etl.http.random.uniform", lambda a, b: min(b, 0.01))
    # Small pages, so every account's walk has a second page for a post to vanish before.
    monkeypatch.setattr(x_source, "TIMELINE", replace(x_source.TIMELINE, page_size=10))
    monkeypatch.setattr(facebook_source, "POSTS", replace(facebook_source.POSTS, page_size=10))
    monkeypatch.setattr(instagram_source, "DISCOVERY", replace(instagram_source.DISCOVERY, page_size=10))
    monkeypatch.setattr(tiktok_source, "VIDEO_QUERY", replace(tiktok_source.VIDEO_QUERY, page_size=50))
    with SandboxServer(accounts) as sandbox:
        for base_env, secret_env in ENV.values():
            monkeypatch.setenv(base_env, sandbox.base_url)
            monkeypatch.setenv(secret_env, KEY)
        run = RunContext.for_day(DAY, run_id="manual__faults", dag_id="social_metrics")
        sandbox.set_clock(run.as_of)
        sync_registry(run, load_settings())
        yield sandbox, run


def run_platform(platform: str, run: RunContext) -> None:
    settings = load_settings()
    for shard in plan_shards(platform, run, settings):
        extracted = extract_shard(platform, shard["shard"], shard["shards"], run, settings)
        load_shard(parse_validate_shard(extracted, run, settings), run, settings)


def warehouse_state(platform: str) -> dict:
    warehouse = open_warehouse(load_settings())
    try:
        posts = [r[0] for r in warehouse.query("SELECT platform_post_id FROM dim_post WHERE platform = :p", {"p": platform})]
        metrics = [r[0] for r in warehouse.query(
            "SELECT platform_post_id FROM fact_post_metrics_daily WHERE platform = :p AND snapshot_date = :d", {"p": platform, "d": DAY})]
        ledger = {r[0]: (r[1], r[2]) for r in warehouse.query(
            "SELECT account_key, status, message FROM etl_account_coverage WHERE platform = :p AND snapshot_date = :d", {"p": platform, "d": DAY})}
        accounts = warehouse.query(
            "SELECT COUNT(*) FROM fact_account_daily f JOIN dim_account a USING (account_key) WHERE a.platform = :p", {"p": platform})[0][0]
    finally:
        warehouse.dispose()
    return {"posts": posts, "metrics": metrics, "ledger": ledger, "accounts": accounts}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("status", [429, 503])
def test_bursts_truncation_slowness_and_a_post_deleted_between_pages(world, platform: str, status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The faults are "the next N answers": one call in flight, so each is served exactly as counted below.
    monkeypatch.setenv(f"PANTAU_{platform.upper()}_CONCURRENCY", "1")
    sandbox, run = world
    sandbox.faults.update({
        f"{platform}.status_burst": {"status": status, "count": 2},
        f"{platform}.truncate_count": 2,
        f"{platform}.slow_seconds": 1.0,  # past the 0.5 s client timeout
        f"{platform}.slow_count": 1,
        f"{platform}.delete_between_pages": 1,
    })
    run_platform(platform, run)
    served = served_by(sandbox, platform)
    stats = sandbox.stats["faults_served"]
    assert stats[f"{platform}.status_burst"] == 2 and stats[f"{platform}.truncate"] == 2 and stats[f"{platform}.slow"] == 1
    assert stats[f"{platform}.delete_between_pages"] == 1
    first = warehouse_state(platform)
    assert served, "the sandbox served posts"
    assert sorted(first["posts"]) == sorted(served)  # every served post, once (dim_post's key is the post)
    assert sorted(first["metrics"]) == sorted(served)
    statuses = {s for s, _ in first["ledger"].values()}
    assert len(first["ledger"]) == ACCOUNTS_PER_PLATFORM and statuses <= {"ok", "private"}
    # The rerun of the day adds nothing and loses nothing.
    run_platform(platform, run)
    again = warehouse_state(platform)
    assert sorted(again["posts"]) == sorted(first["posts"]) and sorted(again["metrics"]) == sorted(first["metrics"])
    assert again["ledger"] == first["ledger"] and again["accounts"] == first["accounts"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_expired_token_is_in_the_ledger_and_names_the_connection(world, platform: str) -> None:
    sandbox, run = world
    sandbox.faults[f"{platform}.token_expired"] = True
    connection = {"x": "x_api", "instagram": "meta_graph", "facebook": "meta_graph", "tiktok": "tiktok_api"}[platform]
    # The load commits the ledger, then fails the task naming the connection.
    with pytest.raises(CredentialsRejected, match=rf"^{ACCOUNTS_PER_PLATFORM} of {ACCOUNTS_PER_PLATFORM} accounts recorded "
                       rf"token_expired in etl_account_coverage \(the rest of the shard is loaded\): .*connection '{connection}'"):
        run_platform(platform, run)
    state = warehouse_state(platform)
    assert {s for s, _ in state["ledger"].values()} == {"token_expired"}
    assert all(f"connection '{connection}'" in m and KEY not in m for _, m in state["ledger"].values())
    assert state["posts"] == [] and state["accounts"] == 0
    # Stopped at the first refusal: one call, not one per account.
    assert sum(n for k, n in sandbox.stats["requests"].items() if k.startswith(platform)) == 1
    # The token is renewed (here: the same secret accepted again, so the run's block is lifted as an operator would
    # with `pantau limits --clear`): the rerun collects the day.
    sandbox.faults[f"{platform}.token_expired"] = None
    clear_limits(open_warehouse(load_settings()), connection)
    run_platform(platform, run)
    state = warehouse_state(platform)
    assert {s for s, _ in state["ledger"].values()} <= {"ok", "private"}
    assert sorted(state["posts"]) == sorted(served_by(sandbox, platform))


def test_an_x_post_deleted_between_pages_is_flagged_deleted_the_next_day(world) -> None:
    sandbox, run = world
    sandbox.faults["x.delete_between_pages"] = 1
    run_platform("x", run)
    (gone,) = sandbox.x.deleted
    assert gone in warehouse_state("x")["posts"]  # served on page one, so loaded
    next_day = RunContext.for_day(DAY + timedelta(days=1), run_id="manual__faults2", dag_id="social_metrics")
    sandbox.set_clock(next_day.as_of)
    run_platform("x", next_day)
    warehouse = open_warehouse(load_settings())
    try:
        flagged = warehouse.query("SELECT platform_post_id, deleted_seen_on FROM dim_post WHERE platform = 'x' AND is_deleted")
    finally:
        warehouse.dispose()
    # The timeline no longer lists it, the ids lookup answers with an error for it: flagged, not removed.
    assert (gone, DAY + timedelta(days=1)) in [tuple(r) for r in flagged]
    assert sandbox.stats["requests"]["x.tweets"] >= 1


def test_the_x_monthly_read_cap_counts_the_month_so_far_and_defers(world, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox, run = world
    run_platform("x", run)
    read = len(warehouse_state("x")["metrics"])  # posts read on the 20th
    next_day = RunContext.for_day(DAY + timedelta(days=1), run_id="manual__cap", dag_id="social_metrics")
    sandbox.set_clock(next_day.as_of)
    # What is left this month (cap - posts read on earlier days) is less than one timeline page (10 here): nothing is read.
    monkeypatch.setenv("PANTAU_X_MONTHLY_READ_CAP", str(read + 9))
    run_platform("x", next_day)
    warehouse = open_warehouse(load_settings())
    try:
        ledger = warehouse.query("SELECT status, message FROM etl_account_coverage WHERE platform = 'x' AND snapshot_date = :d",
                                 {"d": next_day.data_date})
        snapshots = warehouse.query("SELECT COUNT(*) FROM fact_post_metrics_daily WHERE platform = 'x' AND snapshot_date = :d",
                                    {"d": next_day.data_date})[0][0]
    finally:
        warehouse.dispose()
    assert {r[0] for r in ledger} <= {"deferred", "private"} and "deferred" in {r[0] for r in ledger}
    assert all("monthly post-read cap" in r[1] for r in ledger if r[0] == "deferred")
    assert snapshots == 0
    # Raise the cap: the deferred accounts are collected.
    monkeypatch.setenv("PANTAU_X_MONTHLY_READ_CAP", str(read + 100_000))
    run_platform("x", next_day)
    state = warehouse_state("x")
    assert {s for s, _ in state["ledger"].values()} <= {"ok", "private"}


def test_an_x_window_with_no_call_left_defers_the_rest_before_any_429(world) -> None:
    sandbox, run = world
    sandbox.x.rate_limit = 3  # requests per endpoint per 15-minute window
    run_platform("x", run)
    stats = sandbox.stats
    # x-rate-limit-remaining fell to 0 on the third timeline call, with the reset 15 minutes away (past the
    # client's max_wait): the source stopped there instead of spending a call on a certain 429.
    assert stats["statuses"]["x.user_tweets"] == {"200": 3}
    ledger = warehouse_state("x")["ledger"]
    deferred = {k: m for k, (s, m) in ledger.items() if s == "deferred"}
    assert deferred and {s for s, _ in ledger.values()} <= {"ok", "deferred", "private"}
    assert all(m.startswith("x API window for user_tweets has no call left until ") and m.endswith(" UTC; deferring the rest")
               for m in deferred.values())
    # Every shard of the night (and the next one, until the reset) sees the window in the warehouse.
    warehouse = open_warehouse(load_settings())
    try:
        window = warehouse.query("SELECT calls_remaining, status FROM etl_rate_limit WHERE connection = 'x_api' AND scope = 'user_tweets'")
    finally:
        warehouse.dispose()
    assert [tuple(r) for r in window] == [(0, "deferred")]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_field_a_newer_graph_version_dropped_is_null_with_its_reason_and_the_night_loads(
    world, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    sandbox, run = world
    monkeypatch.delenv("PANTAU_GRAPH_API_VERSION", raising=False)
    monkeypatch.setenv("PANTAU_FACEBOOK_CONCURRENCY", str(concurrency))
    sandbox.faults["facebook.removed_fields"] = ["shares"]
    run_platform("facebook", run)
    served = served_by(sandbox, "facebook")
    state = warehouse_state("facebook")
    assert served and sorted(state["posts"]) == sorted(served) and sorted(state["metrics"]) == sorted(served)
    assert {s for s, _ in state["ledger"].values()} <= {"ok", "private"} and len(state["ledger"]) == ACCOUNTS_PER_PLATFORM
    warehouse = open_warehouse(load_settings())
    try:
        snapshots = warehouse.query(
            "SELECT shares, unavailable_metrics, likes IS NOT NULL FROM fact_post_metrics_daily WHERE platform = 'facebook' AND snapshot_date = :d",
            {"d": DAY})
    finally:
        warehouse.dispose()
    assert {tuple(r) for r in snapshots} == {(None, "shares=not served by Graph API v21.0", True)}
    # Refused once per shard (one extraction = one run of GraphCalls), then never asked for again; with calls in flight
    # at once, each call sent before the first refusal came back is refused too (and sent again without the field).
    shards = len(plan_shards("facebook", run, load_settings()))
    refused = sandbox.stats["faults_served"]["facebook.removed_fields"]
    assert refused == shards if concurrency == 1 else shards <= refused <= shards * concurrency


def test_a_facebook_post_deleted_between_pages_is_flagged_deleted_the_next_day(world) -> None:
    sandbox, run = world
    sandbox.faults["facebook.delete_between_pages"] = 1
    run_platform("facebook", run)
    (raw,) = sandbox.graph.facebook.deleted
    (gone,) = [p for p in warehouse_state("facebook")["posts"] if p.endswith(f"_{raw}")]  # served on page one, so loaded
    next_day = RunContext.for_day(DAY + timedelta(days=1), run_id="manual__faults2", dag_id="social_metrics")
    sandbox.set_clock(next_day.as_of)
    run_platform("facebook", next_day)
    warehouse = open_warehouse(load_settings())
    try:
        flagged = warehouse.query("SELECT platform_post_id, deleted_seen_on FROM dim_post WHERE platform = 'facebook' AND is_deleted")
        still = warehouse.query("SELECT COUNT(*) FROM fact_post_metrics_daily WHERE platform_post_id = :p AND snapshot_date = :d",
                                {"p": gone, "d": next_day.data_date})[0][0]
    finally:
        warehouse.dispose()
    # published_posts no longer lists it; ?ids= fails for the batch, the one-id read says it does not exist: flagged, not removed.
    assert (gone, DAY + timedelta(days=1)) in [tuple(r) for r in flagged]
    assert still == 0
    requests_seen = sandbox.stats["requests"]
    assert requests_seen["facebook.post_lookup"] >= 1 and requests_seen["facebook.post"] >= 1
    ledger = warehouse_state("facebook")["ledger"]
    assert {s for s, _ in ledger.values()} <= {"ok", "private"}


def test_a_meta_token_refused_on_facebook_stops_instagram_before_it_calls(world) -> None:
    sandbox, run = world
    sandbox.faults.update({"facebook.token_expired": True, "instagram.token_expired": True})  # one Meta token for both
    with pytest.raises(CredentialsRejected):
        run_platform("facebook", run)
    with pytest.raises(CredentialsRejected, match="connection 'meta_graph'"):
        run_platform("instagram", run)
    requests = sandbox.stats["requests"]
    assert sum(n for k, n in requests.items() if k.startswith("facebook")) == 1
    assert sum(n for k, n in requests.items() if k.startswith("instagram")) == 0  # the block in etl_rate_limit stopped it
    ledger = warehouse_state("instagram")["ledger"]
    assert len(ledger) == ACCOUNTS_PER_PLATFORM and {s for s, _ in ledger.values()} == {"token_expired"}


@pytest.mark.parametrize("concurrency", [1, 3])
def test_extract_shard_has_the_platforms_concurrency_in_flight(
    concurrency: int, world, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, run = world
    monkeypatch.setenv("PANTAU_FACEBOOK_CONCURRENCY", str(concurrency))
    sandbox.latency_seconds = 0.2  # every answer takes a round trip: calls in flight overlap on the server
    run_platform("facebook", run)
    sandbox.latency_seconds = 0.0
    assert sandbox.stats["in_flight_max"] == concurrency
    assert {status for status, _ in warehouse_state("facebook")["ledger"].values()} <= {"ok", "private", "not_found"}
