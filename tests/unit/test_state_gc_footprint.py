"""What ClusterState keeps per task stays cheap for the garbage collector: a full pass over
100k kept tasks walks each tracked object, and that was a third of ingest time
(benchmarks/ingest.py). A task is one tracked object: its timeline is a tuple the collector
untracks, and a task with no children shares the one empty NO_CHILDREN list."""

from __future__ import annotations

import gc

import pytest

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
    assert [kind for _, kind in a.timeline] == [
        "task-sent",
        "task-received",
        "task-started",
        "task-succeeded",
    ]
    assert not gc.is_tracked(a.timeline) and not gc.is_tracked(b.timeline)
    assert b.children == [] and b.children is NO_CHILDREN  # no child: the shared list
    assert a.children == ["b", "c"] and a.children is not NO_CHILDREN
    assert state.chain("c").task.uuid == "a"  # the links still make the tree


def test_the_shared_empty_children_list_refuses_to_grow():
    for grow in (
        lambda: NO_CHILDREN.append("x"),
        lambda: NO_CHILDREN.extend(["x"]),
        lambda: NO_CHILDREN.insert(0, "x"),
    ):
        with pytest.raises(TypeError):
            grow()
    assert NO_CHILDREN == []
