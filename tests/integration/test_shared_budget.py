"""The night's API allowance and the APIs' own limits, shared live by a platform's shards through the warehouse."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from etl.budget import SharedBudget, clear_limits, credential_fingerprint, current_limits
from etl.http import BudgetExhausted, CredentialsRejected
from etl.platforms.usage import api_calls_vs_minimum
from etl.sources.base import QUOTA
from etl.warehouse import Warehouse

NOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def shard(warehouse: Warehouse, limit: int = 10, *, shards: int = 1, credential: str | None = "aaaaaaaaaaaa", **kw) -> SharedBudget:
    kw.setdefault("clock", lambda: NOW)
    return SharedBudget("x", limit, connection="x_api", credential=credential, warehouse=warehouse, run_id="run-1", shards=shards, **kw)


def budget_row(warehouse: Warehouse) -> tuple[int, int, int | None, int]:
    (row,) = warehouse.query("SELECT budget_units, spent_units, reads_cap, posts_read FROM etl_rate_budget WHERE run_id = 'run-1'")
    return tuple(row)


def test_shards_share_one_allowance_and_hand_back_what_they_did_not_use(warehouse: Warehouse) -> None:
    first, second = shard(warehouse, 10, shards=2), shard(warehouse, 10, shards=2)
    for _ in range(7):
        first.spend(1)
    # Leases of 1 unit (10 // (4 * 2 shards)): the first shard holds exactly what it spent.
    assert budget_row(warehouse) == (10, 7, None, 0)
    for _ in range(3):
        second.spend(1)
    with pytest.raises(BudgetExhausted) as caught:
        second.spend(1)
    assert str(caught.value) == "x rate budget of 10 units for this run spent (10 used by its shards, 3 by this one); deferring the rest"
    first.close()
    second.close()
    assert budget_row(warehouse) == (10, 10, None, 0)
    assert (first.spent, second.spent) == (7, 3)


def test_a_lease_not_used_returns_to_the_run_at_close(warehouse: Warehouse) -> None:
    big = shard(warehouse, 1000)
    big.spend(1)
    assert budget_row(warehouse)[1] == 50  # one lease of LEASE_UNITS
    big.close()
    assert budget_row(warehouse)[1] == 1
    # A later shard (or a cleared rerun of the same run) continues from what was really spent.
    again = shard(warehouse, 1000)
    again.spend(3)
    again.close()
    assert budget_row(warehouse)[1] == 4


def test_the_monthly_read_cap_is_shared_too(warehouse: Warehouse) -> None:
    first, second = shard(warehouse, 100, reads_left=150), shard(warehouse, 100, reads_left=150)
    first.reserve_reads(100)
    first.count_reads(100)
    assert budget_row(warehouse) == (100, 0, 150, 150)  # a 500-post lease does not fit: the 150 left are taken
    with pytest.raises(BudgetExhausted) as caught:
        second.reserve_reads(100)
    assert str(caught.value) == ("x monthly post-read cap: 150 posts read or reserved by this run's shards, 0 left this month, "
                                 "the next call may return 100; deferring the rest")
    first.close()  # 50 reserved, not read: back to the run
    second.reserve_reads(50)
    second.count_reads(50)
    second.close()
    assert budget_row(warehouse)[3] == 150


def test_a_block_seen_by_one_shard_defers_the_others_before_they_call(warehouse: Warehouse) -> None:
    first, second = shard(warehouse, 1000), shard(warehouse, 1000)
    first.spend(1)
    second.spend(1)
    until = NOW + timedelta(hours=1)
    first.block(QUOTA, until, "x: limit reached; deferring the rest")
    # The second shard learns it at its next lease (here: its first 50 units are spent).
    for _ in range(49):
        second.spend(1)
    with pytest.raises(BudgetExhausted, match="^x: limit reached; deferring the rest$"):
        second.spend(1)
    assert [(r["connection"], r["scope"], r["status"], r["blocked_until"]) for r in current_limits(warehouse)] == [
        ("x_api", "quota", "deferred", until.replace(tzinfo=None))]
    assert clear_limits(warehouse, "x_api") == 1
    third = shard(warehouse, 1000)
    third.spend(1)  # lifted: calls go on


def test_a_window_that_resets_soon_is_waited_for_not_deferred(warehouse: Warehouse) -> None:
    slept: list[float] = []
    budget = shard(warehouse, 1000, sleep=slept.append, max_wait=300)
    budget.observe("user_tweets", remaining=0, resets_at=NOW + timedelta(seconds=120))
    budget.spend(1, "user_tweets")
    assert slept == [120.0]
    budget.observe("user_tweets", remaining=0, resets_at=NOW + timedelta(seconds=900))
    with pytest.raises(BudgetExhausted) as caught:
        budget.spend(1, "user_tweets")
    assert str(caught.value) == "x API window for user_tweets has no call left until 2026-11-21 18:15:00 UTC; deferring the rest"
    budget.spend(1, "users")  # another endpoint has its own window


def test_refused_credentials_stop_the_other_shards_until_the_secret_changes(warehouse: Warehouse) -> None:
    token = credential_fingerprint("bearer-1")
    first = shard(warehouse, 1000, credential=token)
    first.refuse("source=x account=x:A:0 status=401: X refuses the bearer token of connection 'x_api' (HTTP 401); renew the token")
    second = shard(warehouse, 1000, credential=token)
    with pytest.raises(CredentialsRejected) as caught:
        second.spend(1)
    assert str(caught.value) == ("source=x account=x:A:0 status=401: X refuses the bearer token of connection 'x_api' (HTTP 401); "
                                 "renew the token")
    renewed = shard(warehouse, 1000, credential=credential_fingerprint("bearer-2"))
    renewed.spend(1)
    stored = warehouse.query("SELECT credential, message FROM etl_rate_limit WHERE scope = 'credentials'")
    assert [tuple(r) for r in stored] == [(token, caught.value.args[0])]
    assert len(token) == 12 and "bearer-1" not in repr(stored)


@pytest.mark.postgres
def test_concurrent_shards_on_postgresql_never_spend_more_than_the_allowance(pg_url: str) -> None:
    # DuckDB takes one writer at a time; parallel mapped tasks are what the PostgreSQL warehouse is for.
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    shard(warehouse, 37, shards=4).close()  # creates the run's row
    spent: list[int] = []

    def work() -> None:
        budget = shard(warehouse, 37, shards=4, clock=lambda: datetime.now(UTC))
        try:
            while True:
                budget.spend(1)
        except BudgetExhausted:
            pass
        finally:
            budget.close()
            spent.append(budget.spent)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(spent) == 37 and budget_row(warehouse)[1] == 37
    warehouse.dispose()


def test_api_calls_are_set_against_the_minimum_the_batch_sizes_allow(warehouse: Warehouse) -> None:
    day = date(2026, 11, 20)
    ledger = [("youtube:A", "youtube", "ok"), ("youtube:B", "youtube", "ok"), ("youtube:C", "youtube", "deferred"),
              ("x:A", "x", "ok"), ("x:B", "x", "private"),
              ("instagram:A", "instagram", "ok"),
              ("facebook:A", "facebook", "ok"), ("facebook:B", "facebook", "not_found"),
              ("tiktok:A", "tiktok", "ok"), ("tiktok:B", "tiktok", "token_expired")]
    posts = {"youtube:A": 120, "youtube:B": 3, "x:A": 250, "instagram:A": 26, "facebook:A": 100, "tiktok:A": 230}
    calls = {"youtube": [(0, 9), (1, 2)], "x": [(0, 5)], "instagram": [(0, 2)], "facebook": [(0, 4)], "tiktok": [(0, 6)]}
    with warehouse.transaction() as conn:
        for key, platform, status in ledger:
            conn.execute(sa.text("INSERT INTO etl_account_coverage VALUES (:k, :d, :p, :s, NULL)"), {"k": key, "d": day, "p": platform, "s": status})
        for key, n in posts.items():
            platform = key.split(":")[0]
            for i in range(n):
                conn.execute(sa.text("INSERT INTO fact_post_metrics_daily (platform, platform_post_id, snapshot_date, account_key, captured_at) "
                                     "VALUES (:p, :i, :d, :k, :t)"), {"p": platform, "i": f"{key}-{i}", "d": day, "k": key, "t": NOW.replace(tzinfo=None)})
        for run_id, started in (("old", 1), ("new", 2)):  # the day ran twice: the latest run counts
            for platform, shards in calls.items():
                for index, made in shards:
                    conn.execute(sa.text(
                        "INSERT INTO etl_run (run_id, dag_id, task_id, map_index, source, data_date, started_at, status, api_calls) "
                        "VALUES (:r, 'social_metrics', :t, :m, :p, :d, :s, 'success', :c)"),
                        {"r": run_id, "t": f"collect_{platform}.extract", "m": index, "p": platform, "d": day,
                         "s": datetime(2026, 11, 21, started), "c": made * (10 if run_id == "old" else 1)})
    rows = {r["platform"]: (r["accounts"], r["posts"], r["calls_made"], r["minimum_calls"]) for r in api_calls_vs_minimum(warehouse, day, day)}
    assert rows == {
        # channels ceil(2/50)=1 + uploads ceil(120/50)=3 and ceil(3/50)=1 + videos ceil(123/50)=3
        "youtube": (2, 123, 11, 8),
        # users ceil(2/100)=1 + timeline ceil(250/100)=3; the protected account is answered by the users lookup
        "x": (2, 250, 5, 4),
        # media pages of 25: ceil(26/25)=2
        "instagram": (1, 26, 2, 2),
        # page fields for both pages + published_posts ceil(100/100)=1 (the page not found has no posts to walk)
        "facebook": (2, 100, 4, 3),
        # user/info 1 + max(ceil(1/20), ceil(230/100)) = 3
        "tiktok": (1, 230, 6, 4),
    }
