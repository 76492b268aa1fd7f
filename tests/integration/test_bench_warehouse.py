"""scripts/bench_warehouse.py at a small size (no timing asserted): the limit is a committed bulk load into a copy of
the empty warehouse, and the three loads that follow start from tables the limit never touched."""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.warehouse import Warehouse

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench_warehouse.py"
SMALL = argparse.Namespace(snapshots=2_000, accounts=20, shard_size=8, url=None, no_indicators=True)


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_warehouse", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def database_names(admin_url: str, like: str) -> list[str]:
    engine = sa.create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": like})]
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_limit_is_committed_in_a_copy_and_leaves_the_warehouse_untouched(engine: str, request: pytest.FixtureRequest,
                                                                             tmp_path: Path) -> None:
    """A limit rolled back in the warehouse itself left PostgreSQL's tables holding the night as dead rows, which the
    first night's inserts of the same keys stepped over: 10.4 s against 7.9 s for the same loader (issue 11). DuckDB's
    rolled-back limit wrote nothing at all: there, what can be checked is that the copy goes away."""
    bench = bench_module()
    name = f"pantau_test_bench_{uuid.uuid4().hex[:12]}"
    if engine == "postgresql":
        admin = request.getfixturevalue("postgres_server").replace("postgresql://", "postgresql+psycopg://", 1)
        url = bench.fresh_postgres_database(admin, name)
    else:
        admin, url = None, f"duckdb:///{tmp_path / 'bench.duckdb'}"
    args = argparse.Namespace(**{**vars(SMALL), "url": admin})
    warehouse = Warehouse(url)
    try:
        warehouse.migrate()
        seconds, _, rows = bench.measure_limit(warehouse, args, date(2026, 11, 20))
        assert rows == 2_000 + 2_000 + 20 and seconds > 0
        assert warehouse.table_counts(list(bench.TARGETS.values())) == {
            "dim_post": 0, "fact_post_metrics_daily": 0, "fact_account_daily": 0}
        if engine == "postgresql":  # not a page written: no dead rows for the first night to step over
            [(heap, indexes, index_pages)] = warehouse.query(
                "SELECT (SELECT SUM(pg_relation_size(t::regclass)) FROM unnest(CAST(:tables AS text[])) t), COUNT(*), "
                "SUM(pg_relation_size(indexrelid)) / 8192 FROM pg_index WHERE indrelid::regclass::text = ANY(CAST(:tables AS text[]))",
                {"tables": list(bench.TARGETS.values())})
            assert (heap, index_pages) == (0, indexes)  # no row, and each index its metapage alone
            assert database_names(admin, f"{name}%") == [name]  # the copy is gone
        else:
            assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.duckdb"]
    finally:
        warehouse.dispose()
        if engine == "postgresql":
            bench.drop_postgres_database(admin, name)


@pytest.mark.postgres
def test_the_script_prints_each_load_against_the_limit(postgres_server: str) -> None:
    admin = postgres_server.replace("postgresql://", "postgresql+psycopg://", 1)
    for url in ([], ["--url", admin]):
        run = subprocess.Popen([sys.executable, str(SCRIPT), "--snapshots", "2000", "--accounts", "20", "--shard-size", "8",
                                "--no-indicators", *url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-2000:]
        limit = re.search(r"^  limit \((.*), committed into a copy of the empty tables\): 4,020 rows in", stdout, re.M)
        assert limit is not None, stdout
        loads = re.findall(r"^  load (first|night|rerun) +2026-11-\d\d: 4,020 rows .* = [\d.]+x the limit$", stdout, re.M)
        assert loads == ["first", "night", "rerun"]
        rolled_back = "(the same inserts rolled back, never written:" in stdout
        assert rolled_back == (not url)  # DuckDB only: the limit it had until 7 December 2026
        # Its own database and the limit's copy are dropped.
        assert database_names(postgres_server, f"pantau_bench_warehouse_{run.pid}%") == []
