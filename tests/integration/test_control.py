"""Controller against real workers on real Redis: what each command does to the cluster."""

from __future__ import annotations

import time

import pytest

from celerytui.core.control import ControlError, Controller
from celerytui.core.queues import QueueInspector
from tests.support.core_cluster import module_cluster
from tests.support.services import free_port, port_answers, service_missing, wait_for

pytestmark = pytest.mark.redis

EMAIL = "celerytui.tasks.send_email"


@pytest.fixture(scope="module")
def cluster(redis_target, tmp_path_factory):
    with module_cluster(redis_target, tmp_path_factory, "control") as cluster:
        cluster.worker = cluster.start_worker("ctl")
        cluster.ctl = Controller(cluster.app, timeout=1.0)
        yield cluster


def pool_of(ctl: Controller, hostname: str) -> dict:
    return ctl.inspect("stats", hostname).get(hostname, {}).get("pool", {})


def queues_of(ctl: Controller, hostname: str) -> set[str]:
    return {q["name"] for q in ctl.inspect("active_queues", hostname).get(hostname, [])}


def test_ping_answers_per_worker(cluster):
    assert cluster.ctl.ping() == {cluster.worker.hostname: {"ok": "pong"}}
    assert cluster.ctl.ping("nobody@nowhere") == {}


def test_inspect_registered_lists_the_celerytui_tasks(cluster):
    registered = cluster.ctl.inspect("registered")[cluster.worker.hostname]
    for name in (
        "send_email",
        "validate_order",
        "process_payment",
        "ship_order",
        "risky_operation",
        "check_http_endpoint",
        "check_disk_usage",
    ):
        assert f"celerytui.tasks.{name}" in registered


def test_revoke_a_countdown_task_makes_it_revoked(cluster):
    task_id = cluster.ctl.send_task(EMAIL, ["a@example.com", "later"], countdown=60)
    hostname = cluster.worker.hostname
    wait_for(
        lambda: any(
            s["request"]["id"] == task_id
            for s in cluster.ctl.inspect("scheduled", hostname).get(hostname, [])
        ),
        10,
        what="the worker to hold the countdown task",
    )
    result = cluster.ctl.revoke(task_id)
    assert result.ok and result.error is None
    assert task_id in result.replies[hostname]["ok"]
    wait_for(lambda: cluster.app.AsyncResult(task_id).state == "REVOKED", 10, what="state REVOKED")


def test_rate_limit_and_time_limit_replies(cluster):
    hostname = cluster.worker.hostname
    result = cluster.ctl.rate_limit(EMAIL, "10/m")
    assert result.ok
    assert result.replies == {hostname: {"ok": "new rate limit set successfully"}}
    result = cluster.ctl.time_limit(EMAIL, soft=20, hard=30, destination=hostname)
    assert result.ok
    assert result.replies == {hostname: {"ok": "time limits set successfully"}}
    unknown = cluster.ctl.rate_limit("no.such.task", "1/s")
    assert not unknown.ok
    assert unknown.error == f"{hostname}: unknown task"


def test_pool_grow_and_shrink_show_in_stats(cluster):
    ctl, hostname = cluster.ctl, cluster.worker.hostname
    before = len(wait_for(lambda: pool_of(ctl, hostname).get("processes"), 10, what="stats"))
    assert before == 2  # --concurrency 2
    grown = ctl.pool_grow(hostname, 1)
    assert grown.ok and grown.replies[hostname] == {"ok": "pool will grow"}
    wait_for(
        lambda: len(pool_of(ctl, hostname).get("processes", ())) == before + 1,
        10,
        what="one more pool process",
    )
    assert ctl.pool_shrink(hostname, 1).ok
    wait_for(
        lambda: len(pool_of(ctl, hostname).get("processes", ())) == before,
        10,
        what="back to two pool processes",
    )


def test_add_and_cancel_consumer_show_in_active_queues(cluster):
    ctl, hostname = cluster.ctl, cluster.worker.hostname
    assert "celery" in wait_for(lambda: queues_of(ctl, hostname), 10, what="active_queues")
    assert "extra" not in queues_of(ctl, hostname)
    result = ctl.add_consumer(hostname, "extra")
    assert result.ok and "extra" in result.replies[hostname]["ok"]
    wait_for(lambda: "extra" in queues_of(ctl, hostname), 10, what="extra consumed")
    assert ctl.cancel_consumer(hostname, "extra").ok
    wait_for(
        lambda: (names := queues_of(ctl, hostname)) and "extra" not in names,
        10,
        what="extra cancelled",
    )


def test_enable_and_disable_events_answered(cluster):
    hostname = cluster.worker.hostname
    off = cluster.ctl.disable_events()
    assert off.ok and "disabled" in off.replies[hostname]["ok"]
    on = cluster.ctl.enable_events()
    assert on.ok and "enabled" in on.replies[hostname]["ok"]


def test_purge_empties_a_queue_and_returns_the_count(cluster):
    ctl = cluster.ctl
    for i in range(3):
        ctl.send_task(EMAIL, [f"{i}@example.com", "hi"], queue="unconsumed")
    queues = QueueInspector(cluster.app)
    assert queues.depths(["unconsumed"])[0].messages == 3
    assert ctl.purge("unconsumed") == 3
    assert queues.depths(["unconsumed"])[0].messages == 0


def test_fire_order_runs_the_chain_and_returns_both_ends(cluster):
    fired = cluster.ctl.fire_order(1001)
    shipped = cluster.app.AsyncResult(fired).get(timeout=20)
    assert shipped["status"] == "shipped" and shipped["order_id"] == 1001
    assert fired.root_id != fired
    assert cluster.app.AsyncResult(fired.root_id).get(timeout=5)["status"] == "validated"


def test_fire_http_and_email_reach_their_tasks(cluster, httpserver):
    httpserver.expect_request("/health").respond_with_data("ok")
    url = httpserver.url_for("/health")
    check = cluster.app.AsyncResult(cluster.ctl.fire_http(url)).get(timeout=20)
    assert check["url"] == url and check["status"] == "UP" and check["status_code"] == 200
    email = cluster.app.AsyncResult(cluster.ctl.fire_email("ops@example.com", "disk full"))
    assert "ops@example.com" in email.get(timeout=20)


def test_no_worker_answering_is_a_clear_result(cluster):
    result = cluster.ctl.pool_grow("nobody@nowhere", 1)
    assert not result.ok and result.replies == {}
    assert result.error == "pool_grow: no worker answered within 1s"


def test_commands_the_worker_refuses_come_back_as_errors(cluster):
    """This worker runs without --autoscale and without pool restarts: the replies say so."""
    hostname = cluster.worker.hostname
    scaled = cluster.ctl.autoscale(hostname, 4, 1)
    assert not scaled.ok and "Autoscale not enabled" in scaled.error
    assert scaled.error.startswith(f"{hostname}: ")
    restarted = cluster.ctl.pool_restart(hostname)
    assert not restarted.ok and "Pool restarts not enabled" in restarted.error


def test_terminate_a_running_task_then_shut_the_worker_down(cluster):
    """A dedicated worker whose send_email takes 30 s: terminate kills the running task
    (REVOKED), then shutdown stops the worker process."""
    slow = cluster.start_worker(
        "slow", queues="slowmail", extra_env={"CELERYTUI_EMAIL_DELAY": "30"}
    )
    ctl = cluster.ctl
    task_id = ctl.send_task(EMAIL, ["a@example.com", "slow"], queue="slowmail")
    wait_for(
        lambda: any(
            t["id"] == task_id for t in ctl.inspect("active", slow.hostname).get(slow.hostname, [])
        ),
        15,
        what="the task to be running",
    )
    result = ctl.terminate(task_id, signal="SIGKILL")
    assert result.ok
    assert f"terminate: {task_id}" in result.replies[slow.hostname]["ok"]
    wait_for(
        lambda: cluster.app.AsyncResult(task_id).state == "REVOKED",
        10,
        what="the task terminated (REVOKED)",
    )

    assert ctl.shutdown(slow.hostname).ok
    wait_for(lambda: slow.proc.poll() is not None, 15, what="the worker process to exit")
    assert ctl.ping(slow.hostname) == {}


def test_closed_broker_port_fails_within_the_timeout():
    from celery import Celery

    app = Celery("closed", broker=f"redis://:pw123@127.0.0.1:{free_port()}/0", set_as_current=False)
    ctl = Controller(app, timeout=1.0)
    for call in (
        lambda: ctl.revoke("x"),
        lambda: ctl.send_task(EMAIL, ["a", "b"]),
        lambda: ctl.purge("celery"),
        lambda: ctl.fire_order(1),
        ctl.ping,
    ):
        started = time.monotonic()
        with pytest.raises(ControlError, match="broker unreachable") as info:
            call()
        assert time.monotonic() - started < 3.0
        assert "pw123" not in str(info.value)


@pytest.mark.rabbitmq
def test_amqp_ping_with_no_worker_is_empty_within_the_timeout():
    from celery import Celery

    if not port_answers("127.0.0.1", 5672):
        service_missing("RabbitMQ at 127.0.0.1:5672")
    app = Celery("amqp-ctl", broker="amqp://guest:guest@127.0.0.1:5672//", set_as_current=False)
    try:
        ctl = Controller(app, timeout=0.5)
        started = time.monotonic()
        assert ctl.ping() == {}
        result = ctl.rate_limit(EMAIL, "1/s")
        assert not result.ok and result.error == "rate_limit: no worker answered within 0.5s"
        assert time.monotonic() - started < 4.0
    finally:
        app.close()
