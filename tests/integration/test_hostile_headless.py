"""`celerytui status` and `celerytui tail` print a real worker's hostile hostname and task name
spelled out, exactly as the TUI shows them: no raw ESC or BEL, and U+2028 / U+2029 / U+200B as
``\\u2028`` and so on, never as a line break or an invisible character."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from tests.support import hostile_app as hostile
from tests.support.commands import LineReader, celerytui, start_celerytui

pytestmark = pytest.mark.redis

RAW = ("\x1b", "\x07", "\u2028", "\u2029", "\u200b")
SHOWN_HOST = hostile.SHOWN_WORKER_NAME + "@celerytui-test"


@pytest.fixture
def hostile_worker(redis_urls, celery_app, tmp_path):
    worker = hostile.hostile_worker(*redis_urls, tmp_path)
    try:
        worker.start(celery_app)
        yield worker
    finally:
        worker.stop()


def test_status_and_tail_spell_out_a_hostile_hostname_and_task_name(
    redis_urls, celery_app, hostile_worker
):
    broker, backend = redis_urls
    status = celerytui("status", "-b", broker, "--result-backend", backend)
    assert SHOWN_HOST in status.stdout, status.stdout + status.stderr
    assert not any(ch in status.stdout for ch in RAW)

    proc = start_celerytui("tail", "-b", broker, "--result-backend", backend)
    try:
        out, err = LineReader(proc.stdout), LineReader(proc.stderr)
        err.wait_for(lambda line: "following redis://" in line, what="tail to subscribe")
        celery_app.send_task(hostile.TASK_NAME, args=[1])
        done = out.wait_for(lambda line: "SUCCESS" in line, what="the hostile task's success")
        assert hostile.SHOWN_TASK_NAME in done and SHOWN_HOST in done
        assert not any(ch in done for ch in RAW)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
