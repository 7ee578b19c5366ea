"""Work in flight whose objects are garbage seconds later, so that nobody freezes them meanwhile.

The TUI freezes what is alive now and then (celerytui.gc_policy) so that a full GC pass never
scans the kept tasks; a frozen object that then becomes cyclic garbage stays until the rare
full pass. Short-lived broker connections (``broker_errors.bounded_connection``: the monitor's
poller opens three every 5 s for inspect stats, active queues and queue depths; the event lane
one for its periodic enable_events broadcast) are each a cluster of cycles (kombu's channel,
redis-py's clients, pools, parsers and their event listeners) that lives a second or two.
Frozen while open, every one was kept: 30-40 redis clients a minute, nearly all the cyclic
garbage the frozen heap held in benchmarks/soak.py (``--census``).

``with short_lived():`` marks such work; the freezer waits for it (``in_flight()``) and
freezes through ``if_quiet()``, so that no thread opens one between its look and its freeze.
Stdlib only, from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_count = 0


@contextmanager
def short_lived() -> Iterator[None]:
    """Mark the block as making objects that are garbage once it ends (nestable)."""
    global _count
    with _lock:
        _count += 1
    try:
        yield
    finally:
        with _lock:
            _count -= 1


def in_flight() -> bool:
    """Whether some thread is inside ``short_lived()`` now."""
    return _count > 0


def if_quiet(action: Callable[[], None]) -> bool:
    """Run ``action`` unless some thread is inside ``short_lived()``; nobody enters meanwhile
    (keep it short: a freeze). True when it ran."""
    with _lock:
        if _count:
            return False
        action()
        return True
