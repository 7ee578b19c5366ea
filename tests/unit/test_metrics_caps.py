"""The exporter stays bounded: capped label sets folded into "other" (and counted), slots of
gone workers freed, one queue_name per task, no raw control characters in any label."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from celerytui.core.metrics import ClusterCollector
from celerytui.core.state import ClusterState
from tests.support.cluster_events import (
    T0,
    FakeClock,
    heartbeat,
    received,
    sent,
    succeeded,
    task_event,
)


def _scrape(state: ClusterState, clock: FakeClock, purge: float = 600.0) -> tuple[str, list]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(state, clock=clock, worker_purge=purge))
    text = generate_latest(registry).decode()
    return text, [s for f in text_string_to_metric_families(text) for s in f.samples]


def _total(samples: list, metric: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _label_sets(samples: list, metric: str) -> set[tuple[str, str, str]]:
    return {
        (s.labels["name"], s.labels["hostname"], s.labels["queue_name"])
        for s in samples
        if s.name == metric
    }


def test_a_flood_of_combinations_is_capped_folded_into_other_and_counted():
    clock = FakeClock(T0 + 100)
    state = ClusterState(clock=clock)
    state.series.max_series = 50
    events = []
    for i in range(400):  # 400 tasks, each its own (name, hostname, queue) combination
        events += [
            received(f"t{i}", T0 + i * 0.1, name=f"proj.job_{i}", hostname=f"celery@w{i % 7}"),
            succeeded(f"t{i}", T0 + i * 0.1 + 0.05, hostname=f"celery@w{i % 7}"),
        ]
    state.apply(events)
    _, samples = _scrape(state, clock)
    received_sets = _label_sets(samples, "celery_task_received_total")
    assert len(received_sets) == 51  # the cap, plus the one "other" label set
    assert ("other", "other", "other") in received_sets
    assert _total(samples, "celery_task_received_total") == 400  # folded, never lost
    assert _total(samples, "celery_task_succeeded_total") == 400
    assert _total(samples, "celery_task_runtime_count") == 400
    folded = _total(
        samples, "celery_task_received_total", name="other", hostname="other", queue_name="other"
    )
    assert folded == 350
    # each folded event counted once (received and succeeded of 350 tasks)
    assert _total(samples, "celerytui_series_folded_total", kind="series") == 700
    assert _total(samples, "celerytui_series_folded_total", kind="hostname") == 0
    assert _total(samples, "celerytui_series_label_sets") == 51


def test_after_a_thousand_workers_came_and_went_a_new_worker_gets_its_own_label():
    clock = FakeClock(T0)
    state = ClusterState(clock=clock)
    for wave in range(12):  # 1,200 autoscaled pods, 100 at a time, each gone after its task
        events = []
        for i in range(100):
            host, t = f"celery@pod-{wave}-{i}", clock.now + i * 0.001
            events += [
                heartbeat(host, t, kind="online"),
                received(f"{wave}-{i}", t, hostname=host),
                succeeded(f"{wave}-{i}", t, hostname=host),
                heartbeat(host, t, kind="offline"),
            ]
        state.apply(events)
        clock.advance(700)  # past --purge-offline-after (600 s)
        _scrape(state, clock)  # Prometheus scrapes every few seconds; once a wave is enough
    t = clock.now
    state.apply(
        [
            heartbeat("celery@newcomer", t, kind="online"),
            received("new", t, hostname="celery@newcomer"),
            succeeded("new", t, hostname="celery@newcomer"),
        ]
    )
    _, samples = _scrape(state, clock)
    assert _total(samples, "celery_task_succeeded_total", hostname="celery@newcomer") == 1
    assert _total(samples, "celery_task_succeeded_total", hostname="other") == 0
    assert _total(samples, "celerytui_series_folded_total", kind="hostname") == 0
    hosts = {s.labels["hostname"] for s in samples if s.name == "celery_task_received_total"}
    assert hosts == {"celery@newcomer"}  # the pods' series are gone with them


def test_a_client_machine_that_stopped_sending_frees_its_label_after_the_purge_time():
    clock = FakeClock(T0)
    state = ClusterState(clock=clock)
    state.apply(
        [
            sent("a", T0, queue="math"),
            {**sent("b", T0 + 500, queue="math"), "hostname": "gen7@other-client"},
        ]
    )
    clock.now = T0 + 700  # bastion sent nothing for 700 s, other-client for 200 s
    _, samples = _scrape(state, clock)
    hosts = {s.labels["hostname"] for s in samples if s.name == "celery_task_sent_total"}
    assert hosts == {"other-client"}
    assert state.series.hosts() == {"other-client"}


def test_a_live_worker_idle_for_long_keeps_its_series():
    clock = FakeClock(T0)
    state = ClusterState(clock=clock)
    state.apply([received("a", T0), succeeded("a", T0 + 1)])
    for step in range(1, 8):  # heartbeats every 2 min, no task for 14 min
        clock.now = T0 + step * 120
        state.apply([heartbeat("celery@w1", clock.now)])
    _, samples = _scrape(state, clock)
    assert _total(samples, "celery_task_succeeded_total", hostname="celery@w1") == 1


def test_one_task_keeps_one_label_set_when_its_result_names_the_queue_late():
    """No task-sent seen (clients send none by default): the queue is unknown until the
    result backend's meta says it; the task's later counters stay with its first label set."""
    clock = FakeClock(T0 + 10)
    state = ClusterState(clock=clock)
    state.apply([received("a", T0, name="proj.add"), task_event("started", "a", T0 + 0.1)])
    state.apply_results(
        [
            {
                "task_id": "a",
                "status": "SUCCESS",
                "result": 5,
                "queue": "math",
                "name": "proj.add",
                "date_done": "2026-01-01T00:00:01",
            }
        ]
    )
    assert state.tasks["a"].queue == "math"  # the task itself knows its queue now
    state.apply([succeeded("a", T0 + 1)])
    _, samples = _scrape(state, clock)
    for metric in (
        "celery_task_received_total",
        "celery_task_started_total",
        "celery_task_succeeded_total",
        "celery_task_runtime_count",
    ):
        assert _label_sets(samples, metric) == {("proj.add", "celery@w1", "")}, metric


def test_a_task_whose_worker_events_overtake_its_task_sent_keeps_one_label_set():
    clock = FakeClock(T0 + 10)
    state = ClusterState(clock=clock)
    # the worker's events overtake the client's task-sent (two connections, two hosts)
    state.apply([received("a", T0 + 0.2), sent("a", T0, queue="math"), received("b", T0 + 0.2)])
    state.apply([sent("b", T0, queue="math")])
    state.apply([succeeded("a", T0 + 1), succeeded("b", T0 + 1)])
    _, samples = _scrape(state, clock)
    assert _label_sets(samples, "celery_task_succeeded_total") == {("proj.add", "celery@w1", "")}
    assert _label_sets(samples, "celery_task_sent_total") == {("proj.add", "bastion", "")}


def test_label_values_carry_no_raw_control_characters():
    clock = FakeClock(T0 + 10)
    state = ClusterState(clock=clock)
    host, name = "celery@w\x1b[31mred", "proj.\x07bell\u202etxt"
    state.apply(
        [
            heartbeat(host, T0 + 5),
            sent("a", T0, name=name, queue="q\r\x00"),
            received("a", T0, name=name, hostname=host),
            task_event(
                "failed", "a", T0 + 1, hostname=host, exception="Bad\x1b]0;title\x07Error('x')"
            ),
        ]
    )
    text, samples = _scrape(state, clock)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    (failed,) = [s for s in samples if s.name == "celery_task_failed_total"]
    assert failed.labels == {
        "name": "proj.\\x07bell\\u202etxt",
        "hostname": "celery@w\\x1b[31mred",
        "queue_name": "q\\r\\x00",
        "exception": "Bad\\x1b]0;title\\x07Error",
    }
    assert _total(samples, "celery_worker_up", hostname="celery@w\\x1b[31mred") == 1
