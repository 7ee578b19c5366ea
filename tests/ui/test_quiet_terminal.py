"""The real ``celerytui`` in a real terminal (tmux) against one real worker: idle, it writes
little (only the cells that change: an age, a load figure), and what it repaints in part is
what a full redraw would show — a worker going offline reads right, nothing left over."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from tests.support.commands import CELERYTUI, command_env
from tests.support.services import wait_for
from tests.support.workers import WorkerProcess
from tests.ui.test_hostile_tmux import Pane

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

IDLE_KB_PER_S = 1.0  # the target; the code writes ~0.2 KB/s here, main wrote ~3 at 100x30


def worker_line(pane: Pane, short: str) -> str:
    screen = pane.tmux("capture-pane", "-p", "-t", "t")
    return next((line for line in screen.splitlines() if short in line), "")


def test_idle_dashboard_writes_little_and_repaints_right(redis_urls, celery_app, tmp_path):
    broker, backend = redis_urls
    worker = WorkerProcess(broker, backend, tmp_path, name="quiet", concurrency=1)
    worker.start(celery_app)
    pane = Pane([*CELERYTUI, "-b", broker, "--result-backend", backend], command_env())
    try:
        pane.tmux("resize-window", "-t", "t", "-x", "100", "-y", "30")
        online = re.compile(r"● quiet@celerytui-test\s+online\s+hb \d+s ago\s+(│|▏|$)")
        wait_for(
            lambda: online.search(worker_line(pane, "quiet@")),
            30,
            interval=0.2,
            what="the worker online on the dashboard",
        )
        time.sleep(3)  # let the first draws (layout, first ages) pass: idle from here
        out = tmp_path / "terminal.raw"
        pane.tmux("pipe-pane", "-o", "-t", "t", f"cat >> {out}")
        began = time.monotonic()
        wait_for(lambda: time.monotonic() - began > 6, 10, what="six idle seconds")
        pane.tmux("pipe-pane", "-t", "t")
        elapsed = time.monotonic() - began
        written = wait_for(lambda: out.exists() and out.stat().st_size, 5, what="the bytes")
        assert written / 1024 / elapsed <= IDLE_KB_PER_S, f"{written} bytes in {elapsed:.1f} s"

        worker.stop()  # worker-offline: mark, status and its style change, the age goes on
        offline = re.compile(r"○ quiet@celerytui-test\s+offline\s+hb \d+s ago\s+(│|▏|$)")
        wait_for(
            lambda: offline.search(worker_line(pane, "quiet@")),
            30,
            interval=0.2,
            what=f"the worker offline, cleanly drawn: {worker_line(pane, 'quiet@')!r}",
        )
        pane.assert_inert()
    finally:
        pane.close()
        worker.stop()
