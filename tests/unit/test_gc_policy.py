"""The TUI's garbage-collection policy: what is frozen to spare the UI a full GC pass still gets
freed once it becomes garbage, so a monitor left open for days keeps its memory."""

from __future__ import annotations

import gc
import weakref

import pytest
from textual.cache import LRUCache

from celerytui.gc_policy import GcPolicy, unlink_cleared_lru_caches


class Cyclic:
    """Garbage only the cyclic collector can free: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


class Value:
    """A cached value (refcounting frees it as soon as nothing holds it)."""


@pytest.fixture
def collector_restored():
    yield
    gc.unfreeze()
    gc.enable()


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
