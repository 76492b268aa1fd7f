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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from etl.runtime import JAKARTA
from etl.settings import PROJECT_ROOT

SANDBOX_KEY = "sandbox-key"
PLATFORM_POOLS = {"youtube_api": 4}
#: The nightly schedule, as (DAG id, hour, minute) in Jakarta time the morning after the measured day.
NIGHTLY = [("registry_sync", 0, 30), ("social_metrics", 1, 0), ("agency_indicators", 3, 0)]


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
    """Migrate the metadata database and create one pool per platform (sized to its API budget)."""
    from airflow.models.pool import Pool  # noqa: PLC0415
    from airflow.utils.db import upgradedb  # noqa: PLC0415

    upgradedb()
    for pool, slots in PLATFORM_POOLS.items():
        Pool.create_or_update_pool(pool, slots=slots, description=f"{pool} rate budget", include_deferred=False)


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
def sandbox(accounts: Path, seed: int = 7, quota: int = 1_000_000) -> Iterator[Sandbox]:
    """Start ``python -m etl.sandbox serve`` on a free port; stop it on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        process = subprocess.Popen(
            [sys.executable, "-m", "etl.sandbox", "serve", "--accounts", str(accounts), "--seed", str(seed),
             "--port", "0", "--port-file", str(port_file), "--api-key", SANDBOX_KEY,
             "--youtube-daily-quota", str(quota), "--log-level", "WARNING"],
            cwd=PROJECT_ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start (exit code {process.poll()})")
                time.sleep(0.05)
            yield Sandbox(f"http://127.0.0.1:{port_file.read_text().strip()}", process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def point_sources_at(sandbox_: Sandbox) -> None:
    """Airflow connections for every source, pointing at the sandbox (as AIRFLOW_CONN_* variables)."""
    os.environ["AIRFLOW_CONN_YOUTUBE_API"] = json.dumps(
        {"conn_type": "http", "host": f"{sandbox_.base_url}/youtube/v3", "password": SANDBOX_KEY}
    )


def nightly_days(last: date, count: int) -> list[date]:
    """The ``count`` days ending with ``last``, oldest first."""
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


class DagRunner:
    """Runs the project's DAGs with ``dag.test`` for a measured day, as the nightly schedule would."""

    def __init__(self) -> None:
        from airflow.dag_processing.dagbag import DagBag  # noqa: PLC0415

        bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"], safe_mode=False)
        if bag.import_errors:
            raise RuntimeError(f"DAG import errors: {bag.import_errors}")
        self.dags = bag.dags

    def run(self, dag_id: str, day: date, hour: int, minute: int) -> str:
        """Run ``dag_id`` for the interval ending at hour:minute Jakarta time the morning after ``day``."""
        logical = datetime.combine(day + timedelta(days=1), datetime.min.time(), JAKARTA).replace(hour=hour, minute=minute)
        dag_run = self.dags[dag_id].test(logical_date=logical, run_conf={})
        return str(dag_run.state)

    def night(self, day: date, sandbox_: Sandbox | None = None) -> dict[str, str]:
        """registry_sync, social_metrics and agency_indicators for ``day``; returns each run's state."""
        from etl.runtime import RunContext  # noqa: PLC0415

        states = {}
        for dag_id, hour, minute in NIGHTLY:
            if sandbox_ is not None and dag_id == "social_metrics":
                sandbox_.set_clock(RunContext.for_day(day, run_id="-", dag_id=dag_id).as_of)
            states[dag_id] = self.run(dag_id, day, hour, minute)
        return states
