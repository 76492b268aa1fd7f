"""``make airflow``: the project's DAGs in a real Airflow on 127.0.0.1, to watch and operate them in the UI.

api-server, scheduler, dag-processor and triggerer run as separate processes
(the LocalExecutor, one task at a time: the embedded DuckDB warehouse takes one
writer), on the demo's metadata database (``.airflow/airflow.db``, so the
nights ``make demo`` ran are in the UI) and the demo's warehouse
(``data/warehouse.duckdb``); the sources point at the bundled sandbox, which
runs alongside. DAGs start paused: unpause one, or trigger it, in the UI.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time

from etl.settings import PROJECT_ROOT

HOME = PROJECT_ROOT / ".airflow"


def main() -> int:
    from etl.airflow_stack import AirflowStack, free_port  # noqa: PLC0415
    from etl.harness import NEWS_ENV, sandbox, sandbox_sources  # noqa: PLC0415

    port = int(os.environ.get("PANTAU_AIRFLOW_PORT") or 8080)
    login_file = HOME / "admin-password"
    HOME.mkdir(exist_ok=True)
    if not login_file.exists():
        login_file.write_text(secrets.token_urlsafe(12), encoding="utf-8")
        login_file.chmod(0o600)
    password = login_file.read_text(encoding="utf-8").strip()
    accounts = PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv"
    with sandbox(accounts) as api:
        stack = AirflowStack(
            home=HOME, metadata_url=f"sqlite:///{HOME / 'airflow.db'}", executor="LocalExecutor", api_port=port,
            extra_env={
                **sandbox_sources(api.base_url), **{k: os.environ[k] for k in NEWS_ENV},
                "PANTAU_ACCOUNTS_FILE": str(accounts), "PANTAU_DATA_DIR": os.environ.get("PANTAU_DATA_DIR") or str(PROJECT_ROOT / "data"),
                "PANTAU_ADMIN_USER": "admin", "PANTAU_ADMIN_PASSWORD": password,
                "AIRFLOW__CORE__PARALLELISM": "1",
                # Another Airflow on this machine may hold the default log-server port.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            },
        )
        print(stack.cli("pantau", "airflow-setup", "--require", "none").strip().splitlines()[-1], flush=True)
        stack.start()
        try:
            stack.wait_until_up()
            print(f"\nAirflow is up: {stack.api_url}  (login: admin / {password}; stored in {login_file.relative_to(PROJECT_ROOT)})\n"
                  f"DAGs from dags/, warehouse data/warehouse.duckdb, sandbox APIs on {api.base_url}. Ctrl-C stops it.",
                  flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                stack.check_alive()
                time.sleep(2)
        except KeyboardInterrupt:
            print("stopping Airflow", flush=True)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
