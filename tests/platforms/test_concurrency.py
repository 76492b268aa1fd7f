"""Bounded concurrency inside a shard (etl/sources/concurrency.py), over real loopback HTTP.

Every platform's source runs its per-account work on ``client.concurrency`` threads: the sandbox sees that
many calls at once, the landing file holds the same lines in the same order as one call at a time, a budget or
a read cap is never overspent, and a refused credential stops the other workers before they call again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from etl.budget import SharedBudget
from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms import get_platform, resolve
from etl.platforms.youtube.source import YouTubeSource
from etl.sandbox.server import SandboxServer
from etl.sources.base import AccountRef, RateBudget
from etl.warehouse import Warehouse
from tests.sandbox_registry import account, sandbox_with

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
TOKEN = "sbxkey-demo"
ACCOUNTS = 12


def platform_account(platform: str, n: int) -> tuple[str, str]:
    """(platform account id, handle) of the n-th test account, in the shape each API checks."""
    return {
        "youtube": (f"UCconcurrency{n:011d}", f"@yt_{n}"),
        "x": (f"1000000000000{n:05d}", f"@x_{n}"),
        "instagram": (f"1784140000{n:07d}", f"@ig_{n}"),
        "facebook": (f"10001234{n:07d}", f"@fb_{n}"),
        "tiktok": (f"agency_{n}", f"@agency_{n}"),
    }[platform]


def refs(platform: str) -> list[AccountRef]:
    accounts = [(n, *platform_account(platform, n)) for n in range(ACCOUNTS)]
    return [AccountRef(f"{platform}:A{n}:0", account_id, handle.lstrip("@")) for n, account_id, handle in accounts]


def known_posts(platform: str) -> list[tuple[str, str]]:
    """Posts the warehouse would know that the walk does not return: every source then makes its deletion lookups."""
    ids = [platform_account(platform, n)[0] for n in range(0, ACCOUNTS, 3)]
    post = {"youtube": "gone{:07d}", "x": "1999999999999{:05d}", "facebook": "{page}_9{:014d}", "tiktok": "79999999999{:08d}"}.get(platform)
    if post is None:
        return []  # business_discovery cannot look a media up by id
    return [(post.format(n, page=page), page) for n, page in enumerate(ids)]


@pytest.fixture(autouse=True)
def _graph_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_INSTAGRAM_USER_ID", "17841400000000001")
    monkeypatch.delenv("PANTAU_GRAPH_API_VERSION", raising=False)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    rows = [account(p, f"A{n}", *platform_account(p, n)) for p in ("youtube", "x", "instagram", "facebook", "tiktok") for n in range(ACCOUNTS)]
    with sandbox_with(tmp_path_factory.mktemp("sandbox"), rows, AS_OF) as server:
        yield server


def extract(
    platform: str, url: str, path: Path, concurrency: int, budget: RateBudget | None = None, accounts: list[AccountRef] | None = None
) -> tuple[Any, LandingWriter, RateBudget]:
    landing = LandingWriter(path, source=platform)
    client = ApiClient(source=platform, secrets=(TOKEN,), on_response=landing.write, sleep=lambda s: None, concurrency=concurrency)
    budget = budget or RateBudget(platform, 100_000)
    # A quarter of the TikTok accounts authorised our app: they are read with the Display API, the rest with Research.
    extra = {"display_tokens": {f"agency_{n}": f"display-agency_{n}" for n in range(0, ACCOUNTS, 4)}} if platform == "tiktok" else {}
    base = f"{url}/youtube/v3" if platform == "youtube" else url  # the others live at the sandbox's root
    source = resolve(get_platform(platform).source)(client, base, TOKEN, budget, landing, **extra)
    try:
        result = source.extract(accounts or refs(platform), as_of=AS_OF, repull_days=30, known_posts=known_posts(platform))
    finally:
        landing.close()
    return result, landing, budget


def landed(path: Path) -> list[dict[str, Any]]:
    """The landing's lines less what differs between any two runs (the time received, the round trip)."""
    return [{k: v for k, v in line.items() if k not in ("received_at", "elapsed_ms")} for line in read_landing(path)]


PLATFORMS = ["youtube", "x", "instagram", "facebook", "tiktok"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_four_workers_land_the_same_lines_in_the_same_order_as_one(platform: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    one, _, _ = extract(platform, sandbox.base_url, tmp_path / "one.jsonl.gz", concurrency=1)
    four, _, _ = extract(platform, sandbox.base_url, tmp_path / "four.jsonl.gz", concurrency=4)
    lines = landed(tmp_path / "one.jsonl.gz")
    assert len(lines) == one.api_calls > ACCOUNTS
    assert landed(tmp_path / "four.jsonl.gz") == lines
    assert list(four.outcomes.items()) == list(one.outcomes.items())
    assert (four.api_calls, four.retries, four.units) == (one.api_calls, one.retries, one.units)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_api_sees_as_many_calls_at_once_as_the_concurrency(
    platform: str, concurrency: int, sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.reset()
    sandbox.latency_seconds = 0.2  # every answer takes a round trip: calls in flight overlap on the server
    try:
        result, _, _ = extract(platform, sandbox.base_url, tmp_path / "part.jsonl.gz", concurrency=concurrency)
    finally:
        sandbox.latency_seconds = 0.0
    assert {o.status for o in result.outcomes.values()} <= {"ok", "private", "not_found"}
    assert sandbox.stats["in_flight_max"] == concurrency


@pytest.fixture
def shared_budget(tmp_path: Path) -> Iterator[SharedBudget]:
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    warehouse.migrate()
    try:
        with warehouse.kept_open():
            yield SharedBudget("youtube", 9, connection="youtube_api", warehouse=warehouse, run_id="run-1", shards=1)
    finally:
        warehouse.dispose()


@pytest.mark.parametrize("kind", ["in memory", "shared through the warehouse"])
def test_four_workers_never_spend_past_the_budget(kind: str, sandbox: SandboxServer, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    budget = RateBudget("youtube", 9) if kind == "in memory" else request.getfixturevalue("shared_budget")
    sandbox.reset()
    result, landing, _ = extract("youtube", sandbox.base_url, tmp_path / "part.jsonl.gz", concurrency=4, budget=budget)
    budget.close()
    assert sum(sandbox.stats["requests"].values()) == landing.lines == result.api_calls == result.units == budget.spent == 9
    statuses = [o.status for o in result.outcomes.values()]
    assert statuses.count("deferred") == ACCOUNTS - statuses.count("ok") > 0
    if isinstance(budget, SharedBudget):
        assert budget.warehouse.query("SELECT spent_units FROM etl_rate_budget")[0][0] == 9


def test_four_workers_never_read_past_the_monthly_read_cap(sandbox: SandboxServer, tmp_path: Path) -> None:
    cap = 250
    budget = RateBudget("x", 10_000, reads_left=cap)
    result, _, _ = extract("x", sandbox.base_url, tmp_path / "part.jsonl.gz", concurrency=4, budget=budget)
    read = sum(len(json.loads(line["body"]).get("data") or []) for line in read_landing(tmp_path / "part.jsonl.gz")
               if line["endpoint"] in ("user_tweets", "tweets"))
    assert read == budget.reads <= cap
    assert "deferred" in {o.status for o in result.outcomes.values()}
    assert "monthly post-read cap" in next(o.message for o in result.outcomes.values() if o.status == "deferred")


# -- a refused credential stops the other workers --------------------------------------------------------------------

KEY_INVALID = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                         "errors": [{"message": "API key not valid.", "domain": "global", "reason": "keyInvalid"}], "status": "INVALID_ARGUMENT"}}


class RefusingYouTube:
    """Serves channels.list, then holds the first uploads page of every channel until four are in flight: the first
    channel's is refused (an invalid key), the other three are answered (with a next page) only once the client has
    stopped its workers. Every later request is refused and counted."""

    def __init__(self, client_box: dict[str, ApiClient]) -> None:
        self.requests: list[str] = []
        self.first_pages = threading.Barrier(4, timeout=10)
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                with lock:
                    server.requests.append(url.path + ("?pageToken=" + query["pageToken"][0] if "pageToken" in query else ""))
                    first_page = url.path == "/playlistItems" and "pageToken" not in query
                if url.path == "/channels":
                    ids = query["id"][0].split(",")
                    body = {"items": [{"id": i, "contentDetails": {"relatedPlaylists": {"uploads": "UU" + i[2:]}}} for i in ids]}
                    return self.answer(200, body)
                if not first_page:
                    return self.answer(400, KEY_INVALID)
                server.first_pages.wait()
                if query["playlistId"][0] == "UU" + CHANNELS[0][2:]:
                    return self.answer(400, KEY_INVALID)
                halt = client_box["client"]._halt
                deadline = time.monotonic() + 10
                while halt is not None and not halt.is_set() and time.monotonic() < deadline:
                    time.sleep(0.01)
                item = {"contentDetails": {"videoId": "v" + query["playlistId"][0][-10:], "videoPublishedAt": "2026-11-21T10:00:00Z"}}
                return self.answer(200, {"items": [item], "nextPageToken": "p2"})

            def answer(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


CHANNELS = [f"UCrefused{n:015d}" for n in range(6)]


def test_a_refused_key_stops_the_other_workers_before_they_call_again(tmp_path: Path) -> None:
    box: dict[str, ApiClient] = {}
    server = RefusingYouTube(box)
    try:
        landing = LandingWriter(tmp_path / "part.jsonl.gz", source="youtube")
        client = box["client"] = ApiClient(source="youtube", secrets=("k3y",), on_response=landing.write, sleep=lambda s: None, concurrency=4)
        source = YouTubeSource(client, server.url, "k3y", RateBudget("youtube", 1000), landing)
        result = source.extract([AccountRef(f"youtube:C{n}:0", c) for n, c in enumerate(CHANNELS)], as_of=AS_OF, repull_days=30)
        landing.close()
    finally:
        server.close()
    # Four first pages were in flight when the key was refused; the three answered ones asked for no second page,
    # and the two channels not started never called.
    assert server.requests == ["/channels"] + ["/playlistItems"] * 4
    assert {k: o.status for k, o in result.outcomes.items()} == {f"youtube:C{n}:0": "token_expired" for n in range(6)}
    assert all("connection 'youtube_api'" in o.message for o in result.outcomes.values())
    assert result.api_calls == landing.lines == 5


def test_four_workers_stay_inside_an_x_endpoint_window(tmp_path: Path) -> None:
    rows = [account("x", f"A{n}", *platform_account("x", n)) for n in range(ACCOUNTS)]
    with sandbox_with(tmp_path, rows, AS_OF) as server:
        server.x.rate_limit = 6  # timeline calls in this 15-minute window: the first answer says 5 are left
        result, _, budget = extract("x", server.base_url, tmp_path / "part.jsonl.gz", concurrency=4)
        stats = server.stats
    # Each call is counted against the window the last answer reported, less the calls not answered yet, before it
    # is sent: the four workers together never ask more than the window holds (no 429). Answers to calls made at once
    # arrive in any order, so up to three calls of the window may be left unused, never overrun.
    answered = stats["statuses"]["x.user_tweets"]
    assert list(answered) == ["200"] and 6 - 3 <= answered["200"] <= 6
    assert budget.limits["user_tweets"].blocked_until is not None
    deferred = [o for o in result.outcomes.values() if o.status == "deferred"]
    assert len(deferred) >= ACCOUNTS - 6
    assert all("API window for user_tweets has no call left" in o.message for o in deferred)
