"""The sandbox's X, Graph and TikTok emulations: real paths, auth, paging, rate-limit headers, error bodies, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from etl.platforms.x.parser import parse_x
from etl.sandbox.server import SandboxServer
from tests.sandbox_registry import account, sandbox_with

NOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer sbxkey-demo"}
X_USER = "100000000000000001"


@pytest.fixture
def sandbox(tmp_path: Path):
    rows = [account("x", "A", X_USER), account("instagram", "A", "17841400000000042"),
            account("facebook", "A", "100012345678901"), account("tiktok", "A", "agency_a")]
    with sandbox_with(tmp_path, rows, NOW) as server:
        yield server


def timeline(sandbox: SandboxServer, **params: str) -> requests.Response:
    query = {"max_results": "5", "start_time": "2026-10-22T18:00:00Z", **params}
    return requests.get(f"{sandbox.base_url}/2/users/{X_USER}/tweets", params=query, headers=AUTH, timeout=5)


def test_x_timeline_pages_with_next_token_and_sends_rate_limit_headers(sandbox: SandboxServer) -> None:
    first = timeline(sandbox)
    assert first.status_code == 200 and first.headers["x-rate-limit-limit"] == "1500" and "Retry-After" not in first.headers
    body = first.json()
    assert body["meta"]["result_count"] == 5 and len(body["data"]) == 5
    tweet = body["data"][0]
    assert tweet["author_id"] == X_USER and isinstance(tweet["id"], str) and tweet["created_at"].endswith(".000Z")
    assert set(tweet["public_metrics"]) >= {"retweet_count", "reply_count", "quote_count", "bookmark_count", "impression_count"}
    second = timeline(sandbox, pagination_token=body["meta"]["next_token"]).json()
    assert not {t["id"] for t in second["data"]} & {t["id"] for t in body["data"]}
    assert second["data"][0]["created_at"] <= body["data"][-1]["created_at"]


def test_x_bad_token_and_429_shapes(sandbox: SandboxServer) -> None:
    refused = requests.get(f"{sandbox.base_url}/2/users", params={"ids": X_USER}, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert refused.status_code == 401 and refused.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}
    sandbox.faults["x.status_burst"] = {"status": 429, "count": 1}
    throttled = timeline(sandbox)
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers
    assert int(throttled.headers["x-rate-limit-reset"]) >= int(datetime.now(UTC).timestamp())
    assert throttled.json()["title"] == "Too Many Requests"


def test_x_tweet_lookup_puts_missing_ids_in_errors_next_to_data(sandbox: SandboxServer) -> None:
    real = timeline(sandbox).json()["data"][0]["id"]
    body = requests.get(f"{sandbox.base_url}/2/tweets", params={"ids": f"{real},100000000000000000"}, headers=AUTH, timeout=5).json()
    assert [t["id"] for t in body["data"]] == [real]
    assert body["errors"][0]["resource_id"] == "100000000000000000"
    assert body["errors"][0]["type"] == "https://api.twitter.com/2/problems/resource-not-found"


def test_delete_between_pages_removes_the_last_post_served(sandbox: SandboxServer) -> None:
    first = timeline(sandbox).json()
    last = first["data"][-1]["id"]
    sandbox.faults["x.delete_between_pages"] = 1
    timeline(sandbox, pagination_token=first["meta"]["next_token"])
    assert sandbox.x.deleted == {last} and "x.delete_between_pages" not in sandbox.faults
    gone = requests.get(f"{sandbox.base_url}/2/tweets", params={"ids": last}, headers=AUTH, timeout=5).json()
    assert "data" not in gone and gone["errors"][0]["resource_id"] == last


def test_graph_business_discovery_paging_errors_and_throttling(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/v21.0/17841400000000001"
    fields = "business_discovery.username(agency_a){followers_count,media_count,media.limit(3){id,timestamp,like_count}}"
    body = requests.get(url, params={"fields": fields, "access_token": "sbxkey-demo"}, timeout=5).json()
    discovery = body["business_discovery"]
    assert discovery["id"] == "17841400000000042" and isinstance(discovery["followers_count"], int)
    assert len(discovery["media"]["data"]) == 3 and discovery["media"]["data"][0]["timestamp"].endswith("+0000")
    assert "after" in discovery["media"]["paging"]["cursors"] and "next" not in discovery["media"]["paging"]
    unknown = requests.get(url, params={"fields": fields.replace("agency_a", "nobody"), "access_token": "sbxkey-demo"}, timeout=5)
    assert unknown.status_code == 400 and (unknown.json()["error"]["code"], unknown.json()["error"]["error_subcode"]) == (110, 2207013)
    sandbox.faults["instagram.status_burst"] = {"status": 429, "count": 1}
    throttled = requests.get(url, params={"fields": fields, "access_token": "sbxkey-demo"}, timeout=5)
    assert throttled.status_code == 400 and throttled.json()["error"]["code"] == 4 and "X-App-Usage" in throttled.headers
    sandbox.faults["facebook.token_expired"] = True
    expired = requests.get(f"{sandbox.base_url}/v21.0/100012345678901", params={"access_token": "sbxkey-demo"}, timeout=5)
    assert (expired.json()["error"]["code"], expired.json()["error"]["error_subcode"]) == (190, 463)


def test_tiktok_video_query_pins_results_with_search_id(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/v2/research/video/query/"
    query = {"query": {"and": [{"operation": "IN", "field_name": "username", "field_values": ["agency_a"]}]},
             "start_date": "20261022", "end_date": "20261121", "max_count": 5}
    first = requests.post(url, json=query, headers=AUTH, timeout=5).json()["data"]
    assert first["has_more"] and first["cursor"] == 5 and len(first["videos"]) == 5 and isinstance(first["videos"][0]["id"], int)
    again = requests.post(url, json={**query, "cursor": 5, "search_id": first["search_id"]}, headers=AUTH, timeout=5).json()["data"]
    assert not {v["id"] for v in again["videos"]} & {v["id"] for v in first["videos"]}
    too_long = requests.post(url, json={**query, "start_date": "20260101"}, headers=AUTH, timeout=5)
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_params"


def test_the_universe_is_the_same_for_the_same_seed(sandbox: SandboxServer, tmp_path: Path) -> None:
    with SandboxServer(tmp_path / "accounts.csv") as other:
        other.set_clock(NOW)
        assert timeline(other).json() == timeline(sandbox).json()


X_OFFICIAL, X_LAYERS = "100000000000000010", {1: "100000000000000011", 2: "100000000000000012", 3: "100000000000000013"}


def x_tweets(server: SandboxServer, user: str) -> list[dict]:
    """Every tweet of the 60-day window of ``user``, newest first, through the timeline's pages."""
    tweets, token = [], None
    while True:
        query = {"max_results": "100", "start_time": "2026-09-22T18:00:00Z", **({"pagination_token": token} if token else {})}
        body = requests.get(f"{server.base_url}/2/users/{user}/tweets", params=query, headers=AUTH, timeout=5).json()
        tweets += body.get("data", [])
        token = body["meta"].get("next_token")
        if not token:
            return tweets


def test_x_layer_accounts_retweet_and_quote_their_agencys_official_tweets(tmp_path: Path) -> None:
    rows = [account("x", "B", X_OFFICIAL, "@agency_b")]
    rows += [[f"x:B:{layer}", "B", "x", f"@agency_b_l{layer}", user, str(layer)] for layer, user in X_LAYERS.items()]
    rows += [account("x", "C", "100000000000000020", "@agency_c")]  # another agency: never echoed by B's layers
    with sandbox_with(tmp_path, rows, NOW) as server:
        official = {t["id"]: t for t in x_tweets(server, X_OFFICIAL)}
        served = {user: x_tweets(server, user) for user in X_LAYERS.values()}
        assert official and not any("referenced_tweets" in t for t in official.values())  # layer 0 only publishes originals
        echoes = {"retweeted": 0, "quoted": 0}
        layer_tweets = 0
        for tweets in served.values():
            for tweet in tweets:
                layer_tweets += 1
                if "referenced_tweets" not in tweet:
                    continue
                (ref,) = tweet["referenced_tweets"]
                echoes[ref["type"]] += 1
                if ref["id"] not in official:
                    # A quote outlives its deleted original (a retweet does not); the window's first two days may echo a
                    # tweet from before the window.
                    assert ref["type"] == "quoted" or tweet["created_at"] < "2026-09-25T18:00:00.000Z"
                    continue
                original = official[ref["id"]]  # an official tweet of the same agency
                published, echoed = (datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) for t in (original, tweet))
                assert timedelta(0) < echoed - published <= timedelta(hours=48)
                if ref["type"] == "retweeted":
                    assert tweet["text"] == f"RT @agency_b: {original['text']}"
                    assert [h["tag"] for h in tweet["entities"]["hashtags"]] == [h["tag"] for h in original["entities"]["hashtags"]]
                    assert tweet["entities"]["mentions"] == [{"start": 3, "end": 12, "username": "agency_b", "id": X_OFFICIAL}]
                    assert tweet["public_metrics"]["like_count"] == 0 and tweet["public_metrics"]["impression_count"] == 0
                else:
                    assert ref["type"] == "quoted" and not tweet["text"].startswith("RT @")
        # Some, not all: about 30% of layer tweets echo, 70% of echoes are retweets (the seed decides which).
        assert echoes["retweeted"] > echoes["quoted"] > 0 and sum(echoes.values()) < layer_tweets / 2
        # The echo is what the parser reads as a repost or quote of the official tweet.
        lines = [{"endpoint": "user_tweets", "status": 200, "url": "",
                  "body": requests.get(f"{server.base_url}/2/users/{X_LAYERS[1]}/tweets", params={"max_results": "100"},
                                       headers=AUTH, timeout=5).text}]
        posts = parse_x(lines, NOW.date(), NOW).frame("posts")
        echoed = posts[posts["reference_kind"].notna()]
        assert len(echoed) and set(echoed["reference_kind"]) <= {"repost", "quote"} and set(echoed["referenced_post_id"]) <= set(official)
        assert (posts["post_type"] == posts["reference_kind"].fillna("post")).all()
        universe = server.x.universe
    (tmp_path / "again").mkdir()
    with sandbox_with(tmp_path / "again", rows, NOW) as again_server:  # the same seed serves the same echoes
        assert {user: x_tweets(again_server, user) for user in X_LAYERS.values()} == served
    # Echoes replace posts, they do not add any: the tweets of a universe that does not know the layers, less the
    # retweets of originals deleted since (X removes a retweet with its original).
    (tmp_path / "plain").mkdir()
    with sandbox_with(tmp_path / "plain", [r[:5] + [""] for r in rows], NOW) as plain:
        for user, tweets in served.items():
            again = x_tweets(plain, user)
            assert not any("referenced_tweets" in t for t in again)
            kept = {t["id"] for t in tweets}
            assert kept <= {t["id"] for t in again}
            for gone in (t["id"] for t in again if t["id"] not in kept):
                reference = universe.reference(plain.x.universe.post(gone, NOW))
                assert reference.kind == "repost" and universe.post(reference.post.post_id, NOW) is None
