"""The shared HTTP client over real loopback HTTP: retries, backoff, Retry-After, fatal errors, redaction."""

from __future__ import annotations

import json

import pytest

from etl.http import (
    ApiClient,
    CallRecord,
    FatalApiError,
    RetriableApiError,
    redact,
    redact_text,
    redact_url,
    retry_after_seconds,
)
from tests.scripted_server import ScriptedServer

OK = (200, {"Content-Type": "application/json"}, '{"items": [1]}')
GOOGLE_400 = json.dumps(
    {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
               "errors": [{"message": "API key not valid.", "domain": "global", "reason": "badRequest"}],
               "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}
)


def client(**kw) -> tuple[ApiClient, list[float], list[CallRecord]]:
    waits: list[float] = []
    records: list[CallRecord] = []
    defaults = dict(source="youtube", sleep=waits.append, on_response=records.append, secrets=("s3cr3t-key",), timeout=2.0)
    defaults.update(kw)
    return ApiClient(**defaults), waits, records


def test_retries_429_honouring_retry_after_then_succeeds() -> None:
    script = [(429, {"Retry-After": "7"}, "slow down"), (503, {}, "{}"), OK]
    with ScriptedServer(script) as server:
        api, waits, records = client()
        assert api.get_json(server.url + "/x", {"key": "s3cr3t-key"}) == {"items": [1]}
    assert waits[0] == 7.0  # the server's Retry-After, not our backoff
    assert 0 <= waits[1] <= 1.0  # jittered backoff for attempt 2: uniform(0, 0.5 * 2)
    assert [r.status for r in records] == [429, 503, 200]
    assert api.calls == 3 and api.retries == 2


def test_gives_up_after_max_attempts_with_source_account_and_status() -> None:
    with ScriptedServer([(503, {}, '{"error": {"code": 503, "message": "Backend Error"}}')]) as server:
        api, waits, _ = client(max_attempts=3)
        with pytest.raises(RetriableApiError) as caught:
            api.get_json(server.url + "/x", account="youtube:KEM-KOMDIGI:0")
    assert len(server.requests) == 3 and len(waits) == 2
    assert str(caught.value) == "source=youtube account=youtube:KEM-KOMDIGI:0 status=503: gave up after 3 attempts: Backend Error (code 503)"


def test_fatal_error_fails_fast_without_retry_and_names_reason() -> None:
    with ScriptedServer([(400, {}, GOOGLE_400)]) as server:
        api, waits, _ = client()
        with pytest.raises(FatalApiError) as caught:
            api.get_json(server.url + "/channels", {"key": "s3cr3t-key"}, account="acc")
    assert len(server.requests) == 1 and waits == []
    assert caught.value.status == 400 and caught.value.reason == "badRequest"
    assert str(caught.value) == (
        "source=youtube account=acc status=400 reason=badRequest: API key not valid. Please pass a valid API key. "
        "(code 400; status INVALID_ARGUMENT; reason badRequest, API_KEY_INVALID)"
    )


def test_timeout_is_retried() -> None:
    with ScriptedServer([(200, {}, "{}", 1.5), OK]) as server:
        api, waits, _ = client(timeout=0.5)
        assert api.get_json(server.url + "/x") == {"items": [1]}
    assert len(waits) == 1


def test_truncated_json_is_retriable() -> None:
    with ScriptedServer([(200, {}, '{"items": [1, 2'), OK]) as server:
        api, waits, records = client()
        assert api.get_json(server.url + "/x") == {"items": [1]}
    assert records[0].body == '{"items": [1, 2'  # landed as received


def test_retry_after_longer_than_allowed_is_not_slept() -> None:
    with ScriptedServer([(429, {"Retry-After": "3600"}, "")]) as server:
        api, waits, _ = client(max_wait=60)
        with pytest.raises(RetriableApiError, match="server asked to wait 3600s, more than the 60s allowed"):
            api.get_json(server.url + "/x")
    assert waits == []


def test_key_never_reaches_records_or_errors() -> None:
    body = '{"error": {"code": 403, "message": "key s3cr3t-key is blocked"}}'
    with ScriptedServer([(403, {}, body)]) as server:
        api, _, records = client()
        with pytest.raises(FatalApiError) as caught:
            api.get_json(server.url + "/videos", {"id": "a,b", "key": "s3cr3t-key"})
    assert "s3cr3t-key" not in str(caught.value)
    assert "s3cr3t-key" not in records[0].url and "key=%2A%2A%2A" in records[0].url
    assert "s3cr3t-key" not in records[0].body and "id=a,b" in records[0].url


def test_redaction_helpers() -> None:
    assert redact_url("https://h/p?part=x&key=abc&access_token=t") == "https://h/p?part=x&key=%2A%2A%2A&access_token=%2A%2A%2A"
    assert redact({"access_token": "t", "nested": [{"password": "p", "text": "has abc inside"}]}, ["abc"]) == {
        "access_token": "***",
        "nested": [{"password": "***", "text": "has *** inside"}],
    }
    assert redact_text("GET /x?key=zzz&b=1", []) == "GET /x?key=***&b=1"


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "12"}) == 12.0
    assert retry_after_seconds({"Retry-After": "Sat, 21 Nov 2026 10:00:30 GMT"}, now=1795255200.0) == 30.0
    assert retry_after_seconds({"x-rate-limit-reset": "1795255260"}, now=1795255200.0) == 60.0
    assert retry_after_seconds({}) is None


def test_redact_text_masks_secret_query_values_in_any_case_and_leaves_other_text_alone() -> None:
    from etl.http import redact_text

    assert redact_text("GET /v?Access_Token=abc&q=1 then KEY=zz and sk-1", ["sk-1"]) == "GET /v?Access_Token=***&q=1 then KEY=*** and ***"
    body = '{"items": [{"id": "v1", "statistics": {"viewCount": "12"}}], "next": "a=b"}'
    assert redact_text(body, ["sk-1"]) is body


def test_a_successful_answer_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reasons, the classifier and the caller read one decoded payload: a national night makes ~20,000 calls.
    import etl.http  # noqa: PLC0415

    decodes: list[str] = []
    real_loads = etl.http.loads
    monkeypatch.setattr(etl.http, "loads", lambda body: decodes.append(body) or real_loads(body))
    with ScriptedServer([OK]) as server:
        api, _, _ = client(classify=lambda response: None)
        assert api.get_json(server.url + "/x") == {"items": [1]}
    assert decodes == ['{"items": [1]}']


UPLOADS_PAGE = json.dumps({
    "kind": "youtube#playlistItemListResponse", "etag": "x", "nextPageToken": "EAAaBlBUOkNESQ",
    "items": [{"kind": "youtube#playlistItem", "id": "UExh", "snippet": {"title": "Rapat", "description": "Panjang " * 50,
               "publishedAt": "2026-11-20T02:00:00Z", "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/a/default.jpg"}}},
               "contentDetails": {"videoId": "a1", "videoPublishedAt": "2026-11-20T01:59:00Z"}}],
    "pageInfo": {"totalResults": 1, "resultsPerPage": 50},
})


def test_an_answer_read_in_part_builds_only_what_is_read_and_lands_whole() -> None:
    from etl.platforms.youtube.source import UPLOADS, VIDEOS  # noqa: PLC0415

    with ScriptedServer([(200, {}, UPLOADS_PAGE), (200, {}, UPLOADS_PAGE)]) as server:
        api, _, records = client()
        assert api.get_json(server.url + "/playlistItems", reads=UPLOADS.reads) == {
            "nextPageToken": "EAAaBlBUOkNESQ",
            "items": [{"snippet": {"publishedAt": "2026-11-20T02:00:00Z"},
                       "contentDetails": {"videoId": "a1", "videoPublishedAt": "2026-11-20T01:59:00Z"}}],
        }
        assert api.get_json(server.url + "/videos", reads=VIDEOS.reads) == {}
    assert [r.body for r in records] == [UPLOADS_PAGE, UPLOADS_PAGE]  # the landing keeps every member


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"items": [1], "nextPageToken": 7}', {"items": [1], "nextPageToken": 7}),  # items not objects: the whole answer
        ('{"items": {"a": 1}}', {"items": {"a": 1}}),  # a member of another JSON type
        ('[{"id": "a"}]', [{"id": "a"}]),  # a top level that is not an object
        ('{"items": [], "note": "\\ud83d"}', {"items": [], "note": "\ud83d"}),  # a lone surrogate msgspec refuses
    ],
)
def test_an_answer_that_does_not_fit_what_is_read_comes_back_whole(body: str, expected: object) -> None:
    from etl.platforms.youtube.source import UPLOADS  # noqa: PLC0415

    with ScriptedServer([(200, {}, body)]) as server:
        api, _, _ = client()
        assert api.get_json(server.url + "/playlistItems", reads=UPLOADS.reads) == expected


def test_an_answer_read_in_part_is_still_checked_as_json_and_its_errors_keep_their_reasons() -> None:
    from etl.platforms.youtube.source import VIDEOS  # noqa: PLC0415

    # A cut body, the bad part in a member nobody reads: retried, as any answer that is not JSON.
    with ScriptedServer([(200, {}, '{"items": [{"snippet": {"title": "cut'), OK]) as server:
        api, waits, _ = client()
        assert api.get_json(server.url + "/videos", reads=VIDEOS.reads) == {}
    assert len(waits) == 1
    with ScriptedServer([(400, {}, GOOGLE_400)]) as server:
        api, _, _ = client()
        with pytest.raises(FatalApiError) as caught:
            api.get_json(server.url + "/videos", reads=VIDEOS.reads)
    assert caught.value.reasons == {"badRequest", "INVALID_ARGUMENT", "API_KEY_INVALID"}
    # A classifier's verdict on a 200 answer read in part: the reasons come from the whole answer.
    with ScriptedServer([(200, {}, '{"error": {"code": "access_token_invalid", "message": "expired"}}')]) as server:
        api, _, _ = client(classify=lambda response: ("fatal", "token expired"))
        with pytest.raises(FatalApiError) as caught:
            api.get_json(server.url + "/videos", reads=VIDEOS.reads)
    assert caught.value.reasons == {"access_token_invalid"} and caught.value.reason == "access_token_invalid"


def test_the_environment_proxy_and_no_proxy_are_honoured_and_netrc_is_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    # The sessions don't re-read the environment per call (~11% of a demo night's busy samples): it is read once per
    # origin, with the same meaning requests gives it.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\nmachine api.example.invalid login a password b\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with ScriptedServer([OK]) as proxy, ScriptedServer([OK]) as direct:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        api, _, _ = client()
        assert api.get_json("http://api.example.invalid/x?a=1") == {"items": [1]}
        assert api.get_json(direct.url + "/y") == {"items": [1]}
    assert proxy.requests == ["http://api.example.invalid/x?a=1"]  # an absolute URI: a proxy request
    assert direct.requests == ["/y"]  # NO_PROXY: straight to the server
    assert all("Authorization" not in headers for headers in proxy.headers + direct.headers)  # no ~/.netrc credentials


def test_the_environment_ca_bundle_applies_to_https_origins_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    api, _, _ = client()
    assert api._environment("https://www.googleapis.com/youtube/v3/videos")["verify"] == str(bundle)
    assert api._environment("http://127.0.0.1:8000/youtube/v3/videos")["verify"] is True


def test_the_sandboxs_answers_pass_the_redaction_unchanged_under_the_harness_key() -> None:
    """A secret's 8-character prefix is masked wherever it appears. The harness's sandbox key must therefore share
    none with the synthetic answers: "sandbox-key" masked the "sandbox-..." channel titles of every landed page."""
    import requests

    from etl.harness import SANDBOX_KEY
    from etl.http import redact_text
    from etl.sandbox.server import SandboxServer
    from etl.settings import PROJECT_ROOT

    accounts = PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv"
    channels = [line.split(",")[4] for line in accounts.read_text(encoding="utf-8").splitlines()[1:] if ",youtube," in line][:5]
    with SandboxServer(accounts, api_key=SANDBOX_KEY) as sandbox:
        body = requests.get(f"{sandbox.base_url}/youtube/v3/channels", timeout=10,
                            params={"part": "snippet,statistics", "id": ",".join(channels), "key": SANDBOX_KEY, "prettyPrint": "false"}).text
    assert body.count('"title":"sandbox-') == 10  # snippet.title and snippet.localized.title
    assert redact_text(body, (SANDBOX_KEY,)) == body
    assert redact_text(body, ("sandbox-key",)).count('"title":"***') == 10  # what the old key did to them


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("https://www.googleapis.com/youtube/v3/videos", {"part": "snippet,statistics", "id": "a,b", "key": "k y", "pageToken": None}),
        ("http://127.0.0.1:5000/2/users/1/tweets", {"tweet.fields": "public_metrics,id", "start_time": "2026-12-01T00:00:00Z", "pagination_token": "abc=="}),
        ("http://127.0.0.1:5000/v21.0/me?fields=x", {"ids": ["1", "2"], "q": "déjà vu ~ !*'()"}),
        ("http://127.0.0.1:5000/path with space/ü?a=%7E", {"a": 1.5, "b": True}),
        ("http://127.0.0.1:5000", {"a": "1"}),
        ("http://127.0.0.1:5000/x", None),
        ("http://127.0.0.1:5000/x#part", {"a": "1"}),
    ],
)
def test_the_url_is_requests_own_with_commas_and_colons_literal(url: str, params: dict | None) -> None:
    import requests  # noqa: PLC0415

    from etl.http import with_query  # noqa: PLC0415

    sent = with_query(url, params)
    by_requests = requests.Request("GET", url, params=params).prepare().url
    assert sent == by_requests.replace("%2C", ",").replace("%3A", ":")
    assert requests.Request("GET", sent).prepare().url == sent  # what requests sends, unchanged


def test_a_call_sends_what_a_requests_session_would() -> None:
    # The client prepares its requests itself (issue 11): the same path, query, headers and JSON body as
    # Session.request, a per-call header overriding the client's, a None header unsetting the session's.
    import requests  # noqa: PLC0415

    with ScriptedServer([OK]) as ours, ScriptedServer([OK]) as theirs:
        api, _, _ = client(headers={"Authorization": "Bearer s3cr3t-key", "X-Both": "client"})
        api.session.headers["X-Session"] = "kept"
        api.get_json(ours.url + "/v2/q", {"fields": "a,b", "n": 2}, headers={"X-Both": "call", "Accept-Encoding": None})
        api.post_json(ours.url + "/v2/q", {"query": {"and": ["é"]}}, {"fields": "id"})
        with requests.Session() as session:
            session.trust_env = False
            session.headers["X-Session"] = "kept"
            headers = {"Authorization": "Bearer s3cr3t-key", "X-Both": "call", "Accept-Encoding": None}
            session.request("GET", theirs.url + "/v2/q", params={"fields": "a,b", "n": 2}, headers=headers)
            session.request("POST", theirs.url + "/v2/q", params={"fields": "id"}, json={"query": {"and": ["é"]}},
                            headers={"Authorization": "Bearer s3cr3t-key", "X-Both": "client"})
    assert [r.replace("%2C", ",") for r in theirs.requests] == ours.requests == ["/v2/q?fields=a,b&n=2", "/v2/q?fields=id"]
    assert ours.bodies == theirs.bodies
    assert ours.bodies[1] == b'{"query": {"and": ["\\u00e9"]}}'
    def without_host(sent: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{k: v for k, v in headers.items() if k != "Host"} for headers in sent]

    assert without_host(ours.headers) == without_host(theirs.headers)
    assert ours.headers[0]["X-Both"] == "call" and ours.headers[0]["Accept-Encoding"] == "identity"  # unset: urllib3's
    assert ours.headers[1]["Content-Type"] == "application/json" and ours.headers[1]["X-Session"] == "kept"
