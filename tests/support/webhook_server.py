"""A real local HTTP server that receives alert webhooks: records each JSON POST (path and
body); ``hang=True`` makes it read the request and then answer nothing until closed, as a dead
webhook behind a load balancer does."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any


class WebhookServer:
    def __init__(self, hang: bool = False) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.hang = hang
        self.connections = 0
        self._release = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                owner.connections += 1
                if owner.hang:
                    owner._release.wait(30)
                    return
                owner.posts.append((self.path, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookServer:
        self._thread.start()
        return self

    def url(self, path: str = "/hooks/T0KEN-s3cret") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def bodies(self, key: str | None = None) -> list[dict[str, Any]]:
        return [body for _path, body in list(self.posts) if key is None or body["key"] == key]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
