"""Credentials and endpoints: an Airflow connection when running under Airflow, else environment variables.

The ``etl`` package does not need Airflow; inside a task the Airflow
connection (metadata database, secrets backend or ``AIRFLOW_CONN_*``) wins,
so operators manage secrets where they manage every other connection.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """Where a platform lives and the secret it wants; ``secret`` is never logged."""

    conn_id: str
    base_url: str
    secret: str | None

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"Endpoint(conn_id={self.conn_id!r}, base_url={self.base_url!r}, secret={'***' if self.secret else None})"


def _airflow_conn(conn_id: str) -> Any | None:
    """The Airflow connection ``conn_id``, or None outside Airflow / when it does not exist."""
    if os.environ.get("PANTAU_NO_AIRFLOW_CONNECTIONS") == "1":
        return None
    try:
        from airflow.sdk import BaseHook  # noqa: PLC0415 - optional, only under Airflow
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - any lookup failure means "not configured in Airflow"
        return None


def _airflow_connection(conn_id: str) -> tuple[str | None, str | None] | None:
    conn = _airflow_conn(conn_id)
    if conn is None:
        return None
    host = conn.host or None
    if host and conn.schema and "://" not in host:
        host = f"{conn.schema}://{host}"
    return host, conn.password or None


def resolve_endpoint(conn_id: str, *, default_base_url: str, base_env: str, secret_env: str) -> Endpoint:
    """The endpoint for ``conn_id``: the Airflow connection if it exists, else ``base_env``/``secret_env``."""
    found = _airflow_connection(conn_id)
    if found is not None:
        host, secret = found
        return Endpoint(conn_id, (host or default_base_url).rstrip("/"), secret)
    return Endpoint(
        conn_id,
        (os.environ.get(base_env) or default_base_url).rstrip("/"),
        os.environ.get(secret_env) or None,
    )


def resolve_secret_map(conn_id: str, *, env: str) -> dict[str, str]:
    """Named secrets (one per account, e.g. OAuth user tokens): the extra JSON of Airflow connection ``conn_id``
    if it exists, else the JSON object in environment variable ``env``; empty when neither is set.

    The values are secrets: errors name the connection or variable, never what it holds.
    """
    conn = _airflow_conn(conn_id)
    if conn is not None:
        where = f"the extra of Airflow connection '{conn_id}'"
        try:
            raw: object = conn.extra_dejson
        except Exception:  # noqa: BLE001 - an unreadable extra is a configuration error, reported without its text
            raw = None
    else:
        where = f"environment variable {env}"
        text = os.environ.get(env) or ""
        try:
            raw = json.loads(text) if text.strip() else {}
        except ValueError:
            raw = None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in raw.items()):
        raise ValueError(f"{where} must be a JSON object mapping names to non-empty secret strings")
    return dict(raw)


def warehouse_url(default: str) -> str:
    """The warehouse SQLAlchemy URL: Airflow connection ``warehouse``, else WAREHOUSE_URL, else ``default``."""
    conn = _airflow_conn("warehouse")
    if conn is not None:
        uri = conn.get_uri()
        if uri.startswith(("postgres://", "postgresql://")):
            uri = "postgresql+psycopg://" + uri.split("://", 1)[1]
        return uri
    return os.environ.get("WAREHOUSE_URL") or default
