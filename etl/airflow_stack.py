"""Airflow as separate native processes: api-server, scheduler, dag-processor, triggerer and Celery workers.

What a team deployment runs, without containers: ``make airflow`` starts it
with the LocalExecutor on SQLite for one developer; the CeleryExecutor
end-to-end test and ``scripts/bench_celery.py`` start it on PostgreSQL and
Redis with two workers that each have their own home, working directory,
data folder and copy of the DAG files, so nothing but the shared storage and
the warehouse connects them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet

from etl.runtime import JAKARTA
from etl.settings import PROJECT_ROOT

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def worker_hostname() -> str:
    """Airflow's ``hostname_callable`` here: the worker's name when it has one, so task instances say which of
    several workers on one machine ran them (``PANTAU_WORKER_NAME``); else the machine's name."""
    return os.environ.get("PANTAU_WORKER_NAME") or socket.getfqdn()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Worker:
    """A Celery worker with a directory of its own (home, logs, data folder and DAG files inside it)."""

    name: str
    root: Path

    @property
    def dags(self) -> Path:
        return self.root / "dags"


@dataclass
class AirflowStack:
    """The environment and processes of one Airflow deployment on this machine."""

    home: Path
    metadata_url: str  # SQLAlchemy URL of the metadata database
    executor: str = "CeleryExecutor"
    broker_url: str | None = None  # Celery broker (redis://...)
    queue: str = "default"
    api_port: int = 8080
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        secrets_file = self.home / "secrets.env"
        if not secrets_file.exists():  # stable across restarts of the same home (the Fernet key encrypts connections)
            secrets_file.write_text(
                f"AIRFLOW__CORE__FERNET_KEY={Fernet.generate_key().decode()}\n"
                f"AIRFLOW__API_AUTH__JWT_SECRET={secrets.token_urlsafe(32)}\n"
                f"AIRFLOW__API__SECRET_KEY={secrets.token_urlsafe(32)}\n", encoding="utf-8")
            secrets_file.chmod(0o600)
        self._secrets = dict(line.split("=", 1) for line in secrets_file.read_text(encoding="utf-8").split())

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self, home: Path | None = None, dags: Path | None = None) -> dict[str, str]:
        """The environment of every process (a worker passes its own home and DAG folder)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.pop("PANTAU_NO_AIRFLOW_CONNECTIONS", None)  # tasks must read the connections given here
        sync = self.metadata_url
        env.update(
            {
                "AIRFLOW_HOME": str(home or self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags or PROJECT_ROOT / "dags"),
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sync,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__LOGGING__NAMESPACE_LEVELS": "airflow=WARNING,alembic=WARNING",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "etl.airflow_stack.worker_hostname",
                "GX_ANALYTICS_ENABLED": "False",
                "PYTHONWARNINGS": "ignore::UserWarning,ignore::DeprecationWarning",
                **self._secrets,
            }
        )
        if sync.startswith("postgresql+psycopg://"):
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = sync.replace("postgresql+psycopg://", "postgresql+psycopg_async://", 1)
        if self.executor == "CeleryExecutor":
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": self.broker_url or "redis://127.0.0.1:6379/0",
                    "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sync,
                    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                }
            )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, timeout: float = 300) -> str:
        """Run ``airflow <args>`` (or ``pantau`` when the first argument is "pantau"); its stdout, or an error."""
        command = [str(Path(sys.executable).with_name("pantau")), *args[1:]] if args[0] == "pantau" else [AIRFLOW, *args]
        result = subprocess.run(command, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:3])} failed ({result.returncode}): {result.stderr[-3000:]}")
        return result.stdout

    def _start(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
        log = (self.home / "processes").joinpath(f"{name}.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            # A session of its own: stop() ends the process and every task process it forked, and nothing else.
            self.processes[name] = subprocess.Popen([AIRFLOW, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                                    start_new_session=True)

    def start(self, workers: list[Worker] = (), concurrency: int = 2) -> None:
        """Start the api-server, scheduler, dag-processor and triggerer, then each worker in its own directory."""
        self._start("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"],
                    self.env(), self.home)
        self._start("scheduler", ["scheduler"], self.env(), self.home)
        self._start("dag-processor", ["dag-processor"], self.env(), self.home)
        self._start("triggerer", ["triggerer", "--skip-serve-logs"], self.env(), self.home)
        for worker in workers:
            worker.root.mkdir(parents=True, exist_ok=True)
            # Its own copy of the DAG files, as on another machine (the bundle is found by name, not by path).
            shutil.copytree(PROJECT_ROOT / "dags", worker.dags, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
            env = self.env(home=worker.root / "airflow", dags=worker.dags)
            env["PANTAU_DATA_DIR"] = str(worker.root / "data")
            env["PANTAU_WORKER_NAME"] = worker.name
            self._start(f"worker-{worker.name}", ["celery", "worker", "--queues", self.queue, "--concurrency", str(concurrency),
                                                  "--celery-hostname", f"{worker.name}@%h", "--skip-serve-logs",
                                                  "--without-gossip", "--without-mingle"], env, worker.root)

    def wait_until_up(self, timeout: float = 180) -> None:
        """Until the api-server answers; an error with the log tail of any process that died meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                if requests.get(f"{self.api_url}/api/v2/version", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the api-server did not answer on {self.api_url} within {timeout:.0f} s")
            time.sleep(1)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.home / "processes" / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{tail}")

    def wait_for_workers(self, workers: list[Worker], timeout: float = 180) -> None:
        """Until every Celery worker says it is ready (its log line), so the first tasks find them all."""
        deadline = time.monotonic() + timeout
        for worker in workers:
            log = self.home / "processes" / f"worker-{worker.name}.log"
            while b" ready." not in log.read_bytes():
                self.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Celery worker {worker.name} not ready within {timeout:.0f} s")
                time.sleep(1)

    def stop(self) -> None:
        """Stop every process this stack started (and the task processes in their sessions)."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)  # stragglers of its session (task processes)
            process.wait(timeout=10)
        self.processes.clear()

    # -- runs ------------------------------------------------------------------------------------------------

    def metadata(self) -> Any:
        """A psycopg connection to the metadata database (PostgreSQL stacks)."""
        import psycopg  # noqa: PLC0415

        return psycopg.connect(self.metadata_url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)

    def wait_for_dags(self, dag_ids: set[str], timeout: float = 300) -> None:
        """Until the dag-processor has serialized every DAG of ``dag_ids``."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            with self.metadata() as conn:
                found = {row[0] for row in conn.execute("SELECT dag_id FROM serialized_dag")}
            if dag_ids <= found:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"DAGs not parsed within {timeout:.0f} s: {sorted(dag_ids - found)}")
            time.sleep(2)

    def backfill(self, dag_id: str, day: date, hour: int, minute: int, *, rerun: bool = False, timeout: float = 900) -> tuple[str, str]:
        """Backfill ``dag_id`` for the Jakarta ``day`` (the interval starting at hour:minute that day, as the nightly
        schedule has it) and wait for it: (run id, final state). ``rerun`` reprocesses a completed run.

        A backfill, not a manual trigger: Airflow 3 gives a triggered run the interval before *now*, whatever its
        logical date says."""
        start = datetime.combine(day, datetime.min.time(), JAKARTA).replace(hour=hour, minute=minute).isoformat()
        with self.metadata() as conn:
            (before,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM backfill").fetchone()
        self.cli("backfill", "create", "--dag-id", dag_id, "--from-date", start, "--to-date", start,
                 "--reprocess-behavior", "completed" if rerun else "none")
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            with self.metadata() as conn:
                row = conn.execute("SELECT id, completed_at FROM backfill WHERE dag_id = %s AND id > %s ORDER BY id DESC",
                                   (dag_id, before)).fetchone()
                runs = conn.execute("SELECT dr.run_id, dr.state FROM backfill_dag_run b JOIN dag_run dr ON dr.id = b.dag_run_id "
                                    "WHERE b.backfill_id = %s", (row[0] if row else -1,)).fetchall()
            if row and row[1] is not None and len(runs) == 1:
                return runs[0][0], runs[0][1]
            if time.monotonic() > deadline:
                raise RuntimeError(f"backfill of {dag_id} for {day} not complete after {timeout:.0f} s: {runs}")
            time.sleep(2)

    def task_instances(self, dag_id: str, run_id: str) -> list[tuple[str, int, str, str]]:
        """(task id, map index, state, hostname) of every task instance of a run."""
        with self.metadata() as conn:
            return [tuple(r) for r in conn.execute(
                "SELECT task_id, map_index, state, hostname FROM task_instance WHERE dag_id = %s AND run_id = %s "
                "ORDER BY task_id, map_index", (dag_id, run_id))]


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
