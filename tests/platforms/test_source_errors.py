"""Every platform's 4xx ends as an account outcome with the platform's own words, never an exception out of extract.

Over real loopback HTTP (tests/scripted_server.py) with the error bodies of tests/fixtures/<platform>/.
Credential and permission refusals stop the platform; everything else is the account's ``api_error``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms.facebook.source import FacebookSource
from etl.platforms.instagram.source import InstagramSource
from etl.platforms.tiktok.source import TikTokSource
from etl.platforms.x.source import XSource
from etl.platforms.youtube.source import YouTubeSource
from etl.sources.base import QUOTA, AccountRef, NextUrlPaginator, RateBudget
from tests.scripted_server import ScriptedServer

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JSON = {"Content-Type": "application/json"}
SECRET = "s3cr3t-token"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _graph_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_INSTAGRAM_USER_ID", "17841400000000001")
    monkeypatch.delenv("PANTAU_GRAPH_API_VERSION", raising=False)


def make(cls, url: str, tmp_path: Path, max_attempts: int = 5):
    landing = LandingWriter(tmp_path / "part.jsonl.gz", source=cls.__name__)
    client = ApiClient(source=cls.__name__, secrets=(SECRET,), on_response=landing.write, sleep=lambda s: None, max_attempts=max_attempts)
    extra = {"display_tokens": {}} if cls is TikTokSource else {}
    return cls(client, url, SECRET, RateBudget("p", 1000), landing, **extra), landing


def outcomes(result) -> dict[str, tuple[str, str | None]]:
    return {k: (o.status, o.message) for k, o in result.outcomes.items()}


# -- X -------------------------------------------------------------------------------------------------------------


X_ACCOUNTS = [AccountRef("x:A:0", "1166941040371339264"), AccountRef("x:B:0", "783214")]
ENROL = ("Client Forbidden: When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
         "Twitter developer App that is attached to a Project. You can create a project via the developer portal. "
         "(reason client-not-enrolled; type https://api.x.com/2/problems/client-forbidden)")


def test_x_client_not_enrolled_on_the_users_lookup_is_api_error_for_its_accounts(tmp_path: Path) -> None:
    with ScriptedServer([(403, {"Content-Type": "application/problem+json"}, fixture("x/client_not_enrolled_403.json"))]) as server:
        source, landing = make(XSource, server.url, tmp_path)
        result = source.extract(X_ACCOUNTS, as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 1  # one batch, deterministic: not retried
    message = f"source=XSource status=403 reason=client-not-enrolled: {ENROL}"
    assert outcomes(result) == {"x:A:0": ("api_error", message), "x:B:0": ("api_error", message)}
    assert [line["status"] for line in read_landing(tmp_path / "part.jsonl.gz")] == [403]


def test_x_v11_style_errors_on_the_timeline_fail_that_account_only(tmp_path: Path) -> None:
    users = json.dumps({"data": [{"id": a.platform_account_id, "protected": False} for a in X_ACCOUNTS]})
    script = [(200, JSON, users), (403, JSON, fixture("x/v11_errors_403.json")), (200, JSON, json.dumps({"meta": {"result_count": 0}}))]
    with ScriptedServer(script) as server:
        source, landing = make(XSource, server.url, tmp_path)
        result = source.extract(X_ACCOUNTS, as_of=AS_OF, repull_days=30)
        landing.close()
    assert outcomes(result) == {
        "x:A:0": ("api_error", "source=XSource account=x:A:0 status=403: You currently have access to a subset of X API V2 endpoints "
                  "and limited v1.1 endpoints (e.g. media post, oauth) only. If you need access to this endpoint, you may need a "
                  "different access level. You can learn more here: https://developer.x.com/en/portal/product (code 453)"),
        "x:B:0": ("ok", None),
    }


def test_x_a_refused_tweets_lookup_is_api_error_for_the_owners_of_the_asked_posts(tmp_path: Path) -> None:
    users = json.dumps({"data": [{"id": a.platform_account_id, "protected": False} for a in X_ACCOUNTS]})
    empty = json.dumps({"meta": {"result_count": 0}})
    script = [(200, JSON, users), (200, JSON, empty), (200, JSON, empty), (400, JSON, fixture("x/invalid_request_400.json"))]
    with ScriptedServer(script) as server:
        source, landing = make(XSource, server.url, tmp_path)
        result = source.extract(X_ACCOUNTS, as_of=AS_OF, repull_days=30, known_posts=[("1858000000000000011", "783214")])
        landing.close()
    assert outcomes(result)["x:A:0"] == ("ok", None)
    status, message = outcomes(result)["x:B:0"]
    assert status == "api_error" and message.startswith("source=XSource status=400 reason=invalid-request: Invalid Request: One or more parameters")
    lookup = [line for line in read_landing(tmp_path / "part.jsonl.gz") if line["endpoint"] == "tweets"]
    assert [line["ids"] for line in lookup] == [["1858000000000000011"]]  # landed with the ids asked for


# -- YouTube -------------------------------------------------------------------------------------------------------


YT_ACCOUNTS = [AccountRef("youtube:A:0", "UCaaaaaaaaaaaaaaaaaaaaaa"), AccountRef("youtube:B:0", "UCbbbbbbbbbbbbbbbbbbbbbb")]


@pytest.mark.parametrize(
    ("fixture_name", "reason", "words"),
    [
        ("youtube/permission_denied_403.json", "forbidden",
         "The caller does not have permission (code 403; status PERMISSION_DENIED; reason forbidden)"),
        ("youtube/service_unavailable_403.json", "SERVICE_UNAVAILABLE",
         "The service is currently unavailable for this project. (code 403; status PERMISSION_DENIED; reason SERVICE_UNAVAILABLE)"),
    ],
)
def test_youtube_403_that_is_not_our_key_is_api_error(tmp_path: Path, fixture_name: str, reason: str, words: str) -> None:
    with ScriptedServer([(403, JSON, fixture(fixture_name))]) as server:
        source, landing = make(YouTubeSource, server.url, tmp_path)
        result = source.extract(YT_ACCOUNTS, as_of=AS_OF, repull_days=30)
        landing.close()
    message = f"source=YouTubeSource status=403 reason={reason}: {words}"
    assert outcomes(result) == {"youtube:A:0": ("api_error", message), "youtube:B:0": ("api_error", message)}
    assert len(server.requests) == 1


def test_youtube_a_key_blocked_for_the_api_stops_the_platform(tmp_path: Path) -> None:
    with ScriptedServer([(403, JSON, fixture("youtube/api_key_service_blocked_403.json"))]) as server:
        source, landing = make(YouTubeSource, server.url, tmp_path)
        result = source.extract(YT_ACCOUNTS, as_of=AS_OF, repull_days=30)
        landing.close()
    assert {o.status for o in result.outcomes.values()} == {"token_expired"}
    assert "connection 'youtube_api' (API_KEY_SERVICE_BLOCKED, PERMISSION_DENIED, forbidden)" in result.outcomes["youtube:A:0"].message


def test_youtube_a_refused_videos_batch_and_an_html_404_are_api_error(tmp_path: Path) -> None:
    channels = json.dumps({"items": [{"id": YT_ACCOUNTS[0].platform_account_id, "contentDetails": {"relatedPlaylists": {"uploads": "UUa"}}}]})
    uploads = json.dumps({"items": [{"contentDetails": {"videoId": "vid00000001", "videoPublishedAt": "2026-11-21T10:00:00Z"}}]})
    script = [(200, JSON, channels), (200, JSON, uploads), (404, {"Content-Type": "text/html; charset=UTF-8"}, fixture("youtube/google_front_end_404.html"))]
    with ScriptedServer(script) as server:
        source, landing = make(YouTubeSource, server.url, tmp_path)
        result = source.extract(YT_ACCOUNTS, as_of=AS_OF, repull_days=30)
        landing.close()
    assert outcomes(result) == {
        "youtube:B:0": ("not_found", "source=youtube channel UCbbbbbbbbbbbbbbbbbbbbbb not returned by channels.list"),
        "youtube:A:0": ("api_error", "source=YouTubeSource status=404: Error 404 (Not Found)!!1 404. That’s an error. The requested "
                        "URL /youtube/v3/channelz was not found on this server. That’s all we know."),
    }


# -- Graph ---------------------------------------------------------------------------------------------------------


PAGES = [AccountRef("facebook:A:0", "100012345678901"), AccountRef("facebook:B:0", "100012345678902")]


@pytest.mark.parametrize(("status", "fixture_name"), [(400, "facebook/application_no_permission.json"),
                                                      (200, "facebook/requires_permission_200.json")])
def test_a_graph_permission_refusal_stops_the_platform_naming_the_permission(tmp_path: Path, status: int, fixture_name: str) -> None:
    with ScriptedServer([(status, JSON, fixture(fixture_name))]) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract(PAGES, as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 1  # the first refusal stops the platform: no call per page
    meta = json.loads(fixture(fixture_name))["error"]
    message = (f"source=facebook account=facebook:A:0 status={status}: "
               f"Meta refuses a permission to the token of connection 'meta_graph' ({meta['message']} (code {meta['code']})); "
               "facebook needs pages_read_engagement and the Page Public Content Access feature: grant it to the app and token")
    assert {k: (o.status, o.message, o.connection) for k, o in result.outcomes.items()} == {
        "facebook:A:0": ("token_expired", message, "meta_graph"), "facebook:B:0": ("token_expired", message, "meta_graph"),
    }


def test_instagram_code_10_is_the_apps_permission_not_a_private_account(tmp_path: Path) -> None:
    with ScriptedServer([(403, JSON, fixture("instagram/application_no_permission.json"))]) as server:
        source, landing = make(InstagramSource, server.url, tmp_path)
        result = source.extract([AccountRef("instagram:A:0", "1", "akun_a")], as_of=AS_OF, repull_days=30)
        landing.close()
    outcome = result.outcomes["instagram:A:0"]
    assert outcome.status == "token_expired" and outcome.connection == "meta_graph"
    assert outcome.message.endswith("instagram needs instagram_basic and instagram_manage_insights (business_discovery): grant it to the app and token")


def test_a_graph_error_inside_an_http_200_is_an_error_with_the_users_message(tmp_path: Path) -> None:
    page = json.dumps({"id": PAGES[0].platform_account_id, "followers_count": 5})
    script = [(200, JSON, page), (200, JSON, fixture("facebook/error_in_200.json"))]
    with ScriptedServer(script) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract(PAGES[:1], as_of=AS_OF, repull_days=30)
        landing.close()
    assert outcomes(result) == {"facebook:A:0": (
        "api_error", "source=FacebookSource account=facebook:A:0 status=200: Invalid parameter: The value of the until parameter "
        "must be later than since. (code 100; subcode 1487851)")}
    assert len(server.requests) == 2  # deterministic: not retried


def test_instagram_a_generic_graph_4xx_is_api_error_with_error_user_msg(tmp_path: Path) -> None:
    with ScriptedServer([(400, JSON, fixture("instagram/invalid_parameter_user_msg.json"))]) as server:
        source, landing = make(InstagramSource, server.url, tmp_path)
        result = source.extract([AccountRef("instagram:A:0", "1", "akun_a")], as_of=AS_OF, repull_days=30)
        landing.close()
    assert outcomes(result) == {"instagram:A:0": (
        "api_error", "source=FacebookSource account=instagram:A:0 status=400: Invalid parameter: The app user's Instagram professional "
        "account is inactive, checkpointed, or restricted. (code 100; subcode 2207050)".replace("FacebookSource", "InstagramSource"))}


def test_graph_throttling_without_usage_headers_blocks_the_connection_after_one_retry_cycle(tmp_path: Path) -> None:
    with ScriptedServer([(400, JSON, fixture("facebook/application_request_limit.json"))]) as server:
        source, landing = make(FacebookSource, server.url, tmp_path, max_attempts=3)
        result = source.extract(PAGES, as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 3  # one retry cycle, then no call for the second page
    message = ("facebook: Graph throttling (code 4) persisted through 3 attempts; connection 'meta_graph' left alone for 60 min, "
               "deferring the rest")
    assert outcomes(result) == {"facebook:A:0": ("deferred", message), "facebook:B:0": ("deferred", message)}
    block = source.budget.limits[QUOTA]
    assert block.status == "deferred" and block.message == message
    assert 3599 <= (block.blocked_until - datetime.now(UTC)).total_seconds() <= 3600


# -- Facebook paging -----------------------------------------------------------------------------------------------


def test_facebook_follows_a_time_based_next_without_cursors(tmp_path: Path) -> None:
    page = json.dumps({"id": PAGES[0].platform_account_id, "followers_count": 5})
    last = json.dumps({"data": [{"id": "100012345678901_900000000000000", "created_time": "2026-11-18T08:00:00+0000"}]})
    script = [(200, JSON, page), (200, JSON, fixture("facebook/published_posts_time_paging.json")), (200, JSON, last)]
    with ScriptedServer(script) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract(PAGES[:1], as_of=AS_OF, repull_days=30)
        landing.close()
    assert outcomes(result) == {"facebook:A:0": ("ok", None)}
    second = parse_qs(urlsplit(server.requests[2]).query)
    # Meta's until and paging token, our since, our own token (never the one echoed in the next URL).
    assert second["until"] == ["1763539199"] and second["__paging_token"] == ["enc_AdDnext"]
    assert second["since"] == [str(int(AS_OF.timestamp()) - 30 * 86400)] and second["access_token"] == [SECRET]


def test_facebook_a_next_that_repeats_the_last_request_is_partial(tmp_path: Path) -> None:
    page = json.dumps({"id": PAGES[0].platform_account_id, "followers_count": 5})
    stuck = json.dumps({"data": [{"id": "100012345678901_1"}], "paging": {"next": "https://graph.facebook.com/v21.0/1/published_posts?limit=100&after=C1"}})
    script = [(200, JSON, page), (200, JSON, stuck)]
    with ScriptedServer(script) as server:
        source, landing = make(FacebookSource, server.url, tmp_path)
        result = source.extract(PAGES[:1], as_of=AS_OF, repull_days=30)
        landing.close()
    assert len(server.requests) == 3  # page, first page, the page after C1 - which announced C1 again
    assert outcomes(result) == {"facebook:A:0": (
        "partial", "source=facebook page 100012345678901: published_posts announced another page after page 2 that could not be "
        "followed (paging.next repeats the last request); posts past it in the re-pull window were not read")}


def test_next_url_paginator_takes_the_query_of_next_without_secrets() -> None:
    paginator = NextUrlPaginator(("paging", "next"))
    assert paginator.update_request({"since": 1, "limit": 5}) == {"since": 1, "limit": 5}
    paginator.update_state({"paging": {"next": "https://h/x?limit=5&until=99&__paging_token=T&access_token=SECRET"}})
    assert paginator.has_next_page and paginator.update_request({"since": 1, "limit": 5}) == {
        "since": 1, "limit": "5", "until": "99", "__paging_token": "T"}
    paginator.update_state({"paging": {"cursors": {"after": "A"}}})  # cursors without next: the last page
    assert not paginator.has_next_page and not paginator.stopped_early
    empty = NextUrlPaginator(("paging", "next"))
    empty.update_request({})
    empty.update_state({"paging": {"next": "https://h/x"}})  # announced, but nothing to follow
    assert not empty.has_next_page and empty.stopped_early


# -- TikTok --------------------------------------------------------------------------------------------------------


TT_ACCOUNTS = [AccountRef("tiktok:A:0", "akun_a"), AccountRef("tiktok:B:0", "akun_b")]


def test_tiktok_a_4xx_of_user_info_is_api_error_with_code_and_log_id(tmp_path: Path) -> None:
    info = json.dumps({"data": {"follower_count": 1}, "error": {"code": "ok", "message": "", "log_id": "1"}})
    script = [(400, JSON, fixture("tiktok/invalid_params_400.json")), (403, {"Content-Type": "text/plain"}, fixture("tiktok/plain_text_403.txt")),
              (200, JSON, info)]
    with ScriptedServer(script) as server:
        source, landing = make(TikTokSource, server.url, tmp_path)
        result = source.extract([*TT_ACCOUNTS, AccountRef("tiktok:C:0", "akun_c")], as_of=AS_OF, repull_days=10)
        landing.close()
    # C's user/info answers; its video query gets the same answer again, read as a last page with no video.
    assert outcomes(result)["tiktok:A:0"] == ("api_error", "source=TikTokSource account=tiktok:A:0 status=400 reason=invalid_params: "
                                             "Invalid parameters: max_count must be between 1 and 100. (code invalid_params; "
                                             "log_id 20261120010203A1B2C3D4E5F60718293A)")
    assert outcomes(result)["tiktok:B:0"] == ("api_error", "source=TikTokSource account=tiktok:B:0 status=403: Access Denied")
    assert outcomes(result)["tiktok:C:0"] == ("ok", None)
