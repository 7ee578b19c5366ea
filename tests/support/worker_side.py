"""A worker that lives for a whole test module (the worker-side tests share one per module)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

from celerytui.config import load_settings
from tests.support.workers import WorkerProcess


@contextmanager
def module_worker(
    redis_target,
    log_dir: Path,
    name: str,
    queues: str = "celery,http,disk,secure",
    extra_env: dict | None = None,
    broker_url: str | None = None,
) -> Iterator[tuple[Celery, WorkerProcess]]:
    """(client app, ready worker) on two fresh Redis databases (or broker_url, e.g. AMQP,
    with the Redis backend); stopped on exit."""
    from celerytui.tasks import make_celery_app

    broker_db, backend_db = redis_target.fresh_dbs(2)
    broker = broker_url or redis_target.url(broker_db)
    backend = redis_target.url(backend_db)
    app = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    worker = WorkerProcess(broker, backend, log_dir, name=name, queues=queues, extra_env=extra_env)
    try:
        worker.start(app)
        yield app, worker
    finally:
        worker.stop()
        app.close()
