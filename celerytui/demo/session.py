"""One demo run, start to stop: HTTP targets, the cluster's processes, the workload, and the
signal handling that makes sure quitting in any way leaves nothing behind.

Order matters. Children are spawned before any thread of ours starts (so their pre-exec hook
is fork-safe); Redis stops last (workers need it for a warm shutdown); the temp dir goes
after every process is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from celerytui.config import DiskHost, Settings
from celerytui.demo.cluster import EMAIL_DELAY, HTTP_TIMEOUT, RETRY_BASE, DemoCluster
from celerytui.demo.http_targets import DemoHttpServer
from celerytui.demo.workload import Workload

if TYPE_CHECKING:
    from celery import Celery

    from celerytui.core.monitor import Monitor

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class DemoInterrupted(BaseException):
    """A signal asked the demo to stop; raised in the main thread by the handler."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def say(message: str) -> None:
    """Progress for people, on stderr (stdout is for the summary). Never raises: after a
    SIGHUP the terminal is gone, and a failed write must not cut the cleanup short."""
    with contextlib.suppress(OSError, ValueError):
        print(f"celerytui demo: {message}", file=sys.stderr, flush=True)


class DemoSession:
    """start() brings the whole system up (raises DemoStartError); stop() is idempotent."""

    def __init__(
        self,
        base: Settings,
        *,
        broker: str | None = None,
        result_backend: str | None = None,
        port: int | None = None,
        start_timeout: float = 20.0,
        seed: int | None = None,
        interval: float = 0.8,
    ):
        self.http = DemoHttpServer()
        self.cluster = DemoCluster(
            broker=broker,
            result_backend=result_backend,
            port=port,
            http_targets=self.http.targets,
            alert_webhook=self.http.webhook_url,
            start_timeout=start_timeout,
            signed=base.signed,
        )
        assert self.cluster.broker is not None and self.cluster.result_backend is not None
        self.settings = replace(
            base,
            broker_url=self.cluster.broker,
            result_backend=self.cluster.result_backend,
            app=None,
            http_targets=list(self.http.targets),
            disk_hosts=[DiskHost("local")],
            email_delay=EMAIL_DELAY,
            retry_base=RETRY_BASE,
            http_timeout=HTTP_TIMEOUT,
            alert_webhook=self.http.webhook_url,
            cluster_name="demo",
            store=str(self.log_dir / "journal.sqlite3"),  # the demo's journal goes with it
        )
        for key, path in self.cluster.signing.items():  # --signed: the throwaway key and store
            setattr(self.settings, key, path)
        self.seed, self.interval = seed, interval
        self.client: Celery | None = None  # the Celery app the workload sends with
        self.monitor: Monitor | None = None  # the core's Monitor on this cluster, once started
        self.workload: Workload | None = None
        self.started_at: float | None = None
        self._stopped = False
        atexit.register(self.stop)

    @property
    def log_dir(self) -> Path:
        return self.cluster.log_dir

    def start(self) -> DemoSession:
        """Spawn everything, start watching, wait for both workers, start the workload.

        The Monitor (`self.monitor`) starts receiving before the workers answer and before
        the workload sends anything, so it sees every worker come online and every task;
        nothing pumps it yet — the TUI or the headless loop does that.
        """
        from celerytui.core.monitor import Monitor, client_app
        from celerytui.demo.schedule import demo_schedule

        if self.cluster.embedded:
            say(
                f"starting Redis on 127.0.0.1:{self.cluster.port}, two workers and beat "
                f"(logs in {self.log_dir})"
            )
        else:
            say(
                f"starting two workers and beat on {self.cluster.broker_display} "
                f"(logs in {self.log_dir})"
            )
        self.cluster.start()
        self.http.start()
        self.client = client_app(self.settings)
        # the monitor's app carries the schedule beat really runs (the Schedule screen)
        watched = client_app(self.settings)
        watched.conf.beat_schedule = demo_schedule(self.http.targets)
        self.monitor = monitor = Monitor(self.settings, app=watched)
        monitor.start()
        self.cluster.wait_workers(self.client)
        self.workload = Workload(
            self.client, self.http.targets, interval=self.interval, seed=self.seed
        ).start()
        self.started_at = time.monotonic()
        return self

    def ready_line(self) -> str:
        pids = ", ".join(f"{name} {pid}" for name, pid in self.cluster.pids().items())
        return (
            f"ready: broker {self.cluster.broker_display}, workers "
            f"{', '.join(self.cluster.worker_hostnames)}; logs in {self.log_dir} ({pids})"
        )

    def stop(self) -> None:
        """Stop the workload, every process, the HTTP server; remove the temp dir."""
        if self._stopped:
            return
        self._stopped = True
        with ignoring_signals():
            try:
                if self.cluster.children:
                    say("stopping the demo's processes")
                if self.workload is not None:
                    self.workload.stop()
                if self.monitor is not None:
                    with contextlib.suppress(Exception):
                        self.monitor.stop()
            finally:
                try:
                    self.cluster.stop()  # whatever happened above: processes, then temp dir
                finally:
                    with contextlib.suppress(Exception):
                        self.http.stop()
                    if self.client is not None:
                        with contextlib.suppress(Exception):
                            self.client.close()
        atexit.unregister(self.stop)


@contextlib.contextmanager
def ignoring_signals():
    """While cleaning up, a second Ctrl+C or SIGTERM must not cut the cleanup short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def raise_on_signals() -> dict:
    """Make SIGTERM, SIGINT and SIGHUP raise DemoInterrupted in the main thread, so the
    callers' `finally` cleans up. Returns the previous handlers."""

    def handler(signum, frame):
        raise DemoInterrupted(signum)

    return {sig: signal.signal(sig, handler) for sig in HANDLED_SIGNALS}


def restore_signals(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
