"""The TUI's garbage-collection policy: what is frozen to spare the UI a full GC pass still gets
freed once it becomes garbage, so a monitor left open for days keeps its memory."""

from __future__ import annotations

import gc
import weakref

import pytest
from rich.segment import Segment
from textual.cache import LRUCache
from textual.strip import Strip

from celerytui.gc_policy import (
    OLDEST_OFF,
    GcPolicy,
    uncache_whole_strip_divides,
    unlink_cleared_lru_caches,
)


class Cyclic:
    """Garbage only the cyclic collector can free: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


class WatchedStrip(Strip):
    """A Strip that a weak reference can watch (Strip itself has slots, no __weakref__)."""


class Value:
    """A cached value (refcounting frees it as soon as nothing holds it)."""


@pytest.fixture
def collector_restored():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.enable()
    gc.set_threshold(*thresholds)


def test_garbage_frozen_while_alive_is_freed_once_the_frozen_heap_has_grown(collector_restored):
    policy = GcPolicy(interval=10.0, growth=0.25)
    node = Cyclic()
    alive = weakref.ref(node)
    policy.step(now=0.0)  # collect, freeze: node is frozen while still in use
    del node
    policy.step(now=5.0)  # too soon: nothing happens
    policy.step(now=10.0)
    gc.collect()
    assert alive() is not None  # frozen: no ordinary collection can free it
    assert policy.full_passes == 0
    ballast = [Cyclic() for _ in range(gc.get_freeze_count() // 3)]  # the heap grows by 1/3
    policy.step(now=20.0)  # ballast frozen
    policy.step(now=30.0)  # grown by more than 25% since the first freeze: a full pass
    assert policy.full_passes == 1
    assert alive() is None
    del ballast


def test_a_cleared_lru_cache_frees_its_values_without_the_collector(collector_restored):
    unlink_cleared_lru_caches()
    unlink_cleared_lru_caches()  # installing twice changes nothing
    cache: LRUCache[str, Value] = LRUCache(4)
    value = Value()
    freed = weakref.ref(value)
    cache.set("row-1", value)
    cache.set("row-2", Value())
    cache.get("row-1")  # reorders the ring
    del value
    gc.disable()  # what a frozen heap amounts to: no cyclic collection
    cache.clear()
    assert freed() is None  # refcounting alone freed it: the ring is gone
    assert len(cache) == 0 and cache.get("row-1") is None
    cache.set("row-3", Value())  # the cache still works after a clear
    assert isinstance(cache.get("row-3"), Value) and len(cache) == 1


def test_the_policy_holds_the_oldest_generation_only_while_it_runs(collector_restored):
    young, middle, oldest = gc.get_threshold()
    policy = GcPolicy(interval=10.0)
    policy.step(now=0.0)
    # CPython still collects the young generations, never the oldest: the policy does
    assert gc.get_threshold() == (young, middle, OLDEST_OFF)
    policy.release()
    assert gc.get_threshold() == (young, middle, oldest)
    policy.release()  # twice changes nothing
    assert gc.get_threshold() == (young, middle, oldest)


def test_a_strip_divided_at_its_end_is_freed_without_the_collector(collector_restored):
    uncache_whole_strip_divides()
    uncache_whole_strip_divides()  # installing twice changes nothing
    strip = WatchedStrip([Segment("hb "), Segment("3s ago")])
    assert strip.divide([9]) == [strip]  # the compositor's cut at a line's own end
    halves = strip.divide([3, 9])  # any other cut is divided (and cached) as before
    assert [half.text for half in halves] == ["hb ", "3s ago"]
    assert strip.divide([3, 9]) is halves
    freed = weakref.ref(strip)
    gc.disable()  # what a frozen heap amounts to: no cyclic collection
    del strip, halves
    assert freed() is None  # refcounting alone freed it: no cycle through its own cache
