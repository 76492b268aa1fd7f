"""The TikTok Research API source against the sandbox over loopback HTTP: POST queries, cursor + search_id, outcomes."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.http import ApiClient
from etl.landing import LandingWriter, read_landing
from etl.sandbox.server import SandboxServer
from etl.sources.base import AccountRef, RateBudget
from etl.sources.tiktok import TikTokSource

AS_OF = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path: Path):
    accounts = tmp_path / "accounts.csv"
    with accounts.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_key", "agency_code", "platform", "handle", "platform_account_id", "layer"])
        writer.writerows([f"tiktok:A{n}:0", f"A{n}", "tiktok", f"@user_{n}", f"user_{n}", "0"] for n in range(25))
    with SandboxServer(accounts) as server:
        server.set_clock(AS_OF)
        yield server


def make(url: str, tmp_path: Path, token: str = "sandbox-key") -> tuple[TikTokSource, LandingWriter]:
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
