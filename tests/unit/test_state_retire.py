"""A state a seek replaced is freed by refcounting, a slice of its tasks at a time
(core/state_retire.py): not left to the collector, never more than ``keep`` waiting."""

from __future__ import annotations

import gc
import weakref

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.snapshot_lazy import LazyTask
from celerytui.core.state import ClusterState
from celerytui.core.state_retire import RetiredStates


def _state(max_tasks: int = 500) -> ClusterState:
    state = ClusterState(max_tasks=max_tasks)
    for batch in generate_events(4_000, batch=100, seed=3):
        state.apply(batch)
    return state


def test_a_retired_state_goes_in_slices_without_the_collector() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        state = _state()
        assert len(state.tasks) == 500
        gone = weakref.ref(state)
        retired = RetiredStates()
        retired.add(state)
        del state
        assert gone() is not None and len(retired) == 1  # nothing freed yet
        slices = 0
        while retired.free_some(200):
            slices += 1
            if gone() is not None:
                assert len(gone().tasks) == 500 - 200 * slices  # type: ignore[union-attr]
        assert slices == 3 and gone() is None and not len(retired)
        assert not retired.free_some(200)
    finally:
        if was_enabled:
            gc.enable()


def test_a_restored_state_and_its_lazy_tasks_go_by_refcounting() -> None:
    was_enabled = gc.isenabled()
    gc.collect()  # lazy tasks earlier tests left to the collector are not this state's
    gc.disable()
    try:
        before = _lazy_tasks()
        restored = state_snapshot.load(state_snapshot.dump(_state()))
        state_snapshot.fill_some(restored, 100)  # some made whole, the rest still lazy
        gone = weakref.ref(restored)
        assert _lazy_tasks() - before == 400
        retired = RetiredStates()
        retired.add(restored)
        del restored
        while retired.free_some(10_000):
            pass
        assert gone() is None and _lazy_tasks() == before  # the tasks went too, lazy or not
    finally:
        if was_enabled:
            gc.enable()


def _lazy_tasks() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, LazyTask))


def test_past_keep_the_oldest_is_freed_at_once() -> None:
    retired = RetiredStates(keep=2)
    states = [_state(50) for _ in range(3)]
    refs = [weakref.ref(s) for s in states]
    for state in states:
        retired.add(state)
    del state, states
    assert len(retired) == 2
    assert refs[0]() is None and refs[1]() is not None and refs[2]() is not None
