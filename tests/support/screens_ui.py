"""Helpers for the screens' Pilot tests: a module worker of our own, polling, reading rows."""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager

from tests.support import worker_side


@contextmanager
def module_worker(redis_target, log_dir, name: str, extra_env: dict | None = None):
    """(broker_url, backend_url, client_app, worker) on two fresh databases."""
    with worker_side.module_worker(redis_target, log_dir, name, extra_env=extra_env) as (
        client,
        worker,
    ):
        yield worker.broker, worker.backend, client, worker


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
    return await until(
        pilot,
        lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted and app.screen,
        what=what,
    )


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
