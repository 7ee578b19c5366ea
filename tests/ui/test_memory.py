"""A TUI left running keeps its memory: what its pump froze to spare the UI a full GC pass is
still freed once it becomes garbage."""

from __future__ import annotations

import gc
import weakref

import pytest

from celerytui.app import make_app
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
    # so the ballast is a share of it and a full pass may take seconds on a loaded machine
    app.gc_policy = GcPolicy(interval=0.05, growth=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        node = Cyclic()
        alive = weakref.ref(node)
        await wait_until(pilot, lambda: frozen(alive()), what="the pump to freeze the object")
        del node  # garbage now, but frozen: only a full pass can free it
        ballast = [Cyclic() for _ in range(gc.get_freeze_count() // 10)]  # the heap grows
        await wait_until(
            pilot, lambda: alive() is None, timeout=60, what="the frozen garbage to be freed"
        )
        del ballast
