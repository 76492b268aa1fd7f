"""``pantau airflow-setup``: what a deployment must create before the DAGs can run, and checks of what it needs.

A task in a pool that does not exist waits forever without an error, so the
pools come from the platform registry here (the compose file's
``airflow-init`` and ``make airflow`` run this), not from the demo harness
alone. The same command writes the UI login for Airflow's simple auth
manager, reports which connections are configured and checks that the
shared storage takes a write.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

#: Connections the DAGs read (the platforms' own come from the registry); ``warehouse`` is the only required one:
#: without it the tasks would each write a DuckDB file of their own worker.
OTHER_CONNECTIONS = ("warehouse", "news_feeds", "gdelt_api", "smtp_default", "pantau_alert_webhook")


@dataclass
class SetupReport:
    pools: dict[str, int] = field(default_factory=dict)
    connections: dict[str, bool] = field(default_factory=dict)
    storage: str = ""
    login: str | None = None

    def lines(self) -> list[str]:
        out = [f"pool {name}: {slots} slots" for name, slots in self.pools.items()]
        out += [f"connection {conn}: {'configured' if ok else 'missing'}" for conn, ok in self.connections.items()]
        out.append(f"storage {self.storage}: writable")
        if self.login:
            out.append(f"UI login: {self.login}")
        return out


def create_pools() -> dict[str, int]:
    """Create or resize one pool per platform (``<platform>_api``), sized by the platform registry."""
    from airflow.models.pool import Pool  # noqa: PLC0415

    from etl.platforms import platform_pools  # noqa: PLC0415

    pools = platform_pools()
    for pool, slots in pools.items():
        # Its slots cap how many shards call the platform at once, so mapped tasks share its rate limit.
        Pool.create_or_update_pool(pool, slots=slots, description=f"{pool} rate budget", include_deferred=False)
    return pools


def connection_status() -> dict[str, bool]:
    """Whether each connection the DAGs read exists (metadata database, AIRFLOW_CONN_* or a secrets backend)."""
    from airflow.models.connection import Connection  # noqa: PLC0415

    from etl.platforms import PLATFORMS  # noqa: PLC0415

    conn_ids = dict.fromkeys([*(p.conn_id for p in PLATFORMS.values()), *OTHER_CONNECTIONS])
    status = {}
    for conn_id in conn_ids:
        try:
            Connection.get_connection_from_secrets(conn_id)
            status[conn_id] = True
        except Exception:  # noqa: BLE001 - not found, in whatever way the backend says it
            status[conn_id] = False
    return status


def check_storage(url: str) -> str:
    """Write, read and delete a probe under the storage root; the root's location, or an error naming it."""
    from etl.storage import read_text, storage_root, write_text  # noqa: PLC0415

    root = storage_root(url)
    probe = root / "_pantau_setup" / f"{uuid.uuid4().hex}.txt"
    try:
        write_text(probe, "ok")
        if read_text(probe) != "ok":
            raise OSError("read back something else")
        probe.unlink()
    except Exception as exc:
        raise RuntimeError(f"storage {root}: not writable ({type(exc).__name__}: {exc})") from exc
    return str(root)


def write_login(username: str, password: str) -> str:
    """The UI login for Airflow's simple auth manager: user ``username`` (admin) with ``password``, in the file
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE names, which the api-server reads."""
    path = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if not path:
        raise ValueError("set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE to write the UI login")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({username: password}) + "\n", encoding="utf-8")
    Path(path).chmod(0o600)
    return username


def airflow_setup(*, migrate: bool = True, require: tuple[str, ...] = ("warehouse",)) -> SetupReport:
    """Migrate the metadata database, create the pools, write the UI login, check connections and storage.

    Raises when a connection in ``require`` is missing or the storage is not writable.
    """
    from airflow.utils.db import upgradedb  # noqa: PLC0415

    from etl.settings import load_settings  # noqa: PLC0415

    if migrate:
        upgradedb()
    report = SetupReport(pools=create_pools(), connections=connection_status())
    missing = [conn for conn in require if not report.connections.get(conn)]
    if missing:
        raise RuntimeError(f"airflow-setup: required connection(s) missing: {', '.join(missing)} "
                           f"(set AIRFLOW_CONN_{missing[0].upper()} in .env or add it in the UI)")
    report.storage = check_storage(load_settings().storage_url)
    password = os.environ.get("PANTAU_ADMIN_PASSWORD")
    if password:
        report.login = write_login(os.environ.get("PANTAU_ADMIN_USER") or "admin", password)
    log.info("airflow setup done", pools=report.pools, missing=[c for c, ok in report.connections.items() if not ok])
    return report
