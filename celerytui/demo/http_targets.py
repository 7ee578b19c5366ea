"""The demo's own HTTP targets: one healthy endpoint, one flaky one, and a webhook for alerts.

A threaded server in the demo process, on a free loopback port, so the HTTP checks show both
UP and DOWN without the internet, and failure alerts have somewhere to land.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAKY_SLOW_SECONDS = 0.4  # the flaky endpoint's good answers are slow


class _Handler(BaseHTTPRequestHandler):
    server: DemoHttpServer

    def do_GET(self) -> None:
        if self.path.startswith("/healthy"):
            self._reply(200, {"status": "ok"})
        elif self.path.startswith("/flaky"):
            # odd requests fail, even ones succeed slowly: both UP and DOWN within two checks
            if self.server.next_flaky() % 2 == 1:
                self._reply(500, {"status": "error", "detail": "flaky endpoint failed"})
            else:
                time.sleep(FLAKY_SLOW_SECONDS)
                self._reply(200, {"status": "ok", "slow": True})
        else:
            self._reply(404, {"status": "not found"})

    def do_POST(self) -> None:
        if not self.path.startswith("/alerts"):
            self._reply(404, {"status": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1_000_000))
        try:
            alert = json.loads(body or b"{}")
        except ValueError:
            alert = {"raw": body[:200].decode(errors="replace")}
        self.server.record_alert(alert)
        self._reply(200, {"status": "received"})

    def _reply(self, code: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        """Quiet: the TUI owns the terminal."""


class DemoHttpServer(ThreadingHTTPServer):
    """Binds on construction (so the port is known before workers start); serves on start()."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _Handler)
        self._lock = threading.Lock()
        self._flaky_requests = 0
        self.alerts: list[dict] = []  # the newest 1000
        self._alert_count = 0
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def targets(self) -> list[str]:
        """The URLs the demo's HTTP checks probe: healthy first."""
        return [f"{self.base_url}/healthy", f"{self.base_url}/flaky"]

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/alerts"

    def next_flaky(self) -> int:
        with self._lock:
            self._flaky_requests += 1
            return self._flaky_requests

    def record_alert(self, alert: dict) -> None:
        with self._lock:
            self._alert_count += 1
            self.alerts.append(alert)
            del self.alerts[:-1000]

    def alerts_received(self) -> int:
        with self._lock:
            return self._alert_count

    def start(self) -> DemoHttpServer:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="celerytui-demo-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(2)
            self._thread = None
        self.server_close()
