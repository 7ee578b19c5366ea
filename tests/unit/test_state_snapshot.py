"""State snapshots (the journal's checkpoints): checkpoints written by an older celerytui
(formats 1 and 2) still load, format 3 gives back every task field exactly, odd values too,
and a chain of deltas loads as the state at its last, stopping at a gap."""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections import Counter
from dataclasses import astuple, fields
from pathlib import Path

import pytest

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.model import Task
from celerytui.core.snapshot_legacy import head_of
from celerytui.core.state import ClusterState

FIELDS = [f.name for f in fields(Task)]
FORMAT1 = Path(__file__).parents[1] / "support" / "data" / "snapshot_format1.zlib"
# written by format 2's writer (celerytui before format 3): 300 tasks, odd values in the
# first ten (as in the format-3 test below); the digest is of their reprs, as written
FORMAT2 = Path(__file__).parents[1] / "support" / "data" / "snapshot_format2.bin"
FORMAT2_DIGEST = "dd9a0e5f2fc381845d70c06697c0f639e0deb7e9388efad72b6966958cac265a"
# written by format 3's writer while Task.timeline was a tuple of (time, kind) pairs (it is
# flat now; the bytes stay): 300 tasks, odd values in the first ten; one with the timelines
# packed, one with them as JSON (an int time, a kind holding NUL); digests as for format 2
FORMAT3_PAIRS = {
    "packed": "87144a3020cb5bb91038199ab05ac2d1e6606c39e76d9656a4dd885b4413bc8b",
    "json": "632682f3b2f6339c788cc38899c2eb346bd528d32339b419ef874f1ed8a9f806",
}
DATA = Path(__file__).parents[1] / "support" / "data"


def as_written(task: Task) -> tuple:
    """The task's fields as a writer of (time, kind) pairs held them."""
    row = list(astuple(task))
    row[FIELDS.index("timeline")] = tuple(task.timeline_pairs())
    return tuple(row)


def test_a_format_1_checkpoint_still_loads_and_plays_on():
    data = FORMAT1.read_bytes()  # written by celerytui's first snapshot format (400 tasks)
    saved = json.loads(zlib.decompress(data))
    restored = state_snapshot.load(data)
    assert saved["format"] == 1 and len(restored.tasks) == len(saved["tasks"]) == 400
    timeline, children = FIELDS.index("timeline"), FIELDS.index("children")
    for row, task in zip(saved["tasks"], restored.tasks.values(), strict=True):
        row[timeline] = tuple(item for pair in row[timeline] for item in pair)  # flat
        row[children] = [c for c in row[children] if c in restored.tasks]  # those kept
        assert list(astuple(task)) == row
    by_state = {state: n for state, n in restored.counts_by_state().items() if n}
    assert by_state == Counter(row[FIELDS.index("state")] for row in saved["tasks"])
    assert sorted(restored.workers) == sorted(w[0] for w in saved["workers"])
    assert list(restored.failures) == saved["failures"]  # may name evicted tasks
    assert restored.events_applied == saved["events_applied"]
    # a format-2 copy of it is the same state, and both go on from there alike
    again = state_snapshot.load(state_snapshot.dump(restored))
    assert again.tasks == restored.tasks and again.workers == restored.workers
    more = list(generate_events(2000, batch=200, seed=6))
    for batch in more:
        restored.apply([dict(e) for e in batch])
        again.apply(batch)
    assert again.tasks == restored.tasks
    assert again.counts_by_state() == restored.counts_by_state()


def test_a_format_2_checkpoint_still_loads_exactly():
    restored = state_snapshot.load(FORMAT2.read_bytes())
    tasks = list(restored.tasks.values())
    reprs = "\n".join(repr(as_written(t)) for t in tasks).encode("utf-8", "surrogatepass")
    assert len(tasks) == 300 and hashlib.sha256(reprs).hexdigest() == FORMAT2_DIGEST
    assert tasks[0].args == "nul \x00 inside, and a lone surrogate \udcff"
    assert tasks[3].retries == 2**70 and tasks[4].result_full == {"nested": [1, 2.5, None]}
    assert tasks[8].timeline == (1.5, "task-sent", 2.0, "weird\x00kind")
    assert tasks[8].timeline_pairs() == [(1.5, "task-sent"), (2.0, "weird\x00kind")]
    again = state_snapshot.load(state_snapshot.dump(restored))  # into format 3 and back
    assert [repr(astuple(t)) for t in again.tasks.values()] == [repr(astuple(t)) for t in tasks]
    assert again.counts_by_state() == restored.counts_by_state()


@pytest.mark.parametrize("timelines", ["packed", "json"])
def test_a_format_3_checkpoint_of_paired_timelines_loads_exactly_and_is_written_again(timelines):
    """Task.timeline was a tuple of (time, kind) pairs when format 3 began; it is flat now
    and the bytes stayed: such a checkpoint loads exactly, and written again (format 4,
    its times coded against each other) it loads as the same tasks."""
    data = (DATA / f"snapshot_format3_{timelines}.bin").read_bytes()
    restored = state_snapshot.load(data)
    tasks = list(restored.tasks.values())
    reprs = "\n".join(repr(as_written(t)) for t in tasks).encode("utf-8", "surrogatepass")
    assert len(tasks) == 300 and hashlib.sha256(reprs).hexdigest() == FORMAT3_PAIRS[timelines]
    kind = "weird \udcff kind" if timelines == "packed" else "weird\x00kind"
    assert tasks[8].timeline_pairs() == [
        (1.5 if timelines == "packed" else 1, "task-sent"),
        (2.0, kind),
    ]
    assert all(t.timeline.__class__ is tuple and len(t.timeline) % 2 == 0 for t in tasks)
    written = _head_and_columns(data)
    column = {"packed": "t", "json": "j"}[timelines]
    assert written[0]["format"] == 3 and data[:4] == state_snapshot.MAGIC_3
    assert written[0]["columns"][FIELDS.index("timeline")][0] == column
    again = state_snapshot.dump(restored)
    assert again[:4] == state_snapshot.MAGIC == b"CTS\x04"
    column = {"packed": "T", "json": "j"}[timelines]
    assert _head_and_columns(again)[0]["columns"][FIELDS.index("timeline")][0] == column
    reloaded = list(state_snapshot.load(again).tasks.values())
    assert [repr(astuple(t)) for t in reloaded] == [repr(astuple(t)) for t in tasks]


def _head_and_columns(data: bytes) -> tuple[dict, bytes]:
    head, blobs = head_of(zlib.decompress(data[len(state_snapshot.MAGIC) :]))
    return head, bytes(blobs)


def test_format_3_gives_back_odd_values_exactly():
    state = ClusterState(max_tasks=50)
    for batch in generate_events(600, batch=100, seed=2):
        state.apply(batch)
    tasks = list(state.tasks.values())
    tasks[0].args = "nul \x00 inside, and a lone surrogate \udcff"
    tasks[1].runtime = math.nan
    tasks[2].started = -0.0
    tasks[3].retries = 2**70  # past 64 bits: kept as JSON
    tasks[4].result_full = {"nested": [1, 2.5, None]}
    tasks[4].result_is_full = True
    tasks[5].parent_id = "not-kept-anymore"
    tasks[6].root_id = tasks[7].uuid
    tasks[8].timeline = (1.5, "task-sent", 2.0, "weird\x00kind")  # kept as JSON
    tasks[9].exception = "[bold]literal[/] \x1b]8;;http://x\x07"
    restored = state_snapshot.load(state_snapshot.dump(state))
    assert state_snapshot.dump(state)[:4] == state_snapshot.MAGIC
    assert [repr(astuple(t)) for t in restored.tasks.values()] == [repr(astuple(t)) for t in tasks]
    assert restored.tasks[tasks[8].uuid].timeline.__class__ is tuple  # not JSON's list
    assert math.copysign(1, restored.tasks[tasks[2].uuid].started) == -1
    smaller = state_snapshot.load(state_snapshot.dump(state), max_tasks=10)
    assert list(smaller.tasks) == list(state.tasks)[-10:]  # the newest kept
    empty = state_snapshot.load(state_snapshot.dump(ClusterState(max_tasks=5)))
    assert not empty.tasks and empty.max_tasks == 5


def test_a_chain_gives_back_odd_values_of_the_tasks_it_keeps_exactly():
    """A seek decodes only the rows a chain keeps: every kind of column, odd values too,
    from a full snapshot whose tasks a delta partly replaced."""
    state = ClusterState(max_tasks=1000)  # nothing evicted (the chain test above evicts)
    batches = list(generate_events(1200, batch=100, seed=3))
    for batch in batches[:6]:
        state.apply(batch)
    tasks = list(state.tasks.values())
    tasks[0].args = "nul \x00 inside, and a lone surrogate \udcff"
    tasks[1].runtime = math.nan
    tasks[3].retries = 2**70  # past 64 bits: JSON
    tasks[4].result_full = {"nested": [1, 2.5, None]}
    tasks[5].parent_id = "not-kept-anymore"
    tasks[8].timeline = (1.5, "task-sent", 2.0, "weird\x00kind")  # a JSON timeline
    for task in tasks[10:40]:  # mostly None: the values' positions only
        task.eta = 5.0 if task.seq % 3 else None
    full = state_snapshot.dump(state)
    at0 = batches[5][-1]["local_received"]
    changed = set(state.apply(batches[6]).tasks)
    tasks = list(state.tasks.values())
    tasks[2].started = -0.0
    tasks[7].exception = "changed after the full one"
    changed |= {tasks[2].uuid, tasks[7].uuid}
    delta = state_snapshot.encode(state_snapshot.capture(state, only=changed, base=at0))
    at1 = batches[6][-1]["local_received"]
    assert 0 < len(changed & set(state.tasks)) < len(state.tasks) / 2
    for max_tasks in (None, 25):
        at, restored = state_snapshot.load_chain([(at0, full), (at1, delta)], max_tasks)
        kept = tasks[-(max_tasks or len(tasks)) :]
        assert at == at1
        assert [repr(astuple(t)) for t in restored.tasks.values()] == [
            repr(astuple(t)) for t in kept
        ]


def test_a_damaged_or_foreign_snapshot_is_one_clear_error():
    good = state_snapshot.dump(ClusterState(max_tasks=5))
    with pytest.raises(ValueError, match="known format"):
        state_snapshot.load(zlib.compress(b'{"format": 99}'))
    state = ClusterState(max_tasks=5)
    state.tasks["u"] = Task(uuid="u", name="n")
    data = zlib.decompress(state_snapshot.dump(state)[4:])
    with pytest.raises(ValueError, match="state snapshot"):
        state_snapshot.load(state_snapshot.MAGIC + zlib.compress(data[:-3]))
    assert state_snapshot.load(good).max_tasks == 5


def test_a_workers_clock_offset_survives_a_checkpoint():
    state = ClusterState()
    for n in range(3):  # a worker 42 s ahead of the monitor, 0.1-0.3 s in transit
        state.apply(
            [
                {
                    "type": "worker-heartbeat",
                    "hostname": "celery@ahead",
                    "timestamp": 1_800_000_042.0 + n,
                    "local_received": 1_800_000_000.1 + n * 1.1,
                    "freq": 2.0,
                }
            ]
        )
    offset = state.workers["celery@ahead"].clock_offset
    assert offset == pytest.approx(-41.9)
    restored = state_snapshot.load(state_snapshot.dump(state))
    assert restored.workers["celery@ahead"].clock_offset == offset
    assert restored.workers == state.workers


def test_a_chain_of_deltas_loads_as_its_last_state_and_stops_at_a_gap():
    batches = list(generate_events(6000, batch=100, seed=4))
    live = ClusterState(max_tasks=400)  # evicts: deltas must drop what the live state dropped
    changed: set[str] = set()
    chain, states, rows, base = [], [], [], None
    for i, batch in enumerate(batches):
        changed |= live.apply([dict(e) for e in batch]).tasks
        if i % 2 == 1:
            at = batch[-1]["local_received"]
            if base is None:
                captured = state_snapshot.capture(live)
            else:
                parents = {live.tasks[u].parent_id for u in changed if u in live.tasks}
                captured = state_snapshot.capture(live, only=changed | parents, base=base)
            chain.append((at, state_snapshot.encode(captured)))
            states.append(state_snapshot.dump(live))
            rows.append(len(captured["tasks"]))
            changed, base = set(), at
    assert len(live.tasks) == 400  # some were evicted on the way
    assert state_snapshot.is_delta(chain[1][1]) and not state_snapshot.is_delta(chain[0][1])
    assert max(rows[1:]) < len(live.tasks) / 2  # a delta holds the changed tasks only
    for k in (1, 2, len(chain)):
        at, restored = state_snapshot.load_chain(chain[:k])
        assert at == chain[k - 1][0]
        expected = state_snapshot.load(states[k - 1])
        assert [repr(astuple(t)) for t in restored.tasks.values()] == [
            repr(astuple(t)) for t in expected.tasks.values()
        ]
        assert restored.counts_by_state() == expected.counts_by_state()
        assert restored.workers == expected.workers and restored.failures == expected.failures
    # a checkpoint lost on the way (a failed write): the chain ends before it
    at, restored = state_snapshot.load_chain(chain[:4] + chain[5:])
    assert at == chain[3][0] and list(restored.tasks) == list(state_snapshot.load(states[3]).tasks)
    with pytest.raises(ValueError, match="needs the checkpoints before it"):
        state_snapshot.load(chain[1][1])
    with pytest.raises(ValueError, match="starts with a full one"):
        state_snapshot.load_chain(chain[1:])
    # the deltas inflate on a thread of their own: a damaged one raises here all the same
    damaged = (chain[2][0], state_snapshot.DELTA_MAGIC + b"not zlib at all")
    with pytest.raises(zlib.error):
        state_snapshot.load_chain([*chain[:2], damaged, *chain[3:]])
    assert state_snapshot.load_chain(chain)[0] == chain[-1][0]  # (and loads after it)
