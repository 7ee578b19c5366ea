"""Monitor end to end: a real worker, real HTTP targets, the checks and alerts it derives."""

from __future__ import annotations

import pytest

from celerytui.config import load_settings
from celerytui.core.monitor import Monitor
from tests.support.services import wait_for


@pytest.fixture
def monitor(redis_urls, start_worker):
    broker, backend = redis_urls
    start_worker("mon")
    mon = Monitor(load_settings(broker_url=broker, result_backend=backend)).start()
    wait_for(lambda: mon.events.status.connected, 10, what="event stream connected")
    yield mon
    mon.stop()


def pump_until(mon: Monitor, predicate, timeout: float = 20.0, what: str = "condition"):
    def step():
        mon.pump()
        return predicate()

    return wait_for(step, timeout, interval=0.05, what=what)


def test_http_check_down_raises_an_alert_and_up_clears_it(monitor, httpserver):
    httpserver.expect_request("/health").respond_with_data("broken", status=503)
    url = httpserver.url_for("/health")
    monitor.controller.fire_http(url)
    check = pump_until(monitor, lambda: monitor.state.http_checks.get(url), what="check record")
    assert (check.status, check.status_code) == ("DOWN", 503)
    pump_until(monitor, lambda: monitor.alerts.get(f"check-down:{url}"), what="DOWN alert")
    assert monitor.alerts.get(f"check-down:{url}").title == f"DOWN: {url}"

    httpserver.clear()
    httpserver.expect_request("/health").respond_with_data("ok")
    monitor.controller.fire_http(url)
    pump_until(monitor, lambda: monitor.state.http_checks[url].status == "UP", what="UP")
    pump_until(
        monitor,
        lambda: not monitor.alerts.get(f"check-down:{url}").active,
        what="DOWN alert cleared",
    )
    assert len(monitor.state.http_checks[url].history) == 2


def test_worker_pane_facts_come_from_inspect_and_queue_depths_are_polled(monitor):
    host = "mon@celerytui-test"
    worker = pump_until(monitor, lambda: monitor.state.workers.get(host), what="worker seen")
    pump_until(
        monitor,
        lambda: worker.pool_size == 2 and worker.queues,
        15,
        what="pool size and queues from inspect",
    )
    assert set(worker.queues) == {"celery", "http", "disk", "secure"}
    wanted = {"celery", "http", "disk", "secure"}  # depths arrive with a poll of their own
    names = pump_until(
        monitor,
        lambda: wanted <= (n := {d.name for d in monitor.queue_depths}) and n,
        15,
        what="queue depths of the worker's queues",
    )
    assert all(d.messages == 0 for d in monitor.queue_depths if d.name in names)


def test_events_per_second_and_task_results_arrive(monitor, celery_app):
    result = celery_app.tasks["celerytui.tasks.send_email"].delay("a@b.c", "hello there")
    task = pump_until(
        monitor,
        lambda: (
            (t := monitor.state.tasks.get(result.id))
            and t.state == "SUCCESS"
            and t.result_is_full
            and t
        ),
        what="full result",
    )
    assert task.result_full == "Email to a@b.c sent: hello there..."
    pump_until(monitor, lambda: monitor.events_per_second() > 0, 5, what="an event rate")
