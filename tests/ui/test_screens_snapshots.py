"""Snapshots of screens 2-6 and the two detail screens at 80x24 and 160x48, drawn from the
fixed synthetic cluster (tests/ui/synthetic_cluster.py) with a fixed clock."""

from __future__ import annotations

from collections import deque

import pytest

from celerytui.app import make_app
from celerytui.core.queue_wait import QueueWait, QueueWaits
from celerytui.core.queues import QueueDepth
from celerytui.tasks import make_celery_app
from tests.ui.synthetic_cluster import NOW, build_monitor, fixed_clock, snapshot_settings

SIZES = [(80, 24), (160, 48)]
FAILED_TASK = "00000003-aaaa-bbbb-cccc-000000000003"


class CannedInspect:
    """Fixed inspect replies for w1@node1, so the worker detail snapshot is stable (the live
    inspect path is tested against a real worker in test_screens_workers.py)."""

    read_only = False

    def inspect(self, method: str, destination=None) -> dict:
        replies = {
            "stats": {
                "pid": 4242,
                "uptime": 3600,
                "prefetch_count": 8,
                "pool": {
                    "implementation": "celery.concurrency.prefork:TaskPool",
                    "max-concurrency": 2,
                    "processes": [4243, 4244],
                },
                "broker": {"transport": "redis", "hostname": "broker.example", "port": 6379},
                "total": {"celerytui.tasks.send_email": 12},
            },
            "registered": ["celerytui.tasks.send_email", "celerytui.tasks.validate_order"],
            "active_queues": [
                {"name": "celery", "exchange": {"name": "celery"}, "routing_key": "celery"}
            ],
            "active": [
                {
                    "id": "abcdef12-0000",
                    "name": "celerytui.tasks.send_email",
                    "args": ["ops@example.com", "hi"],
                }
            ],
            "reserved": [],
            "scheduled": [
                {
                    "eta": "2023-11-14T22:30:00+00:00",
                    "priority": 6,
                    "request": {
                        "id": "fedcba98-0000",
                        "name": "celerytui.tasks.send_email",
                        "args": ["later@example.com", "x"],
                    },
                }
            ],
        }
        return {"w1@node1": replies[method]}


def _app():
    monitor = build_monitor()
    for i, worker in enumerate(monitor.state.workers.values()):  # as the poller fills them
        worker.pool_size = 4
        worker.queues = ["celery", "http", "disk"] if i % 2 else ["celery"]
    monitor.queue_depths = [
        QueueDepth("celery", 12, None, {0: 9, 3: 3}),
        QueueDepth("disk", 0, None, {0: 0}),
        QueueDepth("http", 2, None, {0: 2}),
    ]
    # the oldest task sent and not received, as task-sent events told them
    monitor.queue_waits = QueueWaits(
        at=NOW,
        known=True,
        queues={"celery": QueueWait(NOW - 95, "c-1", 12), "http": QueueWait(NOW - 8, "h-1", 2)},
    )
    monitor.queue_history = {
        "celery": deque((NOW - 60 + i * 5, n) for i, n in enumerate([0, 2, 5, 9, 12, 12])),
        "http": deque((NOW - 60 + i * 5, n) for i, n in enumerate([4, 3, 2, 2])),
    }
    monitor.app = make_celery_app(snapshot_settings())
    monitor.controller = CannedInspect()
    return make_app(snapshot_settings(), monitor, start_monitor=False, clock=fixed_clock)


async def _settled(pilot) -> None:
    """Until the current screen has been drawn by the pump and redrawn a few ticks after (its
    tables fit their columns and follow the newest row on those ticks): a fixed pause was too
    short on a loaded machine."""
    app = pilot.app
    await pilot.pause()
    start = app.ticks
    for _ in range(1_000):
        if app._drawn_screen is app.screen and app.ticks >= start + 4:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.2)
    await pilot.wait_for_scheduled_animations()


def _before(mode: str, detail: tuple[str, str] | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.switch_mode(mode)
        await _settled(pilot)
        if detail == ("task", FAILED_TASK):
            app.show_task(FAILED_TASK)
        elif detail is not None:
            app.show_worker(detail[1])
        if detail is not None:
            await _settled(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
@pytest.mark.parametrize("mode", ["tasks", "failures", "workers", "queues", "schedule"])
def test_mode_screen_snapshot(snap_compare, mode, size):
    assert snap_compare(_app(), terminal_size=size, run_before=_before(mode))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_task_detail_snapshot(snap_compare, size):
    assert snap_compare(
        _app(), terminal_size=size, run_before=_before("failures", ("task", FAILED_TASK))
    )


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_worker_detail_snapshot(snap_compare, size):
    assert snap_compare(
        _app(), terminal_size=size, run_before=_before("workers", ("worker", "w1@node1"))
    )
