"""Someone else's Celery project, for watching with ``-A``: a few tasks of its own, a beat
entry, and none of the seed's (``celerytui.tasks.*``).

The module-level ``app`` takes its broker and backend from ``CELERY_BROKER_URL`` /
``CELERY_RESULT_BACKEND`` as Celery does (what ``WorkerProcess(app="tests.support.proj_app")``
and ``celerytui -A tests.support.proj_app`` use); tests in this process build their own with
``make_proj_app(broker, backend)``.
"""

from __future__ import annotations

from celery import Celery

ADD_EVERY = 30.0  # seconds between beat's sends of "add-every-30s"


def make_proj_app(broker: str | None = None, backend: str | None = None) -> Celery:
    """A fresh "proj" app with its tasks registered (proj.add, proj.mul, proj.fail)."""
    proj = Celery("proj", broker=broker, backend=backend, set_as_current=False)
    proj.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_send_task_events=True,
        task_send_sent_event=True,
        beat_schedule={
            "add-every-30s": {"task": "proj.add", "schedule": ADD_EVERY, "args": (2, 2)}
        },
    )

    @proj.task(name="proj.add", shared=False)
    def add(x: int, y: int) -> int:
        return x + y

    @proj.task(name="proj.mul", shared=False)
    def mul(x: int, y: int) -> int:
        return x * y

    @proj.task(name="proj.fail", shared=False)
    def fail(message: str = "boom") -> None:
        raise ValueError(message)

    return proj


app = make_proj_app()


def proj_worker(broker: str, backend: str, log_dir, heartbeats: bool = True):
    """A ``celery -A tests.support.proj_app worker`` (not started); ``heartbeats=False`` runs
    it ``--without-heartbeat``, as celery.contrib.pytest's worker does."""
    from tests.support.workers import WorkerProcess

    worker = WorkerProcess(
        broker, backend, log_dir, name="proj", queues="celery", app="tests.support.proj_app"
    )
    if not heartbeats:
        worker.cmd.append("--without-heartbeat")
    return worker
