"""`celerytui status`: one snapshot of a live cluster, and its exit codes."""

from __future__ import annotations

import json
import time

from tests.support.commands import celerytui, start_celerytui


def test_status_json_lists_workers_queues_and_tasks_seen(redis_urls, start_worker, celery_app):
    broker, backend = redis_urls
    start_worker("w1", queues="celery,http")
    proc = start_celerytui(
        "status", "--json", "--listen", "3", "-b", broker, "--result-backend", backend
    )
    sent = 0
    while proc.poll() is None:  # keep sending while it listens
        celery_app.send_task("celerytui.tasks.send_email", args=["ops@example.com", "hi"])
        sent += 1
        time.sleep(0.2)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["health"] == "healthy"
    assert report["broker"] == {"url": broker, "reachable": True, "error": None}
    (worker,) = report["workers"]
    assert worker["hostname"] == "w1@celerytui-test"
    assert worker["ok"] is True
    assert worker["pool"] == "prefork"
    assert worker["concurrency"] == 2
    assert worker["queues"] == ["celery", "http"]
    assert isinstance(worker["processed"], int)
    queues = {q["name"]: q for q in report["queues"]}
    assert queues["celery"]["consumers"] == 1
    assert queues["http"]["messages"] == 0
    counts = report["tasks"]["by_name"]["celerytui.tasks.send_email"]
    assert counts.get("SUCCESS", 0) >= 1
    assert sum(counts.values()) <= sent


def test_status_table_and_degraded_exit_code_without_workers(redis_urls, celery_app):
    broker, backend = redis_urls
    with celery_app.connection_for_write() as conn:  # a backlog over the threshold (3)
        for _ in range(5):
            celery_app.send_task(
                "celerytui.tasks.send_email", args=["a@b.c", "x"], queue="http", connection=conn
            )
    result = celerytui(
        "status",
        "--listen",
        "0",
        "-b",
        broker,
        "--result-backend",
        backend,
        env=_env(CELERYTUI_THRESHOLDS_QUEUE_BACKLOG="3"),
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Broker  {broker}  answers")
    assert "Health  DEGRADED" in lines[1]
    assert "  ! no worker answered ping" in lines
    assert "  ! queue http holds 5 messages (threshold 3)" in lines
    header = next(line for line in lines if line.startswith("QUEUE"))
    row = next(line for line in lines if line.startswith("http "))
    # aligned: the count ends where the MESSAGES header ends
    assert row.index("5") + 1 == header.index("MESSAGES") + len("MESSAGES")
    assert "BACKLOG" in row


def test_status_on_a_dead_broker_exits_2_quickly_without_the_password(redis_urls):
    from tests.support.services import free_port

    dead = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    result = celerytui("status", "--json", "-b", dead, "--result-backend", dead)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert elapsed < 5
    assert "hunter2" not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["health"] == "unreachable"
    assert report["broker"]["reachable"] is False
    assert report["broker"]["url"].startswith("redis://:****@127.0.0.1:")
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: broker unreachable (redis://:****@127.0.0.1:")
    assert "Traceback" not in result.stderr


def _env(**extra: str) -> dict:
    from tests.support.commands import command_env

    return command_env(**extra)


def test_status_finds_a_users_app_with_dash_a(redis_urls, start_worker, tmp_path):
    broker, backend = redis_urls
    start_worker("w1", queues="celery")
    (tmp_path / "proj.py").write_text(
        "from celery import Celery\n"
        f"celery_app = Celery('proj', broker={broker!r}, backend={backend!r})\n"
    )
    result = celerytui("status", "--json", "--listen", "0", "-A", "proj", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["broker"]["url"] == broker
    assert [w["hostname"] for w in report["workers"]] == ["w1@celerytui-test"]


def test_status_with_an_unknown_app_module_is_one_line_exit_2(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    for spec, message in (
        ("nosuchmod", "no module named 'nosuchmod'"),
        ("empty", "no Celery app found in module empty"),
        ("empty:x", "empty.x is not a Celery app"),
    ):
        result = celerytui("status", "-A", spec, cwd=tmp_path)
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("Error: ") and message in line, line


def test_headless_commands_load_no_textual():
    import subprocess
    import sys

    code = (
        "import sys, celerytui.cli, celerytui.commands.status, celerytui.commands.tail, "
        "celerytui.commands.exporter, celerytui.commands.fire, celerytui.core.monitor, "
        "celerytui.core.metrics, celerytui.core.filters; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert out.strip() == "[]"


def test_status_on_a_broker_that_never_answers_gives_up_within_5s():
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel does), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://:pw@127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        result = celerytui("status", "-b", url, "--result-backend", url, timeout=15)
        elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert elapsed < 5
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: broker unreachable (redis://:****@127.0.0.1:")
