"""The TikTok source against the sandbox over loopback HTTP: Research API queries (cursor + search_id, lookups by id),
Display API accounts (per-user tokens, video/list paging, video/query by id), outcomes and token masking."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.platforms import parse_landing
from etl.platforms.tiktok.source import DEFAULT_BASE_URL, DISPLAY_CONN_ID, TikTokSource, query_windows
from etl.sandbox.server import SandboxServer
from etl.sources.base import AccountRef, RateBudget
from tests.sandbox_registry import account, sandbox_with
from tests.scripted_server import ScriptedServer

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path: Path):
    with sandbox_with(tmp_path, (account("tiktok", f"A{n}", f"user_{n}", f"@user_{n}") for n in range(25)), AS_OF) as server:
        yield server


def make(url: str, tmp_path: Path, token: str = "sbxkey-demo") -> tuple[TikTokSource, LandingWriter]:
    landing = LandingWriter(tmp_path / "tiktok-000.jsonl.gz", source="tiktok")
    client = ApiClient(source="tiktok", secrets=(token,), on_response=landing.write, sleep=lambda s: None)
    return TikTokSource(client, url, token, RateBudget("tiktok", 1000), landing), landing


def test_video_query_batches_usernames_and_pages_with_cursor_and_search_id(sandbox: SandboxServer, tmp_path: Path) -> None:
    source, landing = make(sandbox.base_url, tmp_path)
    accounts = [AccountRef(f"tiktok:A{n}:0", f"user_{n}") for n in range(25)] + [AccountRef("tiktok:GHOST:0", "nobody")]
    result = source.extract(accounts, as_of=AS_OF, repull_days=30)
    landing.close()
    private = {f"user_{n}" for n in range(25) if sandbox.tiktok.universe.is_private(f"user_{n}")}
    statuses = {k: v.status for k, v in result.outcomes.items()}
    assert statuses["tiktok:GHOST:0"] == "not_found"
    assert {k for k, s in statuses.items() if s == "private"} == {f"tiktok:A{u.split('_')[1]}:0" for u in private}
    lines = list(read_landing(tmp_path / "tiktok-000.jsonl.gz"))
    queries = [json.loads(line["body"])["data"] for line in lines if line["endpoint"] == "video_query"]
    visible = 25 - len(private)
    videos = sum(len(q["videos"]) for q in queries)
    # Two username batches (20 + the rest), each paged by 100 until has_more is false.
    assert len(queries) == sum(-(-n // 100) for n in _batch_video_counts(sandbox, private)) and videos == len(sandbox.tiktok.served)
    assert all(line["method"] == "POST" for line in lines)
    assert sum(1 for line in lines if line["endpoint"] == "user_info") == 26
    assert [line["username"] for line in lines if line["endpoint"] == "user_info"][:2] == ["user_0", "user_1"]
    assert sum(s == "ok" for s in statuses.values()) == visible


def _batch_video_counts(sandbox: SandboxServer, private: set[str]) -> list[int]:
    names = [f"user_{n}" for n in range(25) if f"user_{n}" not in private]
    first = AS_OF.date().toordinal() - 30
    counts = []
    for batch in (names[:20], names[20:]):
        counts.append(sum(1 for u in batch for p in sandbox.tiktok.universe.posts(u, AS_OF) if p.published.date().toordinal() >= first))
    return counts


def test_a_refused_client_token_is_token_expired_naming_the_connection(sandbox: SandboxServer, tmp_path: Path) -> None:
    source, landing = make(sandbox.base_url, tmp_path, token="wrong-token")
    result = source.extract([AccountRef("tiktok:A0:0", "user_0"), AccountRef("tiktok:A1:0", "user_1")], as_of=AS_OF, repull_days=30)
    landing.close()
    assert {v.status for v in result.outcomes.values()} == {"token_expired"}
    assert "connection 'tiktok_api'" in result.outcomes["tiktok:A1:0"].message
    assert sandbox.stats["requests"] == {"tiktok.user_info": 1}


# -- Display API accounts, deletions ------------------------------------------------------------

def public(sandbox: SandboxServer, n: int) -> list[str]:
    """The first ``n`` sandbox usernames that are not private."""
    return [u for u in (f"user_{i}" for i in range(25)) if not sandbox.tiktok.universe.is_private(u)][:n]


def in_window(sandbox: SandboxServer, username: str, days: int = 30) -> list[str]:
    cutoff = AS_OF - timedelta(days=days)
    return [p.post_id for p in sandbox.tiktok.universe.posts(username, AS_OF) if p.published >= cutoff]


def make_display(url: str, tmp_path: Path, tokens: dict[str, str], token: str = "sbxkey-demo") -> tuple[TikTokSource, LandingWriter]:
    landing = LandingWriter(tmp_path / "tiktok-000.jsonl.gz", source="tiktok")
    client = ApiClient(source="tiktok", secrets=(token,), on_response=landing.write, sleep=lambda s: None)
    return TikTokSource(client, url, token, RateBudget("tiktok", 1000), landing, display_tokens=tokens), landing


def test_accounts_with_a_user_token_use_the_display_api_and_the_others_the_research_api(sandbox: SandboxServer, tmp_path: Path) -> None:
    research, display = public(sandbox, 5)[:3], public(sandbox, 5)[3:]
    # Usernames in the connection may carry '@' and capitals.
    tokens = {f"@{display[0].upper()}": f"display-{display[0]}", display[1]: f"display-{display[1]}"}
    source, landing = make_display(sandbox.base_url, tmp_path, tokens)
    accounts = [AccountRef(f"tiktok:{u}:0", u) for u in research + display]
    result = source.extract(accounts, as_of=AS_OF, repull_days=30)
    landing.close()
    assert {k: v.status for k, v in result.outcomes.items()} == {a.account_key: "ok" for a in accounts}
    requests_ = sandbox.stats["requests"]
    assert requests_["tiktok.user_info"] == 3 and requests_["tiktok.display_user_info"] == 2
    # 20 videos a page (max_count's maximum), until a page reaches past the cutoff.
    assert requests_["tiktok.video_list"] == sum(len(in_window(sandbox, u)) // 20 + 1 for u in display)
    assert "tiktok.display_video_query" not in requests_
    lines = list(read_landing(tmp_path / "tiktok-000.jsonl.gz"))
    listed = [line for line in lines if line["endpoint"] == "display_video_list"]
    assert {(line["username"], line["account"]) for line in listed} == {(u, f"tiktok:{u}:0") for u in display}
    assert {v["username"] for line in lines if line["endpoint"] == "video_query" for v in json.loads(line["body"])["data"]["videos"]} <= set(research)
    assert source.client.headers["Authorization"] == "Bearer sbxkey-demo"  # the client token is back after each user call
    frames = parse_landing(tmp_path / "tiktok-000.jsonl.gz", "tiktok", AS_OF.date(), AS_OF)
    posts = frames.frame("posts")
    for username in display:
        # Exactly the window's videos: the older ones on the page that crossed the cutoff are left out.
        assert sorted(posts.loc[posts["platform_account_id"] == username, "platform_post_id"]) == sorted(in_window(sandbox, username))
    assert sorted(frames.frame("account_snapshots")["platform_account_id"]) == sorted(research + display)
    assert frames.frame("post_deletions").empty


def test_known_display_posts_the_list_no_longer_returns_are_queried_twenty_at_a_time(sandbox: SandboxServer, tmp_path: Path) -> None:
    (username,) = public(sandbox, 1)
    known = in_window(sandbox, username)
    gone = known[1:22]  # 21 posts deleted since the last run
    sandbox.tiktok.deleted.update(gone)
    source, landing = make_display(sandbox.base_url, tmp_path, {username: f"display-{username}"})
    result = source.extract([AccountRef("tiktok:A:0", username)], as_of=AS_OF, repull_days=30,
                            known_posts=[(p, username) for p in known] + [("1999999999999999999", "someone_else")])
    landing.close()
    assert result.outcomes["tiktok:A:0"].status == "ok"
    lookups = [line for line in read_landing(tmp_path / "tiktok-000.jsonl.gz") if line["endpoint"] == "display_video_query"]
    assert [len(line["requested_ids"]) for line in lookups] == [20, 1] and sandbox.stats["requests"]["tiktok.display_video_query"] == 2
    frames = parse_landing(tmp_path / "tiktok-000.jsonl.gz", "tiktok", AS_OF.date(), AS_OF)
    assert sorted(frames.frame("post_deletions")["platform_post_id"]) == sorted(gone)


def test_known_research_posts_the_username_query_no_longer_returns_are_queried_by_video_id(sandbox: SandboxServer, tmp_path: Path) -> None:
    names = public(sandbox, 3)
    known = [(p, u) for u in names for p in in_window(sandbox, u)]
    gone = [known[0][0], known[-1][0]]
    sandbox.tiktok.deleted.update(gone)
    source, landing = make(sandbox.base_url, tmp_path)
    accounts = [AccountRef(f"tiktok:{u}:0", u) for u in [*names, "nobody"]]
    # A known post of an account that was not collected (here: no longer exists) is not looked up.
    result = source.extract(accounts, as_of=AS_OF, repull_days=30, known_posts=[*known, ("1888888888888888888", "nobody")])
    landing.close()
    assert {k: v.status for k, v in result.outcomes.items()} == {**{f"tiktok:{u}:0": "ok" for u in names}, "tiktok:nobody:0": "not_found"}
    lookups = [line for line in read_landing(tmp_path / "tiktok-000.jsonl.gz") if line["endpoint"] == "video_lookup"]
    assert len(lookups) == 1 and sorted(lookups[0]["requested_ids"]) == sorted(gone)
    frames = parse_landing(tmp_path / "tiktok-000.jsonl.gz", "tiktok", AS_OF.date(), AS_OF)
    assert sorted(frames.frame("post_deletions")["platform_post_id"]) == sorted(gone)


def test_a_re_pull_window_longer_than_30_days_is_queried_in_windows_of_30(sandbox: SandboxServer, tmp_path: Path) -> None:
    assert query_windows(AS_OF, 45) == [(date(2026, 10, 22), date(2026, 11, 21)), (date(2026, 10, 7), date(2026, 10, 21))]
    assert query_windows(AS_OF, 30) == [(date(2026, 10, 22), date(2026, 11, 21))]
    (username,) = public(sandbox, 1)
    old = [p for p in in_window(sandbox, username, 45) if p not in in_window(sandbox, username, 31)]
    known = in_window(sandbox, username, 45)
    sandbox.tiktok.deleted.add(old[0])
    source, landing = make(sandbox.base_url, tmp_path)
    source.extract([AccountRef("tiktok:A:0", username)], as_of=AS_OF, repull_days=45, known_posts=[(p, username) for p in known])
    landing.close()
    frames = parse_landing(tmp_path / "tiktok-000.jsonl.gz", "tiktok", AS_OF.date(), AS_OF)
    # Posts 31-45 days old come from the second window; the one deleted among them is looked up in both windows.
    assert set(old) - {old[0]} <= set(frames.frame("posts")["platform_post_id"])
    assert frames.frame("post_deletions")["platform_post_id"].tolist() == [old[0]]


def test_a_refused_user_token_marks_only_its_account_and_names_the_connection(sandbox: SandboxServer, tmp_path: Path) -> None:
    good, revoked, other = public(sandbox, 3)
    secret = "act.Revoked1234567890Example"
    source, landing = make_display(sandbox.base_url, tmp_path, {good: f"display-{good}", revoked: secret})
    result = source.extract([AccountRef(f"tiktok:{u}:0", u) for u in (good, revoked, other)], as_of=AS_OF, repull_days=30)
    landing.close()
    statuses = {k: v.status for k, v in result.outcomes.items()}
    assert statuses == {f"tiktok:{good}:0": "ok", f"tiktok:{revoked}:0": "token_expired", f"tiktok:{other}:0": "ok"}
    message = result.outcomes[f"tiktok:{revoked}:0"].message
    assert f"connection '{DISPLAY_CONN_ID}'" in message and f"'{revoked}'" in message and secret not in message
    assert sandbox.stats["requests"]["tiktok.display_user_info"] == 2  # the refused account stops at its first call


def test_a_user_token_is_masked_in_the_landing_and_in_messages(tmp_path: Path) -> None:
    secret = "act.Secret1234567890Example"
    # A proxy or gateway that echoes the credential in its error body.
    echo = json.dumps({"error": {"code": "access_token_invalid", "message": f"Bearer {secret} is invalid", "log_id": "1"}})
    with ScriptedServer([(401, {"Content-Type": "application/json"}, echo)]) as server:
        source, landing = make_display(server.url, tmp_path, {"user_1": secret})
        result = source.extract([AccountRef("tiktok:A:0", "user_1")], as_of=AS_OF, repull_days=30)
        landing.close()
    raw = gzip.open(tmp_path / "tiktok-000.jsonl.gz", "rt", encoding="utf-8").read()
    assert secret not in raw and "***" in raw
    assert result.outcomes["tiktok:A:0"].status == "token_expired" and secret not in (result.outcomes["tiktok:A:0"].message or "")


def test_user_tokens_come_from_the_environment_outside_airflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOK_DISPLAY_TOKENS", json.dumps({"@Komdigi": "display-komdigi"}))
    source, _ = make(DEFAULT_BASE_URL, tmp_path)
    assert source.uses_display_api(AccountRef("tiktok:K:0", "komdigi")) and not source.uses_display_api(AccountRef("tiktok:X:0", "other"))
    assert "display-komdigi" in source.client.secrets
    monkeypatch.setenv("TIKTOK_DISPLAY_TOKENS", '{"komdigi": act.not-json}')
    with pytest.raises(ValueError, match="TIKTOK_DISPLAY_TOKENS must be a JSON object") as raised:
        make(DEFAULT_BASE_URL, tmp_path)
    assert "act.not-json" not in str(raised.value)


def test_without_a_client_token_display_accounts_are_read_and_research_accounts_name_the_setting(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    research, display = public(sandbox, 2)
    source, landing = make_display(sandbox.base_url, tmp_path, {display: f"display-{display}"}, token="")
    result = source.extract([AccountRef(f"tiktok:{display}:0", display)], as_of=AS_OF, repull_days=30)
    assert result.outcomes[f"tiktok:{display}:0"].status == "ok"
    with pytest.raises(ValueError) as caught:
        source.extract([AccountRef(f"tiktok:{research}:0", research)], as_of=AS_OF, repull_days=30)
    landing.close()
    assert str(caught.value) == ("source=tiktok: no API key; set the password of Airflow connection 'tiktok_api' or the environment "
                                 "variable TIKTOK_CLIENT_TOKEN (1 accounts have no Display API token in 'tiktok_display')")
