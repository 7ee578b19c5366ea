"""Format 4 of the state snapshots: a delta's runtimes, failures and http histories as
changes since its base, and the task times coded against the other times of their row, all
exact; format 3 (a chain written by the code before) still loads, and a format-4 delta on a
format-3 base too (a recorder restarted on new code writes a full one first, though)."""

from __future__ import annotations

import base64
import json
import math
import uuid
import zlib
from collections import deque
from dataclasses import astuple, fields
from pathlib import Path

import pytest

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.journal.checkpoint_plan import CheckpointPlan
from celerytui.core.model import HttpCheck, Task
from celerytui.core.snapshot_head_changes import (
    apply_ordered,
    apply_window,
    ordered_change,
    window_change,
)
from celerytui.core.snapshot_lazy import reader
from celerytui.core.snapshot_legacy import head_of
from celerytui.core.state import ClusterState

FIELDS = [f.name for f in fields(Task)]
CHAIN3 = Path(__file__).parents[1] / "support" / "data" / "snapshot_format3_chain.json"


def head_of_snapshot(data: bytes) -> dict:
    return head_of(zlib.decompress(data[len(state_snapshot.MAGIC) :]))[0]


def rows(state: ClusterState) -> list[str]:
    return [repr(astuple(t)) for t in state.tasks.values()]


def same_rest(restored: ClusterState, state: ClusterState) -> None:
    assert list(restored.failures) == list(state.failures)
    assert {n: list(s.runtimes) for n, s in restored._stats.items()} == {
        n: list(s.runtimes) for n, s in state._stats.items() if s.runtimes or n in restored._stats
    }
    assert repr(restored.http_checks) == repr(state.http_checks)  # (NaN in them)
    assert restored.workers == state.workers and restored.events_applied == state.events_applied


def test_a_window_change_gives_back_the_window_exactly_wrapped_around_or_not():
    window: deque[float] = deque(maxlen=1000)
    odd = [math.nan, -0.0, 0.0, 1e308, -math.inf, 5e-324]
    window.extend(float(i) for i in range(700))
    for step in (0, 1, 250, 999, 1000, 1500):
        old = list(window)
        window.extend([*odd, *(float(i) / 7 for i in range(step))][: max(step, 1)])
        new = list(window)
        dropped, appended = change = window_change(old, new)
        assert len(appended) == min(len(new), max(step, 1)) or dropped == len(old)
        back = apply_window(old, json.loads(json.dumps(change)))
        assert [repr(v) for v in back] == [repr(v) for v in new]
        assert [math.copysign(1, v) for v in back] == [math.copysign(1, v) for v in new]
    # equal values that are other objects are not taken for the base's: sent whole
    old, new = [0.5, 0.25], [float("0.5"), float("0.25")]
    assert apply_window(old, window_change(old, new)) == new
    assert window_change([], [1.0]) == [0, [1.0]] and window_change([1.0], []) == [1, []]
    with pytest.raises(ValueError, match="past its base"):
        apply_window([1.0], [2, []])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (list("abcdef"), list("cdefgh")),  # the oldest evicted, new ones after
        (list("abcdef"), list("abdefc")),  # c failed again: moved to the end
        (list("abcdef"), list("bdfxa")),  # some gone from the middle, a moved
        ([], list("ab")),
        (list("ab"), []),
        (list("abc"), list("abc")),
        (list("abc"), list("cba")),
    ],
)
def test_an_ordered_change_gives_back_the_failures_exactly(old, new):
    change = json.loads(json.dumps(ordered_change(old, new)))
    assert apply_ordered(old, change) == new


def test_a_chain_of_the_plan_holds_changes_only_and_loads_as_each_moment():
    """Runtimes wrapping their window, failures evicted and retried, an http history past
    its 60: every checkpoint of the plan's chain loads as the state at its moment."""
    live = ClusterState(max_tasks=300, failures_kept=15)
    plan = CheckpointPlan(chain_rows=50.0)
    chain: list[tuple[float, bytes]] = []
    for i, batch in enumerate(generate_events(45_000, batch=300, seed=9, names=0)):
        plan.note_changes(live.apply([dict(e) for e in batch]))
        for k in range(3):  # the http checks' histories, as their results would
            check = live.http_checks.setdefault(f"http://x/{k}", HttpCheck(f"http://x/{k}", "UP"))
            check.history.append((float(i), bool(i % 3), i / 7 if k else math.nan))
        if i % 8 == 7:
            at = batch[-1]["local_received"]
            chain.append((at, state_snapshot.encode(plan.capture(live, at))))
            at_last, restored = state_snapshot.load_chain(chain)
            assert at_last == at and rows(restored) == rows(live)
            same_rest(restored, live)
    assert len(chain) == 18 and all(state_snapshot.is_delta(d) for _, d in chain[1:])
    assert any(len(s.runtimes) == 1000 for s in live._stats.values())  # wrapped around
    head = head_of_snapshot(chain[-1][1])
    assert head["runtimes"] == {} and head["failures"] == [] and "since_base" in head
    assert len(state_snapshot.encode(state_snapshot.capture(live))) > 0
    # a gap: the chain stops before it (its changes are on the lost one)
    at, restored = state_snapshot.load_chain(chain[:5] + chain[6:])
    assert at == chain[4][0]


def test_times_coded_against_their_row_give_back_odd_values_exactly():
    state = ClusterState(max_tasks=400)
    for batch in generate_events(3000, batch=100, seed=5):
        state.apply(batch)
    tasks = list(state.tasks.values())
    t = tasks[0]
    t.succeeded, t.state_ts = 0.0, -0.0  # equal, not the same float
    t = tasks[1]
    t.succeeded = t.state_ts = math.nan  # NaN: always its own
    t = tasks[2]
    t.state_ts, t.started = 1e308, 1e308
    t = tasks[3]
    t.state_ts = None
    t = tasks[4]
    t.timeline = (t.sent or 1.0, "task-received", -0.0, "task-started", 7.0, "task-progress")
    t.started = 0.0
    t = tasks[5]
    t.timeline = (math.nan, "task-sent", 1e-300, "task-failed")
    t.sent, t.failed = math.nan, 1e-300
    t = tasks[6]
    t.received = 3  # an int: that column is JSON, no reference (1 == 1.0)
    t.timeline = (3.0, "task-received")
    data = state_snapshot.dump(state)
    head = head_of_snapshot(data)
    kinds = {f: c[0] for f, c in zip(head["fields"], head["columns"], strict=True)}
    assert kinds["state_ts"] == "r" and kinds["timeline"] == "T" and kinds["received"] == "j"
    restored = state_snapshot.load(data)
    assert rows(restored) == rows(state)
    for got, want in zip(restored.tasks.values(), tasks[:7], strict=False):
        for name in ("state_ts", "succeeded", "started", "sent"):
            a, b = getattr(got, name), getattr(want, name)
            assert a is None if b is None else math.copysign(1, a) == math.copysign(1, b)
        assert repr(got.timeline) == repr(want.timeline)


def test_a_format_3_chain_of_the_code_before_loads_and_a_format_4_delta_goes_on_it():
    saved = json.loads(CHAIN3.read_text())
    chain = [(at, base64.b64decode(data)) for at, data in saved["chain"]]
    assert [d[:4] for _, d in chain] == [b"CTS\x03", b"CTD\x03", b"CTD\x03"]
    live = ClusterState(max_tasks=saved["max_tasks"], failures_kept=saved["failures_kept"])
    n, batch, seed = saved["events"]
    batches = list(generate_events(n, batch=batch, seed=seed))
    for k, (at, _) in enumerate(chain, 1):
        for events in batches[(k - 1) * saved["every"] : k * saved["every"]]:
            live.apply([dict(e) for e in events])
        got_at, restored = state_snapshot.load_chain(chain[:k])
        assert got_at == at and rows(restored) == rows(live)
        same_rest(restored, live)
    # a new recorder starts with a full snapshot: its plan has no base
    assert not state_snapshot.is_delta(state_snapshot.encode(CheckpointPlan().capture(live, 1.0)))
    # and were a format-4 delta written on the format-3 chain, it would load all the same
    restored._failures_kept = live._failures_kept  # (not a part of a snapshot)
    base = state_snapshot.parts(state_snapshot.capture(restored))
    changed: set[str] = set()
    for events in generate_events(2000, batch=100, seed=8, start=chain[-1][0] + 1):
        changed |= restored.apply(events).tasks
        live.apply([dict(e) for e in events])
    delta = state_snapshot.capture(restored, only=changed, base=chain[-1][0], previous=base)
    data = state_snapshot.encode(delta)
    assert data[:4] == state_snapshot.DELTA_MAGIC == b"CTD\x04"
    at, again = state_snapshot.load_chain([*chain, (chain[-1][0] + 5, data)])
    assert at == chain[-1][0] + 5 and rows(again) == rows(live)
    same_rest(again, live)


@pytest.mark.parametrize(
    ("ids", "kind"),
    [
        ([str(uuid.UUID(int=k * 7919 + 1)) for k in range(50)], "h"),
        ([str(uuid.uuid4()) for _ in range(49)] + ["a-custom-task-id"], "s"),
        ([str(uuid.uuid4()).upper() for _ in range(5)], "s"),  # not canonical: as written
        ([" " + str(uuid.uuid4())[1:] for _ in range(5)], "s"),  # fromhex skips spaces
        ([str(uuid.uuid4()).replace("-", "x") for _ in range(5)], "s"),
        ([str(uuid.uuid4()).replace("-", "") + "-" * 4 for _ in range(5)], "s"),
    ],
)
def test_uuids_are_16_bytes_when_every_one_is_canonical_and_exact_either_way(ids, kind):
    state = ClusterState(max_tasks=100)
    for k, task_id in enumerate(ids):
        state.apply(
            [
                {
                    "type": "task-sent",
                    "uuid": task_id,
                    "timestamp": 1.7e9 + k,
                    "local_received": 1.7e9 + k,
                    "name": "t",
                }
            ]
        )
    data = state_snapshot.dump(state)
    assert head_of_snapshot(data)["columns"][0][0] == kind
    restored = state_snapshot.load(data)
    assert list(restored.tasks) == ids and rows(restored) == rows(state)


def test_a_time_column_that_would_read_itself_is_a_clear_error():
    """A damaged head whose event-time field is coded against the event times (itself)."""
    sent = FIELDS.index("sent")

    class Damaged:
        count = 1

        def __getitem__(self, field: int) -> list:
            raise AssertionError("not decoded whole")

        def packed(self, field: int) -> tuple[list, list]:
            return ["r", [0, [sent]], 1, 0, 8], [
                memoryview(b"\x01"),
                memoryview(b""),
                memoryview(bytes(8)),
            ]

    with pytest.raises(ValueError, match="bad time column"):
        reader(Damaged(), sent)
