"""ClusterState's numbers: per-name stats, throughput rings, counters for the exporter."""

from __future__ import annotations

from benchmarks.synthetic import generate_events
from celerytui.core.model import FAILURE, RETRY, SUCCESS
from celerytui.core.state import ClusterState
from celerytui.core.task_stats import DEFAULT_BUCKETS, THROUGHPUT_SECONDS
from tests.support.cluster_events import (
    T0,
    FakeClock,
    failed,
    received,
    sent,
    succeeded,
    task_event,
)


def test_runtime_p50_p95_max_per_task_name():
    state = ClusterState()
    events = []
    for i in range(1, 101):
        events += [
            received(f"t{i}", T0 + i, name="proj.slow"),
            succeeded(f"t{i}", T0 + i + 0.5, runtime=float(i)),
        ]
    events += [received("f", T0, name="proj.fast"), succeeded("f", T0 + 1, runtime=0.01)]
    state.apply(events)
    stats = state.task_stats()
    slow = stats["proj.slow"]
    assert (slow.p50, slow.p95, slow.max) == (50.0, 95.0, 100.0)
    assert slow.counts[SUCCESS] == 100
    assert (stats["proj.fast"].p50, stats["proj.fast"].max) == (0.01, 0.01)


def test_runtime_window_keeps_only_the_newest_thousand():
    state = ClusterState()
    events = []
    for i in range(1_500):
        runtime = 1000.0 if i < 500 else 1.0
        events += [
            received(f"t{i}", T0, name="proj.x"),
            succeeded(f"t{i}", T0 + 1, runtime=runtime),
        ]
    state.apply(events)
    stats = state.task_stats()["proj.x"]
    assert len(stats.runtimes) == 1_000 and stats.max == 1.0
    assert stats.p95 == 1.0  # cached sorted window ...
    state.apply(
        [
            e
            for i in range(100)
            for e in (received(f"s{i}", T0, name="proj.x"), succeeded(f"s{i}", T0 + 1, runtime=9.0))
        ]
    )
    assert (stats.p50, stats.p95, stats.max) == (1.0, 9.0, 9.0)  # ... refreshed by new runs


def test_counts_per_name_follow_state_changes_and_eviction():
    state = ClusterState(max_tasks=3)
    state.apply(
        [
            received("a", T0, name="n"),
            received("b", T0, name="n"),
            failed("b", T0 + 1),
            received("c", T0, name="m"),
        ]
    )
    assert state.task_stats()["n"].counts == {"PENDING": 0, "RECEIVED": 1, FAILURE: 1}
    state.apply([received("d", T0, name="m")])  # evicts "a"
    assert state.task_stats()["n"].counts["RECEIVED"] == 0
    assert state.task_stats()["m"].counts["RECEIVED"] == 2


def test_distinct_names_are_capped_and_the_rest_go_under_other():
    state = ClusterState(max_names=3)
    state.apply([received(f"t{i}", T0, name=f"proj.task_{i}") for i in range(10)])
    stats = state.task_stats()
    assert len(stats) == 4 and stats["other"].counts["RECEIVED"] == 7
    assert state.tasks["t9"].name == "proj.task_9"  # the task keeps its real name
    assert ("received", "other", "celery@w1", "") in state.counters


def test_counter_labels_are_capped_so_hostname_and_queue_churn_cannot_grow_them(monkeypatch):
    import celerytui.core.state as state_module

    monkeypatch.setattr(state_module, "HOSTS_COUNTED", 2)
    monkeypatch.setattr(state_module, "QUEUES_COUNTED", 2)
    state = ClusterState(max_workers=2)
    for i in range(20):
        state.apply(
            [
                sent(f"t{i}", T0, queue=f"w{i}.dq"),
                received(f"t{i}", T0, hostname=f"celery@host-{i}"),
            ]
        )
    hosts = {host for (_, _, host, _) in state.counters}
    queues = {queue for (_, _, _, queue) in state.counters}
    assert hosts == {"bastion", "celery@host-0", "other"}  # sent: the client machine
    assert queues == {"w0.dq", "w1.dq", "other"}
    assert len(state.workers) == 2 and len(state._worker_rings) <= 2
    assert sum(n for (kind, *_), n in state.counters.items() if kind == "received") == 20


def test_throughput_counts_per_second_of_local_receipt_oldest_first():
    clock = FakeClock(T0 + 10.2)
    state = ClusterState(clock=clock)
    state.apply(
        [
            sent("a", T0 + 8.1),
            received("a", T0 + 8.5),
            task_event("started", "a", T0 + 9.0),
            succeeded("a", T0 + 9.9),
            received("b", T0 + 10.0),
            failed("b", T0 + 10.1),
            received("c", T0 + 10.1),
            task_event("retried", "c", T0 + 10.2, exception="E()"),
        ]
    )
    series = state.throughput(seconds=4)
    assert series == {
        "sent": [0, 1, 0, 0],
        "received": [0, 1, 0, 2],
        "started": [0, 0, 1, 0],
        "succeeded": [0, 0, 1, 0],
        "failed": [0, 0, 0, 1],
        "retried": [0, 0, 0, 1],
    }
    clock.advance(2)
    assert state.throughput(seconds=4)["received"] == [0, 2, 0, 0]
    assert len(state.throughput()["sent"]) == THROUGHPUT_SECONDS


def test_throughput_ring_forgets_seconds_older_than_its_window():
    clock = FakeClock(T0)
    state = ClusterState(clock=clock)
    state.apply([received("a", T0)])
    clock.advance(THROUGHPUT_SECONDS + 5)
    state.apply([received("b", clock.now)])
    state.apply([received("late", T0 + 1)])  # older than the window: not counted, not stored
    series = state.throughput()["received"]
    assert sum(series) == 1 and series[-1] == 1
    assert len(state._ring.seconds) == THROUGHPUT_SECONDS


def test_worker_series_counts_tasks_finished_per_second():
    clock = FakeClock(T0 + 2.5)
    state = ClusterState(clock=clock)
    state.apply(
        [
            received("a", T0),
            succeeded("a", T0 + 1.1),
            received("b", T0),
            succeeded("b", T0 + 1.7),
            received("c", T0),
            failed("c", T0 + 2.2),
            received("d", T0, hostname="celery@w2"),
            succeeded("d", T0 + 2.3, hostname="celery@w2"),
        ]
    )
    assert state.worker_series("celery@w1", seconds=3) == [0, 2, 1]
    assert state.worker_series("celery@w2", seconds=3) == [0, 0, 1]
    assert state.worker_series("nobody", seconds=3) == [0, 0, 0]


def test_duplicate_events_do_not_double_count_but_retried_attempts_do():
    state = ClusterState()
    twice = [sent("a", T0, queue="math"), received("a", T0 + 1), succeeded("a", T0 + 2)]
    state.apply(twice)
    state.apply([dict(e) for e in twice])
    key = ("proj.add", "celery@w1", "math")
    assert state.counters[("succeeded", *key)] == 1
    assert state.counters[("received", *key)] == 1
    assert state.counters[("sent", "proj.add", "bastion", "math")] == 1
    assert state.runtime_hist[key].count == 1
    assert sum(state.throughput()["succeeded"]) == 0  # local receipt is long ago
    state.apply(
        [
            received("r", T0, name="proj.risky"),
            task_event("retried", "r", T0 + 1, exception="E()"),
            received("r", T0 + 2, name="proj.risky", retries=1),
            task_event("started", "r", T0 + 2.5),  # only a started attempt retries
            task_event("retried", "r", T0 + 3, exception="E()"),
            task_event("retried", "r", T0 + 3, exception="E()"),
        ]
    )
    assert state.counters[("received", "proj.risky", "celery@w1", "")] == 2
    assert state.counters[("retried", "proj.risky", "celery@w1", "")] == 2
    assert state.tasks["r"].state == RETRY


def test_counters_survive_eviction():
    state = ClusterState(max_tasks=2)
    state.apply(
        [
            e
            for i in range(10)
            for e in (received(f"t{i}", T0 + i), succeeded(f"t{i}", T0 + i + 0.5))
        ]
    )
    assert len(state.tasks) == 2
    assert state.counters[("succeeded", "proj.add", "celery@w1", "")] == 10


def test_failures_by_exception_type_and_runtime_histogram_buckets():
    state = ClusterState()
    state.apply(
        [
            sent("a", T0, queue="q1"),
            received("a", T0),
            failed("a", T0 + 1),
            received("b", T0),
            failed("b", T0 + 1, exception="KeyError('k')"),
            received("c", T0),
            failed("c", T0 + 1, exception="KeyError('j')"),
            received("d", T0),
            succeeded("d", T0 + 1, runtime=0.003),
            received("e", T0),
            succeeded("e", T0 + 1, runtime=0.3),
            received("f", T0),
            succeeded("f", T0 + 1, runtime=30.0),
        ]
    )
    assert state.failures_by_exception == {
        ("proj.add", "celery@w1", "q1", "ValueError"): 1,
        ("proj.add", "celery@w1", "", "KeyError"): 2,
    }
    hist = state.runtime_hist[("proj.add", "celery@w1", "")]
    assert hist.buckets == DEFAULT_BUCKETS and hist.count == 3
    assert round(hist.sum, 3) == 30.303
    counts = dict(zip(hist.buckets, hist.counts, strict=True))
    assert (counts[0.005], counts[0.25], counts[0.5], counts[10.0], counts[float("inf")]) == (
        1,
        1,
        2,
        2,
        3,
    )


def test_synthetic_stream_keeps_the_state_bounded_and_consistent():
    state = ClusterState(max_tasks=2_000, max_workers=4)
    for batch in generate_events(30_000, workers=6, seed=3):
        ch = state.apply(batch)
        assert ch.malformed == 0
    assert len(state.tasks) == 2_000 and len(state.workers) == 4
    assert sum(state.counts_by_state().values()) == len(state.tasks)
    named = sum(s.total for s in state.task_stats().values())
    assert named == sum(1 for t in state.tasks.values() if t.name is not None)
    assert state.http_checks and state.disk_checks  # parsed from the events' reprs
    assert state.events_applied == 30_000
    received_total = sum(n for (kind, *_), n in state.counters.items() if kind == "received")
    assert received_total > 6_000


def test_synthetic_stream_is_deterministic_and_shaped_like_celerys_events():
    first = [e for batch in generate_events(3_000, seed=7) for e in batch]
    again = [e for batch in generate_events(3_000, seed=7) for e in batch]
    other = [e for batch in generate_events(3_000, seed=8) for e in batch]
    assert first == again and first != other and len(first) == 3_000
    common = {"type", "hostname", "timestamp", "local_received", "clock", "pid", "utcoffset"}
    by_type = {e["type"]: e for e in first}
    assert all(common <= set(e) for e in first)
    assert {"queue", "routing_key", "exchange", "name", "args", "root_id"} <= set(
        by_type["task-sent"]
    )
    assert {"name", "args", "kwargs", "retries", "parent_id", "eta", "expires"} <= set(
        by_type["task-received"]
    )
    assert {"result", "runtime"} <= set(by_type["task-succeeded"])
    assert {"exception", "traceback"} <= set(by_type["task-failed"])
    assert {"freq", "active", "processed", "loadavg", "sw_ident"} <= set(
        by_type["worker-heartbeat"]
    )
    assert any(e.get("parent_id") for e in first)  # chains


def test_check_results_parse_the_fast_way_exactly_as_literal_eval_does():
    import ast

    from celerytui.core.state_events import parse_check_repr

    samples = [
        repr(
            {
                "url": "https://a.example.com/h",
                "status": "UP",
                "status_code": 200,
                "response_time": 0.1234,
            }
        ),
        repr({"url": "x", "status": "DOWN", "status_code": None, "error": "it's down"}),
        repr(
            {
                "host": "db",
                "size_bytes": 107374182400,
                "use_percent": 55.0,
                "t": 1e-05,
                "n": -3,
                "b": True,
            }
        ),
        repr({"a": 'say "hi"'}),
        repr({"a": "back\\slash"}),
        repr({"a": [1, 2]}),
        repr({}),
        "{'a': 1,}",
        "{'a': 1, 'b'}",
        "{1: 2}",
        "{'a': 1 'b': 2}",
        repr({"é": "x\ny"}),
    ]
    for text in samples:
        try:
            expected = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            expected = None
        got = parse_check_repr(text)
        assert got == expected, text
        if isinstance(expected, dict):
            assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]
