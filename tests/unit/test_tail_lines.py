"""`celerytui tail`'s own per-event handling: a bad event that reaches it (past the lanes'
checks, e.g. from another source) is skipped, never raised, and the good ones still show."""

from __future__ import annotations

import json

from celerytui.commands.tail import MalformedNotes, _lines
from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, task_event

BAD = [
    {"type": "task-succeeded", "uuid": ["x"], "local_received": T0},  # unhashable
    {"type": "task-started", "uuid": {"a": 1}, "local_received": T0},
    {"type": "task-failed", "uuid": None, "timestamp": "yesterday"},
    {"type": ["task-sent"], "uuid": "odd-type"},
    "not an event",
    None,
    ["task-started"],
]


def good_and_bad() -> list[dict]:
    return [
        task_event("received", "good-1", T0, name="proj.add", args="(1,)"),
        *BAD,
        task_event("succeeded", "good-1", T0 + 1, runtime=0.5),
        task_event("received", "good-2", T0 + 2, name="proj.div"),
        task_event("failed", "good-2", T0 + 3, exception="ZeroDivisionError('x')"),
    ]


def test_text_lines_skip_the_bad_events():
    state = ClusterState()
    lines = _lines(state, None, good_and_bad(), None, False, False, MalformedNotes())
    assert [line.split()[1:4] for line in lines] == [
        ["RECEIVED", "proj.add", "good-1"],
        ["SUCCESS", "proj.add", "good-1"],
        ["RECEIVED", "proj.div", "good-2"],
        ["FAILURE", "proj.div", "good-2"],
    ]
    assert state.malformed >= 3  # the state counts what it could not apply


def test_json_lines_skip_the_bad_events():
    lines = _lines(ClusterState(), None, good_and_bad(), None, True, True, MalformedNotes())
    records = [json.loads(line) for line in lines]
    assert [(r["uuid"], r["state"]) for r in records] == [("good-2", "FAILURE")]
