"""The seed's tasks on a real `celery worker` (prefork) over a real Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest
from celery.result import AsyncResult
from prometheus_client.parser import text_string_to_metric_families

from celerytui.checks import DISK_CHECK_TASK, HTTP_CHECK_TASK
from celerytui.config import DiskHost, load_settings
from celerytui.tasks import beat_schedule, make_celery_app, order_chain
from tests.support.services import free_port, wait_for
from tests.support.worker_side import module_worker

pytestmark = pytest.mark.redis

T = "celerytui.tasks."


@pytest.fixture(scope="module")
def webhook(make_httpserver):
    """The session's local HTTP server; the module worker posts its failure alerts here."""
    return make_httpserver.url_for("/alert")


@pytest.fixture(scope="module")
def cluster(redis_target, tmp_path_factory, webhook):
    env = {"CELERYTUI_ALERT_WEBHOOK": webhook, "CELERYTUI_ALERT_TIMEOUT": "2"}
    with module_worker(redis_target, tmp_path_factory.mktemp("tasks"), "tasks", extra_env=env) as (
        app,
        worker,
    ):
        yield app, worker


def test_send_email_delay_get(cluster):
    app, _ = cluster
    result = app.tasks[T + "send_email"].delay("user@example.com", "Your order #1234 has shipped!")
    assert result.get(timeout=20) == "Email to user@example.com sent: Your order #1234 has..."


def test_order_chain_final_result(cluster):
    app, _ = cluster
    final = order_chain(app, 1001).apply_async().get(timeout=20)
    assert final["order_id"] == 1001
    assert final["status"] == "shipped"
    assert final["paid"] is True
    assert final["tracking_no"].startswith("CT") and len(final["tracking_no"]) == 12


def test_order_pipeline_task_returns_the_chains_last_task_id(cluster):
    app, _ = cluster
    last_id = app.tasks[T + "order_pipeline"].delay(2002).get(timeout=20)
    final = AsyncResult(last_id, app=app).get(timeout=20)
    assert (final["order_id"], final["paid"], final["status"]) == (2002, True, "shipped")
    meta = app.backend.get_task_meta(last_id)
    assert meta["name"] == T + "ship_order"


def test_risky_operation_retried_twice_then_succeeds(cluster):
    app, _ = cluster
    result = app.tasks[T + "risky_operation"].delay(fail_times=2)
    assert result.get(timeout=30) == {"attempts": 3, "retries": 2}
    meta = app.backend.get_task_meta(result.id)
    assert meta["status"] == "SUCCESS"
    assert meta["retries"] == 2


def test_risky_operation_fails_after_three_retries(cluster):
    app, _ = cluster
    result = app.tasks[T + "risky_operation"].delay(fail_times=5)
    with pytest.raises(RuntimeError, match="failed on attempt 4"):
        result.get(timeout=30)
    meta = app.backend.get_task_meta(result.id)
    assert meta["status"] == "FAILURE"
    assert meta["retries"] == 3


def test_failure_webhook_receives_task_and_exception(cluster, httpserver):
    app, worker = cluster
    httpserver.expect_request("/alert", method="POST").respond_with_json({"ok": True})
    result = app.tasks[T + "validate_order"].delay("")
    with pytest.raises(ValueError, match="order_id is empty"):
        result.get(timeout=20)

    def alert_for_task():
        for request, _response in httpserver.log:
            body = json.loads(request.get_data() or b"{}")
            if body.get("task_id") == result.id:
                return body
        return None

    alert = wait_for(alert_for_task, 10, what="the failure alert POST")
    assert alert["task"] == T + "validate_order"
    assert alert["exception"] == "ValueError: order_id is empty"
    assert alert["args"] == [""]
    assert alert["hostname"] == worker.hostname
    assert alert["time"].endswith("+00:00")


def test_routes_and_queues():
    app = make_celery_app(load_settings(broker_url="memory://", result_backend="cache+memory://"))
    route = app.amqp.router.route

    def queue_of(name: str) -> str:
        return route({}, name)["queue"].name

    assert queue_of(HTTP_CHECK_TASK) == "http"
    assert queue_of(DISK_CHECK_TASK) == "disk"
    assert queue_of("critical_tasks.rotate_keys") == "secure"
    assert queue_of(T + "send_email") == "celery"
    assert sorted(q.name for q in app.conf.task_queues) == ["celery", "disk", "http", "secure"]
    assert app.conf.accept_content == ["json"] and app.conf.timezone == "UTC"
    assert app.conf.worker_send_task_events and app.conf.task_send_sent_event
    assert app.conf.result_extended and app.conf.task_track_started


def test_beat_schedule_from_settings():
    settings = load_settings(
        http_targets=["https://example.com/health"], disk_hosts=[DiskHost(name="server01")]
    )
    schedule = beat_schedule(settings)
    http = schedule["http-check https://example.com/health"]
    disk = schedule["disk-check server01"]
    assert (http["task"], http["args"]) == (HTTP_CHECK_TASK, ("https://example.com/health",))
    assert http["schedule"].minute == set(range(0, 60, 5))
    assert (disk["task"], disk["args"]) == (DISK_CHECK_TASK, ("server01",))
    assert (disk["schedule"].hour, disk["schedule"].minute) == ({3}, {0})
    app = make_celery_app(settings)
    assert app.conf.beat_schedule == schedule


def scrape(port: int) -> dict[tuple[str, str], float]:
    """{(sample name, task name): value} from the worker's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, s.labels.get("name", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_worker_metrics_summed_over_prefork_children_and_dead_webhook_harmless(
    redis_target, tmp_path
):
    port = free_port()
    env = {
        "CELERYTUI_WORKER_METRICS_PORT": str(port),
        "CELERYTUI_ALERT_WEBHOOK": f"http://127.0.0.1:{free_port()}/dead",
    }
    with module_worker(redis_target, tmp_path, "metrics", extra_env=env) as (app, worker):
        emails = [app.tasks[T + "send_email"].delay(f"u{i}@example.com", "hi") for i in range(8)]
        bad = [app.tasks[T + "validate_order"].delay("") for _ in range(3)]
        assert [r.get(timeout=20) for r in emails] == [
            f"Email to u{i}@example.com sent: hi..." for i in range(8)
        ]
        for r in bad:
            with pytest.raises(ValueError):
                r.get(timeout=20)

        def counted():
            samples = scrape(port)
            return (
                samples
                if samples.get(("celerytui_worker_tasks_failed_total", T + "validate_order")) == 3
                else None
            )

        samples = wait_for(counted, 10, what="3 failures counted")
        stats = app.control.inspect([worker.hostname], timeout=2).stats()[worker.hostname]
        shares = [w for w in stats["pool"]["writes"]["all"].split(", ") if w != "0.00%"]
        assert len(shares) == 2, stats["pool"]["writes"]  # both pool children ran tasks
        assert samples[("celerytui_worker_tasks_started_total", T + "send_email")] == 8
        assert samples[("celerytui_worker_tasks_started_total", T + "validate_order")] == 3
        assert ("celerytui_worker_tasks_failed_total", T + "send_email") not in samples
        # the dead webhook was logged, and the worker still works
        assert app.tasks[T + "send_email"].delay("after", "x").get(timeout=20).startswith("Email")
        assert "failure alert" in worker.log_tail(200) and "not delivered" in worker.log_tail(200)


def test_bad_setting_stops_the_worker_with_one_line(tmp_path):
    env = {**os.environ, "CELERYTUI_EMAIL_DELAY": "soon"}
    proc = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "celerytui.tasks", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip() == (
        "celerytui: bad configuration: email_delay: expected a "
        "number, got 'soon' (from env CELERYTUI_EMAIL_DELAY)"
    )
