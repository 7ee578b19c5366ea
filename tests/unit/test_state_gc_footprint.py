"""What ClusterState keeps per task stays cheap for the garbage collector: a full pass over
100k kept tasks walks each tracked object, and that was a third of ingest time
(benchmarks/ingest.py). A task is one tracked object: its timeline is a tuple the collector
untracks, and a task with no children shares the one empty NO_CHILDREN list. And an event
leaves no new object for the collector to count: each one kept brings the next young
collection nearer (and, ten of those later, a pass over the middle generation, and now and
then a full one); a (time, kind) pair per event on the timeline made most of them."""

from __future__ import annotations

import gc

import pytest

from benchmarks.synthetic import generate_events
from celerytui.core.model import NO_CHILDREN
from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, received, sent, succeeded, task_event


def test_a_kept_task_is_one_object_for_the_collector_and_children_get_their_own_list():
    state = ClusterState()
    state.apply(
        [
            sent("a", T0),
            received("a", T0 + 0.1),
            task_event("started", "a", T0 + 0.2),
            succeeded("a", T0 + 0.3, runtime=0.1),
            received("b", T0 + 0.4, root_id="a", parent_id="a"),
            received("c", T0 + 0.5, root_id="a", parent_id="a"),
        ]
    )
    gc.collect()
    gc.collect()  # a tuple is untracked once its items are: the outer one may need a 2nd pass
    a, b = state.tasks["a"], state.tasks["b"]
    assert [kind for _, kind in a.timeline_pairs()] == [
        "task-sent",
        "task-received",
        "task-started",
        "task-succeeded",
    ]
    assert a.timeline[:4] == (T0, "task-sent", T0 + 0.1, "task-received")  # flat
    assert not gc.is_tracked(a.timeline) and not gc.is_tracked(b.timeline)
    assert b.children == [] and b.children is NO_CHILDREN  # no child: the shared list
    assert a.children == ["b", "c"] and a.children is not NO_CHILDREN
    assert state.chain("c").task.uuid == "a"  # the links still make the tree


def test_a_busy_stream_leaves_the_collector_few_objects_per_event():
    """The collector's young count (objects made, less those freed) paces its collections.
    Through a busy stream it grows by what stays: a Task, its timeline (one tuple, replaced
    at each event) and now and then a chain's list: ~0.55 an event (a task gets ~4.5). A
    (time, kind) pair per event on the timeline made it ~1.55."""
    state = ClusterState()
    batches = list(generate_events(40_000, workers=8, seed=1))
    gc.disable()  # no collection: the count is all that was kept
    try:
        for batch in batches[:200]:  # the workers, label sets and CPython's free lists settle
            state.apply(batch)
        before, events = gc.get_count()[0], 0
        for batch in batches[200:]:
            state.apply(batch)
            events += len(batch)
        per_event = (gc.get_count()[0] - before) / events
    finally:
        gc.enable()
    assert len(state.tasks) > 8_000 and state.events_applied == 40_000
    assert per_event < 0.75, f"{per_event:.2f} objects counted an event"


def test_the_shared_empty_children_list_refuses_to_grow():
    for grow in (
        lambda: NO_CHILDREN.append("x"),
        lambda: NO_CHILDREN.extend(["x"]),
        lambda: NO_CHILDREN.insert(0, "x"),
    ):
        with pytest.raises(TypeError):
            grow()
    assert NO_CHILDREN == []
