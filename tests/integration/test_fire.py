"""`celerytui fire`: send the seed's tasks from a shell, wait for results, refuse when told."""

from __future__ import annotations

import json

import pytest

from tests.support.commands import celerytui


@pytest.fixture
def cluster(redis_urls, start_worker):
    """One worker on every seed queue; the -b/--result-backend flags to reach it."""
    start_worker("w1")
    broker, backend = redis_urls
    return ["-b", broker, "--result-backend", backend]


def _fire(cluster: list[str], *args: str, timeout: float = 40):
    return celerytui("fire", *args, *cluster, timeout=timeout)


def test_fire_wait_prints_id_then_result(cluster, httpserver):
    httpserver.expect_request("/health").respond_with_data("ok")
    email = _fire(cluster, "email", "ops@example.com", "disk nearly full", "--wait")
    assert email.returncode == 0, email.stderr
    task_id, result = email.stdout.splitlines()
    assert len(task_id) == 36
    assert json.loads(result) == "Email to ops@example.com sent: disk nearly full..."

    order = _fire(cluster, "order", "1001", "--wait")
    assert order.returncode == 0, order.stderr
    shipped = json.loads(order.stdout.splitlines()[1])
    assert shipped["order_id"] == 1001 and shipped["status"] == "shipped"
    assert shipped["tracking_no"].startswith("CT")

    check = _fire(cluster, "http", httpserver.url_for("/health"), "--wait")
    assert check.returncode == 0, check.stderr
    probe = json.loads(check.stdout.splitlines()[1])
    assert probe["status"] == "UP" and probe["status_code"] == 200

    queued = _fire(
        cluster,
        "task",
        "celerytui.tasks.risky_operation",
        "--kwargs",
        '{"fail_times": 0}',
        "--queue",
        "secure",
        "--wait",
    )
    assert queued.returncode == 0, queued.stderr
    assert json.loads(queued.stdout.splitlines()[1]) == {"attempts": 1, "retries": 0}


def test_fire_wait_on_a_failing_task_exits_1_with_the_error(cluster):
    result = _fire(cluster, "task", "celerytui.tasks.validate_order", "--args", '[""]', "--wait")
    assert result.returncode == 1
    task_id, line = result.stdout.splitlines()
    assert json.loads(line) == {
        "id": task_id,
        "state": "FAILURE",
        "error": "ValueError: order_id is empty",
    }


def test_fire_refuses_bad_input_with_one_line(cluster):
    cases = [
        (["task", "celerytui.tasks.send_email", "--args", "[1,"], "--args is not valid JSON"),
        (
            ["task", "celerytui.tasks.send_email", "--args", '{"a": 1}'],
            "--args must be a JSON list, not dict",
        ),
        (
            ["task", "celerytui.tasks.send_email", "--kwargs", "[]"],
            "--kwargs must be a JSON object, not list",
        ),
        (["task", "proj.no_such_task"], "unknown task 'proj.no_such_task'"),
        (["http", "ftp://example.com/"], "not an http(s) URL: 'ftp://example.com/'"),
    ]
    for args, message in cases:
        result = _fire(cluster, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("Error: ") and message in line, (args, line)


def test_fire_under_read_only_is_refused_and_sends_nothing(redis_urls, celery_app):
    broker, backend = redis_urls
    for argv in (
        ["--read-only", "fire", "http", "https://example.com", "-b", broker],
        ["fire", "--read-only", "email", "a@b.c", "hi", "-b", broker],
        ["fire", "order", "7", "--read-only", "-b", broker],
    ):
        result = celerytui(*argv, "--result-backend", backend)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "Error: read-only mode: `fire` would change the cluster; refused"
        )
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        assert client.dbsize() == 0  # not one message reached the broker


def test_fire_task_without_workers_says_nobody_could_confirm(redis_urls):
    broker, backend = redis_urls
    result = celerytui("fire", "task", "proj.other", "-b", broker, "--result-backend", backend)
    assert result.returncode == 2
    assert "no worker answered `inspect registered`" in result.stderr
