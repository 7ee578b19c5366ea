"""A TUI left running keeps its memory: what its pump froze to spare the UI a full GC pass is
still freed once it becomes garbage."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

from celerytui.app import make_app
from celerytui.core import short_lived
from celerytui.gc_policy import GcPolicy
from tests.ui.conftest import wait_until
from tests.ui.synthetic_cluster import build_monitor, fixed_clock, snapshot_settings


class Cyclic:
    """Garbage only the cyclic collector can free: it refers to itself (as Textual's render
    caches do)."""

    def __init__(self) -> None:
        self.me = self


def frozen(obj: object) -> bool:
    """gc.get_objects() lists every tracked object but the frozen ones."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


@pytest.fixture
def collector_restored():
    yield
    gc.unfreeze()


async def test_garbage_the_running_app_froze_is_freed(collector_restored):
    app = make_app(
        snapshot_settings(),
        build_monitor(),
        start_monitor=False,
        clock=fixed_clock,
        pump_interval=0.02,
    )
    # its pace quickened and a full pass due at 5 % growth; the same steps. The frozen heap is
    # the whole test process's (a full suite freezes millions of objects before this test),
    # so the ballast is a share of it and a full pass may take seconds on a loaded machine.
    # Short-lived broker work of other threads of the suite would hold the freeze and then
    # the full pass back MAX_WAIT (30 s) each: here 1 s (what waiting does is tested below)
    policy = app.gc_policy = GcPolicy(interval=0.05, growth=0.05, max_wait=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        node = Cyclic()
        alive = weakref.ref(node)
        await wait_until(pilot, lambda: frozen(alive()), what="the pump to freeze the object")
        del node  # garbage now, but frozen: only a full pass can free it
        ballast = [Cyclic() for _ in range(gc.get_freeze_count() // 10)]  # the heap grows
        try:
            await wait_until(
                pilot, lambda: alive() is None, timeout=60, what="the frozen garbage to be freed"
            )
        except AssertionError as exc:  # say what held it: short-lived work, or no full pass
            now = time.monotonic()
            held = [(e.thread.name, round(now - e.since, 1)) for e in short_lived.entries()]
            raise AssertionError(
                f"{exc}; full passes {policy.full_passes}, freezes put off {policy.waits}, "
                f"short-lived work in flight (thread, seconds): {held}"
            ) from None
        del ballast


def frozen_garbage_redis_clients(port: int) -> int:
    """Redis clients of this broker that only a full pass frees: garbage that was frozen (first
    an ordinary collection frees what was not)."""
    import redis

    gc.collect()
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sum(
            1
            for obj in gc.garbage
            if isinstance(obj, redis.Redis)
            and obj.connection_pool.connection_kwargs.get("port") == port
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_the_polls_broker_connections_are_not_frozen_alive(redis_urls, collector_restored):
    """The poller's inspect and queue-depth connections (cycles of redis-py clients) live a
    second or two; a freeze in the middle of a poll kept every one for good."""
    from urllib.parse import urlsplit

    from celerytui.config import load_settings

    broker, backend = redis_urls
    app = make_app(load_settings(broker_url=broker, result_backend=backend), pump_interval=0.02)
    app.gc_policy = GcPolicy(interval=0.05)  # freezes many times during every poll
    polls = app.monitor.queue_history  # each poll appends a depth to every queue it counts
    port = urlsplit(broker).port

    async def polled(n: int) -> None:
        await wait_until(
            pilot,
            lambda: max(map(len, polls.values()), default=0) >= n and not short_lived.in_flight(),
            timeout=30,
            what=f"poll {n} to end",
        )

    async with app.run_test(size=(80, 24)) as pilot:
        await polled(1)
        frozen_garbage_redis_clients(port)  # what starting up left is freed: count from here
        after_first = max(map(len, polls.values()))
        await polled(after_first + 3)  # three more polls, each freezing many times meanwhile
        # between two polls (5 s apart): nothing short-lived is alive now
        assert frozen_garbage_redis_clients(port) == 0
        assert app.gc_policy.waits >= 3
