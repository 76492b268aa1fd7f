"""Graph API version drift and Facebook's lookup of known posts, over real loopback HTTP with recorded-shape answers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms.facebook.parser import parse_facebook
from etl.platforms.facebook.source import FacebookSource
from etl.platforms.graph.source import without_fields
from etl.sandbox.server import Faults, SandboxServer
from etl.sources.base import AccountRef, RateBudget
from tests.sandbox_registry import account, sandbox_with
from tests.scripted_server import ScriptedServer

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "facebook"
OK = {"Content-Type": "application/json"}
PAGE = "104560000000001"
SANDBOX_PAGE = "100012345678901"
POST_FIELDS = "id,created_time,message,permalink_url,shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"


@pytest.fixture(autouse=True)
def _default_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANTAU_GRAPH_API_VERSION", raising=False)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def source(url: str, tmp_path: Path) -> tuple[FacebookSource, LandingWriter]:
    landing = LandingWriter(tmp_path / "part.jsonl.gz", source="facebook")
    client = ApiClient(source="facebook", secrets=("m3ta",), on_response=landing.write, sleep=lambda s: None)
    return FacebookSource(client, url, "m3ta", RateBudget("facebook", 500), landing), landing


def query(request: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request).query).items()}


def last_page(*posts: dict) -> str:
    return json.dumps({"data": list(posts), "paging": {"cursors": {"before": "B", "after": "A"}}})


def post(post_id: str) -> dict:
    return {"id": post_id, "created_time": "2026-11-20T02:00:00+0000", "message": "x",
            "reactions": {"data": [], "summary": {"total_count": 1}}, "comments": {"data": [], "summary": {"total_count": 0}}}


def test_field_lists_lose_a_field_at_any_depth() -> None:
    assert without_fields(POST_FIELDS, {"shares"}) == (
        "id,created_time,message,permalink_url,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)", ["shares"])
    assert without_fields(POST_FIELDS, {"reactions"})[1] == ["reactions"]
    nested = "business_discovery.username(kominfo){followers_count,media.limit(25){id,like_count,comments_count}}"
    assert without_fields(nested, {"like_count"}) == (
        "business_discovery.username(kominfo){followers_count,media.limit(25){id,comments_count}}", ["like_count"])


def test_a_field_the_version_no_longer_has_is_dropped_for_the_rest_of_the_run(tmp_path: Path) -> None:
    script = [
        (200, OK, fixture("page_fields.json")),
        (400, OK, fixture("nonexisting_field.json")),  # v21.0 here plays the newer version without ``shares``
        (200, OK, last_page(post(f"{PAGE}_1"))),
        (200, OK, json.dumps({"id": "2", "followers_count": 5})),
        (200, OK, last_page(post("2_1"))),
    ]
    with ScriptedServer(script) as server:
        src, landing = source(server.url, tmp_path)
        result = src.extract([AccountRef("facebook:A:0", PAGE), AccountRef("facebook:B:0", "2")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert {k: o.status for k, o in result.outcomes.items()} == {"facebook:A:0": "ok", "facebook:B:0": "ok"}
    fields = [query(r).get("fields") for r in server.requests]
    without_shares = POST_FIELDS.replace("shares,", "")
    assert fields[1:] == [POST_FIELDS, without_shares, "id,name,followers_count,fan_count", without_shares]
    assert (result.api_calls, result.retries) == (5, 0)  # resent once, never retried as a failure
    lines = list(read_landing(tmp_path / "part.jsonl.gz"))
    assert [(ln["status"], ln.get("dropped_fields"), ln.get("graph_version")) for ln in lines] == [
        (200, None, None), (400, None, None), (200, ["shares"], "v21.0"), (200, None, None), (200, ["shares"], "v21.0"),
    ]
    metrics = parse_facebook(lines, date(2026, 11, 21), AS_OF).frame("post_metrics")
    assert metrics[["platform_post_id", "unavailable_metrics"]].to_dict("records") == [
        {"platform_post_id": f"{PAGE}_1", "unavailable_metrics": "shares=not served by Graph API v21.0"},
        {"platform_post_id": "2_1", "unavailable_metrics": "shares=not served by Graph API v21.0"},
    ]
    assert metrics["shares"].isna().all()


def test_a_refused_field_that_is_not_in_the_request_fails_the_page_not_the_run(tmp_path: Path) -> None:
    refused = json.dumps({"error": {"message": "(#100) Tried accessing nonexisting field (insights) on node type (Page)",
                                    "type": "OAuthException", "code": 100, "fbtrace_id": "T"}})
    script = [(400, OK, refused), (200, OK, json.dumps({"id": "2", "followers_count": 5})), (200, OK, last_page())]
    with ScriptedServer(script) as server:
        src, landing = source(server.url, tmp_path)
        result = src.extract([AccountRef("facebook:A:0", PAGE), AccountRef("facebook:B:0", "2")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert result.outcomes["facebook:A:0"].status == "api_error"
    assert result.outcomes["facebook:A:0"].message == (
        "source=facebook account=facebook:A:0 status=400: (#100) Tried accessing nonexisting field (insights) on node type (Page) (code 100)"
    )
    assert result.outcomes["facebook:B:0"].status == "ok" and len(server.requests) == 3


def test_known_posts_missing_from_the_walk_are_looked_up_and_a_gone_one_is_asked_alone(tmp_path: Path) -> None:
    kept, found, gone = f"{PAGE}_1122334455667788", f"{PAGE}_1122334455661111", f"{PAGE}_1122334455663333"
    found_body = json.dumps(json.loads(fixture("post_lookup_ids.json"))[found])
    script = [
        (200, OK, fixture("page_fields.json")),
        (200, OK, last_page(post(kept))),
        (400, OK, fixture("object_does_not_exist.json")),  # ?ids=found,gone: one gone id fails the whole call
        (200, OK, found_body),
        (400, OK, fixture("object_does_not_exist.json")),  # gone, alone: the answer, not throttling
    ]
    known = [(kept, PAGE), (found, PAGE), (gone, PAGE), ("999_1", "999")]  # 999: a page of another shard
    with ScriptedServer(script) as server:
        src, landing = source(server.url, tmp_path)
        result = src.extract([AccountRef("facebook:A:0", PAGE)], as_of=AS_OF, repull_days=30, known_posts=known)
        landing.close()
    assert result.outcomes["facebook:A:0"].status == "ok"
    assert [urlsplit(r).path for r in server.requests[2:]] == ["/v21.0/", f"/v21.0/{found}", f"/v21.0/{gone}"]
    assert query(server.requests[2])["ids"] == f"{found},{gone}"
    assert query(server.requests[2])["fields"] == POST_FIELDS and query(server.requests[4])["fields"] == POST_FIELDS
    assert (result.api_calls, result.retries) == (5, 0)
    lines = list(read_landing(tmp_path / "part.jsonl.gz"))
    assert [(ln["endpoint"], ln.get("ids"), ln["account"]) for ln in lines[2:]] == [
        ("post_lookup", [found, gone], None), ("post", [found], "facebook:A:0"), ("post", [gone], "facebook:A:0"),
    ]
    frames = parse_facebook(lines, date(2026, 11, 21), AS_OF)
    assert frames.frame("post_deletions")["platform_post_id"].tolist() == [gone]
    assert frames.frame("post_metrics")[["platform_post_id", "shares"]].to_dict("records") == [
        {"platform_post_id": kept, "shares": 0}, {"platform_post_id": found, "shares": 12},
    ]


def test_lookups_take_at_most_50_ids_a_call(tmp_path: Path) -> None:
    known = [(f"{PAGE}_{n:04d}", PAGE) for n in range(51)]
    script = [(200, OK, fixture("page_fields.json")), (200, OK, last_page()), (200, OK, "{}"), (200, OK, "{}")]
    with ScriptedServer(script) as server:
        src, landing = source(server.url, tmp_path)
        result = src.extract([AccountRef("facebook:A:0", PAGE)], as_of=AS_OF, repull_days=30, known_posts=known)
        landing.close()
    assert [len(query(r)["ids"].split(",")) for r in server.requests[2:]] == [50, 1]
    assert result.outcomes["facebook:A:0"].status == "ok"


def test_a_lookup_that_keeps_failing_marks_its_page_not_fully_collected(tmp_path: Path) -> None:
    down = json.dumps({"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                                 "type": "OAuthException", "code": 2, "is_transient": True}})
    script = [(200, OK, fixture("page_fields.json")), (200, OK, last_page()), (500, OK, down)]
    with ScriptedServer(script) as server:
        src, landing = source(server.url, tmp_path)
        result = src.extract([AccountRef("facebook:A:0", PAGE)], as_of=AS_OF, repull_days=30, known_posts=[(f"{PAGE}_7", PAGE)])
        landing.close()
    outcome = result.outcomes["facebook:A:0"]
    assert outcome.status == "api_error"
    assert outcome.message.startswith(f"source=facebook lookup of known post {PAGE}_7 failed: source=facebook status=500")


def test_a_token_refused_during_the_lookups_is_recorded_for_the_pages_still_waiting(tmp_path: Path) -> None:
    expired = json.dumps({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException",
                                    "code": 190, "error_subcode": 463}})
    other = "104560000000002"
    script = [(200, OK, fixture("page_fields.json")), (200, OK, last_page()),
              (200, OK, fixture("page_fields.json")), (200, OK, last_page()), (400, OK, expired)]
    with ScriptedServer(script) as server:
        src, landing = source(server.url, tmp_path)
        result = src.extract([AccountRef("facebook:A:0", PAGE), AccountRef("facebook:B:0", other)], as_of=AS_OF, repull_days=30,
                             known_posts=[(f"{PAGE}_7", PAGE)])
        landing.close()
    # B had nothing to check and is done; A's deletion check was refused with the token: the ledger must say so.
    assert result.outcomes["facebook:B:0"].status == "ok"
    assert result.outcomes["facebook:A:0"].status == "token_expired"
    assert "the Graph token of connection 'meta_graph' expired or was revoked (code 190); renew it" in result.outcomes["facebook:A:0"].message


@pytest.fixture
def sandbox(tmp_path: Path):
    with sandbox_with(tmp_path, [account("facebook", "A", SANDBOX_PAGE)], AS_OF) as server:
        yield server


def graph(sandbox: SandboxServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{sandbox.base_url}/v21.0{path}", params={"access_token": "sbxkey-demo", **params}, timeout=5)


def test_the_sandbox_reads_posts_by_ids_and_fails_the_whole_call_for_a_gone_one(sandbox: SandboxServer) -> None:
    listed = graph(sandbox, f"/{SANDBOX_PAGE}/published_posts", fields="id,shares", limit="3").json()["data"]
    ids = [p["id"] for p in listed]
    found = graph(sandbox, "/", ids=",".join(ids[:2]), fields="id,message")
    assert found.status_code == 200 and list(found.json()) == ids[:2]
    assert set(found.json()[ids[0]]) == {"id", "message"}  # only the fields asked for
    sandbox.graph.facebook.deleted.add(ids[1].split("_", 1)[1])
    refused = graph(sandbox, "/", ids=",".join(ids), fields="id")
    assert refused.status_code == 400 and {k: v for k, v in refused.json()["error"].items() if k != "fbtrace_id"} == {
        "message": f"Unsupported get request. Object with ID '{ids[1]}' does not exist, cannot be loaded due to missing permissions, "
                   "or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException", "code": 100, "error_subcode": 33,
    }
    assert graph(sandbox, f"/{ids[1]}", fields="id").status_code == 400
    assert graph(sandbox, f"/{ids[0]}", fields="id").json() == {"id": ids[0]}
    too_many = graph(sandbox, "/", ids=",".join([ids[0]] * 51), fields="id")
    assert too_many.status_code == 400 and too_many.json()["error"]["message"] == "(#100) Too many IDs. Maximum: 50. Provided: 51."


def test_the_removed_fields_switch_refuses_those_fields_as_a_newer_version(sandbox: SandboxServer) -> None:
    sandbox.faults["facebook.removed_fields"] = ["shares"]
    refused = graph(sandbox, f"/{SANDBOX_PAGE}/published_posts", fields=POST_FIELDS)
    assert refused.status_code == 400
    assert {k: v for k, v in refused.json()["error"].items() if k != "fbtrace_id"} == {
        "message": "(#100) Tried accessing nonexisting field (shares) on node type (Post)", "type": "OAuthException", "code": 100,
    }
    assert graph(sandbox, f"/{SANDBOX_PAGE}/published_posts", fields=POST_FIELDS.replace("shares,", "")).status_code == 200
    assert sandbox.stats["faults_served"]["facebook.removed_fields"] == 1


def test_the_removed_fields_switch_is_a_facebook_list_of_names() -> None:
    faults = Faults()
    faults["facebook.removed_fields"] = ["shares", "shares", "reactions"]
    assert faults["facebook.removed_fields"] == ["shares", "reactions"]
    with pytest.raises(ValueError, match=r"facebook.removed_fields must be a list of field names, got 'shares'"):
        faults["facebook.removed_fields"] = "shares"
    with pytest.raises(KeyError, match="unknown fault 'x.removed_fields'"):
        faults["x.removed_fields"] = ["impression_count"]
    faults["facebook.removed_fields"] = []
    assert "facebook.removed_fields" not in faults
