"""Issue 9's social error classes through the real pipeline steps, on DuckDB and on PostgreSQL.

extract_shard -> parse_validate_shard -> load_shard against the sandbox, whose ``<platform>.answer`` switch
serves the recorded error shapes of tests/fixtures/<platform>/. Asserted: the run ends with an outcomes file
and a ledger that says what happened, in the platform's words; refusals of the app stop the platform (and
the other Graph platform) without a call per account; nothing read is credited or flagged wrongly.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from etl.http import CredentialsRejected
from etl.pipeline import compute_indicators, open_warehouse
from etl.runtime import RunContext
from etl.settings import PROJECT_ROOT, load_settings
from tests.integration.test_social_faults import ACCOUNTS_PER_PLATFORM, DAY, make_world, run_platform, served_by, warehouse_state

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}" if request.param == "duckdb" else request.getfixturevalue("pg_url")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str):
    yield from make_world(tmp_path, monkeypatch, warehouse_url)


def query(sql: str, params: dict | None = None) -> list[tuple]:
    warehouse = open_warehouse(load_settings())
    try:
        return [tuple(r) for r in warehouse.query(sql, params or {})]
    finally:
        warehouse.dispose()


def requests_to(sandbox, platform: str) -> int:
    return sum(n for k, n in sandbox.stats["requests"].items() if k.startswith(f"{platform}."))


def test_x_client_not_enrolled_is_api_error_in_the_ledger_and_the_rerun_repairs(world) -> None:
    sandbox, run = world
    sandbox.faults["x.answer"] = {"status": 403, "body": fixture("x/client_not_enrolled_403.json"), "endpoint": "x.users"}
    run_platform("x", run)  # no exception: the outcomes file is written and loaded
    body = fixture("x/client_not_enrolled_403.json")
    message = (f"source=x status=403 reason=client-not-enrolled: {body['title']}: {body['detail']} "
               "(reason client-not-enrolled; type https://api.x.com/2/problems/client-forbidden)")
    state = warehouse_state("x")
    assert len(state["ledger"]) == ACCOUNTS_PER_PLATFORM
    assert set(state["ledger"].values()) == {("api_error", message)}
    assert state["posts"] == [] and requests_to(sandbox, "x") == 1
    run_platform("x", run)
    assert {s for s, _ in warehouse_state("x")["ledger"].values()} <= {"ok", "private"}


def test_facebook_time_based_paging_reads_every_post_of_the_window(world) -> None:
    sandbox, run = world
    sandbox.faults["facebook.time_paging"] = True
    run_platform("facebook", run)
    api = sandbox.graph.facebook
    now = sandbox.now()
    since = int((run.as_of - timedelta(days=load_settings().repull_days)).timestamp())
    expected = {f"{a}_{p.post_id}" for a in api.universe.accounts if not api.universe.is_private(a)
                for p in api.universe.posts(a, now) if p.published.timestamp() >= since}
    state = warehouse_state("facebook")
    assert len(expected) > 10 * ACCOUNTS_PER_PLATFORM // 2  # pages of 10: most pages have several
    assert sorted(state["posts"]) == sorted(expected) == sorted(served_by(sandbox, "facebook"))
    assert {s for s, _ in state["ledger"].values()} <= {"ok", "private"}


def test_facebook_a_next_that_cannot_be_followed_is_partial_not_ok(world, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox, run = world
    # The fault is the endpoint's next two answers: one page walk at a time, so that one account's walk gets both.
    monkeypatch.setenv("PANTAU_FACEBOOK_CONCURRENCY", "1")
    stuck = {"data": [], "paging": {"next": "https://graph.facebook.com/v21.0/1/published_posts?limit=10&after=STUCK"}}
    sandbox.faults["facebook.answer"] = {"status": 200, "body": stuck, "count": 2, "endpoint": "facebook.published_posts"}
    run_platform("facebook", run)
    ledger = warehouse_state("facebook")["ledger"]
    partial = {k: m for k, (s, m) in ledger.items() if s == "partial"}
    assert len(partial) == 1 and {s for s, _ in ledger.values()} <= {"ok", "private", "partial"}
    ((key, message),) = partial.items()
    assert message.endswith("published_posts announced another page after page 2 that could not be followed (paging.next repeats "
                            "the last request); posts past it in the re-pull window were not read")
    # Coverage counts only accounts read whole.
    compute_indicators(run, load_settings())
    agency = key.split(":")[1]
    ((coverage,),) = query("SELECT coverage FROM agency_daily_indicators WHERE agency_code = :a AND indicator_date = :d "
                           "AND platform = 'facebook'", {"a": agency, "d": DAY})
    assert coverage == 0


def test_a_graph_permission_refusal_fails_facebook_and_stops_instagram(world) -> None:
    sandbox, run = world
    sandbox.faults["facebook.answer"] = {"status": 403, "body": fixture("facebook/application_no_permission.json")}
    with pytest.raises(CredentialsRejected, match=r"accounts recorded token_expired .*Meta refuses a permission to the token of "
                       r"connection 'meta_graph' \(\(#10\) Application does not have permission for this action \(code 10\)\)"):
        run_platform("facebook", run)
    assert requests_to(sandbox, "facebook") == 1
    ledger = warehouse_state("facebook")["ledger"]
    assert len(ledger) == ACCOUNTS_PER_PLATFORM and {s for s, _ in ledger.values()} == {"token_expired"}
    assert all("pages_read_engagement" in m for _, m in ledger.values())
    with pytest.raises(CredentialsRejected, match="connection 'meta_graph'"):
        run_platform("instagram", run)
    assert requests_to(sandbox, "instagram") == 0


def test_graph_throttling_without_usage_headers_defers_both_graph_platforms(world) -> None:
    sandbox, run = world
    sandbox.faults["facebook.answer"] = {"status": 400, "body": fixture("facebook/application_request_limit.json"), "count": 100}
    run_platform("facebook", run)
    attempts = load_settings().http_max_attempts
    assert sandbox.stats["faults_served"]["facebook.answer"] == attempts == requests_to(sandbox, "facebook")  # one cycle, not one per page
    ledger = warehouse_state("facebook")["ledger"]
    assert len(ledger) == ACCOUNTS_PER_PLATFORM and {s for s, _ in ledger.values()} == {"deferred"}
    assert {r[0:2] for r in query("SELECT scope, status FROM etl_rate_limit WHERE connection = 'meta_graph' AND blocked_until IS NOT NULL")} \
        == {("quota", "deferred")}
    run_platform("instagram", run)
    assert requests_to(sandbox, "instagram") == 0
    assert {s for s, _ in warehouse_state("instagram")["ledger"].values()} == {"deferred"}


def test_x_expansion_errors_flag_only_the_requested_post(world) -> None:
    sandbox, run = world
    sandbox.faults["x.delete_between_pages"] = 1
    run_platform("x", run)
    (gone,) = sandbox.x.deleted
    others = [p for p in warehouse_state("x")["posts"] if p != gone][:2]
    next_day = RunContext.for_day(DAY + timedelta(days=1), run_id="manual__expansions", dag_id="social_metrics")
    sandbox.set_clock(next_day.as_of)
    answer = fixture("x/tweets_lookup_expansion_errors.json")
    answer["data"] = []
    answer["errors"][0]["resource_id"] = answer["errors"][0]["value"] = others[0]  # referenced_tweets.id: a post of ours
    answer["errors"][1]["resource_id"] = answer["errors"][1]["value"] = others[1]  # pinned_tweet_id: another of ours
    answer["errors"][3]["resource_id"] = answer["errors"][3]["value"] = gone  # parameter ids: the one asked for
    sandbox.faults["x.answer"] = {"status": 200, "body": answer, "endpoint": "x.tweets"}
    run_platform("x", next_day)
    assert sandbox.stats["faults_served"]["x.answer"] == 1
    assert query("SELECT platform_post_id FROM dim_post WHERE platform = 'x' AND is_deleted") == [(gone,)]


def test_x_reposts_store_no_engagement_of_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str) -> None:
    # Layer 1-3 accounts of the first X agency, which the sandbox makes retweet its official posts.
    layers = [{"account_key": f"x:KEM-KEMENKOPOLKAM:{n}", "agency_code": "KEM-KEMENKOPOLKAM", "platform": "x",
               "handle": f"@sandbox_layer_{n}", "platform_account_id": f"90000000000000000{n}", "layer": str(n),
               "active_from": "2020-01-01", "active_to": "", "note": "sandbox: synthetic layer account"} for n in (1, 2, 3)]
    for sandbox, run in make_world(tmp_path, monkeypatch, warehouse_url, layers):
        run_platform("x", run)
        now = sandbox.now()
        universe = sandbox.x.universe
        reposts = {p.post_id for a in universe.accounts for p in universe.posts(a, now)
                   if (ref := universe.reference(p)) is not None and ref.kind == "repost"}
        loaded = dict(query("SELECT platform_post_id, reference_kind FROM dim_post WHERE platform = 'x' AND reference_kind = 'repost'"))
        assert reposts and set(loaded) == reposts & set(warehouse_state("x")["posts"]) and set(loaded)
        metrics = query("SELECT likes, comments, shares, views, saves, quotes, unavailable_metrics FROM fact_post_metrics_daily "
                        "WHERE platform = 'x' AND platform_post_id IN (SELECT platform_post_id FROM dim_post WHERE reference_kind = 'repost')")
        reason = "repost: X sends the original's counts"
        assert len(metrics) == len(loaded)
        assert set(metrics) == {(None,) * 6 + ("; ".join(f"{m}={reason}" for m in ("comments", "likes", "quotes", "saves", "shares", "views")),)}
        # The reposts still amplify: the agency's layer-0 posts they echo count in amplification.
        compute_indicators(run, load_settings())
        official = "669119488334744578"
        echoed = {ref.post.post_id for a in universe.accounts if a != official for p in universe.posts(a, now)
                  if (ref := universe.reference(p)) is not None}
        day_posts = {p.post_id for p in universe.posts(official, now) if p.day == DAY - timedelta(days=2)}
        assert query("SELECT amplification_posts, amplified_posts FROM agency_daily_indicators WHERE agency_code = 'KEM-KEMENKOPOLKAM' "
                     "AND platform = 'x' AND indicator_date = :d", {"d": DAY}) == [(len(day_posts), len(day_posts & echoed))]
        assert day_posts & echoed  # some of the day's official posts were reposted
