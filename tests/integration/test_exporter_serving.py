"""`celerytui exporter` over HTTP: prometheus_client's own /metrics (gzip, OpenMetrics), idle or
half-sent connections that cost no thread and time out, and one label set per real task."""

from __future__ import annotations

import gzip
import signal
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
from prometheus_client.parser import text_string_to_metric_families

from celerytui.commands.metrics_http import BoundedWSGIServer
from tests.support.commands import LineReader, start_celerytui
from tests.support.services import free_port, wait_for

EMAIL = "celerytui.tasks.send_email"
RISKY = "celerytui.tasks.risky_operation"


def _request(port: int, path: str = "/metrics", **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _samples(port: int) -> list:
    status, _, body = _request(port)
    assert status == 200
    return [s for f in text_string_to_metric_families(body.decode()) for s in f.samples]


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def _start_exporter(broker: str, backend: str):
    port = free_port()
    proc = start_celerytui(
        "exporter", "--port", str(port), "-b", broker, "--result-backend", backend
    )
    stderr = LineReader(proc.stderr)
    stderr.wait_for(lambda line: f"127.0.0.1:{port}/metrics" in line, what="exporter to listen")
    wait_for(lambda: _request(port, "/healthz")[0] == 200, 15, what="/healthz 200")
    return proc, port, stderr


def _stop(proc, stderr) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    assert proc.returncode == 0
    assert not any("Traceback" in line for line in stderr.lines)


def test_a_thousand_idle_or_half_sent_connections_hold_no_threads(redis_urls):
    proc, port, stderr = _start_exporter(*redis_urls)
    try:
        _samples(port)
        before = _threads(proc.pid)
        held = []
        try:
            for i in range(1_000):
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                if i % 2:  # half-sent: a request head that never ends
                    conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                held.append(conn)
            samples = _samples(port)  # a real scrape still gets through, within 5 s
            during = _threads(proc.pid)
        finally:
            for conn in held:
                conn.close()
        assert any(s.name == "celerytui_broker_connected" and s.value == 1 for s in samples)
        assert during <= before + 4  # at most the answering pool's 4 threads, never 1,000
        status, _, body = _request(port, "/healthz")
        assert status == 200 and b'"connected": true' in body
    finally:
        _stop(proc, stderr)


def test_metrics_are_gzipped_on_request_and_openmetrics_when_asked(redis_urls):
    proc, port, stderr = _start_exporter(*redis_urls)
    try:
        status, headers, body = _request(port, **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("Content-Encoding") == "gzip"
        names = {f.name for f in text_string_to_metric_families(gzip.decompress(body).decode())}
        assert {"celerytui_broker_connected", "celery_task_sent"} <= names

        status, headers, body = _request(
            port, Accept="application/openmetrics-text; version=1.0.0; charset=utf-8"
        )
        assert status == 200
        assert headers["Content-Type"].startswith("application/openmetrics-text")
        assert body.endswith(b"# EOF\n")
        families = {f.name: f for f in om_families(body.decode())}
        assert families["celerytui_series_folded"].type == "counter"

        status, headers, body = _request(port)  # no Accept: the classic text format
        assert headers["Content-Type"].startswith("text/plain")
        assert "Content-Encoding" not in headers and b"# EOF" not in body
        assert _request(port, "/nowhere")[0] == 404
    finally:
        _stop(proc, stderr)


def test_an_unfinished_request_times_out_and_bad_ones_get_one_short_answer():
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("a bug")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}\n".encode()]

    server = BoundedWSGIServer(("127.0.0.1", 0), app, request_timeout=0.5, max_head_bytes=1024)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = server.server_address[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
            idle.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
            answer = idle.recv(1024)
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert idle.recv(1024) == b""  # closed
        with socket.create_connection(("127.0.0.1", port), timeout=5) as big:
            big.sendall(b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * 2048)
            assert big.recv(1024).startswith(b"HTTP/1.1 431 ")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as bad:
            bad.sendall(b"HELLO\r\n\r\n")
            assert bad.recv(1024).startswith(b"HTTP/1.1 400 ")
        status, headers, body = _request(port, "/a%20b?x=1")
        assert (status, body) == (200, b"GET /a b\n")
        assert headers["Connection"] == "close"
        status, _, body = _request(port, "/boom")  # a failing app: one short answer
        assert (status, body) == (500, b"error: RuntimeError\n")
        assert _request(port, "/")[0] == 200  # and the server goes on
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert not thread.is_alive()


def test_one_real_task_counts_under_one_label_set(redis_urls, start_worker, celery_app):
    """Without task-sent events from the client (celery's default) a task's queue is known
    only once the worker re-sends it for a retry, or the result backend stores it; every
    counter of the task still lands in one series."""
    proc, port, stderr = _start_exporter(*redis_urls)
    try:
        start_worker("w1", queues="celery,http")
        celery_app.conf.task_send_sent_event = False
        results = [
            celery_app.send_task(EMAIL, args=[f"u{i}@example.com", "hi"], queue="http")
            for i in range(4)
        ]
        results.append(celery_app.send_task(RISKY, kwargs={"fail_times": 1}, queue="http"))
        for result in results:
            result.get(timeout=30)

        def counted():
            samples = _samples(port)
            done = {
                name: sum(
                    s.value
                    for s in samples
                    if s.name == "celery_task_succeeded_total" and s.labels["name"] == name
                )
                for name in (EMAIL, RISKY)
            }
            return samples if done == {EMAIL: 4, RISKY: 1} else None

        samples = wait_for(counted, 20, interval=0.3, what="the exporter to count the tasks")
        expected = {
            EMAIL: {
                "celery_task_received_total": 4,
                "celery_task_started_total": 4,
                "celery_task_succeeded_total": 4,
                "celery_task_runtime_count": 4,
            },
            RISKY: {
                "celery_task_received_total": 2,
                "celery_task_started_total": 2,
                "celery_task_retried_total": 1,
                "celery_task_succeeded_total": 1,
                "celery_task_runtime_count": 1,
            },
        }
        for name, metrics in expected.items():
            label_sets = set()
            for metric, value in metrics.items():
                series = [s for s in samples if s.name == metric and s.labels["name"] == name]
                assert [s.value for s in series] == [value], (metric, [s.labels for s in series])
                label_sets.add(tuple(sorted(series[0].labels.items())))
            assert len(label_sets) == 1, label_sets  # the same series for every counter
            assert dict(label_sets.pop())["hostname"] == "w1@celerytui-test"
    finally:
        _stop(proc, stderr)
