"""A platform's API allowance shared live by its mapped shards, through the warehouse.

The night's allowance (``PANTAU_<PLATFORM>_BUDGET``) is one row of
``etl_rate_budget`` per run and platform. Shards claim it in small leases
with one conditional ``UPDATE ... RETURNING`` (atomic on PostgreSQL when
shards run in parallel; DuckDB has one writer at a time anyway) and hand back
what they did not use, so a shard with few accounts leaves its share to the
others instead of a fixed split. A monthly read cap (X) is claimed the same
way, in posts.

What an API says about its own limits (X's ``x-rate-limit-*`` windows, Meta's
usage headers, YouTube's quotaExceeded, a refused token) becomes a row of
``etl_rate_limit`` per Airflow connection and scope. Blocks are written the
moment they are seen and read at every lease, so the platform's other shards
defer, wait for a window, or stop before calling, instead of each learning it
from a refused call.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog

from etl.http import BudgetExhausted
from etl.sources.base import LimitState, RateBudget, locked
from etl.warehouse import Warehouse

log = structlog.get_logger(__name__)

#: Most units (calls or quota units) one lease takes: small enough that shards share, large enough to rarely ask.
LEASE_UNITS = 50
#: Most posts one lease takes from a monthly read cap.
LEASE_READS = 500


def credential_fingerprint(secret: str | None) -> str | None:
    """A 12-hex SHA-256 prefix of ``secret``: tells a renewed token from the refused one, reveals nothing of either."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12] if secret else None


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _aware(value: Any) -> datetime | None:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


@dataclass
class SharedBudget(RateBudget):
    """A :class:`RateBudget` whose allowance and blocks live in the warehouse, shared by the platform's shards."""

    warehouse: Warehouse | None = None
    run_id: str = ""
    shards: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        self._units_leased = 0
        self._reads_leased = 0
        # Small budgets are split finer, so one shard's lease cannot starve the others.
        self._lease_units = max(1, min(LEASE_UNITS, self.limit // (4 * max(1, self.shards))))
        now = _naive_utc(self.clock())
        with self._db().transaction() as conn:
            # Every shard of a run computes the same settings; the latest wins, so a cleared rerun sees a raised budget.
            self._db().scalar(
                conn,
                "INSERT INTO etl_rate_budget (run_id, platform, budget_units, spent_units, reads_cap, posts_read, created_at, updated_at) "
                "VALUES (:run_id, :platform, :units, 0, :reads_cap, 0, :now, :now) "
                "ON CONFLICT (run_id, platform) DO UPDATE SET budget_units = excluded.budget_units, "
                "reads_cap = excluded.reads_cap, updated_at = excluded.updated_at RETURNING spent_units",
                {"run_id": self.run_id, "platform": self.platform, "units": self.limit, "reads_cap": self.reads_left, "now": now},
            )
        self._refresh_limits()

    def _db(self) -> Warehouse:
        if self.warehouse is None:
            raise ValueError("SharedBudget needs the warehouse that holds etl_rate_budget")
        return self.warehouse

    # -- the run's allowance ---------------------------------------------------------------

    @locked
    def spend(self, units: int, scope: str | None = None) -> None:
        self.check(scope)
        self._take_window_call(scope)
        if self._units_leased < units:
            try:
                self._units_leased += self._claim("spent_units", "budget_units", max(units, self._lease_units), units)
                self.check(scope)  # the lease refreshed the blocks other shards wrote
            except BudgetExhausted:
                self._no_call(scope)
                raise
        self._units_leased -= units
        self.spent += units

    @locked
    def reserve_reads(self, most: int) -> None:
        if self.reads_left is None:
            return
        # What this shard leased and no call in flight on another thread has reserved.
        free = self._reads_leased - self._reserved_by_others()
        if free < most:
            self._reads_leased += self._claim("posts_read", "reads_cap", max(most, LEASE_READS), most - free)
        self._reserved[threading.get_ident()] = most

    @locked
    def count_reads(self, posts: int) -> None:
        self._reserved.pop(threading.get_ident(), None)
        self.reads += posts
        self._reads_leased = max(0, self._reads_leased - posts) if self.reads_left is not None else 0

    def _claim(self, used: str, cap: str, want: int, need: int) -> int:
        """Take ``want`` from the run's row, or what is left if that is at least ``need``; else defer."""
        key = {"run_id": self.run_id, "platform": self.platform}
        db = self._db()
        for _ in range(3):  # another shard may take the rest between our read and our update
            with db.transaction() as conn:
                taken = conn.execute(
                    sa.text(f"UPDATE etl_rate_budget SET {used} = {used} + :n, updated_at = :now "
                         f"WHERE run_id = :run_id AND platform = :platform AND {used} + :n <= {cap} RETURNING {used}"),
                    {**key, "n": want, "now": _naive_utc(self.clock())},
                ).fetchall()
            if taken:
                self._refresh_limits()
                return want
            row = db.query(f"SELECT {cap} - {used}, {used}, {cap} FROM etl_rate_budget WHERE run_id = :run_id AND platform = :platform", key)
            left, total_used, total = (int(v) for v in row[0])
            if left < need:
                self._refresh_limits()
                if used == "posts_read":
                    raise BudgetExhausted(
                        f"{self.platform} monthly post-read cap: {total_used} posts read or reserved by this run's shards, "
                        f"{left} left this month, the next call may return {need}; deferring the rest"
                    )
                raise BudgetExhausted(
                    f"{self.platform} rate budget of {total} units for this run spent "
                    f"({total_used} used by its shards, {self.spent} by this one); deferring the rest"
                )
            want = left
        raise BudgetExhausted(f"{self.platform} rate budget: could not claim a lease after 3 tries; deferring the rest")

    # -- what the API said -----------------------------------------------------------------

    def _publish(self, scope: str, state: LimitState) -> None:
        self._upsert_limit(scope, state, with_block=True)
        event = "rate limit block" if state.blocked_until else "rate limit lifted"
        log.warning(event, **{"source": self.platform, "connection": self.connection, "scope": scope,
                              "status": state.status, "blocked_until": str(state.blocked_until)})

    def _upsert_limit(self, scope: str, state: LimitState, *, with_block: bool) -> None:
        block = (
            ", blocked_until = excluded.blocked_until, status = excluded.status, message = excluded.message, "
            "credential = excluded.credential" if with_block else ""
        )
        with self._db().transaction() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO etl_rate_limit (connection, scope, calls_remaining, usage_percent, blocked_until, status, message, "
                    "credential, observed_at) VALUES (:connection, :scope, :remaining, :usage, :until, :status, :message, :credential, :at) "
                    "ON CONFLICT (connection, scope) DO UPDATE SET calls_remaining = excluded.calls_remaining, "
                    f"usage_percent = excluded.usage_percent, observed_at = excluded.observed_at{block}"
                ),
                {
                    "connection": self.connection, "scope": scope, "remaining": state.calls_remaining, "usage": state.usage_percent,
                    "until": _naive_utc(state.blocked_until) if state.blocked_until and with_block else None,
                    "status": state.status if with_block else None, "message": state.message if with_block else None,
                    "credential": state.credential if with_block else None,
                    "at": _naive_utc(state.observed_at or self.clock()),
                },
            )

    def _refresh_limits(self) -> None:
        rows = self._db().query(
            "SELECT scope, blocked_until, status, message, credential FROM etl_rate_limit "
            "WHERE connection = :connection AND blocked_until > :now",
            {"connection": self.connection, "now": _naive_utc(self.clock())},
        )
        for scope, until, status, message, credential in rows:
            state = self.limits.setdefault(scope, LimitState())
            until = _aware(until)
            if state.blocked_until is None or (until is not None and until > state.blocked_until):
                state.blocked_until, state.status, state.message, state.credential = until, status, message, credential

    @locked
    def close(self) -> None:
        """Hand back the unused lease and record the latest word of the API on each scope it answered about."""
        units, reads = self._units_leased, self._reads_leased
        self._units_leased = self._reads_leased = 0
        with self._db().transaction() as conn:
            conn.execute(
                sa.text("UPDATE etl_rate_budget SET spent_units = spent_units - :units, posts_read = posts_read - :reads, "
                     "updated_at = :now WHERE run_id = :run_id AND platform = :platform"),
                {"units": units, "reads": reads, "now": _naive_utc(self.clock()), "run_id": self.run_id, "platform": self.platform},
            )
        for scope, state in self.limits.items():
            if state.observed_at is not None and (state.calls_remaining is not None or state.usage_percent is not None):
                self._upsert_limit(scope, state, with_block=False)


def current_limits(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Every connection's latest word on its limits, blocks first (``pantau limits``)."""
    rows = warehouse.query(
        "SELECT connection, scope, calls_remaining, usage_percent, blocked_until, status, message, observed_at "
        "FROM etl_rate_limit ORDER BY blocked_until IS NULL, connection, scope"
    )
    keys = ("connection", "scope", "calls_remaining", "usage_percent", "blocked_until", "status", "message", "observed_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def clear_limits(warehouse: Warehouse, connection: str) -> int:
    """Lift every block on ``connection`` (after raising a quota, or renewing a token under the same value); returns how many."""
    with warehouse.transaction() as conn:
        lifted = conn.execute(
            sa.text("UPDATE etl_rate_limit SET blocked_until = NULL, status = NULL, message = NULL, credential = NULL "
                    "WHERE connection = :connection AND blocked_until IS NOT NULL RETURNING scope"),
            {"connection": connection},
        ).fetchall()
    log.info("rate limit blocks lifted", **{"connection": connection, "scopes": [r[0] for r in lifted]})
    return len(lifted)
