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

Work that has been in flight for longer than ``HUNG_AFTER`` is not short-lived any more: a
thread blocked for good (a read with no deadline on a broker that froze) would otherwise hold
every freeze back from then on. It no longer counts as in flight (its few objects may be frozen:
the next full pass frees them) and ``hung()`` lists it, with the thread that holds it.
Stdlib only, from any thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

HUNG_AFTER = 30.0  # seconds: our broker connections give up within a few; this one is stuck

_lock = threading.Lock()
_tokens = itertools.count()
_open: dict[int, Entry] = {}  # token -> what is in flight, oldest first


class Entry(NamedTuple):
    thread: threading.Thread
    since: float  # time.monotonic() when it began


@contextmanager
def short_lived() -> Iterator[None]:
    """Mark the block as making objects that are garbage once it ends (nestable)."""
    token = next(_tokens)
    with _lock:
        _open[token] = Entry(threading.current_thread(), time.monotonic())
    try:
        yield
    finally:
        with _lock:
            del _open[token]


def _young(now: float) -> bool:
    """Whether some entry began less than HUNG_AFTER ago (call with the lock held)."""
    return any(now - entry.since < HUNG_AFTER for entry in _open.values())


def in_flight(now: float | None = None) -> bool:
    """Whether some thread is inside ``short_lived()`` now, and not hung there."""
    if not _open:
        return False
    with _lock:
        return _young(time.monotonic() if now is None else now)


def if_quiet(action: Callable[[], None]) -> bool:
    """Run ``action`` unless some thread is inside ``short_lived()`` (and not hung there);
    nobody enters meanwhile (keep it short: a freeze). True when it ran."""
    with _lock:
        if _open and _young(time.monotonic()):
            return False
        action()
        return True


def entries() -> list[Entry]:
    """Everything in flight now, hung or not, oldest first."""
    with _lock:
        return list(_open.values())


def hung(now: float | None = None) -> list[Entry]:
    """What has been in flight for HUNG_AFTER or longer, oldest first."""
    now = time.monotonic() if now is None else now
    with _lock:
        return [entry for entry in _open.values() if now - entry.since >= HUNG_AFTER]
