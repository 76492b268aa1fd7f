"""Error text from every body shape the platforms send (tests/fixtures/<platform>/), and secrets a server echoes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.http import ApiClient, CallRecord, FatalApiError, error_reasons, error_text, mask_secrets, redact
from tests.scripted_server import ScriptedServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def body(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("x/client_not_enrolled_403.json",
         "Client Forbidden: When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
         "Twitter developer App that is attached to a Project. You can create a project via the developer portal. "
         "(reason client-not-enrolled; type https://api.x.com/2/problems/client-forbidden)"),
        ("x/v11_errors_403.json",
         "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints (e.g. media post, oauth) only. "
         "If you need access to this endpoint, you may need a different access level. You can learn more here: "
         "https://developer.x.com/en/portal/product (code 453)"),
        ("x/invalid_request_400.json",
         "Invalid Request: One or more parameters to your request was invalid. [Invalid 'start_time':'2026-10-21T18:00Z'. "
         "'start_time' must be on or after 2010-11-06T00:00:00Z] (type https://api.x.com/2/problems/invalid-request)"),
        ("facebook/application_no_permission.json", "(#10) Application does not have permission for this action (code 10)"),
        ("facebook/error_in_200.json",
         "Invalid parameter: The value of the until parameter must be later than since. (code 100; subcode 1487851)"),
        ("instagram/invalid_parameter_user_msg.json",
         "Invalid parameter: The app user's Instagram professional account is inactive, checkpointed, or restricted. "
         "(code 100; subcode 2207050)"),
        ("youtube/permission_denied_403.json",
         "The caller does not have permission (code 403; status PERMISSION_DENIED; reason forbidden)"),
        ("youtube/service_unavailable_403.json",
         "The service is currently unavailable for this project. (code 403; status PERMISSION_DENIED; reason SERVICE_UNAVAILABLE)"),
        ("youtube/google_front_end_404.html",
         "Error 404 (Not Found)!!1 404. That’s an error. The requested URL /youtube/v3/channelz was not found on this server. "
         "That’s all we know."),
        ("tiktok/invalid_params_400.json",
         "Invalid parameters: max_count must be between 1 and 100. (code invalid_params; log_id 20261120010203A1B2C3D4E5F60718293A)"),
        ("tiktok/plain_text_403.txt", "Access Denied"),
    ],
)
def test_every_error_shape_gives_the_platforms_own_words(fixture: str, text: str) -> None:
    assert error_text(body(fixture)) == text


def test_machine_reasons_of_each_shape() -> None:
    assert error_reasons(body("x/client_not_enrolled_403.json")) == ["client-not-enrolled", "client-forbidden"]
    assert error_reasons(body("youtube/service_unavailable_403.json")) == ["SERVICE_UNAVAILABLE", "PERMISSION_DENIED"]
    assert error_reasons(body("youtube/api_key_service_blocked_403.json")) == ["forbidden", "API_KEY_SERVICE_BLOCKED", "PERMISSION_DENIED"]
    assert error_reasons(body("tiktok/invalid_params_400.json")) == ["invalid_params"]
    assert error_reasons('{"data": {}, "error": {"code": "ok", "message": "", "log_id": "1"}}') == []  # TikTok's success


def test_long_bodies_are_trimmed_and_unknown_json_is_shown_as_text() -> None:
    assert error_text("<p>" + "x" * 500 + "</p>") == "x" * 299 + "…"
    assert error_text('{"status": "nope", "n": 1}') == '{"status": "nope", "n": 1}'
    assert error_text("   ") is None


def test_a_4xx_without_a_body_is_never_a_bare_status() -> None:
    with ScriptedServer([(403, {}, "")]) as server:
        client = ApiClient(source="x", sleep=lambda s: None)
        with pytest.raises(FatalApiError) as caught:
            client.get_json(server.url + "/2/users")
    assert str(caught.value) == "source=x status=403: HTTP 403 Forbidden with an empty body"


def test_the_client_raises_x_problem_details_with_reason_and_lands_them() -> None:
    records: list[CallRecord] = []
    with ScriptedServer([(403, {"Content-Type": "application/problem+json"}, body("x/client_not_enrolled_403.json"))]) as server:
        client = ApiClient(source="x", on_response=records.append, sleep=lambda s: None)
        with pytest.raises(FatalApiError) as caught:
            client.get_json(server.url + "/2/users", {"ids": "1"}, account="x:A:0")
    assert len(server.requests) == 1  # deterministic: no retry
    assert caught.value.reason == "client-not-enrolled" and caught.value.reasons == {"client-not-enrolled", "client-forbidden"}
    assert str(caught.value).startswith("source=x account=x:A:0 status=403 reason=client-not-enrolled: Client Forbidden: When authenticating")
    assert records[0].body == body("x/client_not_enrolled_403.json")


SECRET = "EAAGm0PX4ZCps/BA+Kq8=="  # a token with characters JSON and URLs escape


@pytest.mark.parametrize(
    ("echoed", "masked"),
    [
        ('{"token": "EAAGm0PX4ZCps/BA+Kq8=="}', '{"token": "***"}'),
        ('{"token": "EAAGm0PX4ZCps\\/BA+Kq8=="}', '{"token": "***"}'),  # JSON-escaped slash (PHP-style encoders)
        ('{"token": "EAAGm0PX4ZCps\\u002fBA+Kq8=="}', '{"token": "***"}'),  # \u-escaped (lower case hex)
        ("next=https://x/?access_token=EAAGm0PX4ZCps%2FBA%2BKq8%3D%3D&after=1", "next=https://x/?access_token=***&after=1"),
        ("Cannot parse access token EAAGm0PX4ZCps...", "Cannot parse access token ***..."),  # an 8+ character prefix
        ("Invalid token: EAAGm0PX (truncated)", "Invalid token: *** (truncated)"),  # exactly 8
        ("Invalid token: EAAGm0P", "Invalid token: EAAGm0P"),  # 7 characters say nothing of the secret
    ],
)
def test_a_secret_echoed_escaped_encoded_or_cut_short_is_masked(echoed: str, masked: str) -> None:
    assert mask_secrets(echoed, [SECRET]) == masked


def test_the_landed_body_and_the_error_never_hold_an_echoed_secret() -> None:
    echoed = json.dumps({"error": {"message": f"Malformed access token {SECRET[:12]}…", "code": 190,
                                   "echo": f"access_token={SECRET}".replace("/", "\\/")}})
    records: list[CallRecord] = []
    with ScriptedServer([(400, {}, echoed)]) as server:
        client = ApiClient(source="facebook", secrets=(SECRET,), on_response=records.append, sleep=lambda s: None)
        with pytest.raises(FatalApiError) as caught:
            client.get_json(server.url + "/v21.0/me", {"access_token": SECRET})
    landed = records[0].body + records[0].url + str(caught.value)
    assert SECRET[:8] not in landed and "EAAGm0PX" not in landed
    assert json.loads(records[0].body)["error"]["message"] == "Malformed access token ***…"
    assert str(caught.value) == "source=facebook status=400: Malformed access token ***… (code 190)"
    assert redact({"note": SECRET[:10]}, [SECRET]) == {"note": "***"}
