"""Lost and stuck tasks over a real ClusterState and AlertBook fed event dicts, with a clock
the test moves: what the banners, the filter, the exporter's counter, tail and the failure
webhook payload say."""

from __future__ import annotations

from celerytui.commands.tail import lost_lines
from celerytui.config import Thresholds
from celerytui.core.alerts import AlertBook, Context
from celerytui.core.alerts.rules.lost import failure_payloads
from celerytui.core.alerts.rules.stuck import span
from celerytui.core.filters import compile_filter
from celerytui.core.model import LOST, RECEIVED, STARTED, SUCCESS
from celerytui.core.state import ClusterState
from tests.support.cluster_events import (
    T0,
    FakeClock,
    heartbeat,
    received,
    succeeded,
    task_event,
)

W1, W2 = "celery@w1", "celery@w2"


def cluster(thresholds: Thresholds | None = None):
    clock = FakeClock()
    state = ClusterState(clock=clock)
    return clock, state, AlertBook(thresholds or Thresholds(), clock=clock)


def test_tasks_held_by_a_silent_worker_become_lost_and_a_late_word_corrects_the_count():
    clock, state, book = cluster()
    state.apply(
        [
            heartbeat(W1, T0),
            received("a", T0 + 0.1, name="proj.slow"),
            task_event("started", "a", T0 + 0.2),
            received("b", T0 + 0.3, name="proj.slow"),
            received("c", T0 + 0.4, name="proj.add"),
            task_event("started", "c", T0 + 0.5),
            succeeded("c", T0 + 0.6),
        ]
    )
    state.tick(clock.advance(3.0))
    assert state.tasks["a"].state == STARTED  # inside the heartbeat window: nothing lost
    ch = state.tick(clock.advance(2.0))  # 5 s without a heartbeat (freq 2 s: window 4 s)
    assert ch.workers_lost == [W1] and sorted(ch.new_lost) == ["a", "b"]
    assert [state.tasks[u].state for u in "abc"] == [LOST, LOST, SUCCESS]
    counts = state.counts_by_state()
    assert counts[LOST] == 2 and counts[STARTED] == 0 and counts[RECEIVED] == 0
    assert sum(counts.values()) == len(state.tasks)
    assert state.task_stats()["proj.slow"].counts[LOST] == 2
    assert state.counters[("lost", "proj.slow", W1, "")] == 2
    assert [t.uuid for t in state.tasks.values() if compile_filter("state:lost")(t)] == ["a", "b"]

    book.evaluate(state, ch, now=clock.now)
    alert = book.get(f"tasks-lost:{W1}")
    assert alert is not None and alert.title == f"2 tasks lost with worker {W1}"
    assert "no heartbeat" in alert.detail and "proj.slow x2" in alert.detail
    assert alert.labels["hostname"] == W1 and alert.labels["uuids"] == "a,b"

    # the worker was only cut off: a's success arrives after all, b is redelivered to w2
    ch = state.apply([succeeded("a", T0 + 9.0), received("b", T0 + 9.1, hostname=W2)])
    assert state.tasks["a"].state == SUCCESS and state.tasks["b"].state == RECEIVED
    assert state.tasks["b"].worker == W2
    assert state.counts_by_state()[LOST] == 0
    assert state.task_stats()["proj.slow"].counts[LOST] == 0
    book.evaluate(state, ch, now=clock.advance(1.0))
    assert book.get(f"tasks-lost:{W1}").active is False  # cleared: none left lost
    assert state.counters[("lost", "proj.slow", W1, "")] == 2  # a counter never goes down


def test_a_worker_offline_loses_what_it_held_and_tail_and_the_webhook_say_so():
    clock, state, _ = cluster()
    state.apply(
        [
            heartbeat(W1, T0),
            received("x", T0 + 0.1, name="proj.\x1b[31mevil", args="('\x1b]0;t\x07',)"),
            task_event("started", "x", T0 + 0.2),
            received("y", T0 + 0.3, name="proj.add"),
        ]
    )
    ch = state.apply([heartbeat(W1, T0 + 1, kind="offline")])
    assert ch.new_lost == ["x", "y"] and state.lost.entry("y").why == "worker offline"
    assert state.lost.entry("x").was == STARTED and state.lost.entry("y").was == RECEIVED

    lines = lost_lines(state, ch.new_lost, None, as_json=False)
    assert len(lines) == 2 and all("LOST" in line and W1 in line for line in lines)
    assert "\x1b" not in "".join(lines) and "worker offline, was STARTED" in lines[0]
    only_add = compile_filter("name:add")
    assert len(lost_lines(state, ch.new_lost, only_add, as_json=False)) == 1

    payloads = failure_payloads(Context(state, Thresholds(), clock.now), W1)
    # the worker side's failure webhook POST (tasks.alert_on_failure) has these keys
    keys = {"task", "task_id", "exception", "args", "kwargs", "hostname", "time"}
    assert [set(p) for p in payloads] == [keys, keys]
    assert payloads[0]["task_id"] == "x" and payloads[0]["exception"].startswith(
        "WorkerLostError: worker celery@w1 lost (worker offline)"
    )


def test_a_task_running_far_past_its_p99_is_stuck_and_clears_when_it_finishes():
    clock, state, book = cluster(Thresholds(stuck_factor=5.0, stuck_floor=2.0))
    events = [heartbeat(W1, T0)]
    for i in range(20):  # proj.job usually takes 1 s: p99 1 s, stuck past 5 s
        events += [
            received(f"r{i}", T0 + i * 0.01, name="proj.job"),
            task_event("started", f"r{i}", T0 + i * 0.01),
            succeeded(f"r{i}", T0 + i * 0.01 + 1, runtime=1.0),
        ]
    events += [received("s", T0 + 1, name="proj.job"), task_event("started", "s", T0 + 1)]
    events += [received("q", T0 + 1, name="proj.new"), task_event("started", "q", T0 + 1)]
    state.apply(events)
    clock.now = T0 + 4  # s: 3 s, under 5 x p99; q: 3 s, past the 2 s floor (never seen)
    state.apply([heartbeat(W1, clock.now)])
    book.evaluate(state, now=clock.now)
    assert book.get("task-stuck:s") is None
    q = book.get("task-stuck:q")
    assert q.title == f"stuck: proj.new on {W1} for 3s" and "2s floor" in q.detail
    clock.now = T0 + 1 + 14 * 60
    state.apply([heartbeat(W1, clock.now)])
    book.evaluate(state, now=clock.now)
    s = book.get("task-stuck:s")
    assert s.title == f"stuck: proj.job on {W1} for 14m"
    assert "over 5 x its p99 runtime of 1.0s" in s.detail and s.labels["uuid"] == "s"
    state.apply([succeeded("s", clock.now, runtime=840.0)])
    book.evaluate(state, now=clock.advance(1))
    assert not book.get("task-stuck:s").active and book.get("task-stuck:q").active

    state.soft_time_limits["proj.new"] = 30.0  # declared by the watched app
    book.evaluate(state, now=clock.advance(1))
    assert "past its soft time limit of 30s" in book.get("task-stuck:q").detail
    assert span(45) == "45s" and span(7_380) == "2h03m"


def test_stuck_time_is_judged_on_the_monitors_clock_whatever_the_workers_clock_says():
    """A worker 5 min behind would make every task look 5 min old (a false stuck at once); one
    5 min ahead would hide a task stuck for 4 min. Its heartbeats tell the offset."""
    clock, state, book = cluster(Thresholds(stuck_factor=5.0, stuck_floor=60.0))
    behind, ahead = "celery@behind", "celery@ahead"
    skew = {behind: -300.0, ahead: 300.0}  # the worker's clock minus the monitor's

    def stamped(host: str, event: dict) -> dict:
        event["timestamp"] = event["local_received"] + skew[host]
        return event

    def beat(host: str, transit: float = 0.0) -> dict:
        event = stamped(host, heartbeat(host, clock.now))
        event["local_received"] += transit  # transit only ever adds; the smallest counts
        return event

    state.apply([beat(behind, 0.4), beat(ahead, 0.2), beat(behind), beat(ahead)])
    assert state.workers[behind].clock_offset == 300.0
    assert state.workers[ahead].clock_offset == -300.0
    state.apply(
        [
            stamped(behind, received("b", clock.now, name="proj.job", hostname=behind)),
            stamped(behind, task_event("started", "b", clock.now, hostname=behind)),
            stamped(ahead, received("a", clock.now, name="proj.job", hostname=ahead)),
            stamped(ahead, task_event("started", "a", clock.now, hostname=ahead)),
        ]
    )
    clock.advance(10)
    state.apply([beat(behind), beat(ahead)])
    book.evaluate(state, now=clock.now)
    assert book.get("task-stuck:b") is None  # 10 s, not 5 min 10 s
    clock.advance(230)
    state.apply([beat(behind), beat(ahead)])
    book.evaluate(state, now=clock.now)
    assert book.get("task-stuck:a").title == f"stuck: proj.job on {ahead} for 4m"
    assert book.get("task-stuck:b").title == f"stuck: proj.job on {behind} for 4m"


def test_status_json_lists_the_lost_tasks():
    from celerytui.commands.status import _tasks, render

    clock, state, _ = cluster()
    state.apply(
        [heartbeat(W1, T0), received("a", T0 + 0.1, name="proj.slow"), received("b", T0 + 0.2)]
    )
    state.apply([succeeded("b", T0 + 0.3)])
    state.tick(clock.advance(10))
    tasks = _tasks(state, 2.0)
    assert tasks["by_state"] == {"LOST": 1, "SUCCESS": 1}
    assert tasks["lost"] == [
        {
            "uuid": "a",
            "name": "proj.slow",
            "worker": W1,
            "was": "RECEIVED",
            "why": "no heartbeat",
            "lost_at": "2026-01-01T00:00:10+00:00",
        }
    ]
    report = {"health": "healthy", "problems": [], "workers": [], "queues": [], "tasks": tasks}
    report["broker"] = {"url": "redis://x", "reachable": True, "error": None}
    assert f"LOST  proj.slow  a  with {W1} (no heartbeat, was RECEIVED)" in render(report)
