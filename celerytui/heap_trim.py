"""Giving freed heap memory back to the system (glibc's ``malloc_trim``), now and then.

A monitor left running frees as much as it allocates (tasks evicted as new ones arrive, a
scrape's text, a redraw's strips), but glibc keeps the freed pages of its heaps as a high-water
mark, and fragmentation makes RSS creep up although what Python holds stays flat
(benchmarks/soak.py ``--census``). ``malloc_trim(0)`` returns the free pages at the top of the
heaps and those inside them (madvise). Elsewhere than glibc it does nothing.

Stdlib only: the TUI (gc_policy) and the exporter both use it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable

TRIM_INTERVAL = 30.0  # seconds between trims: each costs a few milliseconds on a big heap

_trim: Callable[[int], int] | None = None
_looked_up = False
_lock = threading.Lock()


def _malloc_trim() -> Callable[[int], int] | None:
    global _trim, _looked_up
    with _lock:
        if not _looked_up:
            _looked_up = True
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                function = libc.malloc_trim
                function.argtypes = [ctypes.c_size_t]
                function.restype = ctypes.c_int
                _trim = function
            except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
                _trim = None
    return _trim


def trim() -> bool:
    """Return free heap pages to the system; True when something was given back."""
    function = _malloc_trim()
    return bool(function(0)) if function is not None else False


class HeapTrimmer:
    """``step()`` trims at most once every ``interval`` seconds (call it from a busy loop)."""

    def __init__(self, interval: float = TRIM_INTERVAL) -> None:
        self.interval = interval
        self.trims = 0
        self._last: float | None = None

    def step(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        trim()
        self.trims += 1


def trim_in_thread(stop: threading.Event, interval: float = TRIM_INTERVAL) -> threading.Thread:
    """A daemon thread that trims every ``interval`` seconds until ``stop`` is set (for the
    headless commands, which have no loop of their own to step a HeapTrimmer from)."""

    def loop() -> None:
        while not stop.wait(interval):
            trim()

    thread = threading.Thread(target=loop, name="celerytui-heap-trim", daemon=True)
    thread.start()
    return thread
