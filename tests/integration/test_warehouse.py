"""The warehouse on DuckDB and on the real PostgreSQL server: migrations, merges, quarantine, transactions."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl import warehouse as warehouse_module
from etl.warehouse import MIGRATIONS_DIR, Warehouse

DAY = date(2026, 11, 2)


def posts_frame(titles: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"platform": "youtube", "platform_post_id": pid, "account_key": "youtube:A:0", "published_at": datetime(2026, 11, 1, 3),
             "published_on": date(2026, 11, 1), "post_type": "video", "title": title, "text": None, "hashtags": None, "url": None,
             "referenced_post_id": None, "reference_kind": None}
            for pid, title in titles.items()
        ]
    )


def metrics_frame(likes: dict[str, int | None], day: date = DAY, gaps: dict[str, str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"platform": "youtube", "platform_post_id": pid, "snapshot_date": day, "account_key": "youtube:A:0",
             "captured_at": datetime(2026, 11, 2, 18), "likes": n, "comments": 1, "shares": None, "views": 10, "saves": None, "quotes": None,
             "unavailable_metrics": (gaps or {}).get(pid)}
            for pid, n in likes.items()
        ]
    ).astype({"likes": "Int64", "shares": "Int64", "saves": "Int64", "quotes": "Int64"})


class StatementLog:
    """The statements a warehouse's engine sends, as the server receives them (a SQLAlchemy event, no stub)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.engine, self.statements = warehouse.engine, []

    def _executed(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        self.statements.append(" ".join(statement.split()))

    def __enter__(self) -> list[str]:
        sa.event.listen(self.engine, "before_cursor_execute", self._executed)
        return self.statements

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._executed)


def dim_post_writes(statements: list[str]) -> list[str]:
    """Each statement that writes dim_post, as 'insert' (no ON CONFLICT) or 'merge'."""
    return ["merge" if "ON CONFLICT" in s else "insert" for s in statements if s.startswith("INSERT INTO dim_post")]


@pytest.fixture
def insert_first_pg(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    """A migrated PostgreSQL warehouse that tries the plain insert first from two staged rows on."""
    monkeypatch.setattr(warehouse_module, "INSERT_FIRST_ROWS", 2)
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    try:
        yield warehouse
    finally:
        warehouse.dispose()


def test_migrations_create_every_table_once(warehouse: Warehouse) -> None:
    assert warehouse.migrate() == []  # already applied by the fixture
    rows = warehouse.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [tuple(r) for r in rows] == [(f.stem[:3], f.stem) for f in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    assert rows[0][1] == "001_core"
    counts = warehouse.table_counts(["dim_agency", "dim_account", "dim_post", "fact_account_daily", "fact_post_metrics_daily",
                                     "agency_daily_indicators", "etl_run", "etl_quarantine", "etl_account_coverage"])
    assert set(counts.values()) == {0}


def test_merge_is_idempotent_and_updates_in_place(warehouse: Warehouse) -> None:
    for _ in range(2):
        with warehouse.transaction() as conn:
            warehouse.merge(conn, "posts", posts_frame({"p1": "one", "p2": "two"}), "dim_post", {"snapshot_date": DAY})
            warehouse.merge(conn, "post_metrics", metrics_frame({"p1": 5, "p2": None}), "fact_post_metrics_daily")
    assert warehouse.table_counts(["dim_post", "fact_post_metrics_daily"]) == {"dim_post": 2, "fact_post_metrics_daily": 2}
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", posts_frame({"p1": "one, edited"}), "dim_post", {"snapshot_date": date(2026, 11, 3)})
        warehouse.merge(conn, "post_metrics", metrics_frame({"p1": 9}), "fact_post_metrics_daily")
    rows = warehouse.query("SELECT platform_post_id, title, first_seen_on FROM dim_post ORDER BY 1")
    assert [tuple(r) for r in rows] == [("p1", "one, edited", DAY), ("p2", "two", DAY)]
    likes = warehouse.query("SELECT platform_post_id, likes FROM fact_post_metrics_daily ORDER BY 1")
    assert [tuple(r) for r in likes] == [("p1", 9), ("p2", None)]  # hidden stays NULL, not 0


def test_unavailable_metrics_round_trip_and_a_rerun_replaces_them(warehouse: Warehouse) -> None:
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "post_metrics", metrics_frame({"p1": None, "p2": 5}, gaps={"p1": "likes=hidden by the channel"}),
                        "fact_post_metrics_daily")
    rows = warehouse.query("SELECT platform_post_id, likes, unavailable_metrics FROM fact_post_metrics_daily ORDER BY 1")
    assert [tuple(r) for r in rows] == [("p1", None, "likes=hidden by the channel"), ("p2", 5, None)]
    with warehouse.transaction() as conn:  # the channel shows its likes again: the rerun of the day clears the reason
        warehouse.merge(conn, "post_metrics", metrics_frame({"p1": 7}), "fact_post_metrics_daily")
    rows = warehouse.query("SELECT platform_post_id, likes, unavailable_metrics FROM fact_post_metrics_daily ORDER BY 1")
    assert [tuple(r) for r in rows] == [("p1", 7, None), ("p2", 5, None)]


def test_post_references_round_trip_and_a_rerun_replaces_them(warehouse: Warehouse, tmp_path: Path) -> None:
    frame = posts_frame({"p1": "RT @a: one", "p2": "two"})
    frame.loc[0, ["referenced_post_id", "reference_kind"]] = ["p0", "repost"]
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", frame, "dim_post", {"snapshot_date": DAY})
    rows = warehouse.query("SELECT platform_post_id, referenced_post_id, reference_kind FROM dim_post ORDER BY 1")
    assert [tuple(r) for r in rows] == [("p1", "p0", "repost"), ("p2", None, None)]
    # A shard's frames go through parquet: columns without a single reference come back all None and still load.
    plain = tmp_path / "posts.parquet"
    posts_frame({"p1": "one, edited"}).to_parquet(plain, index=False)
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", pd.read_parquet(plain), "dim_post", {"snapshot_date": DAY})
    rows = warehouse.query("SELECT platform_post_id, referenced_post_id, reference_kind FROM dim_post ORDER BY 1")
    assert [tuple(r) for r in rows] == [("p1", None, None), ("p2", None, None)]


def test_deletion_is_a_flag_and_survives_rerunning_an_earlier_day(warehouse: Warehouse) -> None:
    deletions = pd.DataFrame([{"platform": "youtube", "platform_post_id": "p1", "snapshot_date": date(2026, 11, 3)}])
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", posts_frame({"p1": "one"}), "dim_post", {"snapshot_date": DAY})
        warehouse.merge(conn, "post_deletions", deletions, "post_deletions")
    with warehouse.transaction() as conn:  # backfill of the earlier day after the deletion was seen
        warehouse.merge(conn, "posts", posts_frame({"p1": "one"}), "dim_post", {"snapshot_date": DAY})
    row = warehouse.query("SELECT is_deleted, deleted_seen_on FROM dim_post")[0]
    assert tuple(row) == (True, date(2026, 11, 3))


def load_day(warehouse: Warehouse, day: date, likes: dict[str, int | None]) -> None:
    """One night as a shard loads it: the posts seen that day and their snapshots of the day."""
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", posts_frame({pid: "t" for pid in likes}), "dim_post", {"snapshot_date": day})
        warehouse.merge(conn, "post_metrics", metrics_frame(likes, day), "fact_post_metrics_daily")


def seen(warehouse: Warehouse) -> list[tuple[str, date, date]]:
    return [tuple(r) for r in warehouse.query(
        "SELECT platform_post_id, p.first_seen_on, s.last_seen_on FROM dim_post p "
        "JOIN post_last_seen s USING (platform, platform_post_id) ORDER BY 1")]


def test_first_and_last_seen_widen_whatever_order_days_are_loaded_in(warehouse: Warehouse) -> None:
    nov = {d: date(2026, 11, d) for d in (2, 3, 5)}
    load_day(warehouse, nov[3], {"p1": 3, "p2": 3})
    load_day(warehouse, nov[5], {"p1": 5})
    load_day(warehouse, nov[2], {"p1": 2, "p3": 2})  # a backfill of an earlier day, after the later ones
    assert seen(warehouse) == [("p1", nov[2], nov[5]), ("p2", nov[3], nov[3]), ("p3", nov[2], nov[2])]
    load_day(warehouse, nov[3], {"p1": 3, "p2": 3})  # a rerun of a middle day moves neither end
    assert seen(warehouse) == [("p1", nov[2], nov[5]), ("p2", nov[3], nov[3]), ("p3", nov[2], nov[2])]
    with warehouse.transaction() as conn:  # a post named without a snapshot (a hand-built frame) was seen on its first day
        warehouse.merge(conn, "posts", posts_frame({"p4": "t"}), "dim_post", {"snapshot_date": nov[5]})
    assert seen(warehouse)[-1] == ("p4", nov[5], nov[5])


def test_a_deletion_is_flagged_only_when_the_post_was_not_seen_that_day_or_later(warehouse: Warehouse) -> None:
    def deletion(pid: str, day: date) -> None:
        frame = pd.DataFrame([{"platform": "youtube", "platform_post_id": pid, "snapshot_date": day}])
        with warehouse.transaction() as conn:
            warehouse.merge(conn, "post_deletions", frame, "post_deletions")

    def flagged() -> list[tuple[str, bool, date | None]]:
        return [tuple(r) for r in warehouse.query("SELECT platform_post_id, is_deleted, deleted_seen_on FROM dim_post ORDER BY 1")]

    load_day(warehouse, date(2026, 11, 2), {"p1": 1, "p2": 1})
    load_day(warehouse, date(2026, 11, 5), {"p1": 5})  # p1 seen again on the 5th, loaded before the 3rd
    deletion("p1", date(2026, 11, 3))  # the 3rd's night says p1 was gone: the 5th saw it, so it is not deleted
    deletion("p2", date(2026, 11, 2))  # asked and missing on a day it was seen: not deleted either
    assert flagged() == [("p1", False, None), ("p2", False, None)]
    deletion("p2", date(2026, 11, 4))
    deletion("p2", date(2026, 11, 3))  # an earlier night loaded later moves the day the deletion was noticed back
    deletion("p1", date(2026, 11, 6))
    assert flagged() == [("p1", True, date(2026, 11, 6)), ("p2", True, date(2026, 11, 3))]
    load_day(warehouse, date(2026, 11, 5), {"p1": 5})  # rerun of a day before the deletion: the deletion stays
    load_day(warehouse, date(2026, 11, 2), {"p2": 1})
    assert flagged() == [("p1", True, date(2026, 11, 6)), ("p2", True, date(2026, 11, 3))]
    load_day(warehouse, date(2026, 11, 7), {"p1": 7})  # served again after the deletion: live
    assert flagged() == [("p1", False, None), ("p2", True, date(2026, 11, 3))]
    assert seen(warehouse) == [("p1", date(2026, 11, 2), date(2026, 11, 7)), ("p2", date(2026, 11, 2), date(2026, 11, 2))]


def test_failed_load_rolls_back_whole(warehouse: Warehouse) -> None:
    bad_metrics = metrics_frame({"p1": 5}).assign(captured_at=None)  # NOT NULL column
    with pytest.raises(sa.exc.DBAPIError), warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", posts_frame({"p1": "one"}), "dim_post", {"snapshot_date": DAY})
        warehouse.merge(conn, "post_metrics", bad_metrics, "fact_post_metrics_daily")
    assert warehouse.table_counts(["dim_post", "fact_post_metrics_daily"]) == {"dim_post": 0, "fact_post_metrics_daily": 0}


def quarantine_rows(keys: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"data_date": DAY, "source": "youtube", "frame": "post_metrics", "part": "youtube-000", "record_key": k, "run_id": "r1",
             "account": "youtube:A:0", "failed_expectations": '["expect_column_values_to_be_null(parse_issue)"]',
             "parse_issue": "statistics.viewCount: 'many' is not a count", "record": "{}", "landing_file": "x.jsonl.gz"}
            for k in keys
        ]
    )


def test_quarantine_rerun_replaces_the_part(warehouse: Warehouse) -> None:
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "quarantine", quarantine_rows(["youtube|a|2026-11-02", "youtube|b|2026-11-02"]), "etl_quarantine")
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "quarantine", quarantine_rows(["youtube|b|2026-11-02"]), "etl_quarantine")
    assert [r[0] for r in warehouse.query("SELECT record_key FROM etl_quarantine")] == ["youtube|b|2026-11-02"]
    with warehouse.transaction() as conn:  # a clean rerun (sentinel row without key) empties the part
        warehouse.merge(conn, "quarantine", quarantine_rows([None]), "etl_quarantine")
    assert warehouse.table_counts(["etl_quarantine"]) == {"etl_quarantine": 0}


def test_bulk_load_streams_in_chunks(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("etl.warehouse.BULK_CHUNK_ROWS", 7)
    frame = posts_frame({f"p{n:03d}": f"t{n}" for n in range(30)})
    with warehouse.transaction() as conn:
        assert warehouse.merge(conn, "posts", frame, "dim_post", {"snapshot_date": DAY}) == 30
    assert warehouse.table_counts(["dim_post"]) == {"dim_post": 30}


def test_duckdb_stages_a_frame_as_a_typed_view_over_its_arrow_table(warehouse: Warehouse) -> None:
    """On DuckDB the merge reads the frame's Arrow table once, through a view casting it to the staging file's types
    (issue 11: copying it into a temporary table first was ~12% of a first night's load); on PostgreSQL COPY fills a
    temporary table. Text dates and numbers are cast as the staging table's INSERT cast them, on both engines."""
    frame = metrics_frame({"p1": 5, "p2": None}).astype({"snapshot_date": str, "views": str})
    with warehouse.transaction() as conn:  # the staging file's columns are read from the database once per process
        warehouse.merge(conn, "post_metrics", metrics_frame({"p0": 1}), "fact_post_metrics_daily")
    with StatementLog(warehouse) as statements, warehouse.transaction() as conn:
        warehouse.merge(conn, "post_metrics", frame, "fact_post_metrics_daily")
        if warehouse.dialect == "duckdb":  # the registered Arrow table (a temporary view to DuckDB) goes with the merge
            assert conn.execute(sa.text("SELECT view_name FROM duckdb_views() WHERE database_name = 'temp'")).all() == []
    staging = [s.split(" (")[0].split(" AS ")[0] for s in statements if "stg_post_metrics" in s and not s.startswith("INSERT INTO fact")]
    if warehouse.dialect == "duckdb":
        assert staging == ["CREATE OR REPLACE TEMPORARY VIEW stg_post_metrics", "DROP VIEW IF EXISTS stg_post_metrics"]
    else:
        assert staging == ["DROP TABLE IF EXISTS stg_post_metrics", "CREATE TEMPORARY TABLE stg_post_metrics",
                           "DROP TABLE IF EXISTS stg_post_metrics"]
    rows = warehouse.query("SELECT platform_post_id, snapshot_date, likes, views FROM fact_post_metrics_daily ORDER BY 1")
    assert [tuple(r) for r in rows] == [("p0", DAY, 1, 10), ("p1", DAY, 5, 10), ("p2", DAY, None, 10)]


def test_bulk_load_keeps_null_apart_from_empty_and_quotes(warehouse: Warehouse) -> None:
    # COPY's CSV tells NULL (empty, unquoted) from '' (quoted): Arrow renders strings quoted, NULL bare.
    frame = posts_frame({"p1": "", "p2": 'say "hi", then\nleave', "p3": "x"})
    frame.loc[2, "title"] = None
    frame["text"] = ["ä, ü; 東京", None, "\\N"]
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", frame, "dim_post", {"snapshot_date": DAY})
    rows = warehouse.query("SELECT platform_post_id, title, text, published_at FROM dim_post ORDER BY 1")
    assert [tuple(r) for r in rows] == [
        ("p1", "", "ä, ü; 東京", datetime(2026, 11, 1, 3)),
        ("p2", 'say "hi", then\nleave', None, datetime(2026, 11, 1, 3)),
        ("p3", None, "\\N", datetime(2026, 11, 1, 3)),
    ]


def test_a_column_arrow_cannot_type_is_loaded_value_by_value(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = posts_frame({"p1": "one", "p2": "two"})
    frame["title"] = ["one", 2]  # mixed Python types: the row-wise path renders each value
    conversions = []
    convert = warehouse_module._arrow_table
    monkeypatch.setattr(warehouse_module, "_arrow_table", lambda df: conversions.append(len(df)) or convert(df))
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", frame, "dim_post", {"snapshot_date": DAY})
    assert [tuple(r) for r in warehouse.query("SELECT platform_post_id, title FROM dim_post ORDER BY 1")] == [("p1", "one"), ("p2", "2")]
    assert conversions == [2]  # the failed conversion is not tried again by the load


def test_a_value_by_value_load_fails_with_its_own_error(warehouse: Warehouse) -> None:
    """A mixed column that does not convert fails the load naming the value, not with DuckDB's "transaction is
    aborted" from cleaning up after the failed insert."""
    frame = metrics_frame({"p1": 5, "p2": 6}).astype({"views": object})
    frame["views"] = ["many", 1]  # mixed Python types: Arrow cannot type the column
    with pytest.raises(Exception) as failed, warehouse.transaction() as conn:
        warehouse.merge(conn, "post_metrics", frame, "fact_post_metrics_daily")
    message = str(failed.value)
    assert "many" in message and "aborted" not in message, message
    assert warehouse.table_counts(["fact_post_metrics_daily"]) == {"fact_post_metrics_daily": 0}


@pytest.mark.postgres
def test_a_rerun_rewrites_no_unchanged_row(insert_first_pg: Warehouse) -> None:
    # xmin is the transaction that wrote a row version: an unchanged row keeps it through a rerun,
    # a changed one gets the rerun's. Two rows are enough for the insert tried first (its failed attempt
    # on the rerun must write nothing either).
    warehouse = insert_first_pg

    def load(likes: dict[str, int | None]) -> None:
        with warehouse.transaction() as conn:
            warehouse.merge(conn, "posts", posts_frame({"p1": "one", "p2": "two"}), "dim_post", {"snapshot_date": DAY})
            warehouse.merge(conn, "post_metrics", metrics_frame(likes), "fact_post_metrics_daily")

    def versions() -> list[tuple[str, str, str]]:
        return [tuple(r) for r in warehouse.query(
            "SELECT p.platform_post_id, p.xmin::text, m.xmin::text FROM dim_post p JOIN fact_post_metrics_daily m "
            "USING (platform, platform_post_id) ORDER BY 1")]

    load({"p1": 5, "p2": None})
    first = versions()
    load({"p1": 5, "p2": None})
    assert versions() == first
    load({"p1": 5, "p2": 7})
    after = versions()
    assert after[0] == first[0]
    assert after[1][1] == first[1][1] and after[1][2] != first[1][2]
    assert [tuple(r) for r in warehouse.query("SELECT platform_post_id, likes FROM fact_post_metrics_daily ORDER BY 1")] == [("p1", 5), ("p2", 7)]


@pytest.mark.postgres
def test_a_normal_night_rewrites_no_known_post(insert_first_pg: Warehouse) -> None:
    # Every post is seen again every night of its re-pull window; nothing in its dim_post row changes, so the row
    # keeps the version the first night wrote (xmin) while the night's snapshots are added (through the insert
    # tried first: two rows are enough here).
    warehouse = insert_first_pg
    load_day(warehouse, date(2026, 11, 2), {"p1": 1, "p2": 1})
    first = warehouse.query("SELECT platform_post_id, xmin::text FROM dim_post ORDER BY 1")
    load_day(warehouse, date(2026, 11, 3), {"p1": 2, "p2": 2})
    assert warehouse.query("SELECT platform_post_id, xmin::text FROM dim_post ORDER BY 1") == first
    assert seen(warehouse) == [("p1", date(2026, 11, 2), date(2026, 11, 3)), ("p2", date(2026, 11, 2), date(2026, 11, 3))]
    deletions = pd.DataFrame([{"platform": "youtube", "platform_post_id": "p2", "snapshot_date": date(2026, 11, 4)}])
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "post_deletions", deletions, "post_deletions")
    flagged = warehouse.query("SELECT platform_post_id, xmin::text FROM dim_post WHERE is_deleted")
    assert [r[0] for r in flagged] == ["p2"]
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "post_deletions", deletions, "post_deletions")
    assert warehouse.query("SELECT platform_post_id, xmin::text FROM dim_post WHERE is_deleted") == flagged  # the rerun wrote nothing


def test_every_column_a_guarded_merge_sets_is_in_its_guard() -> None:
    # A merge that skips unchanged rows must compare every column it sets: a column left out of the
    # guard would silently keep its old value whenever the others are unchanged.
    from etl.warehouse import SQL_DIR

    guarded = {p.stem: p.read_text(encoding="utf-8") for p in sorted((SQL_DIR / "merge").glob("*.sql")) if "IS DISTINCT FROM" in p.read_text(encoding="utf-8")}
    assert sorted(guarded) == ["dim_post", "etl_account_coverage", "fact_account_daily", "fact_post_metrics_daily"]
    for table, text in guarded.items():
        set_part, guard = text.split("DO UPDATE SET", 1)[1].split("\nWHERE ", 1)
        columns = re.findall(r"^\s+(\w+)\s+=", set_part, re.M)
        assert columns, table
        missing = [c for c in columns if f"{table}.{c} " not in guard]
        assert missing == [], f"{table}: {missing}"


def test_a_task_keeps_duckdb_open_and_checkpoints_it_once_at_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task's transactions share one loaded database: the write-ahead log is folded into the file on dispose,
    not after every transaction (opening and checkpointing DuckDB per transaction cost a tenth of a demo night)."""
    from etl.pipeline import open_warehouse

    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{path}")
    open_warehouse().dispose()  # migrated and checkpointed
    wal = path.with_name("warehouse.duckdb.wal")
    warehouse = open_warehouse()
    with warehouse.transaction() as conn:
        conn.execute(sa.text("INSERT INTO dim_agency (agency_code, name, category) VALUES ('KEM-X', 'Kementerian X', 'kementerian')"))
    assert wal.exists()  # committed to the log; the database stays loaded for the task's next transaction
    assert warehouse.query("SELECT COUNT(*) FROM dim_agency") == [(1,)]
    warehouse.dispose()
    assert not wal.exists()
    reopened = Warehouse(f"duckdb:///{path}")
    assert reopened.query("SELECT name FROM dim_agency") == [("Kementerian X",)]
    reopened.dispose()


def test_day_indexes_on_postgresql_only(warehouse: Warehouse) -> None:
    """014 (first line '-- only: postgresql') indexes the day columns the indicator models filter on, on PostgreSQL;
    DuckDB records it as applied and gets no index (its zone maps skip the other days)."""
    assert warehouse.query("SELECT name FROM schema_migrations WHERE version = '014'")[0][0] == "014_indicator_indexes"
    if warehouse.dialect == "postgresql":
        rows = warehouse.query("SELECT tablename, indexdef FROM pg_indexes WHERE indexname LIKE '%\\_by\\_%' ORDER BY 1, 2")
        assert [(r[0], r[1].split(" USING btree ")[1]) for r in rows] == [
            ("agency_campaign_daily", "(indicator_date)"),
            ("agency_campaign_standings", "(as_of_date)"),
            ("agency_daily_indicators", "(indicator_date, platform)"),
            ("campaign_post", "(published_on)"),
            ("dim_post", "(published_on)"),
            ("dim_post", "(platform, referenced_post_id) WHERE (referenced_post_id IS NOT NULL)"),
            ("etl_account_coverage", "(snapshot_date)"),
            ("fact_account_daily", "(snapshot_date)"),
            ("fact_news_mention", "(published_on)"),
            ("fact_post_metrics_daily", "(snapshot_date)"),  # fact_post_daily_increase's went with 015
        ]
    else:
        assert warehouse.query("SELECT index_name FROM duckdb_indexes()") == []


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_post_increases_are_rekeyed_by_day_first_and_keep_their_rows(engine: str, request: pytest.FixtureRequest,
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """015 (PostgreSQL) and 016 (DuckDB) lead fact_post_daily_increase's key with the day, so that a night's increases
    are appended at the key's end instead of scattered across a year of posts; the rows already there stay, with the
    columns in their order, and the key still refuses a post's second row for a day."""
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}" if engine == "duckdb" else request.getfixturevalue("pg_url")
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "015":
            (before / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    warehouse = Warehouse(url)
    try:
        monkeypatch.setattr(warehouse_module, "MIGRATIONS_DIR", before)
        warehouse.migrate()
        rows = [("x", "t1", DAY, "x:A:0", None, None), ("youtube", "v1", DAY, "youtube:A:0", 7, 120),
                ("youtube", "v1", date(2026, 11, 3), "youtube:A:0", -1, 30)]
        with warehouse.transaction() as conn:
            for row in rows:
                conn.execute(sa.text("INSERT INTO fact_post_daily_increase VALUES (:p, :i, :d, :a, :e, :v)"),
                             dict(zip("pidaev", row, strict=True)))
        monkeypatch.setattr(warehouse_module, "MIGRATIONS_DIR", MIGRATIONS_DIR)
        assert warehouse.migrate()[:2] == ["015_post_increase_key_by_day_postgresql", "016_post_increase_key_by_day_duckdb"]
        if engine == "postgresql":
            key = warehouse.query("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                  "WHERE conrelid = 'fact_post_daily_increase'::regclass AND contype = 'p'")
            assert key == [("PRIMARY KEY (snapshot_date, platform, platform_post_id)",)]
            assert warehouse.query("SELECT indexname FROM pg_indexes WHERE tablename = 'fact_post_daily_increase'") == [
                ("fact_post_daily_increase_pkey",)]
        else:
            key = warehouse.query("SELECT constraint_text FROM duckdb_constraints() "
                                  "WHERE table_name = 'fact_post_daily_increase' AND constraint_type = 'PRIMARY KEY'")
            assert key == [("PRIMARY KEY(snapshot_date, platform, platform_post_id)",)]
        assert [tuple(r) for r in warehouse.query("SELECT * FROM fact_post_daily_increase ORDER BY snapshot_date, platform")] == rows
        with pytest.raises(sa.exc.IntegrityError), warehouse.transaction() as conn:
            conn.execute(sa.text("INSERT INTO fact_post_daily_increase VALUES ('x', 't1', :d, 'x:A:0', 1, 1)"), {"d": DAY})
    finally:
        warehouse.dispose()


def test_an_empty_frame_is_merged_without_a_staging_table(warehouse: Warehouse) -> None:
    """Most shards stage no deletions: once the staging columns are known, an empty frame costs no statement at all
    (issue 11: creating, filling and dropping a staging table is a few round trips per frame and shard); its columns
    are still checked."""
    empty = pd.DataFrame({"platform": pd.Series(dtype=object), "platform_post_id": pd.Series(dtype=object),
                          "snapshot_date": pd.Series(dtype=object)})
    with warehouse.transaction() as conn:
        assert warehouse.merge(conn, "post_deletions", empty, "post_deletions") == 0  # learns the staging columns
    with StatementLog(warehouse) as statements, warehouse.transaction() as conn:
        assert warehouse.merge(conn, "post_deletions", empty, "post_deletions") == 0
        with pytest.raises(ValueError, match=r"frame post_deletions lacks staging columns \['snapshot_date'\]"):
            warehouse.merge(conn, "post_deletions", empty.drop(columns=["snapshot_date"]), "post_deletions")
    assert [s for s in statements if "stg_post_deletions" in s] == []


def test_a_clean_frame_is_staged_without_the_per_value_text_search(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Arrow table a chunk is loaded from is also what is checked for NUL bytes (in C) and lone surrogates (Arrow
    cannot encode them): the search that names the row runs only for a frame that holds one (issue 11)."""
    from etl import warehouse as module
    from etl.errors import DataError

    def searched(frame: str, df: pd.DataFrame) -> None:
        raise AssertionError("searched value by value")

    with warehouse.transaction() as conn:
        monkeypatch.setattr(module, "refuse_unstorable_text", searched)
        assert warehouse.merge(conn, "posts", posts_frame({"p1": "Jakarta 東京 ✓", "p2": "two"}), "dim_post", {"snapshot_date": DAY}) == 2
        monkeypatch.undo()
    assert [r[0] for r in warehouse.query("SELECT title FROM dim_post ORDER BY 1")] == ["Jakarta 東京 ✓", "two"]
    for bad, what in (("bad\x00", "a NUL byte"), ("bad\ud83d", "a lone UTF-16 surrogate")):
        frame = posts_frame({"p1": "ok", "p2": "placeholder"}).astype({"title": object})
        frame.loc[1, "title"] = bad  # as a parser would hand it over (pandas' own string storage refuses a surrogate)
        with pytest.raises(DataError, match=rf"^frame posts: row 1 \(platform='youtube', platform_post_id='p2', account_key='youtube:A:0'\) field title: holds {what}"):
            with warehouse.transaction() as conn:
                warehouse.merge(conn, "posts", frame, "dim_post", {"snapshot_date": DAY})


def test_duckdb_checkpoints_when_its_log_passes_a_gigabyte(tmp_path: Path) -> None:
    """Held open across shard transactions, DuckDB at its 16MB default checkpointed often enough to double the
    commit time of 25,000-row shards (issue 11)."""
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    try:
        assert warehouse.query("SELECT current_setting('checkpoint_threshold')") == [("953.6 MiB",)]
    finally:
        warehouse.dispose()


def test_new_rows_are_inserted_without_the_conflict_check_on_postgresql(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first night's posts are all new: on PostgreSQL the merge's INSERT runs without its ON CONFLICT clause (issue 11:
    the speculative insertion was ~40% of the merge). A staged row the table already holds sends the night through the
    whole merge, which gives the merge's result: updated titles, the new post added once, first_seen_on kept."""
    monkeypatch.setattr(warehouse_module, "INSERT_FIRST_ROWS", 2)
    postgres = warehouse.dialect == "postgresql"
    with StatementLog(warehouse) as statements, warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", posts_frame({"p1": "one", "p2": "two"}), "dim_post", {"snapshot_date": DAY})
    assert dim_post_writes(statements) == (["insert"] if postgres else ["merge"])
    later = date(2026, 11, 3)
    with StatementLog(warehouse) as statements, warehouse.transaction() as conn:
        warehouse.merge(conn, "posts", posts_frame({"p3": "three", "p2": "TWO"}), "dim_post", {"snapshot_date": later})
    assert dim_post_writes(statements) == (["insert", "merge"] if postgres else ["merge"])
    assert [tuple(r) for r in warehouse.query("SELECT platform_post_id, title, first_seen_on FROM dim_post ORDER BY 1")] == [
        ("p1", "one", DAY), ("p2", "TWO", DAY), ("p3", "three", later)]
    with StatementLog(warehouse) as statements, warehouse.transaction() as conn:  # below the threshold: the merge alone
        warehouse.merge(conn, "posts", posts_frame({"p4": "four"}), "dim_post", {"snapshot_date": later})
    assert dim_post_writes(statements) == ["merge"]
    assert warehouse.table_counts(["dim_post"]) == {"dim_post": 4}


def metrics_writes(statements: list[str]) -> list[str]:
    """Each statement that writes fact_post_metrics_daily, as 'insert' (no ON CONFLICT) or 'merge'."""
    return ["merge" if "ON CONFLICT" in s else "insert" for s in statements if s.startswith("INSERT INTO fact_post_metrics_daily")]


def test_a_days_new_snapshots_are_inserted_without_the_conflict_check_on_both_engines(warehouse: Warehouse,
                                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A day's first snapshots are all new. DuckDB has no savepoint to try the plain insert under, so it asks first
    whether a staged key is already there or staged twice (issue 11: its ON CONFLICT cost ~40% more than the insert);
    either sends the rows through the merge, with the merge's result (on DuckDB one of two rows staged with one key;
    which one is not specified, and the pipeline never stages two: etl.pipeline._latest_per_key keeps the last)."""
    monkeypatch.setattr(warehouse_module, "INSERT_FIRST_ROWS", 2)
    postgres = warehouse.dialect == "postgresql"

    def load(frame: pd.DataFrame) -> list[str]:
        with StatementLog(warehouse) as statements, warehouse.transaction() as conn:
            warehouse.merge(conn, "post_metrics", frame, "fact_post_metrics_daily")
        return metrics_writes(statements)

    assert load(metrics_frame({"p1": 5, "p2": 7})) == ["insert"]
    assert load(metrics_frame({"p1": 6, "p3": 1})) == (["insert", "merge"] if postgres else ["merge"])  # p1 is there
    assert load(metrics_frame({"p1": 9, "p2": 9}, day=date(2026, 11, 3))) == ["insert"]  # another day: all new
    assert [tuple(r) for r in warehouse.query(
        "SELECT platform_post_id, snapshot_date, likes FROM fact_post_metrics_daily ORDER BY 2, 1")] == [
        ("p1", DAY, 6), ("p2", DAY, 7), ("p3", DAY, 1), ("p1", date(2026, 11, 3), 9), ("p2", date(2026, 11, 3), 9)]
    if not postgres:  # PostgreSQL refuses a key staged twice in the merge as in the insert; DuckDB's merge takes it
        twice = pd.concat([metrics_frame({"p4": 1, "p5": 2}), metrics_frame({"p4": 3})], ignore_index=True)
        assert load(twice) == ["merge"]
        # Which of the two DuckDB keeps depends on its scan order (the first one in most runs, the second in some).
        [(likes,)] = warehouse.query("SELECT likes FROM fact_post_metrics_daily WHERE platform_post_id = 'p4'")
        assert likes in (1, 3)
        assert warehouse.query("SELECT likes FROM fact_post_metrics_daily WHERE platform_post_id = 'p5'") == [(2,)]


def test_duckdb_asks_about_new_rows_only_where_the_conflict_key_holds_the_day() -> None:
    """The question reads the staged days' rows only: a key without the snapshot date (dim_post) would read the table."""
    from etl.warehouse import SQL_DIR, _new_rows_question

    asked = sorted(p.stem for p in (SQL_DIR / "merge").glob("*.sql") if _new_rows_question(p.read_text(encoding="utf-8")))
    assert asked == ["etl_account_coverage", "etl_account_coverage_export", "fact_account_daily", "fact_account_daily_export",
                     "fact_post_metrics_daily", "fact_post_metrics_daily_export"]
    assert _new_rows_question("-- why\nINSERT INTO fact (a, snapshot_date)\nSELECT x, d FROM stg\nON CONFLICT (a, snapshot_date) DO NOTHING;\n") == (
        "WITH new_rows (a, snapshot_date) AS (SELECT x, d FROM stg)\n"
        "SELECT EXISTS (SELECT 1 FROM new_rows JOIN fact AS held ON held.a = new_rows.a AND held.snapshot_date = new_rows.snapshot_date)\n"
        "    OR (SELECT COUNT(*) <> COUNT(DISTINCT (a, snapshot_date)) FROM new_rows)")
    assert _new_rows_question("INSERT INTO fact (a, b)\nSELECT a, b FROM stg\nON CONFLICT (a) DO NOTHING;\n") is None


@pytest.mark.postgres
@pytest.mark.parametrize(("null_column", "snapshot_date", "error", "message"), [
    ("account_key", DAY, sa.exc.IntegrityError, 'null value in column "account_key" of relation "dim_post"'),
    (None, "2026-13-01", sa.exc.DataError, 'date/time field value out of range: "2026-13-01"'),
])
def test_bad_data_fails_with_the_merges_own_error(insert_first_pg: Warehouse, null_column: str | None, snapshot_date: object,
                                                  error: type[Exception], message: str) -> None:
    """The plain insert's failure is never what the user sees: after it the whole merge runs, and its own error
    (the statement with ON CONFLICT) fails the load; nothing of the attempt stays."""
    warehouse = insert_first_pg
    posts = posts_frame({"p1": "one", "p2": "two"})
    if null_column:
        posts.loc[1, null_column] = None
    with StatementLog(warehouse) as statements, pytest.raises(error) as failed:
        with warehouse.transaction() as conn:
            warehouse.merge(conn, "posts", posts, "dim_post", {"snapshot_date": snapshot_date})
    assert dim_post_writes(statements) == ["insert", "merge"]
    assert message in str(failed.value.orig)
    assert "ON CONFLICT" in failed.value.statement
    assert warehouse.table_counts(["dim_post"]) == {"dim_post": 0}


def test_only_a_single_insert_on_conflict_merge_has_an_insert_to_try_first() -> None:
    from etl.warehouse import _insert_without_conflict

    assert _insert_without_conflict("-- why\nINSERT INTO t (a)\nSELECT a FROM s\nON CONFLICT (a) DO NOTHING;\n") == (
        "INSERT INTO t (a)\nSELECT a FROM s")
    # Only a line that starts with the clause cuts: an inline comment that names it keeps the filter after it.
    assert _insert_without_conflict("INSERT INTO t (a)\nSELECT a FROM s -- what ON CONFLICT skips\nWHERE a > 1\n"
                                    "ON CONFLICT (a) DO NOTHING;\n") == "INSERT INTO t (a)\nSELECT a FROM s -- what ON CONFLICT skips\nWHERE a > 1"
    assert _insert_without_conflict("INSERT INTO t (a) SELECT a FROM s;\n") is None  # no ON CONFLICT: nothing to gain
    assert _insert_without_conflict("DELETE FROM t WHERE a IN (SELECT a FROM s);\nINSERT INTO t SELECT a FROM s ON CONFLICT DO NOTHING;\n") is None
    assert _insert_without_conflict("UPDATE t SET b = s.b FROM s WHERE t.a = s.a;\n") is None


def test_every_single_upsert_merge_file_is_cut_just_before_its_conflict_clause() -> None:
    """What the insert tried first runs is each real merge file's statement up to the line that starts ON CONFLICT."""
    from etl.warehouse import SQL_DIR, _insert_without_conflict, split_statements

    cut = {p.stem: (_insert_without_conflict(p.read_text(encoding="utf-8")), split_statements(p.read_text(encoding="utf-8")))
           for p in sorted((SQL_DIR / "merge").glob("*.sql"))}
    tried = sorted(name for name, (insert, _) in cut.items() if insert is not None)
    assert tried == ["campaign", "dim_agency", "dim_outlet", "dim_post", "dim_post_export", "etl_account_coverage",
                     "etl_account_coverage_export", "etl_news_feed_health", "etl_run", "fact_account_daily",
                     "fact_account_daily_export", "fact_news_article", "fact_post_metrics_daily",
                     "fact_post_metrics_daily_export"]
    for name in tried:
        insert, (statement,) = cut[name]
        assert statement[len(insert):].lstrip().startswith("ON CONFLICT ("), name
        assert statement.startswith(insert) and "ON CONFLICT" not in insert, name


@pytest.mark.postgres
def test_a_load_of_rows_another_load_is_inserting_waits_for_it_then_merges(insert_first_pg: Warehouse) -> None:
    """Two workers loading the same posts (a retried task beside the first attempt): the second's plain insert
    waits on the first's uncommitted rows, meets them once they are committed, and its merge then updates them."""
    warehouse = insert_first_pg
    first = warehouse.engine.connect()
    transaction = first.begin()
    warehouse.merge(first, "posts", posts_frame({"p1": "one", "p2": "two"}), "dim_post", {"snapshot_date": DAY})
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with warehouse.transaction() as conn:
                warehouse.merge(conn, "posts", posts_frame({"p1": "ONE", "p2": "two", "p3": "three"}), "dim_post", {"snapshot_date": DAY})
        except BaseException as exc:  # reported by the test's own thread, below
            failures.append(exc)

    with StatementLog(warehouse) as statements:
        worker = threading.Thread(target=second)
        worker.start()
        try:
            waiting, deadline = 0, time.monotonic() + 20
            while not waiting and time.monotonic() < deadline:
                time.sleep(0.05)
                waiting = warehouse.query("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'")[0][0]
            assert waiting == 1  # the second load is blocked on the first's rows
            transaction.commit()
        finally:
            first.close()  # rolls back whatever was not committed: the worker is never left waiting
            worker.join(timeout=30)
    assert failures == [] and not worker.is_alive()
    assert dim_post_writes(statements) == ["insert", "merge"]
    assert [tuple(r) for r in warehouse.query("SELECT platform_post_id, title FROM dim_post ORDER BY 1")] == [
        ("p1", "ONE"), ("p2", "two"), ("p3", "three")]


def test_the_demo_fingerprint_digests_each_rows_repr_in_key_order_on_both_engines(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from etl import demo

    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE fp_check (day DATE, name TEXT, n INTEGER)"))
        conn.execute(sa.text("INSERT INTO fp_check VALUES (DATE '2026-12-02', 'b', 2), (DATE '2026-12-01', 'a', NULL), (DATE '2026-12-01', 'a', 1)"))
    expected = hashlib.sha256(
        b"fp_check(datetime.date(2026, 12, 1), 'a', 1)(datetime.date(2026, 12, 1), 'a', None)(datetime.date(2026, 12, 2), 'b', 2)"
    ).hexdigest()[:16]
    assert demo.fingerprint(warehouse, ["fp_check"]) == expected
    # Batches end anywhere: the digest of the rows is the same whatever their size.
    monkeypatch.setattr(demo, "FINGERPRINT_BATCH", 2)
    assert demo.fingerprint(warehouse, ["fp_check"]) == expected
