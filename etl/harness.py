"""Run the real DAGs with Airflow against the bundled sandbox: used by ``make demo`` and the end-to-end tests.

Airflow runs in-process (``dag.test``) on a SQLite metadata database inside
the repository, the way a developer runs DAGs locally; the sandbox runs as
its own process on a free loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import requests

from etl.runtime import JAKARTA
from etl.sandbox import API_KEY
from etl.settings import PROJECT_ROOT

SANDBOX_KEY = API_KEY
SANDBOX_IG_USER_ID = "17841400000000001"
#: The nightly schedule, as (DAG id, hour, minute) in Jakarta time the morning after the measured day.
NIGHTLY = [("registry_sync", 0, 30), ("social_metrics", 1, 0), ("news_mentions", 0, 30), ("agency_indicators", 3, 0)]


def configure_airflow(airflow_home: Path, dags_folder: Path = PROJECT_ROOT / "dags") -> None:
    """Environment for in-process Airflow; must run before anything imports airflow."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
            "AIRFLOW__LOGGING__NAMESPACE_LEVELS": "airflow=WARNING,task=WARNING,alembic=WARNING",
            "GX_ANALYTICS_ENABLED": "False",
            "PYTHONWARNINGS": "ignore::UserWarning,ignore::DeprecationWarning",
        }
    )


def prepare_airflow_db() -> None:
    """Migrate the metadata database and create one pool per platform, as ``pantau airflow-setup`` does."""
    from airflow.utils.db import upgradedb  # noqa: PLC0415

    from etl.deployment import create_pools  # noqa: PLC0415

    write_sqlite_metadata_lazily()
    upgradedb()
    create_pools()


def _sqlite_write_ahead(dbapi_connection: Any, _record: Any) -> None:
    import sqlite3  # noqa: PLC0415

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def write_sqlite_metadata_lazily() -> None:
    """Commit the local SQLite metadata database without waiting for the disk (write-ahead log, no fsync per commit).

    ``dag.test`` commits each task's state changes one by one; with SQLite's defaults every commit waits for an
    fsync, and on this machine's disk that was two thirds of Airflow's time per task (21 mapped no-op tasks: 4.4 s
    wall for 1.4 s of CPU). The database is the harness's scratch record of local runs: losing its last commits to
    a power cut costs nothing, and an application crash loses none (WAL with synchronous=NORMAL). A team
    deployment's PostgreSQL metadata database is not touched (the listener only acts on sqlite3 connections).
    """
    from sqlalchemy import event  # noqa: PLC0415
    from sqlalchemy.engine import Engine  # noqa: PLC0415

    if not event.contains(Engine, "connect", _sqlite_write_ahead):
        event.listen(Engine, "connect", _sqlite_write_ahead)
    from airflow import settings  # noqa: PLC0415

    if settings.engine is not None:
        settings.engine.dispose()  # connections opened before the listener get it when they are opened again


@dataclass
class Sandbox:
    """A running sandbox process."""

    base_url: str
    process: subprocess.Popen[bytes]

    def set_clock(self, now: datetime) -> None:
        requests.post(f"{self.base_url}/__sandbox/clock", json={"now": now.isoformat()}, timeout=10).raise_for_status()

    def set_faults(self, faults: dict[str, Any]) -> None:
        requests.post(f"{self.base_url}/__sandbox/faults", json=faults, timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return requests.get(f"{self.base_url}/__sandbox/stats", timeout=10).json()

    def reset(self) -> None:
        requests.post(f"{self.base_url}/__sandbox/reset", json={}, timeout=10).raise_for_status()


@contextmanager
def sandbox(accounts: Path, seed: int = 7, quota: int = 1_000_000, latency_ms: float = 0.0, warm_days: int = 0) -> Iterator[Sandbox]:
    """Start ``python -m etl.sandbox serve`` on a free port; stop it on exit (``latency_ms`` delays every API answer;
    ``warm_days``: the sandbox works out its YouTube channels' videos of that many days before they are asked for)."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        process = subprocess.Popen(
            [sys.executable, "-m", "etl.sandbox", "serve", "--accounts", str(accounts), "--seed", str(seed),
             "--port", "0", "--port-file", str(port_file), "--api-key", SANDBOX_KEY,
             "--youtube-daily-quota", str(quota), "--latency-ms", str(latency_ms), "--warm-days", str(warm_days),
             "--log-level", "WARNING"],
            cwd=PROJECT_ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start (exit code {process.poll()})")
                time.sleep(0.05)
            running = Sandbox(f"http://127.0.0.1:{port_file.read_text().strip()}", process)
            # News always comes from the sandbox while it runs (a DagRunner night includes news_mentions):
            # never the real feeds or GDELT from a test, and the previous settings are back on exit.
            saved = {k: os.environ.get(k) for k in NEWS_ENV}
            point_news_at(running)
            try:
                yield running
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a helper process this harness (or a test) started; kill it when it does not stop in 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def sandbox_sources(base_url: str) -> dict[str, str]:
    """The environment of every source pointing at the sandbox at ``base_url`` (AIRFLOW_CONN_* variables)."""
    env = {"AIRFLOW_CONN_YOUTUBE_API": json.dumps({"conn_type": "http", "host": f"{base_url}/youtube/v3", "password": SANDBOX_KEY})}
    # X, the Graph API (Instagram and Facebook share one Meta token) and TikTok live at the sandbox's root,
    # under their real paths (/2/..., /v21.0/..., /v2/research/...).
    for conn_id in ("x_api", "meta_graph", "tiktok_api"):
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": "http", "host": base_url, "password": SANDBOX_KEY})
    # business_discovery is asked through our own Instagram business account; the sandbox accepts any id.
    env["PANTAU_INSTAGRAM_USER_ID"] = SANDBOX_IG_USER_ID
    return env


def point_sources_at(sandbox_: Sandbox) -> None:
    """Airflow connections for every source, pointing at the sandbox (as AIRFLOW_CONN_* variables)."""
    os.environ.update(sandbox_sources(sandbox_.base_url))
    point_news_at(sandbox_)


NEWS_ENV = ("AIRFLOW_CONN_NEWS_FEEDS", "AIRFLOW_CONN_GDELT_API", "PANTAU_NEWS_FEEDS_FILE", "PANTAU_GDELT_PACING_SECONDS")


def point_news_at(sandbox_: Sandbox) -> None:
    """News feeds and GDELT from the sandbox: its feed list, its GDELT endpoint, no pacing (it does not rate limit)."""
    os.environ["AIRFLOW_CONN_NEWS_FEEDS"] = json.dumps({"conn_type": "http", "host": sandbox_.base_url})
    os.environ["AIRFLOW_CONN_GDELT_API"] = json.dumps({"conn_type": "http", "host": f"{sandbox_.base_url}/api/v2/doc/doc"})
    os.environ["PANTAU_NEWS_FEEDS_FILE"] = str(PROJECT_ROOT / "registry" / "sandbox" / "news_feeds.csv")
    os.environ["PANTAU_GDELT_PACING_SECONDS"] = "0"


def latest_measured_day(now: datetime) -> date:
    """The latest day whose nightly run time (01:00 Jakarta time the next morning) is a minute or more past.

    Yesterday, except in the hour after midnight in Jakarta: then yesterday's run time is still ahead, the sources
    would ask for what was published up to the present (X's ``end_time``), and a rerun minutes later would differ.
    """
    from etl.runtime import RunContext  # noqa: PLC0415

    day = now.astimezone(JAKARTA).date() - timedelta(days=1)
    while RunContext.for_day(day, run_id="-", dag_id="-").as_of > now - timedelta(minutes=1):
        day -= timedelta(days=1)
    return day


def nightly_days(last: date, count: int) -> list[date]:
    """The ``count`` days ending with ``last``, oldest first."""
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def _record_as_scheduled(dag_id: str, run_id: str, started: datetime) -> None:
    """``dag.test`` records a manual run that started at its logical date (days before the demo ran it). These runs
    stand for the nightly schedule's: the Airflow UI shows them as scheduled, with the time they really took."""
    from airflow.models.dagrun import DagRun  # noqa: PLC0415
    from airflow.utils.session import create_session  # noqa: PLC0415
    from airflow.utils.types import DagRunType  # noqa: PLC0415
    from sqlalchemy import update  # noqa: PLC0415

    with create_session() as session:
        session.execute(
            update(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
            .values(run_type=DagRunType.SCHEDULED, start_date=started, queued_at=started)
        )


class DagRunner:
    """Runs the project's DAGs with ``dag.test`` for a measured day, as the nightly schedule would."""

    def __init__(self) -> None:
        from airflow.dag_processing.dagbag import DagBag  # noqa: PLC0415

        from etl.gc_tuning import tune_for_batch_work  # noqa: PLC0415

        bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"], safe_mode=False)
        if bag.import_errors:
            raise RuntimeError(f"DAG import errors: {bag.import_errors}")
        self.dags = bag.dags
        # The nights run in this process: Airflow and the parsed DAGs are alive for good from here on.
        tune_for_batch_work()
        #: DAG id -> run id of its last run started by :meth:`run`.
        self.last_run_ids: dict[str, str] = {}

    def run(self, dag_id: str, day: date, hour: int, minute: int) -> str:
        """Run ``dag_id`` for the interval ending at hour:minute Jakarta time the morning after ``day``."""
        logical = datetime.combine(day + timedelta(days=1), datetime.min.time(), JAKARTA).replace(hour=hour, minute=minute)
        started = datetime.now(UTC)
        dag_run = self.dags[dag_id].test(logical_date=logical, run_conf={})
        self.last_run_ids[dag_id] = dag_run.run_id
        _record_as_scheduled(dag_id, dag_run.run_id, started)
        return str(dag_run.state)

    def task_states(self, dag_id: str) -> dict[tuple[str, int], tuple[str | None, int]]:
        """(task id, map index) -> (state, try number) of every task instance of the last run of ``dag_id``."""
        from airflow.models.taskinstance import TaskInstance  # noqa: PLC0415
        from airflow.utils.session import create_session  # noqa: PLC0415
        from sqlalchemy import select  # noqa: PLC0415

        query = select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state, TaskInstance.try_number).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == self.last_run_ids[dag_id]
        )
        with create_session() as session:
            rows = session.execute(query).all()
        return {(task, index): (None if state is None else str(getattr(state, "value", state)), tries) for task, index, state, tries in rows}

    def night(self, day: date, sandbox_: Sandbox | None = None) -> dict[str, str]:
        """registry_sync, social_metrics and agency_indicators for ``day``; returns each run's state."""
        from etl.runtime import RunContext  # noqa: PLC0415

        states = {}
        for dag_id, hour, minute in NIGHTLY:
            if sandbox_ is not None and dag_id in ("social_metrics", "news_mentions"):
                sandbox_.set_clock(RunContext.for_day(day, run_id="-", dag_id=dag_id).as_of)
            states[dag_id] = self.run(dag_id, day, hour, minute)
        return states


def exit_quietly(code: int) -> NoReturn:
    """End a command whose work is written and closed, skipping the interpreter's teardown.

    DuckDB's Python bindings (nanobind) print a page of "leaked instance" lines when the
    interpreter tears down module-level DuckDB objects: benign, but it was the last thing ``make demo`` showed a
    new user. Everything the command wrote is committed and its files closed before this is called.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
