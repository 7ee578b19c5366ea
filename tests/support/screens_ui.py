"""Helpers for the screens' Pilot tests: a module worker of our own, polling, reading rows."""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager

from celerytui.config import load_settings
from tests.support.workers import WorkerProcess


@contextmanager
def module_worker(redis_target, log_dir, name: str, extra_env: dict | None = None):
    """(broker_url, backend_url, client_app, worker) on two fresh databases."""
    from celerytui.tasks import make_celery_app

    broker_db, backend_db = redis_target.fresh_dbs(2)
    broker, backend = redis_target.url(broker_db), redis_target.url(backend_db)
    client = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    worker = WorkerProcess(broker, backend, log_dir, name=name, extra_env=extra_env,
                           queues="celery,http,disk,secure")
    try:
        worker.start(client)
        yield broker, backend, client, worker
    finally:
        worker.stop()
        client.close()


async def until(pilot, predicate, timeout: float = 20.0, what: str = "condition"):
    """Let the app run until predicate() is truthy; its value, or AssertionError at the
    deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)


async def mounted_screen(pilot, app, screen_type: type, what: str):
    """Wait until the app shows a mounted screen of ``screen_type``; that screen."""
    return await until(pilot, lambda: isinstance(app.screen, screen_type)
                       and app.screen.is_mounted and app.screen, what=what)


def row_state(table, uuid: str) -> str | None:
    """The State cell of ``uuid``'s row in a TaskTable (None when it has no row)."""
    try:
        return table.get_row(uuid)[1].plain
    except Exception:
        return None


def notices(app) -> list[str]:
    """Every notification the app has shown (toasts), oldest first."""
    return [n.message for n in app._notifications]


def connected(app) -> bool:
    return bool(app.monitor.events.status.connected)
