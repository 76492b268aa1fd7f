"""A failed task alerts through both channels (SMTP via the bundled provider, and a webhook), naming the DAG, the
task, the day and the etl_run message; registry_sync fails at once on a broken registry file, without retries.
Both servers listen on 127.0.0.1; Airflow runs the real DAG (dag.test)."""

from __future__ import annotations

import email
import json
import shutil
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from etl.harness import DagRunner, prepare_airflow_db
from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse

pytestmark = pytest.mark.airflow
DAY = date(2026, 11, 10)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to take a message: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 127.0.0.1 test SMTP\r\n")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 127.0.0.1\r\n")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 end with .\r\n")
                data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.messages.append((recipients, email.message_from_bytes(data)))  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # MAIL, RSET, NOOP
                self.wfile.write(b"250 OK\r\n")


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, self.headers.get("Authorization"), json.loads(body)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serving(server: socketserver.BaseServer) -> Iterator[list]:
    server.messages = server.posts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.messages  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def _broken_registry(tmp_path: Path) -> Path:
    registry = tmp_path / "registry"
    registry.mkdir()
    for name in ("agency_aliases.csv", "campaigns.csv"):
        shutil.copy(PROJECT_ROOT / "registry" / name, registry / name)
    lines = (PROJECT_ROOT / "registry" / "agencies.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",kementerian,", ",ministry,")
    (registry / "agencies.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return registry


def test_a_broken_registry_fails_once_and_alerts_by_mail_and_webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _broken_registry(tmp_path)
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    hook = HTTPServer(("127.0.0.1", 0), _HookHandler)
    monkeypatch.delenv("PANTAU_NO_AIRFLOW_CONNECTIONS", raising=False)
    for key, value in {
        "PANTAU_REGISTRY_DIR": str(registry),
        "PANTAU_ACCOUNTS_FILE": str(PROJECT_ROOT / "registry" / "accounts.csv"),
        "WAREHOUSE_URL": url,
        "PANTAU_DATA_DIR": str(tmp_path / "data"),
        "PANTAU_ALERT_EMAIL": "data-eng@example.go.id, oncall@example.go.id",
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.server_address[1],
                                                 "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "pantau@example.go.id"}}),
        "AIRFLOW_CONN_PANTAU_ALERT_WEBHOOK": json.dumps({"conn_type": "http", "host": f"http://127.0.0.1:{hook.server_address[1]}/hooks/T1",
                                                         "password": "hook-token"}),
    }.items():
        monkeypatch.setenv(key, value)
    prepare_airflow_db()
    runner = DagRunner()
    with _serving(smtp) as mails, _serving(hook) as posts:
        state = runner.run("registry_sync", DAY, 0, 30)
        states = runner.task_states("registry_sync")
    run_id = runner.last_run_ids["registry_sync"]
    warehouse = Warehouse(url)
    (recorded,) = warehouse.query("SELECT status, message FROM etl_run WHERE run_id = :run AND task_id = 'registry_sync'", {"run": run_id})
    warehouse.dispose()

    problem = (f"RegistryError: {registry / 'agencies.csv'}:3: field category: 'ministry' is not one of "
               "kementerian, lembaga, provinsi, kabkota")
    assert tuple(recorded) == ("failed", problem)
    # Deterministic: failed on its first try, no retry.
    assert (state, states) == ("failed", {("sync", -1): ("failed", 1)})
    subject = "[pantau] registry_sync.sync failed for 2026-11-10"
    # One mail to both recipients, through the SMTP connection's sender.
    assert len(mails) == 1
    recipients, mail = mails[0]
    assert recipients == ["data-eng@example.go.id", "oncall@example.go.id"]
    assert (mail["Subject"], mail["From"]) == (subject, "pantau@example.go.id")
    html = next(part.get_payload(decode=True).decode() for part in mail.walk() if part.get_content_type() == "text/html")
    assert problem.replace("'", "&#x27;") in html and run_id in html
    # One webhook call, with the token as a bearer header and the fields a bot can use.
    assert len(posts) == 1
    path, authorization, payload = posts[0]
    assert (path, authorization) == ("/hooks/T1", "Bearer hook-token")
    assert {k: payload[k] for k in ("dag_id", "task_id", "map_index", "day", "run_id", "try_number", "message")} == {
        "dag_id": "registry_sync", "task_id": "sync", "map_index": -1, "day": "2026-11-10", "run_id": run_id,
        "try_number": 1, "message": problem}
    assert payload["text"].startswith(f"{subject} (try 1, run {run_id})\n{problem}\n")
