"""Real `celery worker` subprocesses for integration tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.services import wait_for

ROOT = Path(__file__).resolve().parents[2]

# Settings that make the seed's tasks take seconds in tests, not minutes.
FAST_ENV = {
    "CELERYTUI_EMAIL_DELAY": "0.05",
    "CELERYTUI_RETRY_BASE": "0.1",
    "CELERYTUI_HTTP_TIMEOUT": "3",
}


class WorkerProcess:
    """One `celery -A celerytui.tasks worker` in its own process group."""

    def __init__(
        self,
        broker: str,
        backend: str,
        log_dir: Path,
        name: str = "w1",
        queues: str = "celery,http,disk,secure",
        extra_env: dict | None = None,
        app: str = "celerytui.tasks",
        concurrency: int = 2,
        events: bool = True,
    ):
        self.broker, self.backend = broker, backend
        self.hostname = f"{name}@celerytui-test"
        self.log_path = Path(log_dir) / f"worker-{name}.log"
        self.env = {
            **os.environ,
            **FAST_ENV,
            "CELERYTUI_BROKER_URL": broker,
            "CELERYTUI_RESULT_BACKEND": backend,
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": backend,
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        self.cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "-n",
            self.hostname,
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "-l",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ]
        if events:
            self.cmd.append("-E")
        self.proc: subprocess.Popen | None = None

    def start(self, celery_app=None, timeout: float = 30.0) -> WorkerProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if celery_app is not None:
            self.wait_ready(celery_app, timeout)
        return self

    def wait_ready(self, celery_app, timeout: float = 30.0) -> None:
        def answers():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log_tail()}")
            replies = celery_app.control.ping(destination=[self.hostname], timeout=0.5)
            return any(self.hostname in r for r in replies)

        try:
            wait_for(answers, timeout, interval=0.2, what=f"worker {self.hostname} to answer ping")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the whole process group (the main process and its pool children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # pool children left behind, if any
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._log.close()
