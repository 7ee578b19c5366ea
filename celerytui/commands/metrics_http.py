"""The exporter's HTTP server: a WSGI app behind a selector, with bounded threads and timeouts.

An idle or half-sent request costs a socket, not a thread: one thread reads every connection
until its request head is complete, and only then hands it to a small pool that runs the app
and writes the answer. A request whose head is not complete within `request_timeout` gets a
408 and is closed; past `max_pending` connections still sending, the oldest is dropped, so a
flood of them cannot lock a real scrape out. Each answer closes its connection (HTTP/1.1 with
`Connection: close`; Prometheus scrapes that way fine).
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)
_BAD = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class BoundedWSGIServer:
    """Serve `app` on (host, port); `serve_forever` in a thread, `shutdown`, `server_close`."""

    def __init__(
        self,
        address: tuple[str, int],
        app: WSGIApp,
        *,
        workers: int = 4,
        request_timeout: float = 10.0,
        response_timeout: float = 30.0,
        max_pending: int = 512,
        max_head_bytes: int = 16_384,
    ) -> None:
        host, port = address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self.app = app
        self.request_timeout, self.response_timeout = request_timeout, response_timeout
        self.max_pending, self.max_head_bytes = max(1, max_pending), max_head_bytes
        self._pending: dict[socket.socket, tuple[float, bytearray]] = {}  # oldest first
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="exporter-http"
        )
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    # ---- the selector thread -------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=poll_interval):
                    if key.fileobj is self.socket:
                        self._accept()
                    else:
                        self._read(key.fileobj)  # type: ignore[arg-type]
                self._expire(time.monotonic())
        finally:
            self._stopped.set()

    def _accept(self) -> None:
        for _ in range(256):  # a burst at a time, then read what came
            try:
                conn, _addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: drop the oldest and go on
                self._drop_oldest()
                return
            if len(self._pending) >= self.max_pending:
                self._drop_oldest()
            conn.setblocking(False)
            self._pending[conn] = (time.monotonic() + self.request_timeout, bytearray())
            self._selector.register(conn, selectors.EVENT_READ)

    def _read(self, conn: socket.socket) -> None:
        entry = self._pending.get(conn)
        if entry is None:
            return
        try:
            data = conn.recv(65_536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        buffer = entry[1]
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            self._forget(conn)
            self._pool.submit(self._respond, conn, bytes(buffer[:end]))
        elif len(buffer) > self.max_head_bytes:
            self._close(conn, _TOO_LARGE)

    def _expire(self, now: float) -> None:
        for conn, (deadline, _) in list(self._pending.items()):
            if deadline > now:
                break  # deadlines grow with arrival order
            self._close(conn, _TIMEOUT)

    def _drop_oldest(self) -> None:
        oldest = next(iter(self._pending), None)
        if oldest is not None:
            self._close(oldest, _TIMEOUT)

    def _forget(self, conn: socket.socket) -> None:
        self._pending.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)

    def _close(self, conn: socket.socket, answer: bytes = b"") -> None:
        self._forget(conn)
        with contextlib.suppress(OSError):
            if answer:
                conn.send(answer)  # best effort: the socket is non-blocking
        conn.close()

    # ---- a pool thread: one complete request ----------------------------------------------

    def _respond(self, conn: socket.socket, head: bytes) -> None:
        try:
            conn.setblocking(True)
            conn.settimeout(self.response_timeout)
            environ = self._environ(conn, head)
            if environ is None:
                conn.sendall(_BAD)
                return
            started: list[Any] = []

            def start_response(
                status: str, headers: list[tuple[str, str]], exc_info: Any = None
            ) -> Callable[[bytes], None]:
                started[:] = [status, headers]
                return lambda _data: None

            try:
                body = b"".join(self.app(environ, start_response))
                status, headers = started
            except Exception as exc:  # the app's bug: say so in one line, keep serving
                status, headers = "500 Internal Server Error", [("Content-Type", "text/plain")]
                body = f"error: {type(exc).__name__}\n".encode()
            lines = [
                f"HTTP/1.1 {status}",
                *(
                    f"{k}: {v}"
                    for k, v in headers
                    if k.lower() not in ("content-length", "connection")
                ),
                f"Content-Length: {len(body)}",
                "Connection: close",
                "",
                "",
            ]
            conn.sendall("\r\n".join(lines).encode("latin-1"))
            if environ["REQUEST_METHOD"] != "HEAD":
                conn.sendall(body)
        except Exception:
            pass  # a client gone mid-answer, or a timeout: nothing to tell anyone
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _environ(self, conn: socket.socket, head: bytes) -> dict[str, Any] | None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return None
        method, target, protocol = parts
        path, _, query = target.partition("?")
        host, port = self.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "SERVER_PROTOCOL": protocol,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SCRIPT_NAME": "",
            "CONTENT_LENGTH": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        with contextlib.suppress(OSError):
            environ["REMOTE_ADDR"] = str(conn.getpeername()[0])
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                return None
            key = "HTTP_" + name.strip().upper().replace("-", "_")
            value = value.strip()
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    # ---- stopping ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop serve_forever (from another thread) and wait until it returned."""
        self._stop.set()
        self._stopped.wait(5)

    def server_close(self) -> None:
        for conn in list(self._pending):
            self._close(conn)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(self.socket)
        self._selector.close()
        self.socket.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
