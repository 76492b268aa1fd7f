"""TikTok through the real pipeline steps on DuckDB against the sandbox: deletions seen by both APIs, Display API tokens.

Uses the ``world`` of :mod:`tests.integration.test_social_faults` (six sandbox TikTok accounts, a
DuckDB warehouse, video/query pages of 50 so every walk has a second page for a post to vanish before).
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest

from etl.pipeline import extract_shard, load_shard, open_warehouse, parse_validate_shard, plan_shards
from etl.platforms.tiktok.source import DISPLAY_CONN_ID, DISPLAY_TOKENS_ENV
from etl.runtime import RunContext
from etl.settings import load_settings
from tests.integration.test_social_faults import DAY, KEY, run_platform, warehouse_state, world  # noqa: F401 - the fixture


def flagged_deleted() -> list[tuple]:
    warehouse = open_warehouse(load_settings())
    try:
        return [tuple(r) for r in warehouse.query("SELECT platform_post_id, deleted_seen_on FROM dim_post WHERE platform = 'tiktok' AND is_deleted")]
    finally:
        warehouse.dispose()


def next_day(sandbox) -> RunContext:
    run = RunContext.for_day(DAY + timedelta(days=1), run_id="manual__tiktok2", dag_id="social_metrics")
    sandbox.set_clock(run.as_of)
    return run


def test_a_tiktok_research_post_deleted_between_pages_is_flagged_deleted_the_next_day(world) -> None:  # noqa: F811
    sandbox, run = world
    sandbox.faults["tiktok.delete_between_pages"] = 1
    run_platform("tiktok", run)
    (gone,) = sandbox.tiktok.deleted
    assert gone in warehouse_state("tiktok")["posts"]  # served on page one, so loaded
    run_platform("tiktok", next_day(sandbox))
    # The username query no longer returns it, the video_id query does not either: flagged, not removed.
    assert (gone, DAY + timedelta(days=1)) in flagged_deleted()
    assert "tiktok.video_list" not in sandbox.stats["requests"]  # no user token configured: Research API only


def test_a_tiktok_display_post_deleted_between_pages_is_flagged_deleted_the_next_day(world, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    sandbox, run = world
    monkeypatch.setenv(DISPLAY_TOKENS_ENV, json.dumps({u: f"display-{u}" for u in sandbox.tiktok.universe.accounts}))
    sandbox.faults["tiktok.delete_between_pages"] = 1
    run_platform("tiktok", run)
    (gone,) = sandbox.tiktok.deleted
    state = warehouse_state("tiktok")
    assert gone in state["posts"] and {s for s, _ in state["ledger"].values()} == {"ok"}
    warehouse = open_warehouse(load_settings())
    try:
        hidden = warehouse.query("SELECT DISTINCT unavailable_metrics FROM fact_post_metrics_daily WHERE platform = 'tiktok' AND likes IS NULL")
    finally:
        warehouse.dispose()
    # Some videos hide their like count (the sandbox's hide_likes_ratio): NULL, and the snapshot says why.
    assert [tuple(r) for r in hidden] == [("likes=like_count not served",)]
    run_platform("tiktok", next_day(sandbox))
    # video/list no longer lists it, video/query does not return it: flagged, not removed.
    assert (gone, DAY + timedelta(days=1)) in flagged_deleted()
    requests = sandbox.stats["requests"]
    assert requests["tiktok.display_video_query"] >= 1 and "tiktok.user_info" not in requests and "tiktok.video_query" not in requests


def test_display_tokens_never_reach_the_landing_or_the_ledger(world, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: F811
    sandbox, run = world
    good, revoked = sorted(u for u in sandbox.tiktok.universe.accounts if not sandbox.tiktok.universe.is_private(u))[:2]
    tokens = {good: f"display-{good}", revoked: "act.Revoked1234567890Example"}
    monkeypatch.setenv(DISPLAY_TOKENS_ENV, json.dumps(tokens))
    settings = load_settings()
    for shard in plan_shards("tiktok", run, settings):
        validated = parse_validate_shard(extract_shard("tiktok", shard["shard"], shard["shards"], run, settings), run, settings)
        # One owner's token is that account's problem: the load does not fail (only a refused tiktok_api token would).
        load_shard(validated, run, settings)
    state = warehouse_state("tiktok")
    refused = [m for s, m in state["ledger"].values() if s == "token_expired"]
    assert len(refused) == 1 and f"'{revoked}'" in refused[0] and f"connection '{DISPLAY_CONN_ID}'" in refused[0]
    # Only that account: the other Display account and the Research accounts are collected.
    assert sorted(s for s, _ in state["ledger"].values() if s != "token_expired") in (["ok"] * 5, ["ok"] * 4 + ["private"])
    assert state["posts"]
    written = [gzip.open(p, "rt", encoding="utf-8").read() for p in (tmp_path / "data").rglob("*.jsonl.gz")]
    written += [p.read_text(encoding="utf-8") for p in (tmp_path / "data").rglob("*.json")]
    assert written and any("display_video_list" in text for text in written)
    warehouse = open_warehouse(load_settings())
    try:
        messages = [str(r[0]) for r in warehouse.query("SELECT message FROM etl_account_coverage WHERE message IS NOT NULL")]
        messages += [str(r[0]) for r in warehouse.query("SELECT message FROM etl_run WHERE message IS NOT NULL")]
    finally:
        warehouse.dispose()
    for secret in [*tokens.values(), KEY]:
        assert not any(secret in text for text in written + messages), secret
    # Nor does it block the Research API's client token for the platform's other shards.
    warehouse = open_warehouse(load_settings())
    try:
        assert warehouse.query("SELECT scope FROM etl_rate_limit WHERE scope = 'credentials'") == []
    finally:
        warehouse.dispose()
