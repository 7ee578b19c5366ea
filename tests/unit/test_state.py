"""ClusterState: merging events into tasks and workers the way a user expects to see them."""

from __future__ import annotations

from celerytui.core.model import (
    FAILURE,
    PENDING,
    RECEIVED,
    RETRY,
    REVOKED,
    STARTED,
    SUCCESS,
    TIMELINE_MAX,
    WORKER_LOST,
    WORKER_OFFLINE,
    WORKER_ONLINE,
)
from celerytui.core.state import ClusterState
from tests.support.cluster_events import (
    T0,
    FakeClock,
    failed,
    heartbeat,
    received,
    sent,
    succeeded,
    task_event,
)


def test_a_task_runs_from_sent_to_success_with_every_field_a_user_reads():
    state = ClusterState(clock=FakeClock())
    ch = state.apply(
        [
            sent("t1", T0, name="proj.add", queue="math"),
            received("t1", T0 + 0.1, name="proj.add", args="(2, 3)", kwargs="{'x': 1}"),
            task_event("started", "t1", T0 + 0.2),
            succeeded("t1", T0 + 0.7, result="5", runtime=0.5),
        ]
    )
    task = state.tasks["t1"]
    assert task.state == SUCCESS
    assert (task.name, task.args, task.kwargs, task.result) == (
        "proj.add",
        "(2, 3)",
        "{'x': 1}",
        "5",
    )
    assert (task.queue, task.routing_key, task.exchange) == ("math", "math", None)
    assert task.worker == "celery@w1"
    assert (task.sent, task.received, task.started, task.succeeded) == (
        T0,
        T0 + 0.1,
        T0 + 0.2,
        T0 + 0.7,
    )
    assert task.runtime == 0.5
    assert [kind for _, kind in task.timeline_pairs()] == [
        "task-sent",
        "task-received",
        "task-started",
        "task-succeeded",
    ]
    assert ch.new_tasks == ["t1"] and ch.tasks == {"t1"} and ch.events == 4
    assert "celery@w1" in state.workers and "client@bastion" not in state.workers
    assert state.counts_by_state()[SUCCESS] == 1


def test_succeeded_before_received_keeps_success_and_still_gets_name_and_args():
    state = ClusterState()
    state.apply([succeeded("t1", T0 + 2, result="42")])
    assert state.tasks["t1"].state == SUCCESS and state.tasks["t1"].name is None
    state.apply(
        [task_event("started", "t1", T0 + 1), received("t1", T0, name="proj.mul", args="(6, 7)")]
    )
    task = state.tasks["t1"]
    assert task.state == SUCCESS
    assert (task.name, task.args, task.result) == ("proj.mul", "(6, 7)", "42")
    assert task.received == T0 and task.started == T0 + 1
    assert state.task_stats()["proj.mul"].counts[SUCCESS] == 1


def test_revoked_before_received_stays_revoked():
    state = ClusterState()
    state.apply(
        [task_event("revoked", "t1", T0 + 1, terminated=False, expired=False), received("t1", T0)]
    )
    assert state.tasks["t1"].state == REVOKED
    assert state.tasks["t1"].name == "proj.add"


def test_received_name_wins_over_the_clients_sent_name():
    state = ClusterState()
    state.apply([received("t1", T0 + 1, name="real.name"), sent("t1", T0, name="client.alias")])
    task = state.tasks["t1"]
    assert task.name == "real.name" and task.state == RECEIVED
    assert task.queue == "celery"  # sent still brings the routing info


def test_retry_flow_goes_retry_then_continues_with_the_next_attempt():
    state = ClusterState()
    state.apply([received("t1", T0, name="proj.risky"), task_event("started", "t1", T0 + 1)])
    ch = state.apply(
        [task_event("retried", "t1", T0 + 2, exception="IOError('down')", traceback="Traceback...")]
    )
    task = state.tasks["t1"]
    assert task.state == RETRY and task.exception == "IOError('down')"
    assert ch.new_retries == ["t1"] and list(state.failures) == ["t1"]
    state.apply([received("t1", T0 + 4, name="proj.risky", retries=1)])
    assert task.state == RECEIVED and task.retries == 1
    state.apply([task_event("started", "t1", T0 + 5), succeeded("t1", T0 + 6)])
    assert task.state == SUCCESS
    assert task.exception == "IOError('down')"  # kept for the detail view


def test_retry_as_celery_orders_it_next_received_before_retried_shows_the_next_attempt():
    state = ClusterState()
    state.apply(
        [
            received("t1", T0),
            task_event("started", "t1", T0 + 1),
            sent("t1", T0 + 2),
            received("t1", T0 + 2.1, retries=1),
            task_event("retried", "t1", T0 + 2.2, exception="E(1)"),
            task_event("started", "t1", T0 + 2.5),
            sent("t1", T0 + 3),
            received("t1", T0 + 3.1, retries=2),
            task_event("retried", "t1", T0 + 3.2, exception="E(2)"),
        ]
    )
    task = state.tasks["t1"]
    # the task-retried stamped after attempt 2's task-received is attempt 1's: attempt 2 waits
    assert (task.state, task.retries, task.exception) == (RECEIVED, 2, "E(2)")
    state.apply([task_event("started", "t1", T0 + 4)])
    assert task.state == STARTED
    state.apply([task_event("retried", "t1", T0 + 4.5, exception="E(3)")])
    assert (task.state, task.exception) == (RETRY, "E(3)")  # attempt 2 started: its own retry
    state.apply(
        [
            received("t1", T0 + 4.6, retries=3),
            task_event("started", "t1", T0 + 4.7),
            succeeded("t1", T0 + 5),
        ]
    )
    assert (task.state, task.retries) == (SUCCESS, 3)


def test_backend_success_before_the_events_of_earlier_attempts_stays_success():
    state = ClusterState()
    state.apply_results([{"task_id": "t1", "status": "SUCCESS", "result": 1, "date_done": None}])
    state.apply(
        [
            received("t1", T0),
            task_event("started", "t1", T0 + 1),
            task_event("retried", "t1", T0 + 2, exception="E()"),
            received("t1", T0 + 3, retries=1),
        ]
    )
    assert state.tasks["t1"].state == SUCCESS
    state.apply_results(
        [
            {
                "task_id": "t2",
                "status": "SUCCESS",
                "result": 1,
                "date_done": "2026-01-01T00:00:05+00:00",
            }
        ]
    )
    state.apply([task_event("retried", "t2", T0 + 2, exception="E()")])
    assert state.tasks["t2"].state == SUCCESS


def test_a_late_retried_event_never_moves_a_finished_task_back():
    state = ClusterState()
    state.apply(
        [
            received("t1", T0),
            succeeded("t1", T0 + 5),
            task_event("retried", "t1", T0 + 2, exception="E()"),
        ]
    )
    assert state.tasks["t1"].state == SUCCESS


def test_failure_is_reported_once_in_changes_and_kept_in_the_failures_ring():
    state = ClusterState(failures_kept=2)
    ch = state.apply([received("t1", T0), failed("t1", T0 + 1)])
    assert ch.new_failures == ["t1"]
    assert state.tasks["t1"].state == FAILURE
    assert state.tasks["t1"].exception == "ValueError('boom')"
    assert state.apply([failed("t1", T0 + 1)]).new_failures == []
    state.apply([failed("t2", T0 + 2), failed("t3", T0 + 3)])
    assert list(state.failures) == ["t2", "t3"]
    state.apply(
        [
            received("t5", T0 + 4),
            task_event("started", "t5", T0 + 4.5),
            task_event("retried", "t5", T0 + 5),
            failed("t4", T0 + 6),
        ]
    )
    assert list(state.failures) == ["t5", "t4"]
    state.apply(
        [
            received("t5", T0 + 7, retries=1),
            task_event("started", "t5", T0 + 7.5),
            task_event("retried", "t5", T0 + 8),
        ]
    )
    assert list(state.failures) == ["t4", "t5"]  # each once, newest last


def test_oldest_tasks_are_evicted_first_and_reported():
    state = ClusterState(max_tasks=3)
    state.apply([received(f"t{i}", T0 + i) for i in range(3)])
    ch = state.apply([received("t3", T0 + 3), received("t4", T0 + 4)])
    assert list(state.tasks) == ["t2", "t3", "t4"]
    assert ch.removed_tasks == {"t0", "t1"}
    assert ch.new_tasks == ["t3", "t4"]
    assert sum(state.counts_by_state().values()) == 3


def test_a_task_created_and_evicted_in_one_batch_is_not_reported_as_changed():
    state = ClusterState(max_tasks=1)
    ch = state.apply([received("a", T0), received("b", T0 + 1)])
    assert ch.removed_tasks == {"a"} and ch.tasks == {"b"} and ch.new_tasks == ["b"]


def test_worker_alive_lost_and_back_by_heartbeats_with_a_fake_clock():
    clock = FakeClock()
    state = ClusterState(clock=clock)
    state.apply([heartbeat("celery@w1", T0, freq=2.0, active=3, processed=10)])
    worker = state.workers["celery@w1"]
    assert worker.status == WORKER_ONLINE and (worker.active, worker.processed) == (3, 10)
    assert worker.loadavg == (0.5, 0.25, 0.1) and worker.freq == 2.0
    assert state.tick(T0 + 3.9).workers_lost == []
    clock.advance(3.5)
    assert state.heartbeat_age("celery@w1") == 3.5
    clock.advance(0.6)
    ch = state.tick()
    assert ch.workers_lost == ["celery@w1"] and worker.status == WORKER_LOST
    assert not worker.alive
    assert state.tick().workers_lost == []  # reported once
    ch = state.apply([heartbeat("celery@w1", clock.now)])
    assert worker.status == WORKER_ONLINE and "celery@w1" in ch.workers


def test_task_events_make_a_worker_known_and_bring_a_lost_one_back():
    clock = FakeClock()
    state = ClusterState(clock=clock)
    ch = state.apply([received("t1", T0, hostname="celery@w9")])
    assert ch.workers == {"celery@w9"} and state.workers["celery@w9"].first_seen == T0
    assert state.tick(T0 + 10).workers_lost == ["celery@w9"]
    ch = state.apply([task_event("started", "t1", T0 + 11, hostname="celery@w9")])
    assert state.workers["celery@w9"].status == WORKER_ONLINE and "celery@w9" in ch.workers
    assert state.workers["celery@w9"].last_heartbeat == T0 + 11


def test_worker_offline_is_a_clean_shutdown_not_lost():
    state = ClusterState(clock=FakeClock())
    state.apply([heartbeat("celery@w1", T0), heartbeat("celery@w1", T0 + 1, kind="offline")])
    worker = state.workers["celery@w1"]
    assert worker.status == WORKER_OFFLINE and worker.offline_at == T0 + 1
    assert state.tick(T0 + 100).workers_lost == []
    assert worker.status == WORKER_OFFLINE


def test_heartbeat_without_local_received_uses_the_state_clock():
    clock = FakeClock(T0 + 50)
    state = ClusterState(clock=clock)
    event = heartbeat("celery@w1", T0)
    del event["local_received"]
    state.apply([event])
    assert state.workers["celery@w1"].last_heartbeat == T0 + 50


def test_workers_are_bounded_and_the_longest_offline_goes_first():
    state = ClusterState(max_workers=3)
    state.apply(
        [
            heartbeat("a", T0),
            heartbeat("b", T0),
            heartbeat("c", T0),
            heartbeat("b", T0 + 1, kind="offline"),
            heartbeat("a", T0 + 2, kind="offline"),
        ]
    )
    state.apply([heartbeat("d", T0 + 3)])
    assert sorted(state.workers) == ["a", "c", "d"]


def test_chain_tree_from_any_member_with_live_states_even_out_of_order():
    state = ClusterState()
    state.apply(
        [
            received("c", T0 + 2, name="proj.ship", root_id="a", parent_id="b"),
            received("a", T0, name="proj.validate"),
            succeeded("a", T0 + 0.5),
            received("b", T0 + 1, name="proj.pay", root_id="a", parent_id="a"),
            task_event("started", "b", T0 + 1.5),
            received("z", T0 + 3, name="proj.other"),
        ]
    )
    tree = state.chain("c")
    assert tree is not None and tree.task.uuid == "a"
    assert [(depth, node.task.uuid, node.task.state) for depth, node in tree.walk()] == [
        (0, "a", SUCCESS),
        (1, "b", STARTED),
        (2, "c", RECEIVED),
    ]
    assert state.tasks["a"].children == ["b"] and state.tasks["b"].children == ["c"]
    assert state.chain("z").children == []
    assert state.chain("unknown") is None


def test_a_wide_group_builds_its_tree_quickly():
    state = ClusterState()
    state.apply(
        [received("p", T0)]
        + [received(f"c{i}", T0 + 1 + i / 1e5, root_id="p", parent_id="p") for i in range(20_000)]
    )
    tree = state.chain("c19999")
    assert len(tree.children) == 20_000 and tree.children[-1].task.uuid == "c19999"
    assert len(state.tasks["p"].children) == 20_000


def test_chain_whose_root_was_evicted_hangs_under_a_placeholder():
    state = ClusterState(max_tasks=2)
    state.apply(
        [
            received("a", T0),
            received("b", T0 + 1, root_id="a", parent_id="a"),
            received("c", T0 + 2, root_id="a", parent_id="b"),
        ]
    )
    tree = state.chain("c")
    assert tree.task.uuid == "a" and tree.task.state == PENDING and "a" not in state.tasks
    assert [node.task.uuid for _, node in tree.walk()] == ["a", "b", "c"]


def test_task_multi_batches_left_nested_are_accepted():
    state = ClusterState()
    ch = state.apply([[received("t1", T0), succeeded("t1", T0 + 1)], received("t2", T0)])
    assert ch.events == 3 and state.tasks["t1"].state == SUCCESS and "t2" in state.tasks


def test_timeline_is_in_time_order_whatever_order_events_came_in():
    state = ClusterState()
    state.apply(
        [
            succeeded("t1", T0 + 3),
            received("t1", T0 + 1),
            sent("t1", T0),
            task_event("started", "t1", T0 + 2),
        ]
    )
    assert [kind for _, kind in state.tasks["t1"].timeline_pairs()] == [
        "task-sent",
        "task-received",
        "task-started",
        "task-succeeded",
    ]


def test_timeline_is_bounded_per_task():
    state = ClusterState()
    state.apply([task_event("progress", "t1", T0 + i) for i in range(TIMELINE_MAX * 3)])
    timeline = state.tasks["t1"].timeline_pairs()
    assert len(timeline) == TIMELINE_MAX and timeline[-1] == (
        T0 + TIMELINE_MAX * 3 - 1,
        "task-progress",
    )


def test_results_from_the_backend_fill_in_what_events_lack():
    state = ClusterState()
    state.apply([received("t1", T0, name="proj.add"), task_event("started", "t1", T0 + 1)])
    ch = state.apply_results(
        [
            {
                "task_id": "t1",
                "status": "SUCCESS",
                "result": {"sum": 5, "items": list(range(500))},
                "traceback": None,
                "date_done": "2026-01-01T00:00:02+00:00",
            },
            {
                "task_id": "t2",
                "status": "FAILURE",
                "traceback": "Traceback...\nKeyError: 'x'",
                "result": {"exc_type": "KeyError", "exc_message": ["x"], "exc_module": "builtins"},
                "date_done": "2026-01-01T00:00:03",
                "name": "proj.lookup",
                "args": [1],
                "kwargs": {},
                "worker": "celery@w2",
                "retries": 0,
                "queue": "celery",
            },
        ]
    )
    t1, t2 = state.tasks["t1"], state.tasks["t2"]
    assert t1.state == SUCCESS and t1.result_is_full
    assert t1.result_full["items"][-1] == 499 and t1.date_done == T0 + 2
    assert t2.state == FAILURE and t2.exception == "KeyError('x')"
    assert (t2.name, t2.worker, t2.queue, t2.args) == ("proj.lookup", "celery@w2", "celery", "[1]")
    assert t2.date_done == T0 + 3
    assert ch.tasks == {"t1", "t2"} and ch.new_tasks == ["t2"] and ch.new_failures == ["t2"]
    # the event's short repr arriving later does not replace the full result
    state.apply([succeeded("t1", T0 + 2, result="{'sum': 5, 'items': [0, 1, ...")])
    assert t1.result.startswith("{'sum': 5, 'items': [0, 1, 2, 3")
