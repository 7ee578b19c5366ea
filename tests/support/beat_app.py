"""A Celery app with a fast beat schedule (seconds), for a real ``celery beat`` in tests:
``celery -A tests.support.beat_app beat``. Its tasks go to a queue no worker consumes
(``BEAT_QUEUE``) until the test starts one, so they wait there: what the queue-wait readings
need.

Broker from ``CELERY_BROKER_URL`` as Celery reads it; ``make_beat_app(broker)`` builds the
same app in the test's process for the monitor.
"""

from __future__ import annotations

from celery import Celery

BEAT_QUEUE = "beat-test-waiting"
ENTRIES = {
    "tick-add": {"task": "beatproj.add", "schedule": 4.0, "args": (1, 2)},
    "tick-mul": {"task": "beatproj.mul", "schedule": 5.0, "args": (2, 3)},
}


def make_beat_app(broker: str | None = None) -> Celery:
    app = Celery("beatproj", broker=broker, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_send_sent_event=True,
        timezone="UTC",
        task_default_queue=BEAT_QUEUE,
        beat_schedule={name: dict(entry) for name, entry in ENTRIES.items()},
        beat_max_loop_interval=1,
        worker_send_task_events=True,
    )

    @app.task(name="beatproj.add", shared=False)
    def add(x: int, y: int) -> int:
        return x + y

    @app.task(name="beatproj.mul", shared=False)
    def mul(x: int, y: int) -> int:
        return x * y

    return app


app = make_beat_app()
