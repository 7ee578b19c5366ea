"""The scenarios of celery's own t/unit/events/test_state.py, replayed into ClusterState.

Where the outcome differs from celery's on purpose it says so here and in docs/core-api.md
("Where ClusterState differs from celery's State, on purpose").
"""

from __future__ import annotations

import random
from collections import Counter

from celerytui.core.model import (
    FAILURE,
    PENDING,
    RECEIVED,
    REVOKED,
    STARTED,
    SUCCESS,
    WORKER_LOST,
    WORKER_OFFLINE,
    WORKER_ONLINE,
)
from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, FakeClock


class Replay:
    """Events with timestamps one tenth of a second apart, received as they are stamped."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(self, kind: str, hostname: str = "utest1", **fields: object) -> dict:
        ts = T0 + len(self.events) / 10
        ev = {
            "type": kind,
            "hostname": hostname,
            "timestamp": ts,
            "local_received": ts,
            "clock": len(self.events) + 1,
            "utcoffset": 0,
            "pid": 1,
            **fields,
        }
        self.events.append(ev)
        return ev


def _task_states() -> tuple[Replay, str, str]:
    r = Replay()
    tid, tid2 = "task-one", "task-two"
    r.add(
        "task-received",
        uuid=tid,
        name="task1",
        args="(2, 2)",
        kwargs="{'foo': 'bar'}",
        retries=0,
        eta=None,
    )
    r.add("task-started", uuid=tid)
    r.add("task-revoked", uuid=tid)
    r.add("task-retried", uuid=tid, exception="KeyError('bar')", traceback="line 2 at main")
    r.add("task-failed", uuid=tid, exception="KeyError('foo')", traceback="line 1 at main")
    r.add("task-succeeded", uuid=tid, result="4", runtime=0.1234)
    r.add("foo-bar")
    r.add(
        "task-received",
        uuid=tid2,
        name="task2",
        args="(4, 4)",
        kwargs="{'foo': 'bar'}",
        retries=0,
        eta=None,
        parent_id=tid,
        root_id=tid,
    )
    return r, tid, tid2


def test_task_states_step_by_step():
    r, tid, tid2 = _task_states()
    state = ClusterState(clock=FakeClock())
    seen = []
    for ev in r.events[:6]:
        state.apply([ev])
        task = state.tasks[tid]
        seen.append((task.state, task.timestamp == ev["timestamp"], task.worker))
    # celery shows RETRY at the 4th step: a task-retried after the task was revoked is a
    # stale one (a revoked task does not run again), so we keep REVOKED
    assert seen == [
        (RECEIVED, True, "utest1"),
        (STARTED, True, "utest1"),
        (REVOKED, True, "utest1"),
        (REVOKED, True, "utest1"),
        (FAILURE, True, "utest1"),
        (SUCCESS, True, "utest1"),
    ]
    task = state.tasks[tid]
    assert (task.result, task.runtime) == ("4", 0.1234)
    assert (task.exception, task.traceback) == ("KeyError('foo')", "line 1 at main")
    assert state.workers["utest1"].alive
    ch = state.apply(r.events[6:])  # "foo-bar" is no celery event: counted, nothing breaks
    assert ch.malformed == 1
    child = state.tasks[tid2]
    assert (child.parent_id, child.root_id) == (tid, tid)
    assert state.tasks[tid].children == [tid2]
    assert [node.task.uuid for _, node in state.chain(tid2).walk()] == [tid, tid2]


def test_children_are_linked_when_the_child_comes_first():
    r, tid, tid2 = _task_states()
    events = [r.events[-1], *r.events[:-1]]
    state = ClusterState()
    state.apply(events)
    assert state.tasks[tid].children == [tid2]
    assert state.tasks[tid2].parent_id == tid and state.tasks[tid2].root_id == tid


def test_merge_keeps_the_final_state_and_takes_name_and_args_from_received():
    r = Replay()
    r.add("task-failed", uuid="x", exception="E()")
    r.add("task-started", uuid="x")
    r.add("task-received", uuid="x", name="tasks.add", args="(2, 2)")
    state = ClusterState()
    state.apply(r.events)
    task = state.tasks["x"]
    assert (task.state, task.name, task.args) == (FAILURE, "tasks.add", "(2, 2)")
    # celery then moves it to RETRY on a task-retried; a failed task never retries (celery
    # sends task-failed only when no retry is left), so we keep FAILURE
    state.apply([r.add("task-retried", uuid="x")])
    assert task.state == FAILURE


def _logical_clock_ordering() -> list[dict]:
    r = Replay()
    for kind, uuid, host in [
        ("received", "tA", "w1"),
        ("received", "tB", "w2"),
        ("started", "tA", "w1"),
        ("received", "tC", "w2"),
        ("started", "tB", "w2"),
        ("retried", "tA", "w1"),
        ("succeeded", "tB", "w2"),
        ("started", "tC", "w2"),
        ("received", "tA", "w3"),
        ("succeeded", "tC", "w2"),
        ("started", "tA", "w3"),
        ("succeeded", "tA", "w3"),
    ]:
        r.add(f"task-{kind}", hostname=host, uuid=uuid, name=uuid)
    return r.events


def test_logical_clock_ordering_any_arrival_order_ends_the_same():
    # celery's test checks tasks_by_time over 1,000 shuffled replays; celery's own state of
    # tA in such a replay is RETRY whenever the task-retried arrives after tA's success
    rng = random.Random(5)
    for _ in range(300):
        events = _logical_clock_ordering()
        rng.shuffle(events)
        state = ClusterState()
        state.apply(events)
        got = {u: (t.state, t.worker) for u, t in state.tasks.items()}
        assert got == {"tA": (SUCCESS, "w3"), "tB": (SUCCESS, "w2"), "tC": (SUCCESS, "w2")}


def test_sent_is_pending_and_ready_follows_the_state():
    r = Replay()
    state = ClusterState()
    state.apply([r.add("task-sent", hostname="gen1@client", uuid="x", name="tasks.add")])
    assert state.tasks["x"].state == PENDING and not state.tasks["x"].ready
    state.apply([r.add("task-received", uuid="x"), r.add("task-succeeded", uuid="x")])
    assert state.tasks["x"].ready


def test_worker_online_then_offline():
    r = Replay()
    state = ClusterState(clock=FakeClock())
    state.apply([r.add("worker-online")])
    assert state.workers["utest1"].alive
    state.apply([r.add("worker-offline")])
    assert not state.workers["utest1"].alive
    assert state.workers["utest1"].status == WORKER_OFFLINE


def test_an_old_heartbeat_is_not_alive_a_fresh_one_is():
    clock = FakeClock(T0 + 1_000)
    state = ClusterState(clock=clock)
    old = T0 + 1_000 - 400
    state.apply(
        [
            {
                "type": "worker-heartbeat",
                "hostname": "utest1",
                "timestamp": old,
                "local_received": old,
                "freq": 60,
            }
        ]
    )
    state.tick()
    assert state.workers["utest1"].status == WORKER_LOST
    state.apply(
        [
            {
                "type": "worker-heartbeat",
                "hostname": "utest1",
                "timestamp": clock.now,
                "local_received": clock.now,
                "freq": 60,
            }
        ]
    )
    assert state.workers["utest1"].status == WORKER_ONLINE
    state.apply(
        [
            {
                "type": "worker-heartbeat",
                "hostname": "utest1",
                "timestamp": old,
                "local_received": old,
            }
        ]
    )  # an older one, late: the last heartbeat stays
    assert state.heartbeat_age("utest1") == 0.0


def test_unknown_events_and_an_unknown_worker_leaving_are_survived():
    state = ClusterState()
    ch = state.apply(
        [
            {"type": "worker-unknown-event-xxx", "foo": "bar"},
            {"type": "worker-unknown-event-xxx", "hostname": "xxx", "foo": "bar"},
            {
                "type": "worker-offline",
                "hostname": "unknown@vandelay.com",
                "timestamp": T0,
                "local_received": T0,
                "clock": 301030134894833,
            },
        ]
    )
    assert ch.malformed == 2 and state.workers == {}
    # a custom task event: celery makes its name the task's state; we put it on the
    # timeline and keep the state
    state.apply(
        [
            {
                "type": "task-unknown-event-xxx",
                "foo": "bar",
                "uuid": "x",
                "hostname": "y",
                "timestamp": T0,
                "local_received": T0,
                "clock": 0,
            }
        ]
    )
    task = state.tasks["x"]
    assert task.state == PENDING and task.timeline_pairs() == [(T0, "task-unknown-event-xxx")]
    assert task.worker == "y"


def test_max_tasks_keeps_the_newest():
    state = ClusterState(max_tasks=1)
    for i, uuid in enumerate("xyz"):
        state.apply(
            [
                {
                    "type": "task-unknown-event-xxx",
                    "uuid": uuid,
                    "hostname": "y",
                    "clock": 3 + i,
                    "timestamp": T0 + i,
                    "local_received": T0 + i,
                }
            ]
        )
    assert list(state.tasks) == ["z"]


def test_tasks_by_type_and_by_worker():
    r = Replay()
    for host in ("utest1", "utest2", "utest3"):
        r.add("worker-online", hostname=host)
    for i in range(20):
        r.add(
            "task-received",
            hostname="utest2" if i % 2 == 0 else "utest1",
            name="task2" if i % 2 == 0 else "task1",
            uuid=f"t{i}",
        )
    state = ClusterState(clock=FakeClock(T0 + 2))
    state.apply(r.events)
    stats = state.task_stats()
    assert (stats["task1"].counts[RECEIVED], stats["task2"].counts[RECEIVED]) == (10, 10)
    assert Counter(t.worker for t in state.tasks.values()) == {"utest1": 10, "utest2": 10}
    assert sum(w.alive for w in state.workers.values()) == 3
