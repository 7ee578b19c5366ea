"""check_http_endpoint on a worker consuming only the `http` queue, against real local servers."""

from __future__ import annotations

import pytest

from celerytui.checks import HTTP_CHECK_TASK
from tests.support.services import free_port
from tests.support.worker_side import module_worker

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def http_worker(redis_target, tmp_path_factory):
    with module_worker(redis_target, tmp_path_factory.mktemp("checks"), "http", queues="http") as (
        app,
        worker,
    ):
        yield app, worker


def run_check(app, url: str) -> tuple[dict, dict]:
    """(result, backend meta) of one check run on the worker."""
    result = app.tasks[HTTP_CHECK_TASK].delay(url)
    return result.get(timeout=20), app.backend.get_task_meta(result.id)


def test_http_up_routed_to_the_http_queue(http_worker, httpserver):
    app, worker = http_worker
    httpserver.expect_request("/health").respond_with_json({"ok": True})
    result, meta = run_check(app, httpserver.url_for("/health"))
    assert result["status"] == "UP"
    assert result["status_code"] == 200
    assert result["url"] == httpserver.url_for("/health")
    assert result["response_time"] > 0
    assert (meta["queue"], meta["worker"]) == ("http", worker.hostname)


def test_http_500_is_down(http_worker, httpserver):
    app, _ = http_worker
    httpserver.expect_request("/health").respond_with_data("down for maintenance", status=500)
    result, meta = run_check(app, httpserver.url_for("/health"))
    assert (result["status"], result["status_code"]) == ("DOWN", 500)
    assert meta["status"] == "SUCCESS"  # a DOWN site is a result, not a task failure


def test_closed_port_is_down_with_error_not_a_failure(http_worker):
    app, _ = http_worker
    result, meta = run_check(app, f"http://127.0.0.1:{free_port()}/")
    assert result["status"] == "DOWN"
    assert result["error"] == "connection failed: Connection refused"
    assert meta["status"] == "SUCCESS"
