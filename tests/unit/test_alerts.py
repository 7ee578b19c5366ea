"""AlertBook and its registered rules over a real ClusterState fed event dicts, with a clock
the test controls."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from celerytui.config import Thresholds
from celerytui.core.alerts import (
    MAX_ALERTS,
    AlertBook,
    Context,
    Finding,
    Rule,
    register,
    registered,
    status_rules,
    unregister,
)
from celerytui.core.model import StreamStatus
from celerytui.core.state import ClusterState


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(thresholds: Thresholds | None = None):
    clock = Clock()
    return clock, ClusterState(clock=clock), AlertBook(thresholds or Thresholds(), clock=clock)


def ev(kind: str, clock: Clock, **fields) -> dict:
    return {
        "type": kind,
        "timestamp": clock.now,
        "local_received": clock.now,
        "hostname": "w1@host",
        **fields,
    }


def fail(
    state: ClusterState,
    clock: Clock,
    uuid: str,
    name: str = "proj.add",
    retries: int = 0,
    exc: str = "ZeroDivisionError('division by zero')",
):
    return state.apply(
        [
            ev(
                "task-received",
                clock,
                uuid=uuid,
                name=name,
                args="()",
                kwargs="{}",
                retries=retries,
            ),
            ev("task-failed", clock, uuid=uuid, exception=exc, traceback="Traceback...\nZeroDiv"),
        ]
    )


def test_failures_of_one_task_fold_into_one_alert_with_a_count():
    clock, state, book = make()
    raised = book.evaluate(state, fail(state, clock, "a1"))
    assert [a.key for a in raised] == ["task-failed:proj.add"]
    clock.now += 1
    assert book.evaluate(state, fail(state, clock, "a2")) == []  # folded, not raised again
    (alert,) = book.active()
    assert alert.count == 2
    assert alert.title == "proj.add failed"
    assert "ZeroDivisionError" in alert.detail
    assert alert.first_seen < alert.last_seen == clock.now


def test_failure_alert_clears_after_a_quiet_window():
    clock, state, book = make(Thresholds(failure_window=60))
    book.evaluate(state, fail(state, clock, "a1"))
    clock.now += 61
    book.evaluate(state, state.apply([]))
    assert book.active() == []


def test_retries_exhausted_is_its_own_alert():
    clock, state, book = make()
    raised = book.evaluate(state, fail(state, clock, "r1", name="proj.risky", retries=3))
    keys = {a.key for a in raised}
    assert keys == {"task-failed:proj.risky", "retries-exhausted:proj.risky"}
    assert "after 3" in book.get("retries-exhausted:proj.risky").title


def test_worker_lost_is_critical_and_clears_when_it_comes_back():
    clock, state, book = make()
    state.apply([ev("worker-heartbeat", clock, freq=2.0, active=0, processed=0)])
    clock.now += 10
    changes = state.tick(clock.now)
    book.evaluate(state, changes)
    (alert,) = book.active()
    assert alert.key == "worker-lost:w1@host" and alert.severity == "critical"
    assert "no heartbeat for 10s" in alert.detail
    state.apply([ev("worker-heartbeat", clock, freq=2.0, active=0, processed=0)])
    book.evaluate(state, state.tick(clock.now))
    assert book.active() == []


def test_clean_shutdown_raises_nothing():
    clock, state, book = make()
    state.apply([ev("worker-heartbeat", clock, freq=2.0)])
    state.apply([ev("worker-offline", clock)])
    clock.now += 30
    book.evaluate(state, state.tick(clock.now))
    assert book.active() == []


def test_queue_backlog_over_threshold_then_cleared():
    _clock, state, book = make(Thresholds(queue_backlog=10))
    deep = [SimpleNamespace(name="celery", messages=11), SimpleNamespace(name="http", messages=3)]
    book.evaluate(state, queue_depths=deep)
    assert [a.key for a in book.active()] == ["queue-backlog:celery"]
    book.evaluate(state, queue_depths=[SimpleNamespace(name="celery", messages=2)])
    assert book.active() == []


def test_failure_rate_over_threshold():
    clock, state, book = make(Thresholds(failure_rate=0.25, min_finished_for_rate=4))
    for i in range(3):
        state.apply(
            [
                ev("task-received", clock, uuid=f"s{i}", name="proj.ok"),
                ev("task-succeeded", clock, uuid=f"s{i}", result="1", runtime=0.1),
            ]
        )
    for i in range(2):
        fail(state, clock, f"f{i}")
    book.evaluate(state)
    rate = book.get("failure-rate")
    assert rate is not None and rate.active
    assert rate.detail == "2 of 5 finished tasks failed"


def test_check_down_and_disk_full_from_check_records():
    _clock, state, book = make(Thresholds(disk_percent=90))
    state.apply_results(
        [
            {
                "task_id": "h1",
                "status": "SUCCESS",
                "name": "celerytui.tasks.check_http_endpoint",
                "result": {
                    "url": "http://svc/health",
                    "status": "DOWN",
                    "status_code": 503,
                    "response_time": 0.2,
                },
                "date_done": "2023-11-14T22:13:20",
            },
            {
                "task_id": "d1",
                "status": "SUCCESS",
                "name": "celerytui.tasks.check_disk_usage",
                "result": {
                    "host": "db1",
                    "status": "OK",
                    "filesystem": "/dev/sda1",
                    "mount": "/",
                    "size_bytes": 100,
                    "used_bytes": 95,
                    "avail_bytes": 5,
                    "use_percent": 95.0,
                },
                "date_done": "2023-11-14T22:13:20",
            },
        ]
    )
    book.evaluate(state)
    by_key = {a.key: a for a in book.active()}
    assert by_key["check-down:http://svc/health"].detail == "HTTP 503"
    assert by_key["disk-full:db1"].title == "disk 95% used: db1 /"
    # the check comes back UP: its alert clears, the disk one stays
    state.apply_results(
        [
            {
                "task_id": "h2",
                "status": "SUCCESS",
                "name": "celerytui.tasks.check_http_endpoint",
                "result": {
                    "url": "http://svc/health",
                    "status": "UP",
                    "status_code": 200,
                    "response_time": 0.1,
                },
                "date_done": "2023-11-14T22:14:20",
            },
        ]
    )
    book.evaluate(state)
    assert [a.key for a in book.active()] == ["disk-full:db1"]


def test_broker_disconnected_is_most_severe_and_first():
    clock, state, book = make()
    book.evaluate(state, fail(state, clock, "a1"))
    down = StreamStatus(connected=False, attempts=3, last_error="Connection refused")
    book.evaluate(state, stream_status=down)
    first = book.active()[0]
    assert (first.key, first.title) == ("broker", "broker unreachable, retrying")
    book.evaluate(state, stream_status=StreamStatus(connected=True))
    assert book.get("broker").active is False


def test_acknowledge_hides_until_something_new_happens():
    clock, state, book = make()
    book.evaluate(state, fail(state, clock, "a1"))
    assert book.acknowledge() == 1
    assert book.active(include_acknowledged=False) == []
    book.evaluate(state, fail(state, clock, "a2"))
    assert [a.count for a in book.active(include_acknowledged=False)] == [2]


def test_many_distinct_failures_stay_bounded():
    clock, state, book = make()
    for i in range(MAX_ALERTS + 50):
        book.evaluate(state, fail(state, clock, f"t{i}", name=f"proj.task{i}"))
    assert len(book._alerts) <= MAX_ALERTS


# -- the rule registry ---------------------------------------------------------------------------


@pytest.fixture
def test_rule():
    """Registers rule classes for one test, and drops them after it."""
    names: list[str] = []

    def add(cls):
        register(cls)
        names.append(cls.name)
        return cls

    yield add
    for name in names:
        unregister(name)


def test_status_degraded_and_the_book_alerts_come_from_the_same_rule_objects():
    from celerytui.commands.status import assess

    _clock, state, book = make(Thresholds(queue_backlog=10))
    deep = [
        SimpleNamespace(name="celery", messages=11, error=None),
        SimpleNamespace(name="gone", messages=0, error="queue not found"),
    ]
    book.evaluate(state, queue_depths=deep)
    assert [a.key for a in book.active()] == ["queue-backlog:celery"]
    # the status snapshot: one worker answered, the same depths
    problems, backlogged = assess(state, book.thresholds, [{"hostname": "w1", "ok": True}], deep)
    assert problems == ["queue celery holds 11 messages (threshold 10)"]
    assert backlogged == {"celery"}
    # the very objects: status's rules are among those the book runs
    assert status_rules() and all(rule in book.rules for rule in status_rules())
    assert {"no-worker-answers", "queue-backlog"} <= {rule.name for rule in status_rules()}
    # nobody answered the ping: status degrades; the book, which pings nobody, raises nothing more
    problems, _ = assess(state, book.thresholds, [{"hostname": "w1", "ok": False}], [])
    assert problems == ["no worker answered ping"]
    book.evaluate(state, queue_depths=[])
    assert book.active() == []


def test_a_rule_registered_in_a_test_shows_up_in_the_book_and_in_status(test_rule):
    from celerytui.commands.status import assess

    @test_rule
    class PoisonQueue(Rule):
        name = "poison-queue"
        kind = "periodic"
        watches = "the depth of the queue named poison"
        in_status = True

        def evaluate(self, context: Context) -> list[Finding]:
            return [
                Finding(
                    f"poison-queue:{d.name}", "critical", f"{d.messages} poisoned", subject=d.name
                )
                for d in context.queue_depths
                if d.name == "poison" and d.messages
            ]

    _clock, state, book = make()
    poisoned = [SimpleNamespace(name="poison", messages=2, error=None)]
    book.evaluate(state, queue_depths=poisoned)
    assert [(a.key, a.severity, a.title) for a in book.active()] == [
        ("poison-queue:poison", "critical", "2 poisoned")
    ]
    assert assess(state, book.thresholds, [{"hostname": "w1", "ok": True}], poisoned)[0] == [
        "2 poisoned"
    ]
    book.evaluate(state, queue_depths=[])  # a periodic rule: clears as soon as it finds nothing
    assert book.active() == []


def test_a_registered_event_rule_folds_repeats_and_clears_after_the_quiet_window(test_rule):
    @test_rule
    class CriticalTaskFailed(Rule):
        name = "critical-failed"
        kind = "event"
        watches = "failures of proj.critical"
        settings = ("failure_window",)

        def evaluate(self, context: Context) -> list[Finding]:
            if context.changes is None:
                return []
            return [
                Finding("critical-failed", "critical", "proj.critical failed")
                for uuid in context.changes.new_failures
                if context.state.tasks[uuid].name == "proj.critical"
            ]

    clock, state, book = make(Thresholds(failure_window=60))
    book.evaluate(state, fail(state, clock, "c1", name="proj.critical"))
    clock.now += 30
    book.evaluate(state, fail(state, clock, "c2", name="proj.critical"))
    first = book.active()[0]
    assert (first.key, first.count) == ("critical-failed", 2)  # most severe, counted
    clock.now += 59
    book.evaluate(state, state.apply([]))
    assert book.get("critical-failed").active
    clock.now += 2
    book.evaluate(state, state.apply([]))
    assert book.active() == []


def test_every_rule_names_its_kind_and_real_threshold_settings():
    fields = set(Thresholds.__dataclass_fields__)
    rules = registered()
    assert len({rule.name for rule in rules}) == len(rules)
    assert {
        "task-failed",
        "worker-lost",
        "queue-backlog",
        "failure-rate",
        "check-down",
        "disk",
        "broker",
    } <= {rule.name for rule in rules}
    for rule in rules:
        assert rule.kind in ("event", "periodic") and rule.watches
        assert set(rule.settings) <= fields, rule
