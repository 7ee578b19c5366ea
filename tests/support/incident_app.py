"""A Celery project for the incident tests (lost, stuck, a whole canvas): tasks that wait.

``incidents.wait(seconds)`` sleeps, ``incidents.gather(results)`` is a chord's body,
``incidents.launch_chord(n, seconds)`` sends chord(n x wait, gather) from a worker,
``incidents.stubborn(seconds)`` sleeps on past a soft time limit, ``incidents.pause(seconds)``
waits as ``wait`` does where time.sleep cannot (a worker under libfaketime). The
module-level ``app`` takes its broker and backend from ``CELERY_BROKER_URL`` /
``CELERY_RESULT_BACKEND`` (what ``WorkerProcess(app="tests.support.incident_app")`` uses);
tests build theirs with ``make_incident_app(broker, backend)``.
"""

from __future__ import annotations

import contextlib
import select
import time

from celery import Celery, chord
from celery.exceptions import SoftTimeLimitExceeded

WAIT = "incidents.wait"
GATHER = "incidents.gather"
LAUNCH = "incidents.launch_chord"
STUBBORN = "incidents.stubborn"
PAUSE = "incidents.pause"
QUEUE = "incidents"


def make_incident_app(broker: str | None = None, backend: str | None = None) -> Celery:
    app = Celery("incidents", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
    )

    @app.task(name=WAIT, shared=False)
    def wait(seconds: float) -> float:
        time.sleep(float(seconds))
        return float(seconds)

    @app.task(name=PAUSE, shared=False)
    def pause(seconds: float) -> float:
        """wait, through select(): time.sleep fails (EINVAL) under libfaketime with a real
        monotonic clock, which the skewed-clock worker needs."""
        select.select([], [], [], float(seconds))
        return float(seconds)

    @app.task(name=GATHER, shared=False)
    def gather(results: list) -> int:
        return len(results)

    @app.task(name=STUBBORN, shared=False)
    def stubborn(seconds: float) -> float:
        """Sleeps on past its soft time limit: catches SoftTimeLimitExceeded (a stuck task
        of the kind the soft limit does not stop)."""
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            with contextlib.suppress(SoftTimeLimitExceeded):
                time.sleep(0.2)
        return float(seconds)

    @app.task(name=LAUNCH, shared=False)
    def launch_chord(n: int, seconds: float) -> str:
        """chord(n x wait(seconds), gather), sent from a task: its members name this task
        as root and parent (sent from a plain client, celery's events link them by nothing)."""
        return chord([wait.s(seconds) for _ in range(int(n))], gather.s()).apply_async().id

    return app


app = make_incident_app()


def incident_worker(
    broker: str,
    backend: str,
    log_dir,
    name: str = "inc",
    concurrency: int = 2,
    soft_time_limit: float | None = None,
    extra_env: dict | None = None,
):
    """A ``celery -A tests.support.incident_app worker`` on its own queue (not started)."""
    from tests.support.workers import WorkerProcess

    worker = WorkerProcess(
        broker,
        backend,
        log_dir,
        name=name,
        queues=QUEUE,
        app="tests.support.incident_app",
        concurrency=concurrency,
        extra_env=extra_env,
    )
    if soft_time_limit is not None:
        worker.cmd += ["--soft-time-limit", str(soft_time_limit)]
    return worker
