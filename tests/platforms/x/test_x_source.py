"""The X source over real loopback HTTP: batching at 100, timeline paging, lookup of vanished tweets, outcomes."""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms.x.source import XSource
from etl.sandbox.server import SandboxServer
from etl.sources.base import AccountRef, RateBudget
from tests.scripted_server import ScriptedServer

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x"
USER = "1166941040371339264"
OK = {"Content-Type": "application/json"}


def make_source(url: str, tmp_path: Path, budget: int = 1000, sleeps: list | None = None) -> tuple[XSource, LandingWriter, ApiClient]:
    landing = LandingWriter(tmp_path / "x-000.jsonl.gz", source="x")
    client = ApiClient(source="x", secrets=("t0ken",), on_response=landing.write, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return XSource(client, url, "t0ken", RateBudget("x", budget), landing), landing, client


def users_body(*ids: str) -> str:
    return json.dumps({"data": [{"id": i, "username": f"u{i}", "protected": False, "public_metrics": {"followers_count": 1}} for i in ids]})


def test_timeline_is_paged_inside_the_window_and_vanished_known_tweets_are_looked_up(tmp_path: Path) -> None:
    page1 = (FIXTURES / "user_tweets_page.json").read_text()
    page2 = json.dumps({"data": [{"id": "1858500000000000000", "author_id": USER, "created_at": "2026-11-18T01:00:00.000Z",
                                  "text": "x", "public_metrics": {}}], "meta": {"result_count": 1}})
    lookup = (FIXTURES / "tweets_lookup_partial_errors.json").read_text()
    with ScriptedServer([(200, OK, users_body(USER)), (200, OK, page1), (200, OK, page2), (200, OK, lookup)]) as server:
        source, landing, _ = make_source(server.url, tmp_path)
        known = [("1859123456789012345", USER), ("1858000000000000003", USER), ("1858000000000000002", USER), ("999", "someone-else")]
        result = source.extract([AccountRef("x:KEM-A:0", USER)], as_of=AS_OF, repull_days=30, known_posts=known)
        landing.close()
    urls = [urlsplit(p) for p in server.requests]
    assert [u.path for u in urls] == ["/2/users", f"/2/users/{USER}/tweets", f"/2/users/{USER}/tweets", "/2/tweets"]
    first_page, second_page, tweets = (parse_qs(u.query) for u in urls[1:])
    assert first_page["start_time"] == ["2026-10-22T18:00:00Z"] and first_page["end_time"] == ["2026-11-21T18:00:00Z"]
    assert first_page["max_results"] == ["100"] and "pagination_token" not in first_page
    assert second_page["pagination_token"] == ["7140dibdnow9c7btw4b0qjqyrsduf96yhl2b1ta5w2t7x"]
    # Only the known tweets of this shard's accounts that the timeline did not return.
    assert tweets["ids"] == ["1858000000000000003,1858000000000000002"]
    assert result.outcomes == {"x:KEM-A:0": result.outcomes["x:KEM-A:0"]} and result.outcomes["x:KEM-A:0"].status == "ok"
    assert (result.api_calls, result.units) == (4, 4)
    assert [r["endpoint"] for r in read_landing(tmp_path / "x-000.jsonl.gz")] == ["users", "user_tweets", "user_tweets", "tweets"]


def test_429_without_retry_after_waits_for_the_rate_limit_reset(tmp_path: Path) -> None:
    reset = int(time.time()) + 3
    throttled = (429, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}, '{"title":"Too Many Requests","status":429}')
    empty = json.dumps({"meta": {"result_count": 0}})
    sleeps: list[float] = []
    with ScriptedServer([throttled, (200, OK, users_body(USER)), (200, OK, empty)]) as server:
        source, landing, _ = make_source(server.url, tmp_path, sleeps=sleeps)
        result = source.extract([AccountRef("x:KEM-A:0", USER)], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["x:KEM-A:0"].status == "ok"
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 3.0  # until the reset, not a blind backoff
    assert result.retries == 1


def test_a_reset_beyond_max_wait_defers_instead_of_sleeping(tmp_path: Path) -> None:
    throttled = (429, {"x-rate-limit-reset": str(int(time.time()) + 3600)}, '{"title":"Too Many Requests"}')
    with ScriptedServer([throttled]) as server:
        source, landing, _ = make_source(server.url, tmp_path)
        result = source.extract([AccountRef("x:A:0", USER), AccountRef("x:B:0", "42")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert {k: v.status for k, v in result.outcomes.items()} == {"x:A:0": "deferred", "x:B:0": "deferred"}
    assert len(server.requests) == 1


def test_a_refused_token_stops_at_once_and_names_the_connection(tmp_path: Path) -> None:
    with ScriptedServer([(401, OK, '{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}')]) as server:
        source, landing, _ = make_source(server.url, tmp_path)
        result = source.extract([AccountRef("x:A:0", USER), AccountRef("x:B:0", "42")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 1
    assert {v.status for v in result.outcomes.values()} == {"token_expired"}
    assert "connection 'x_api'" in result.outcomes["x:A:0"].message
    assert "t0ken" not in result.outcomes["x:A:0"].message


def test_against_the_sandbox_users_batch_at_100_and_outcomes_per_account(tmp_path: Path) -> None:
    accounts_csv = tmp_path / "accounts.csv"
    ids = [str(10**17 + n) for n in range(150)]
    with accounts_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_key", "agency_code", "platform", "handle", "platform_account_id", "layer"])
        writer.writerows([f"x:A{n}:0", f"A{n}", "x", f"@a{n}", i, "0"] for n, i in enumerate(ids))
    with SandboxServer(accounts_csv) as sandbox:
        sandbox.set_clock(AS_OF)
        private = [i for i in ids if sandbox.x.universe.is_private(i)]
        source, landing, _ = make_source(sandbox.base_url, tmp_path)
        source.client.secrets = ("sbxkey-demo",)
        source.client.headers["Authorization"] = "Bearer sbxkey-demo"
        accounts = [AccountRef(f"x:A{n}:0", i) for n, i in enumerate(ids)] + [AccountRef("x:GHOST:0", "123")]
        result = source.extract(accounts, as_of=AS_OF, repull_days=30)
        landing.close()
        requests = sandbox.stats["requests"]
    assert private, "the sandbox marks ~2% of accounts private"
    assert requests == {"x.users": 2, "x.user_tweets": 150 - len(private)}
    statuses = {k: v.status for k, v in result.outcomes.items()}
    assert statuses["x:GHOST:0"] == "not_found"
    assert sorted(k for k, s in statuses.items() if s == "private") == sorted(f"x:A{ids.index(i)}:0" for i in private)
    assert sum(s == "ok" for s in statuses.values()) == 150 - len(private)


def test_the_monthly_post_read_cap_stops_before_a_call_that_could_cross_it(tmp_path: Path) -> None:
    page1 = (FIXTURES / "user_tweets_page.json").read_text()  # 2 tweets and a next_token
    with ScriptedServer([(200, OK, users_body(USER, "42")), (200, OK, page1)]) as server:
        source, landing, _ = make_source(server.url, tmp_path)
        source.budget.reads_left = 101  # the second page could return 100 more: 2 + 100 > 101
        result = source.extract([AccountRef("x:A:0", USER), AccountRef("x:B:0", "42")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 2
    assert {k: v.status for k, v in result.outcomes.items()} == {"x:A:0": "deferred", "x:B:0": "deferred"}
    assert result.outcomes["x:B:0"].message == (
        "x monthly post-read cap: 2 posts read this run, 99 left this month, the next call may return 100; deferring the rest"
    )
