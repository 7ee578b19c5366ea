"""Malformed input never raises out of ClusterState: it is counted, skipped, and the state stays
consistent (hypothesis throws garbage and plausible-but-wrong events at it)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celerytui.core.model import ALL_STATES, TIMELINE_MAX
from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, FakeClock, received, succeeded

TYPES = [
    "task-sent",
    "task-received",
    "task-started",
    "task-succeeded",
    "task-failed",
    "task-retried",
    "task-revoked",
    "task-rejected",
    "worker-heartbeat",
    "worker-online",
    "worker-offline",
    "task-progress",
    "worker-weird",
    "bogus",
    "",
]
FIELDS = [
    "uuid",
    "hostname",
    "timestamp",
    "local_received",
    "name",
    "args",
    "kwargs",
    "result",
    "runtime",
    "exception",
    "traceback",
    "retries",
    "root_id",
    "parent_id",
    "queue",
    "routing_key",
    "exchange",
    "freq",
    "active",
    "processed",
    "loadavg",
    "pid",
    "eta",
    "expires",
    "sw_ident",
    "expired",
    "terminated",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=30),
    st.sampled_from(["u1", "u2", "u3", "celery@w1", "celery@w2", "proj.check_http_endpoint"]),
    st.floats(min_value=T0, max_value=T0 + 100),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=6,
)
plausible = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(TYPES), anything)},
    optional={key: anything for key in FIELDS},
)
uuids = st.sampled_from(["a", "b", "c", "d", "e", "f"])
valid = st.builds(
    lambda kind, uuid, dt, name, root: {
        "type": kind,
        "uuid": uuid,
        "hostname": "celery@w1",
        "timestamp": T0 + dt,
        "local_received": T0 + dt,
        "name": name,
        "args": "()",
        "kwargs": "{}",
        "root_id": root,
        "parent_id": root,
        "result": "1",
        "runtime": dt / 10,
        "exception": "E()",
        "retries": 1,
    },
    st.sampled_from(TYPES[:8]),
    uuids,
    st.floats(0, 50),
    st.sampled_from(["n1", "n2"]),
    uuids,
)
items = st.one_of(valid, valid, plausible, anything)
batches = st.lists(st.one_of(items, st.lists(items, max_size=3)), max_size=25)


def leaves(batch: list) -> int:
    return sum(len(item) if isinstance(item, list) else 1 for item in batch)


def assert_consistent(state: ClusterState) -> None:
    assert len(state.tasks) <= state.max_tasks
    assert len(state.workers) <= state.max_workers
    by_state = state.counts_by_state()
    assert all(n >= 0 for n in by_state.values())
    assert sum(by_state.values()) == len(state.tasks)
    named = [t for t in state.tasks.values() if t.name is not None]
    assert sum(s.total for s in state.task_stats().values()) == len(named)
    for task in state.tasks.values():
        assert task.state in ALL_STATES
        assert len(task.timeline_pairs()) <= TIMELINE_MAX and len(task.timeline) % 2 == 0
        for text in (
            task.name,
            task.args,
            task.kwargs,
            task.result,
            task.exception,
            task.worker,
            task.root_id,
            task.parent_id,
            task.queue,
        ):
            assert text is None or isinstance(text, str)
        for when in (task.sent, task.received, task.started, task.succeeded, task.failed):
            assert when is None or math.isfinite(when)
    for worker in state.workers.values():
        assert isinstance(worker.hostname, str) and worker.freq > 0
    assert all(v > 0 for v in state.counters.values())
    assert len(set(state.failures)) == len(state.failures)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(batches, min_size=1, max_size=4))
def test_random_valid_and_invalid_batches_never_raise_and_keep_invariants(batch_list):
    state = ClusterState(max_tasks=4, max_workers=3, clock=FakeClock())
    total = 0
    for batch in batch_list:
        ch = state.apply(batch)
        assert ch.events + ch.malformed == leaves(batch)
        assert ch.tasks <= set(state.tasks)
        total += leaves(batch)
        assert_consistent(state)
        tick = state.tick(T0 + 1_000)
        assert set(tick.workers_lost) <= set(state.workers)
    assert state.events_applied + state.malformed == total
    for uuid in state.tasks:
        state.chain(uuid)  # any links, even loops, draw
    state.throughput(60)
    state.task_stats()


@settings(max_examples=200, deadline=None)
@given(anything)
def test_pure_garbage_is_counted_as_malformed(garbage):
    state = ClusterState()
    ch = state.apply([garbage])
    if not isinstance(garbage, list):
        assert ch.malformed == 1 and state.malformed == 1 and ch.events == 0
    assert state.tasks == {} or all(isinstance(u, str) for u in state.tasks)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            anything,
            st.fixed_dictionaries(
                {
                    "task_id": st.one_of(uuids, anything),
                    "status": st.one_of(
                        st.sampled_from(["SUCCESS", "FAILURE", "RETRY", "PROGRESS"]), anything
                    ),
                },
                optional={
                    k: anything
                    for k in (
                        "result",
                        "traceback",
                        "date_done",
                        "name",
                        "args",
                        "kwargs",
                        "worker",
                        "retries",
                        "queue",
                    )
                },
            ),
        ),
        max_size=10,
    )
)
def test_malformed_result_metas_never_raise(metas):
    state = ClusterState(max_tasks=3)
    ch = state.apply_results(metas)
    assert ch.events + ch.malformed == len(metas)
    assert_consistent(state)


def test_not_a_list_at_all_is_one_malformed_batch():
    state = ClusterState()
    assert state.apply(None).malformed == 0
    assert state.apply(42).malformed == 1  # type: ignore[arg-type]
    assert state.apply_results(None).events == 0


def test_huge_strings_are_cut_and_odd_bytes_kept_as_text():
    state = ClusterState()
    state.apply(
        [
            received("a", T0, args="x" * 5_000_000, kwargs=b"\xff\x00\xfe"),
            succeeded("a", T0 + 1, result="\x1b[31m\udcff" * 10),
        ]
    )
    task = state.tasks["a"]
    assert len(task.args) == 4_096
    assert task.kwargs == "b'\\xff\\x00\\xfe'"
    assert task.result.startswith("\x1b[31m")
    ch = state.apply(
        [received("u" * 5_000, T0), {"type": "worker-heartbeat", "hostname": "h" * 5_000}]
    )
    assert ch.malformed == 2 and len(state.tasks) == 1 and state.workers.keys() == {"celery@w1"}


def test_timestamps_that_are_not_finite_numbers_are_malformed():
    state = ClusterState()
    bad = [received(uuid, T0) for uuid in "abcd"]
    bad[0]["timestamp"] = float("nan")
    bad[1]["timestamp"] = float("inf")
    bad[2]["timestamp"] = "yesterday"
    bad[3]["local_received"] = -5.0
    ch = state.apply(bad)
    assert ch.malformed == 4 and state.tasks == {}
