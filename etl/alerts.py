"""Failure alerts: one message per failed task, by e-mail (the bundled SMTP provider) and by a generic webhook.

Channels are configured, never hard-wired:

- e-mail: recipients in PANTAU_ALERT_EMAIL (comma-separated), sent through the Airflow SMTP connection
  PANTAU_ALERT_SMTP_CONN (default ``smtp_default``);
- webhook: the Airflow connection ``pantau_alert_webhook`` (host = the full URL, password = an optional bearer
  token) or PANTAU_ALERT_WEBHOOK_URL / PANTAU_ALERT_WEBHOOK_TOKEN; it receives ``{"text": ...}`` plus the fields,
  which Slack and Mattermost incoming webhooks, Teams and Telegram's ``sendMessage`` (chat_id in the URL) accept.

The message names the DAG, the task (and shard), the day and the task's ``etl_run`` message. An alert that cannot
be sent is logged, never raised: it must not hide the task's own failure. The webhook URL is a secret (Slack's
carries its token) and is never logged.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)

WEBHOOK_CONN_ID = "pantau_alert_webhook"


@dataclass(frozen=True)
class Alert:
    """One failed task instance, in words an operator acts on."""

    dag_id: str
    task_id: str
    map_index: int
    day: str
    run_id: str
    try_number: int
    message: str

    @property
    def task(self) -> str:
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"

    @property
    def subject(self) -> str:
        return f"[pantau] {self.dag_id}.{self.task} failed for {self.day}"

    @property
    def text(self) -> str:
        return (
            f"{self.subject} (try {self.try_number}, run {self.run_id})\n{self.message}\n"
            f"Clear the task in the Airflow UI (or `airflow tasks clear {self.dag_id} -t '^{self.task_id}$'`) once fixed."
        )

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, **asdict(self)}


def etl_run_message(run_id: str, task_id: str, map_index: int) -> str | None:
    """The failed task's message in ``etl_run`` (what the step itself recorded), or None when it wrote none."""
    from etl.connections import warehouse_url  # noqa: PLC0415
    from etl.settings import load_settings  # noqa: PLC0415
    from etl.warehouse import Warehouse, sql_file  # noqa: PLC0415

    settings = load_settings()
    warehouse = Warehouse(warehouse_url(settings.warehouse_url or settings.default_warehouse_url))
    try:
        rows = warehouse.query(sql_file("checks/etl_run_failure"), {"run_id": run_id, "task_id": task_id, "map_index": map_index})
    except Exception:  # noqa: BLE001 - no etl_run (a fresh warehouse, or the warehouse is what failed)
        return None
    finally:
        warehouse.dispose()
    return rows[0][1] if rows and rows[0][1] else None


def alert_from_context(context: Any) -> Alert:
    """The alert for the failed task instance of an Airflow callback context."""
    from etl.runtime import RunContext  # noqa: PLC0415

    ti = context["ti"]
    run = RunContext.from_airflow(context)
    map_index = getattr(ti, "map_index", -1)
    map_index = -1 if map_index is None else int(map_index)
    exception = context.get("exception")
    recorded = etl_run_message(run.run_id, ti.task_id, map_index)
    message = recorded or (f"{type(exception).__name__}: {exception}" if exception else "no error message")
    return Alert(
        dag_id=ti.dag_id, task_id=ti.task_id, map_index=map_index, day=run.data_date.isoformat(),
        run_id=run.run_id, try_number=int(getattr(ti, "try_number", 0) or 0), message=message[:2000],
    )


def send_email(alert: Alert, recipients: list[str], conn_id: str) -> None:
    """Send the alert through the SMTP provider's hook (the connection holds host, port, login and sender)."""
    from html import escape  # noqa: PLC0415

    from airflow.providers.smtp.hooks.smtp import SmtpHook  # noqa: PLC0415

    with SmtpHook(smtp_conn_id=conn_id) as smtp:
        smtp.send_email_smtp(
            to=recipients, subject=alert.subject, html_content=f"<pre>{escape(alert.text)}</pre>",
            from_email=smtp.from_email or "pantau@localhost",
        )


def send_webhook(alert: Alert, url: str, token: str | None) -> None:
    """POST the alert as JSON; a non-2xx answer is an error (its status, never the URL, is reported)."""
    import requests  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(url, json=alert.payload(), headers=headers, timeout=10)
    if not response.ok:
        raise RuntimeError(f"alert webhook answered HTTP {response.status_code}")


def send_alert(alert: Alert) -> list[str]:
    """Send ``alert`` to every configured channel; returns the channels that took it."""
    from etl.connections import resolve_endpoint  # noqa: PLC0415

    sent = []
    recipients = [r.strip() for r in os.environ.get("PANTAU_ALERT_EMAIL", "").split(",") if r.strip()]
    webhook = resolve_endpoint(
        WEBHOOK_CONN_ID, default_base_url="", base_env="PANTAU_ALERT_WEBHOOK_URL", secret_env="PANTAU_ALERT_WEBHOOK_TOKEN"
    )
    channels = []
    if recipients:
        conn_id = os.environ.get("PANTAU_ALERT_SMTP_CONN") or "smtp_default"
        channels.append(("email", lambda: send_email(alert, recipients, conn_id)))
    if webhook.base_url:
        channels.append(("webhook", lambda: send_webhook(alert, webhook.base_url, webhook.secret)))
    for name, send in channels:
        try:
            send()
            sent.append(name)
        except Exception as exc:  # noqa: BLE001 - one broken channel must not stop the other, nor hide the failure
            log.error("alert not sent", channel=name, error=f"{type(exc).__name__}: {exc}"[:300], dag_id=alert.dag_id, task=alert.task)
    if not channels:
        log.warning("task failed and no alert channel is configured", dag_id=alert.dag_id, task=alert.task, day=alert.day)
    return sent


def alert_failure(context: Any) -> list[str]:
    """The ``on_failure_callback`` body: build the alert from the context and send it."""
    try:
        alert = alert_from_context(context)
    except Exception:  # noqa: BLE001 - a callback that raises is swallowed by Airflow anyway; say why here
        log.exception("could not build the failure alert")
        return []
    log.error("task failed", **{k: v for k, v in asdict(alert).items() if k != "message"})
    return send_alert(alert)
