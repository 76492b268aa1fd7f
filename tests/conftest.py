"""Shared fixtures: warehouses on DuckDB and on the real PostgreSQL server, each test in its own database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from etl.warehouse import Warehouse

PG_ADMIN_URL = os.environ.get("PANTAU_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("PANTAU_NO_AIRFLOW_CONNECTIONS", "1")


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)


def _postgres_available() -> str | None:
    try:
        with _pg_admin():
            return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be reachable in CI ({PG_ADMIN_URL}): {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    name = f"pantau_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path) -> Iterator[Warehouse]:
    """A migrated, empty warehouse on each engine."""
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}" if request.param == "duckdb" else request.getfixturevalue("pg_url")
    wh = Warehouse(url)
    wh.migrate()
    try:
        yield wh
    finally:
        wh.dispose()


def pytest_configure(config: pytest.Config) -> None:
    """Airflow reads its environment once, at import: give the test session its own home and metadata DB."""
    import tempfile
    from pathlib import Path

    from etl.harness import configure_airflow

    if "AIRFLOW_HOME" not in os.environ or os.environ.get("PANTAU_TEST_KEEP_AIRFLOW_HOME") != "1":
        configure_airflow(Path(tempfile.mkdtemp(prefix="pantau-airflow-")))
