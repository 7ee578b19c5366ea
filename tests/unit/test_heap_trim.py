"""Freed heap pages go back to the system now and then, in the TUI and the exporter alike."""

from __future__ import annotations

import threading

from celerytui.heap_trim import HeapTrimmer, trim, trim_in_thread


def test_the_trimmer_trims_at_most_once_an_interval():
    trimmer = HeapTrimmer(interval=30.0)
    for now in (0.0, 10.0, 29.9):
        trimmer.step(now)
    assert trimmer.trims == 1
    trimmer.step(30.0)
    assert trimmer.trims == 2
    assert isinstance(trim(), bool)  # glibc here: malloc_trim was found and ran


def test_the_trim_thread_ends_when_told():
    stop = threading.Event()
    thread = trim_in_thread(stop, interval=0.01)
    assert thread.is_alive() and thread.daemon
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
