"""Restored tasks made whole when first used (core/snapshot_lazy.py): a task a seek left lazy
reads, compares and prints as the task it was; a write before any read is kept; the
background fill leaves only plain Tasks; and the row readers give, field by field, what a
whole decode gives (so a change to a column's encoding cannot make them drift apart)."""

from __future__ import annotations

import math
import threading
from dataclasses import astuple, fields

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.model import Task
from celerytui.core.snapshot_lazy import PRESET, LazyTask, reader
from celerytui.core.state import ClusterState

FIELDS = [f.name for f in fields(Task)]


def _state(n: int = 3000, max_tasks: int = 400) -> ClusterState:
    state = ClusterState(max_tasks=max_tasks)
    for batch in generate_events(n, batch=100, seed=4):
        state.apply(batch)
    tasks = list(state.tasks.values())
    tasks[0].args = "nul \x00 inside, and a lone surrogate \udcff"
    tasks[1].runtime = math.nan
    tasks[2].started = -0.0
    tasks[3].result_full = {"nested": [1, 2.5, None]}
    return state


def test_a_lazy_task_reads_compares_and_prints_as_the_task_it_was() -> None:
    state = _state()
    restored = state_snapshot.load(state_snapshot.dump(state))
    lazy = list(restored.tasks.values())
    assert all(isinstance(t, LazyTask) for t in lazy)  # nothing made whole yet
    first = lazy[0]
    assert first.uuid == next(iter(state.tasks)) and first.__class__ is not Task  # presets
    assert first.args == state.tasks[first.uuid].args  # a read makes it whole
    assert first.__class__ is Task
    second, original = lazy[4], state.tasks[lazy[4].uuid]  # (1 holds a NaN: never ==)
    assert second == original and second.__class__ is Task  # == too
    third = lazy[2]
    assert repr(third) == repr(state.tasks[third.uuid])
    assert [repr(astuple(t)) for t in restored.tasks.values()] == [
        repr(astuple(t)) for t in state.tasks.values()
    ]


def test_a_write_before_any_read_is_kept_and_the_rest_filled_in() -> None:
    state = _state()
    restored = state_snapshot.load(state_snapshot.dump(state))
    uuid = list(restored.tasks)[5]
    task = restored.tasks[uuid]
    task.exception = "written first"  # a write makes it whole, then lands
    assert task.__class__ is Task and task.exception == "written first"
    expected = state.tasks[uuid]
    for name in FIELDS:
        if name != "exception":
            assert repr(getattr(task, name)) == repr(getattr(expected, name)), name


def test_the_background_fill_leaves_plain_tasks_that_play_on_alike() -> None:
    state = _state()
    restored = state_snapshot.load(state_snapshot.dump(state))
    rounds = 0
    while state_snapshot.fill_some(restored, 150):  # a slice at a time, as the pump does
        rounds += 1
    assert rounds >= 2
    assert all(t.__class__ is Task for t in restored.tasks.values())
    assert not state_snapshot.fill_some(restored, 150)
    more = list(generate_events(1500, batch=100, seed=8, start=1_767_300_000.0))
    for batch in more:
        state.apply([dict(e) for e in batch])
        restored.apply(batch)
    assert restored.tasks == state.tasks
    assert restored.counts_by_state() == state.counts_by_state()


def test_threads_that_touch_one_lazy_task_fill_it_once_and_alike() -> None:
    state = _state()
    restored = state_snapshot.load(state_snapshot.dump(state))
    tasks = list(restored.tasks.values())
    seen: list[list[str]] = [[], []]

    def read(out: list[str]) -> None:
        for task in tasks:
            out.append(repr(task))

    threads = [threading.Thread(target=read, args=(out,)) for out in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = [repr(t) for t in state.tasks.values()]
    assert seen == [expected, expected]


def test_the_row_readers_give_what_a_whole_decode_gives() -> None:
    """Every field of every row, of a full snapshot and of a delta: each reader against
    the column decoded whole (state_snapshot's own decode)."""
    state = _state(max_tasks=600)
    full = state_snapshot.dump(state)
    changed = set(state.apply(next(generate_events(300, seed=9, start=1_767_400_000.0))).tasks)
    delta = state_snapshot.encode(state_snapshot.capture(state, only=changed, base=1.0))
    for data in (full, delta):
        _, columns = state_snapshot._decode(data)
        rows = list(range(columns.count))
        some = rows[1::3]
        for field, name in enumerate(FIELDS):
            if name in PRESET:
                continue
            many = reader(columns, field)
            _, whole = state_snapshot._decode(data)  # a fresh copy: decoded whole
            values = list(whole[field])
            assert repr(list(many(rows))) == repr(values), name
            assert repr(list(many(some))) == repr([values[r] for r in some]), name
