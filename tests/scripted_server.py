"""A loopback HTTP server that answers from a script, for testing the client over real HTTP."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    """Answers request n (GET or POST) with ``script[n]`` = (status, headers, body[, delay seconds]); repeats the last one."""

    def __init__(self, script: list[tuple]) -> None:
        self.script = script
        self.requests: list[str] = []
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                server.bodies.append(self.rfile.read(length) if length else b"")
                index = min(len(server.requests), len(server.script) - 1)
                server.requests.append(self.path)
                server.headers.append(dict(self.headers))
                status, headers, body, *delay = server.script[index]
                if delay:
                    time.sleep(delay[0])
                payload = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET  # noqa: N815 - query APIs (TikTok Research) answer POSTs from the same script

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
