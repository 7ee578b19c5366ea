"""UI fixtures: one real worker per test module, settings for it, and screen polling."""

from __future__ import annotations

import pytest

from celerytui.config import load_settings
from tests.support.screens_ui import until
from tests.support.workers import WorkerProcess


@pytest.fixture(scope="module")
def ui_cluster(redis_target, tmp_path_factory):
    """(broker_url, backend_url, worker) — one real worker shared by a module's tests."""
    from celerytui.tasks import make_celery_app

    broker_db, backend_db = redis_target.fresh_dbs(2)
    broker, backend = redis_target.url(broker_db), redis_target.url(backend_db)
    client = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    worker = WorkerProcess(
        broker,
        backend,
        tmp_path_factory.mktemp("ui-worker"),
        name="ui",
        queues="celery,http,disk,secure",
    )
    try:
        worker.start(client)
        yield broker, backend, worker
    finally:
        worker.stop()
        client.close()


@pytest.fixture
def ui_settings(ui_cluster):
    """Settings for an app watching the shared worker; override fields with kwargs."""
    broker, backend, _worker = ui_cluster

    def make(**overrides):
        return load_settings(broker_url=broker, result_backend=backend, **overrides)

    return make


async def wait_until(pilot, predicate, timeout: float = 15.0, what: str = "condition"):
    """Let the app run until predicate() is truthy (polling, with a deadline)."""
    return await until(pilot, predicate, timeout, what)
