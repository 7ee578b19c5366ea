"""When the TUI's process runs Python's cyclic garbage collector.

A full pass over 100k kept tasks takes about half a second, and the UI stands still meanwhile,
so the app freezes (``gc.freeze()``) what has survived now and then: frozen objects are
never scanned, refcounting still frees them. But a frozen object that later becomes part of
unreachable cycles is never freed either, and Textual makes plenty of those (render caches
that hold themselves: a Strip caches itself as its own crop, a cleared LRUCache leaves its
ring of entries behind); frozen every second, they grew the process by ~70 MB a minute
(benchmarks/soak.py).

``GcPolicy.step()`` (called by the pump thread between pumps) takes the oldest generation
over from CPython: right after a freeze CPython's own rule for it (what is pending exceeds a
quarter of the long-lived, which frozen objects no longer count as) holds at once, so every
tenth young collection became a pass over everything made since the last freeze: 50-120 ms,
several a second at 10k events/s, and the whole of the event loop's p99 lag
(benchmarks/ui_lag.py). While the policy runs, CPython collects the young generations only;
``release()`` gives the oldest back.

* every ``interval`` seconds, a full collection of what is not frozen yet (costs only what was
  made since the last freeze), then a freeze; not while a thread is inside
  ``core.short_lived`` (a short-lived broker connection, e.g. the poller's: cycles that die a
  second later; frozen while open, each was kept until the next full pass), but as soon as it
  has ended (at most ``MAX_WAIT`` later);
* at most every 30 s, free heap pages go back to the system (``heap_trim``: glibc kept them
  as a high-water mark, RSS crept up while what Python holds stayed flat);
* when the frozen heap has grown by ``growth`` since the last full pass (counted in objects,
  the way CPython itself paces its oldest generation), unfreeze everything and collect it all
  once: the garbage that was frozen alive goes; a pass every several minutes, not every second.

``unlink_cleared_lru_caches()`` makes the biggest source of that garbage a non-cycle: a
DataTable clears its LRU render caches on every update, and each cleared ring held the table's
old rows and their rendered cells; unlinked, refcounting frees them at once.
``uncache_whole_strip_divides()`` does the same for the next one: the compositor divides every
line it draws, a Strip divided at its own end cached ``[self]`` in itself, and each such Strip
(with its seven caches and segments) frozen while on screen was kept for good once replaced:
the frozen heap grew ~5k objects a minute (benchmarks/soak.py ``--census``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Sequence

from textual.cache import LRUCache
from textual.strip import Strip

from celerytui.core import short_lived
from celerytui.heap_trim import HeapTrimmer

FREEZE_INTERVAL = 5.0  # each freeze also freezes the UI garbage of the moment: not too often
OLDEST_OFF = 1 << 30  # young collections before CPython would consider the oldest: never
FULL_PASS_GROWTH = 0.25  # a full pass once the frozen heap has grown this much since the last
MAX_WAIT = 30.0  # seconds a freeze waits for short-lived work (a poll on a hung broker) at most


class GcPolicy:
    def __init__(
        self,
        interval: float = FREEZE_INTERVAL,
        growth: float = FULL_PASS_GROWTH,
        max_wait: float = MAX_WAIT,
    ):
        self.interval = interval
        self.growth = growth
        self.max_wait = max_wait  # seconds a freeze waits for short-lived work at most
        self.full_passes = 0
        self._frozen_at: float | None = None
        self._baseline: int | None = None  # objects frozen right after the last full pass
        self._thresholds: tuple[int, int, int] | None = None  # CPython's, while we hold them
        self._waiting_since: float | None = None  # a freeze due, put off (short_lived work)
        self.waits = 0  # freezes put off until short-lived work had ended
        self.trimmer = HeapTrimmer()

    def step(self, now: float | None = None) -> None:
        """Collect and freeze if it is time; a full pass if the frozen heap has grown enough."""
        now = time.monotonic() if now is None else now
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            young, middle = self._thresholds[0], self._thresholds[1]
            gc.set_threshold(young, middle, OLDEST_OFF)
        if self._frozen_at is not None and now - self._frozen_at < self.interval:
            return
        if short_lived.in_flight() and self._wait(now):
            return  # objects that are garbage in a moment: freeze once they are
        if self._baseline is not None and gc.get_freeze_count() > self._baseline * (
            1 + self.growth
        ):
            # it freezes at once: a second pass over everything would cost more than the
            # few objects of a connection opened during this one
            self.full_pass()
            self._waiting_since, self._frozen_at = None, now
            self.trimmer.step(now)
            return
        gc.collect()  # frozen objects are not scanned: this costs what is new since the last
        if not self._freeze(now, gc.freeze):
            return  # one began during the collection (its finalizers let other threads run)
        self.trimmer.step(now)
        if self._baseline is None:
            self._baseline = gc.get_freeze_count()

    def _wait(self, now: float) -> bool:
        """Put the freeze off while short-lived work is in flight, up to MAX_WAIT."""
        if self._waiting_since is None:
            self._waiting_since = now
            self.waits += 1
        return now - self._waiting_since < self.max_wait

    def _freeze(self, now: float, freeze: Callable[[], None]) -> bool:
        """Freeze (``freeze``) unless short-lived work is in flight and may still wait."""
        if self._waiting_since is not None and now - self._waiting_since >= self.max_wait:
            freeze()  # waited long enough (a poll hung on a broker): freeze what there is
        elif not short_lived.if_quiet(freeze):
            self._wait(now)
            return False
        self._waiting_since = None
        self._frozen_at = now
        return True

    def release(self) -> None:
        """Give CPython its own thresholds back (the app calls it when it stops)."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def full_pass(self) -> int:
        """Unfreeze, collect everything, freeze again; returns the objects collected."""
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        self._baseline = gc.get_freeze_count()
        self.full_passes += 1
        return collected


def unlink_cleared_lru_caches() -> None:
    """Make ``textual.cache.LRUCache.clear()`` unlink its entries ([prev, next, key, value]
    lists in a ring) so that they are not left as a cycle for the collector (idempotent)."""
    if getattr(LRUCache.clear, "unlinks_entries", False):
        return

    def clear(self: LRUCache) -> None:
        for entry in self._cache.values():
            entry.clear()
        self._cache.clear()
        self._full = False
        self._head = []

    clear.unlinks_entries = True  # type: ignore[attr-defined]
    clear.__doc__ = LRUCache.clear.__doc__
    LRUCache.clear = clear  # type: ignore[method-assign]


def uncache_whole_strip_divides() -> None:
    """Make ``textual.strip.Strip.divide`` answer a cut at the strip's own end with a fresh
    ``[self]`` instead of caching it in the strip, a cycle through its own cache
    (idempotent; every other cut is divided and cached as before)."""
    if getattr(Strip.divide, "uncached_whole", False):
        return
    original = Strip.divide

    def divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        length = self.cell_length
        cuts = [cut for cut in cuts if cut <= length]
        if len(cuts) == 1 and cuts[0] == length:
            return [self]
        return original(self, cuts)

    divide.uncached_whole = True  # type: ignore[attr-defined]
    divide.__doc__ = original.__doc__
    Strip.divide = divide  # type: ignore[method-assign]
