"""ClusterState merges events as a user expects even when hosts' clocks disagree and events are
late, repeated or lost: what finished shows finished, on the worker that finished it."""

from __future__ import annotations

from celerytui.core.model import (
    FAILURE,
    RECEIVED,
    REJECTED,
    RETRY,
    REVOKED,
    STARTED,
    SUCCESS,
)
from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, heartbeat, received, sent, succeeded, task_event


def test_a_success_on_a_host_whose_clock_is_behind_is_not_hidden_by_an_earlier_retry():
    # the minimal case: the retry on w1 is stamped 0.106, the next attempt's success
    # on w2 (clock behind) 0.014 — celery shows SUCCESS, and so must we
    state = ClusterState()
    state.apply(
        [
            task_event("retried", "t1", T0 + 0.106, hostname="celery@w1", exception="IOError()"),
            succeeded("t1", T0 + 0.014, hostname="celery@w2"),
        ]
    )
    task = state.tasks["t1"]
    assert (task.state, task.worker) == (SUCCESS, "celery@w2")
    assert state.counts_by_state()[SUCCESS] == 1 and state.counts_by_state()[RETRY] == 0


def test_a_late_retry_from_another_host_never_replaces_a_finished_or_newer_attempt():
    for final in ("failed", "revoked", "started"):
        state = ClusterState()
        state.apply(
            [
                received("t1", T0, hostname="celery@w2", retries=1),
                task_event(final, "t1", T0 + 0.01, hostname="celery@w2"),
                task_event("retried", "t1", T0 + 5, hostname="celery@w1"),
            ]
        )
        expected = {"failed": FAILURE, "revoked": REVOKED, "started": STARTED}[final]
        assert state.tasks["t1"].state == expected, final
        assert state.tasks["t1"].worker == "celery@w2"


def test_on_one_host_timestamps_still_order_a_retry_and_the_next_attempt():
    state = ClusterState()
    state.apply([received("t1", T0), task_event("started", "t1", T0 + 1)])
    state.apply([task_event("retried", "t1", T0 + 2, exception="E()")])
    assert state.tasks["t1"].state == RETRY
    state.apply([task_event("started", "t1", T0 + 1)])  # the first start, delivered again late
    assert state.tasks["t1"].state == RETRY


def test_the_next_attempt_received_before_the_old_attempts_retried_is_not_shown_as_retry():
    # celery publishes the retry's message before it sends task-retried: the same worker can
    # receive (and here revoke) the next attempt first
    state = ClusterState()
    state.apply(
        [
            received("t1", T0),
            task_event("started", "t1", T0 + 0.1),
            received("t1", T0 + 0.2, retries=1),
            task_event("revoked", "t1", T0 + 0.21, expired=True),
            task_event("retried", "t1", T0 + 0.25, exception="IOError()"),
        ]
    )
    task = state.tasks["t1"]
    assert (task.state, task.exception) == (REVOKED, "IOError()")


def test_a_later_attempts_received_moves_the_task_to_its_worker_even_if_the_retry_was_lost():
    state = ClusterState()
    state.apply(
        [
            received("t1", T0, hostname="celery@w1"),
            task_event("started", "t1", T0 + 0.1, hostname="celery@w1"),
            received("t1", T0 - 3, hostname="celery@w4", retries=1),
        ]
    )  # w4 is behind
    task = state.tasks["t1"]
    assert (task.state, task.worker, task.retries) == (RECEIVED, "celery@w4", 1)


def test_a_rejected_task_stays_rejected_when_an_older_event_of_its_worker_comes_late():
    state = ClusterState()
    state.apply(
        [
            task_event("rejected", "t1", T0 + 1, requeue=False),
            received("t1", T0),
            task_event("started", "t1", T0 + 0.5),
        ]
    )
    assert state.tasks["t1"].state == REJECTED


def test_eta_follows_the_newest_task_received_and_a_later_none_clears_it():
    state = ClusterState()
    eta = "2026-01-01T00:05:00+00:00"
    state.apply(
        [
            task_event("sent", "t1", T0, retries=0, eta=eta),
            task_event("received", "t1", T0 + 0.1, retries=0, eta=eta),
        ]
    )
    assert state.tasks["t1"].eta == eta
    state.apply([received("t1", T0 + 2, retries=1)])  # a retry with no countdown
    assert state.tasks["t1"].eta is None
    # the first attempt's, repeated late
    state.apply([task_event("received", "t1", T0 + 0.1, retries=0, eta=eta)])
    assert state.tasks["t1"].eta is None


def test_retries_is_the_largest_that_task_sent_and_task_received_say():
    state = ClusterState()
    state.apply(
        [
            task_event("sent", "t1", T0 + 3, retries=2),
            received("t1", T0 + 1, retries=1),
            sent("t1", T0),
        ]
    )
    assert state.tasks["t1"].retries == 2


def test_a_revoked_or_rejected_task_names_the_worker_that_reported_it():
    state = ClusterState()
    state.apply(
        [
            received("t1", T0, hostname="celery@w1"),
            task_event("revoked", "t1", T0 + 1, hostname="celery@w2", terminated=True),
            received("t2", T0, hostname="celery@w1"),
            task_event("rejected", "t2", T0 + 1, hostname="celery@w3", requeue=False),
        ]
    )
    assert (state.tasks["t1"].state, state.tasks["t1"].worker) == (REVOKED, "celery@w2")
    assert state.tasks["t1"].exception == "terminated"
    assert (state.tasks["t2"].state, state.tasks["t2"].worker) == (REJECTED, "celery@w3")


def test_worker_offline_brings_the_last_processed_count_and_load():
    state = ClusterState()
    state.apply([heartbeat("celery@w1", T0, processed=10)])
    offline = heartbeat("celery@w1", T0 + 1, processed=42, kind="offline")
    offline["loadavg"] = [3.0, 2.0, 1.0]
    state.apply([offline])
    worker = state.workers["celery@w1"]
    assert (worker.processed, worker.loadavg, worker.active) == (42, (3.0, 2.0, 1.0), 0)


def test_a_failures_exception_is_not_replaced_by_a_late_retry_from_another_host():
    state = ClusterState()
    state.apply(
        [
            task_event("failed", "t1", T0 + 1, hostname="celery@w2", exception="Boom()"),
            task_event("retried", "t1", T0 + 9, hostname="celery@w1", exception="IOError()"),
        ]
    )
    assert (state.tasks["t1"].state, state.tasks["t1"].exception) == (FAILURE, "Boom()")


def test_chain_invents_no_link_when_a_middle_task_is_missing():
    state = ClusterState()
    state.apply(
        [
            received("a", T0, name="proj.validate"),
            received("c", T0 + 2, name="proj.ship", root_id="a", parent_id="b"),
        ]
    )
    tree = state.chain("c")
    rows = [(depth, node.task.uuid, node.task.name) for depth, node in tree.walk()]
    assert rows == [(0, "a", "proj.validate"), (1, "b", None), (2, "c", "proj.ship")]
    assert state.tasks["a"].children == []  # a never started c
    state.apply([received("b", T0 + 1, name="proj.pay", root_id="a", parent_id="a")])
    assert state.tasks["a"].children == ["b"] and state.tasks["b"].children == ["c"]


def test_children_are_linked_again_when_an_evicted_parent_is_seen_again():
    state = ClusterState(max_tasks=3)
    state.apply(
        [
            received("p", T0),
            received("k1", T0 + 1, root_id="p", parent_id="p"),
            received("k2", T0 + 2, root_id="p", parent_id="p"),
        ]
    )
    assert state.tasks["p"].children == ["k1", "k2"]
    state.apply([received("x", T0 + 3)])  # evicts p
    assert "p" not in state.tasks
    state.apply([succeeded("p", T0 + 4)])  # p is seen again (evicting k1)
    assert [c for c in state.tasks["p"].children if c in state.tasks] == ["k2"]
    tree = state.chain("k2")
    assert [node.task.uuid for _, node in tree.walk()] == ["p", "k2"]


def test_events_whose_uuid_is_a_list_or_dict_are_counted_malformed():
    state = ClusterState()
    ch = state.apply(
        [
            task_event("received", ["a"], T0),
            task_event("started", {"a": 1}, T0),
            task_event("received", "ok", T0),
        ]
    )
    assert (ch.malformed, ch.events, list(state.tasks)) == (2, 1, ["ok"])
    assert state.malformed == 2
