"""Does the monitor tell the truth? A known workload on real workers, read back from ClusterState.

EventStream -> ClusterState, as the Monitor wires them, against real `celery worker` processes:
exact counts by state and by name, retries, the order chain's tree, and worker liveness (killed
-> lost within its heartbeat window, stopped cleanly -> offline).
"""

from __future__ import annotations

import signal
import time

import pytest

from celerytui.core.events import EventStream
from celerytui.core.model import FAILURE, SUCCESS, WORKER_LOST, WORKER_OFFLINE, WORKER_ONLINE
from celerytui.core.state import ClusterState
from celerytui.tasks import order_chain
from tests.support.services import wait_for
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.redis

EMAIL = "celerytui.tasks.send_email"
RISKY = "celerytui.tasks.risky_operation"
CHAIN_NAMES = [
    "celerytui.tasks.validate_order",
    "celerytui.tasks.process_payment",
    "celerytui.tasks.ship_order",
]
HEARTBEAT = 1  # seconds between a test worker's heartbeats (celery worker --heartbeat-interval)


class Watched:
    """EventStream feeding ClusterState, pumped by the test as the Monitor pumps it."""

    def __init__(self, app):
        self.stream = EventStream(app)
        self.state = ClusterState()

    def __enter__(self) -> Watched:
        self.stream.start()
        wait_for(lambda: self.stream.status.connected, 10, what="event stream connected")
        return self

    def __exit__(self, *exc) -> None:
        self.stream.stop()

    def pump(self) -> ClusterState:
        self.state.apply(self.stream.drain())
        self.state.tick()
        return self.state


@pytest.fixture
def watched(celery_app):
    with Watched(celery_app) as w:
        yield w


def test_a_known_workload_is_counted_exactly(celery_app, start_worker, watched):
    start_worker("truth")
    n_email, m_fail, k_retry = 5, 2, 2
    emails = [celery_app.send_task(EMAIL, (f"u{i}@example.com", "hello")) for i in range(n_email)]
    failing = [celery_app.send_task(RISKY, kwargs={"fail_times": 5}) for _ in range(m_fail)]
    recovering = [celery_app.send_task(RISKY, kwargs={"fail_times": 2}) for _ in range(k_retry)]
    last = order_chain(celery_app, 1001).apply_async()
    for r in emails + recovering + [last]:
        r.get(timeout=30)
    for r in failing:
        with pytest.raises(RuntimeError):
            r.get(timeout=30)

    total = n_email + m_fail + k_retry + 3

    def settled() -> bool:
        state = watched.pump()
        counts = state.counts_by_state()
        return counts[SUCCESS] + counts[FAILURE] == total

    wait_for(settled, 15, what="every task of the workload to be ready in ClusterState")
    state = watched.state
    counts = state.counts_by_state()
    assert counts[SUCCESS] == n_email + k_retry + 3
    assert counts[FAILURE] == m_fail
    assert len(state.tasks) == total
    by_name = {
        name: {st: n for st, n in s.counts.items() if n} for name, s in state.task_stats().items()
    }
    assert by_name[EMAIL] == {SUCCESS: n_email}
    assert by_name[RISKY] == {SUCCESS: k_retry, FAILURE: m_fail}
    for name in CHAIN_NAMES:
        assert by_name[name] == {SUCCESS: 1}
    # retries: max_retries=3 exhausted for the failing ones, two each for the recovering ones
    assert [state.tasks[r.id].retries for r in failing] == [3] * m_fail
    assert [state.tasks[r.id].retries for r in recovering] == [2] * k_retry
    retried = sum(
        n for (kind, name, _, _), n in state.counters.items() if kind == "retried" and name == RISKY
    )
    assert retried == 3 * m_fail + 2 * k_retry
    assert {state.tasks[r.id].exception.split("(")[0] for r in failing} == {"RuntimeError"}
    assert state.malformed == 0 and watched.stream.status.events_dropped == 0

    # the chain: root -> child -> child, all SUCCESS, drawn from its last task
    tree = state.chain(last.id)
    assert tree is not None and len(tree) == 3
    names, states, depths = [], [], []
    for depth, node in tree.walk():
        names.append(node.task.name)
        states.append(node.task.state)
        depths.append(depth)
    assert names == CHAIN_NAMES
    assert states == [SUCCESS] * 3
    assert depths == [0, 1, 2]
    assert state.tasks[last.id].root_id == tree.task.uuid


def start_beating_worker(redis_urls, tmp_path, celery_app, name: str) -> WorkerProcess:
    broker, backend = redis_urls
    worker = WorkerProcess(broker, backend, tmp_path, name=name, concurrency=1)
    worker.cmd += ["--heartbeat-interval", str(HEARTBEAT)]
    return worker.start(celery_app)


def test_killed_worker_is_lost_and_stopped_worker_is_offline(
    celery_app, redis_urls, tmp_path, watched
):
    killed = start_beating_worker(redis_urls, tmp_path, celery_app, "doomed")
    stopped = start_beating_worker(redis_urls, tmp_path, celery_app, "retiring")
    try:

        def both_online() -> bool:
            workers = watched.pump().workers
            return all(
                h in workers and workers[h].status == WORKER_ONLINE and workers[h].freq == HEARTBEAT
                for h in (killed.hostname, stopped.hostname)
            )

        wait_for(both_online, 10, what="both workers online, beating every second")

        killed.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        stopped.kill(signal.SIGTERM)  # a warm shutdown, which announces worker-offline

        window = 2 * HEARTBEAT  # ClusterState: lost after freq * 2 without a heartbeat
        wait_for(
            lambda: watched.pump().workers[killed.hostname].status == WORKER_LOST,
            window + 2 + 1,
            what="the killed worker to show as lost",
        )
        assert time.monotonic() - killed_at <= window + 2 + 1
        wait_for(
            lambda: watched.pump().workers[stopped.hostname].status == WORKER_OFFLINE,
            10,
            what="the stopped worker to show as offline",
        )

        # well past the window, the cleanly stopped worker is still offline, not lost
        time.sleep(window + 0.5)  # nothing to poll: we check that nothing changes
        assert watched.pump().workers[stopped.hostname].status == WORKER_OFFLINE
    finally:
        killed.stop()
        stopped.stop()
