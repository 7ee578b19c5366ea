"""`celerytui tail`: task events as lines and NDJSON, failures, filters, clean exits."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time

import pytest

from tests.support.commands import CELERYTUI, LineReader, command_env, start_celerytui

EMAIL = "celerytui.tasks.send_email"
VALIDATE = "celerytui.tasks.validate_order"
RISKY = "celerytui.tasks.risky_operation"


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_tail_left_behind():
    """A failing test must not leave its tails following a dead broker forever."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _tail(broker: str, backend: str, *args: str) -> tuple[subprocess.Popen, LineReader, LineReader]:
    proc = start_celerytui("tail", "-b", broker, "--result-backend", backend, *args)
    _started.append(proc)
    return proc, LineReader(proc.stdout), LineReader(proc.stderr)


def _stop(proc: subprocess.Popen, sig: int) -> None:
    proc.send_signal(sig)
    proc.wait(10)


def test_tail_streams_lines_json_and_failures(redis_urls, start_worker, celery_app):
    broker, backend = redis_urls
    start_worker("w1")
    tails = {
        "text": _tail(broker, backend),
        "json": _tail(broker, backend, "--json", "--filter", "!name:send_email"),
        "failures": _tail(broker, backend, "--failures"),
    }
    for _proc, _out, err in tails.values():
        err.wait_for(lambda line: "following redis://" in line, what="tail to subscribe")

    hostile = "\x1b[2J\x1b]0;owned\x07 hi"
    celery_app.send_task(EMAIL, args=["ops@example.com", hostile])
    failed = celery_app.send_task(VALIDATE, args=[""])
    retried = celery_app.send_task(RISKY, kwargs={"fail_times": 1})

    text = tails["text"][1]
    received = text.wait_for(
        lambda line: "RECEIVED" in line and EMAIL in line, what="send_email received"
    )
    assert "\x1b" not in received and "\x07" not in received
    assert "\\x1b[2J\\x1b]0;owned\\x07 hi" in received  # shown literally, not obeyed
    done = text.wait_for(
        lambda line: "SUCCESS" in line and EMAIL in line, what="send_email success"
    )
    _stamp, state, name, _uuid, worker, runtime = done.split()
    assert (state, name, worker) == ("SUCCESS", EMAIL, "w1@celerytui-test")
    assert runtime.endswith("s") and float(runtime[:-1]) >= 0

    records = tails["json"][1]
    line = records.wait_for(lambda line: '"task-failed"' in line, what="a task-failed record")
    record = json.loads(line)
    assert record["uuid"] == failed.id
    assert record["state"] == "FAILURE"
    assert record["name"] == VALIDATE
    assert record["worker"] == "w1@celerytui-test"
    assert "order_id is empty" in record["exception"]
    assert record["error"] == "ValueError: order_id is empty"  # the traceback's last line
    records.wait_for(
        lambda line: '"task-succeeded"' in line and retried.id in line,
        what="risky_operation to succeed after its retry",
    )

    failures = tails["failures"][1]
    failure = failures.wait_for(lambda line: failed.id in line, what="the failure line")
    assert failure.split()[1:3] == ["FAILURE", VALIDATE]
    assert failure.endswith("ValueError: order_id is empty")
    retry = failures.wait_for(lambda line: retried.id in line, what="the retry line")
    assert retry.split()[1] == "RETRY"
    assert "risky_operation failed on attempt 1" in retry

    _stop(tails["text"][0], signal.SIGINT)  # Ctrl+C
    _stop(tails["json"][0], signal.SIGTERM)
    _stop(tails["failures"][0], signal.SIGINT)
    for kind, (proc, out, err) in tails.items():
        assert proc.returncode == 0, (kind, err.lines)
        assert not any("Traceback" in line for line in err.lines), (kind, err.lines)
        if kind == "json":
            assert out.lines and all(json.loads(line)["name"] != EMAIL for line in out.lines)
        if kind == "failures":
            assert all(line.split()[1] in ("FAILURE", "RETRY") for line in out.lines)


def test_a_task_that_started_before_tail_is_named_from_its_result(
    redis_urls, start_worker, celery_app
):
    from tests.support.services import wait_for

    broker, backend = redis_urls
    start_worker("w1", extra_env={"CELERYTUI_EMAIL_DELAY": "3"})
    early = celery_app.send_task(EMAIL, args=["ops@example.com", "before tail"])
    wait_for(lambda: early.state == "STARTED", 15, what="the email to start")
    proc, out, err = _tail(broker, backend)
    try:
        err.wait_for(lambda line: "following redis://" in line, what="tail to subscribe")
        done = out.wait_for(
            lambda line: early.id in line and "SUCCESS" in line,
            timeout=20,
            what="the early task's success",
        )
        assert done.split()[1:3] == ["SUCCESS", EMAIL]  # not "?": its received event was missed
    finally:
        _stop(proc, signal.SIGINT)


def test_tail_into_a_closed_pipe_exits_without_traceback(
    redis_urls, start_worker, celery_app, tmp_path
):
    broker, backend = redis_urls
    start_worker("w1")
    errors = tmp_path / "tail.err"
    command = " ".join([*CELERYTUI, "tail", "-b", broker, "--result-backend", backend])
    shell = subprocess.Popen(
        ["sh", "-c", f"{command} 2>{errors} | head -n 1"],
        stdout=subprocess.PIPE,
        text=True,
        env=command_env(),
        start_new_session=True,
    )
    _started.append(shell)
    deadline = time.monotonic() + 30
    while shell.poll() is None and time.monotonic() < deadline:
        celery_app.send_task(EMAIL, args=["ops@example.com", "pipe"])
        time.sleep(0.2)
    out, _ = shell.communicate(timeout=10)
    assert shell.returncode == 0
    (line,) = out.splitlines()
    assert line.split()[1] in ("SENT", "RECEIVED", "STARTED", "SUCCESS")
    assert "Traceback" not in errors.read_text()


def test_tail_bad_filter_is_one_line_exit_2(redis_urls):
    broker, _backend = redis_urls
    proc = start_celerytui("tail", "-b", broker, "--filter", "name:(oops")
    out, err = proc.communicate(timeout=15)
    assert out == ""
    assert proc.returncode == 2
    assert err.strip() == (
        "Error: bad regex '(oops': missing ), unterminated subpattern at position 0"
    )
