"""model.new_task, ClusterState's fast way to make a Task, makes exactly the dataclass's."""

from __future__ import annotations

from dataclasses import fields

from celerytui.core.model import NO_CHILDREN, Task, new_task


def test_new_task_is_the_dataclass_task_field_for_field() -> None:
    made, expected = new_task("u-1", 7), Task(uuid="u-1", seq=7, children=NO_CHILDREN)
    assert made == expected
    for f in fields(Task):
        assert getattr(made, f.name) is getattr(expected, f.name) or (
            getattr(made, f.name) == getattr(expected, f.name)
        ), f.name
    assert made.children is NO_CHILDREN and made.seq == 7 and made.state == "PENDING"
