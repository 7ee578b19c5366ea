"""`celerytui exporter`: /metrics over HTTP equals what really happened in the cluster."""

from __future__ import annotations

import json
import signal
import time

from prometheus_client.parser import text_string_to_metric_families

from tests.support.commands import LineReader, celerytui, start_celerytui
from tests.support.exporter_http import get
from tests.support.services import RedisServer, free_port, wait_for

EMAIL = "celerytui.tasks.send_email"
VALIDATE = "celerytui.tasks.validate_order"
RISKY = "celerytui.tasks.risky_operation"


def _scrape(port: int) -> list:
    status, text = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def _value(samples: list, metric: str, **labels: str) -> float:
    """The sum of the samples called ``metric`` whose labels include ``labels``."""
    return sum(
        s.value
        for s in samples
        if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _start_exporter(broker: str, backend: str, *extra: str):
    port = free_port()
    proc = start_celerytui(
        "exporter", "--port", str(port), "-b", broker, "--result-backend", backend, *extra
    )
    stderr = LineReader(proc.stderr)
    stderr.wait_for(lambda line: f"127.0.0.1:{port}/metrics" in line, what="exporter to listen")
    return proc, port, stderr


def test_metrics_equal_a_known_workload(redis_urls, start_worker, celery_app):
    broker, backend = redis_urls
    start_worker("w1", queues="celery,http")
    doomed = start_worker("w2", queues="disk")
    # 6 s: two missed heartbeats (every 2 s) and slack for a busy machine
    proc, port, stderr = _start_exporter(broker, backend, "--worker-timeout", "6")
    try:
        wait_for(
            lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
            15,
            what="/healthz to say connected",
        )
        body = json.loads(get(f"http://127.0.0.1:{port}/healthz")[1])
        assert body["connected"] is True and body["status"] == "ok"

        emails = [celery_app.send_task(EMAIL, args=[f"u{i}@example.com", "hi"]) for i in range(5)]
        failed = celery_app.send_task(VALIDATE, args=[""])
        risky = celery_app.send_task(RISKY, kwargs={"fail_times": 1})
        for result in [*emails, risky]:
            result.get(timeout=30)
        failed.get(timeout=30, propagate=False)
        assert failed.state == "FAILURE"
        # a backlog nobody consumes (w1 and w2 skip `secure`), over two priority steps
        for priority in (0, 0, 9, 9, 9):
            celery_app.send_task(EMAIL, args=["x@y.z", "wait"], queue="secure", priority=priority)

        def settled():
            samples = _scrape(port)
            done = (
                _value(samples, "celery_task_succeeded_total", name=EMAIL) == 5
                and _value(samples, "celery_task_failed_total", name=VALIDATE) == 1
                and _value(samples, "celery_task_succeeded_total", name=RISKY) == 1
                and _value(samples, "celery_queue_length", queue_name="secure") == 5
                # consumers come from the 5 s inspect poll, once the worker's events are in
                and _value(samples, "celery_active_consumer_count", queue_name="http") == 1
            )
            return samples if done else None

        samples = wait_for(settled, 20, interval=0.3, what="the exporter to count the workload")
        assert _value(samples, "celery_task_sent_total", name=EMAIL) == 10  # 5 run + 5 queued
        assert _value(samples, "celery_task_received_total", name=EMAIL) == 5
        assert _value(samples, "celery_task_started_total", name=EMAIL) == 5
        assert (
            _value(samples, "celery_task_succeeded_total", name=EMAIL, hostname="w1@celerytui-test")
            == 5
        )
        assert _value(samples, "celery_task_runtime_count", name=EMAIL) == 5
        assert _value(samples, "celery_task_runtime_bucket", name=EMAIL, le="+Inf") == 5
        assert _value(samples, "celery_task_runtime_sum", name=EMAIL) >= 5 * 0.05
        assert (
            _value(samples, "celery_task_failed_total", name=VALIDATE, exception="ValueError") == 1
        )
        assert _value(samples, "celery_task_succeeded_total", name=VALIDATE) == 0
        assert _value(samples, "celery_task_retried_total", name=RISKY) == 1
        assert _value(samples, "celery_task_received_total", name=RISKY) == 2  # run + retry
        assert _value(samples, "celery_task_failed_total", name=RISKY) == 0
        assert _value(samples, "celery_task_revoked_total") == 0
        assert _value(samples, "celery_task_rejected_total") == 0
        assert _value(samples, "celery_queue_length", queue_name="celery") == 0
        assert _value(samples, "celery_active_consumer_count", queue_name="http") == 1
        assert _value(samples, "celery_active_consumer_count", queue_name="secure") == 0
        assert _value(samples, "celery_worker_up", hostname="w1@celerytui-test") == 1
        assert _value(samples, "celery_worker_up", hostname="w2@celerytui-test") == 1
        assert _value(samples, "celerytui_broker_connected") == 1
        assert _value(samples, "celerytui_events_total") > 0
        assert _value(samples, "celerytui_events_dropped_total") == 0

        doomed.kill(signal.SIGKILL)  # no worker-offline event: only silence tells
        wait_for(
            lambda: _value(_scrape(port), "celery_worker_up", hostname="w2@celerytui-test") == 0,
            15,
            interval=0.3,
            what="the killed worker to be down",
        )
        assert _value(_scrape(port), "celery_worker_up", hostname="w1@celerytui-test") == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert proc.returncode == 0
    assert not any("Traceback" in line for line in stderr.lines)


def test_healthz_turns_503_when_the_broker_goes_away():
    server = RedisServer().start()
    try:
        url = f"redis://127.0.0.1:{server.port}/0"
        proc, port, _stderr = _start_exporter(url, url)
        try:
            wait_for(
                lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
                15,
                what="/healthz 200",
            )
            server.stop()
            wait_for(
                lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 503,
                15,
                what="/healthz 503",
            )
            body = json.loads(get(f"http://127.0.0.1:{port}/healthz")[1])
            assert body["connected"] is False
            assert body["broker"] == url
            samples = _scrape(port)  # /metrics keeps answering, and says so
            assert _value(samples, "celerytui_broker_connected") == 0
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        assert proc.returncode == 0
    finally:
        server.cleanup()


def test_exporter_on_a_dead_broker_exits_2_with_one_line():
    dead = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    result = celerytui(
        "exporter", "--port", str(free_port()), "-b", dead, "--result-backend", dead, timeout=15
    )
    assert time.monotonic() - started < 5
    assert result.returncode == 2
    assert "s3cret" not in result.stderr + result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: broker unreachable (redis://:****@127.0.0.1:")


def test_exporter_on_a_busy_port_exits_2_with_one_line(redis_urls):
    import socket

    broker, backend = redis_urls
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = celerytui(
            "exporter", "--port", str(port), "-b", broker, "--result-backend", backend, timeout=15
        )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
