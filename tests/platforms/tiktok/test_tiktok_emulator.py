"""The sandbox's TikTok Display API and Research API lookups by id: real paths, per-user bearer tokens, paging, error bodies, faults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from etl.sandbox.server import SandboxServer
from tests.sandbox_registry import account, sandbox_with

NOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
FIELDS = {"fields": "id,create_time,video_description,like_count,comment_count,share_count,view_count"}


@pytest.fixture
def sandbox(tmp_path: Path):
    with sandbox_with(tmp_path, [account("tiktok", "A", "agency_a"), account("tiktok", "B", "agency_b", "@agency_b")], NOW) as server:
        yield server


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def video_list(sandbox: SandboxServer, token: str = "display-agency_a", **body: object) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/v2/video/list/", params=FIELDS, json=body, headers=auth(token), timeout=5)


def test_display_user_info_answers_the_token_owner_with_only_the_requested_fields(sandbox: SandboxServer) -> None:
    answer = requests.get(f"{sandbox.base_url}/v2/user/info/", params={"fields": "open_id,follower_count,video_count"},
                          headers=auth("display-agency_a"), timeout=5)
    assert answer.status_code == 200 and answer.json()["error"]["code"] == "ok"
    user = answer.json()["data"]["user"]
    assert set(user) == {"open_id", "follower_count", "video_count"} and isinstance(user["follower_count"], int)
    assert user["follower_count"] == sandbox.tiktok.universe.followers("agency_a", NOW)


def test_display_video_list_pages_newest_first_with_a_millisecond_cursor(sandbox: SandboxServer) -> None:
    first = video_list(sandbox, max_count=20).json()["data"]
    assert len(first["videos"]) == 20 and first["has_more"]
    video = first["videos"][0]
    assert isinstance(video["id"], str) and isinstance(video["create_time"], int) and "username" not in video
    assert first["cursor"] == first["videos"][-1]["create_time"] * 1000
    second = video_list(sandbox, max_count=20, cursor=first["cursor"]).json()["data"]
    assert not {v["id"] for v in second["videos"]} & {v["id"] for v in first["videos"]}
    assert second["videos"][0]["create_time"] <= first["videos"][-1]["create_time"]
    # Every page read to the end lists all of the user's posts, once.
    ids, cursor, more = [], None, True
    while more:
        page = video_list(sandbox, max_count=20, **({"cursor": cursor} if cursor else {})).json()["data"]
        ids += [v["id"] for v in page["videos"]]
        cursor, more = page["cursor"], page["has_more"]
    assert ids == [p.post_id for p in sandbox.tiktok.universe.posts("agency_a", NOW)]
    assert video_list(sandbox, max_count=21).status_code == 400


def test_display_video_query_returns_only_the_owners_existing_videos(sandbox: SandboxServer) -> None:
    mine = [p.post_id for p in sandbox.tiktok.universe.posts("agency_a", NOW)[:2]]
    theirs = sandbox.tiktok.universe.posts("agency_b", NOW)[0].post_id
    sandbox.tiktok.deleted.add(mine[1])
    url = f"{sandbox.base_url}/v2/video/query/"
    answer = requests.post(url, params=FIELDS, json={"filters": {"video_ids": [*mine, theirs]}}, headers=auth("display-agency_a"), timeout=5)
    assert answer.status_code == 200 and [v["id"] for v in answer.json()["data"]["videos"]] == [mine[0]]
    too_many = requests.post(url, params=FIELDS, json={"filters": {"video_ids": [str(n) for n in range(21)]}},
                             headers=auth("display-agency_a"), timeout=5)
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "invalid_params"


def test_display_and_research_tokens_are_not_interchangeable(sandbox: SandboxServer) -> None:
    refused = video_list(sandbox, token="sbxkey-demo")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "access_token_invalid"
    assert set(refused.json()["error"]) == {"code", "message", "log_id"}
    assert video_list(sandbox, token="display-nobody").status_code == 401
    research = requests.post(f"{sandbox.base_url}/v2/research/user/info/", json={"username": "agency_a"},
                             headers=auth("display-agency_a"), timeout=5)
    assert research.status_code == 401


def test_faults_apply_to_the_display_api(sandbox: SandboxServer) -> None:
    sandbox.faults["tiktok.status_burst"] = {"status": 429, "count": 1}
    throttled = video_list(sandbox, max_count=5)
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "rate_limit_exceeded"
    sandbox.faults["tiktok.token_expired"] = True
    assert video_list(sandbox, max_count=5).status_code == 401
    sandbox.faults["tiktok.token_expired"] = None
    sandbox.faults["tiktok.delete_between_pages"] = 1
    first = video_list(sandbox, max_count=5).json()["data"]
    video_list(sandbox, max_count=5, cursor=first["cursor"])
    # The last video of the first page vanished before the second was asked for.
    assert sandbox.tiktok.deleted == {first["videos"][-1]["id"]}


def test_research_video_query_answers_a_video_id_condition(sandbox: SandboxServer) -> None:
    posts = sandbox.tiktok.universe.posts("agency_a", NOW)
    wanted = [posts[0].post_id, posts[3].post_id, "1999999999999999999"]
    sandbox.tiktok.deleted.add(posts[3].post_id)
    query = {"query": {"and": [{"operation": "IN", "field_name": "video_id", "field_values": wanted}]},
             "start_date": "20261022", "end_date": "20261121", "max_count": 100}
    answer = requests.post(f"{sandbox.base_url}/v2/research/video/query/", json=query, headers=auth("sbxkey-demo"), timeout=5)
    data = answer.json()["data"]
    assert answer.status_code == 200 and [str(v["id"]) for v in data["videos"]] == [posts[0].post_id] and not data["has_more"]
