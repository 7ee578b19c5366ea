"""Incidents on a real cluster, as a user meets them in the TUI (and the exporter): a worker
SIGKILLed with tasks running (LOST), a task running far too long (stuck, then X), and a whole
chord stopped from its tree (x, then X). One real worker per test, `incidents.wait` tasks;
the SIGKILL test runs the exporter and `tail` as real processes beside the TUI."""

from __future__ import annotations

import glob
import signal
import time

import pytest
from textual.widgets import Static

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.core.model import LOST, REVOKED, STARTED
from celerytui.screens.dialogs import ConfirmDialog
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.tasks import TasksScreen
from celerytui.widgets.chain_tree import ChainTree
from tests.support.commands import LineReader, start_celerytui
from tests.support.incident_app import (
    LAUNCH,
    PAUSE,
    STUBBORN,
    WAIT,
    incident_worker,
    make_incident_app,
)
from tests.support.screens_ui import connected, mounted_screen, notices, row_state, until
from tests.support.services import free_port, service_missing
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis

HEARTBEAT_WINDOW = 4.0  # celery's worker heartbeat every 2 s, lost after two missed


@pytest.fixture
def cluster(redis_urls, tmp_path):
    """(broker, backend, client app, started worker inc@celerytui-test, concurrency 2)."""
    broker, backend = redis_urls
    client = make_incident_app(broker, backend)
    worker = incident_worker(broker, backend, tmp_path, concurrency=2).start(client)
    yield broker, backend, client, worker
    worker.stop()
    client.close()


def _app(cluster, **overrides):
    broker, backend = cluster[0], cluster[1]
    return make_app(load_settings(broker_url=broker, result_backend=backend, **overrides))


async def _live(pilot, app) -> None:
    await until(pilot, lambda: connected(app), what="the event stream to connect")
    # its own heartbeat, not only an inspect reply: the heartbeat window is what LOST waits for
    await until(
        pilot,
        lambda: any(w.heartbeat_seen for w in app.monitor.state.workers.values()),
        what="a worker heartbeat",
    )


def heading(detail: TaskDetailScreen) -> str:
    """The task detail's Chain heading (below the fold at 30 rows)."""
    return str(detail.query_one("#task-chain-heading", Static).render())


def _metric(port: int, metric: str, **labels: str) -> float:
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def test_a_sigkilled_worker_leaves_its_tasks_lost_in_the_tui_and_in_metrics(cluster):
    broker, backend, client, worker = cluster
    port = free_port()
    exporter = start_celerytui(
        "exporter", "--port", str(port), "-b", broker, "--result-backend", backend
    )
    tail = start_celerytui("tail", "-b", broker, "--result-backend", backend)
    LineReader(exporter.stderr).wait_for(
        lambda line: f"127.0.0.1:{port}/metrics" in line, what="the exporter to listen"
    )
    LineReader(tail.stderr).wait_for(lambda line: "following" in line, what="tail to follow")
    tail_lines = LineReader(tail.stdout)
    app = _app(cluster)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await _live(pilot, app)
            await pilot.press("2")
            screen = await mounted_screen(pilot, app, TasksScreen, "the Tasks screen")
            ids = [client.send_task(WAIT, args=[120]).id for _ in range(2)]
            for uuid in ids:
                await until(
                    pilot, lambda u=uuid: row_state(screen.table, u) == STARTED, what="STARTED"
                )
            worker.kill(signal.SIGKILL)  # OOM-killer style: no worker-offline, only silence
            killed = time.monotonic()
            deadline = HEARTBEAT_WINDOW + 5.0
            for uuid in ids:
                await until(
                    pilot,
                    lambda u=uuid: row_state(screen.table, u) == LOST,
                    timeout=deadline - (time.monotonic() - killed),
                    what="LOST in the row within the heartbeat window + 5 s",
                )
            title = f"2 tasks lost with worker {worker.hostname}"
            await until(pilot, lambda: title in screen_text(app), what="the lost alert on screen")
            rows = [line for line in screen_text(app).splitlines() if " LOST " in line]
            assert len(rows) == 2 and all("wait" in row for row in rows)

            hostname = worker.hostname
            left = max(0.5, deadline - (time.monotonic() - killed))
            lost_total = await until(
                pilot,
                lambda: (
                    _metric(port, "celerytui_tasks_lost_total", name=WAIT, hostname=hostname) == 2
                ),
                timeout=left,
                what="celerytui_tasks_lost_total 2 in the exporter's /metrics",
            )
            assert lost_total

            for uuid in ids:  # tail says so too, one LOST line each
                tail_lines.wait_for(
                    lambda line, u=uuid: " LOST " in line and u in line and "no heartbeat" in line,
                    what=f"tail's LOST line for {uuid[:8]}",
                )

            await pilot.press("slash")  # the filter: only the lost tasks stay
            await pilot.press(*"state:lost", "enter")
            await until(pilot, lambda: screen.table.row_count == 2, what="2 rows under state:lost")
    finally:
        for proc in (exporter, tail):
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


async def test_a_stuck_task_is_told_why_and_x_terminates_it(cluster):
    client = cluster[2]
    app = _app(cluster, thresholds={"stuck_floor": 2, "stuck_factor": 5})
    async with app.run_test(size=(120, 30)) as pilot:
        await _live(pilot, app)
        uuid = client.send_task(WAIT, args=[120]).id
        key = f"task-stuck:{uuid}"
        alert = await until(pilot, lambda: app.monitor.alerts.get(key), what="the stuck alert")
        assert alert.title.startswith(f"stuck: {WAIT} on inc@celerytui-test for ")
        app.show_task(uuid)
        await mounted_screen(pilot, app, TaskDetailScreen, "the task detail")
        await until(pilot, lambda: "over the 2s floor" in screen_text(app), what="why it is stuck")
        await pilot.press("X")
        dialog = await mounted_screen(pilot, app, ConfirmDialog, "the terminate confirmation")
        assert uuid in dialog._question
        await pilot.press("y")
        await until(
            pilot,
            lambda: app.monitor.state.tasks[uuid].state == REVOKED,
            timeout=20,
            what="the task terminated",
        )
        assert "terminated" in (app.monitor.state.tasks[uuid].exception or "")
        await until(pilot, lambda: not app.monitor.alerts.get(key).active, what="alert cleared")


LIBFAKETIME = next(iter(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")), "")  # Debian's


async def test_a_worker_whose_clock_is_5_minutes_behind_raises_no_false_stuck(redis_urls, tmp_path):
    """A real worker under libfaketime stamps every event 300 s early: judged on its own
    stamps, a task would look stuck for 5 min the moment it starts. Its heartbeats give the
    offset; the worker detail says it; stuck counts from the monitor's clock."""
    if not LIBFAKETIME:
        service_missing("libfaketime (Debian's faketime)")
    broker, backend = redis_urls
    client = make_incident_app(broker, backend)
    skewed = {
        "LD_PRELOAD": LIBFAKETIME,
        "FAKETIME": "-300",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # timeouts and sleeps stay real
    }
    worker = incident_worker(broker, backend, tmp_path, name="skewed", extra_env=skewed)
    worker.start(client)
    app = make_app(
        load_settings(
            broker_url=broker,
            result_backend=backend,
            thresholds={"stuck_floor": 3, "stuck_factor": 5},
        )
    )
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await _live(pilot, app)
            record = await until(
                pilot,
                lambda: app.monitor.state.workers.get(worker.hostname),
                what="the skewed worker",
            )
            offset = await until(pilot, lambda: record.clock_offset, what="its clock offset")
            assert 299 < offset < 305
            uuid = client.send_task(PAUSE, args=[60]).id
            key = f"task-stuck:{uuid}"
            alert = await until(
                pilot, lambda: app.monitor.alerts.get(key), timeout=30, what="the stuck alert"
            )
            seconds = alert.title.rsplit(" for ", 1)[1]
            assert seconds.endswith("s") and 3 <= int(seconds[:-1]) < 30, alert.title
            app.show_task(uuid)
            await mounted_screen(pilot, app, TaskDetailScreen, "the task detail")
            await until(pilot, lambda: "over the 3s floor" in screen_text(app), what="why")
            await pilot.press("escape")
            app.show_worker(worker.hostname)
            await until(
                pilot,
                lambda: "s behind the monitor's" in screen_text(app),
                what="the worker detail's clock line",
            )
    finally:
        worker.stop()
        client.close()


async def test_a_task_past_its_workers_soft_time_limit_is_stuck(redis_urls, tmp_path):
    broker, backend = redis_urls
    client = make_incident_app(broker, backend)
    worker = incident_worker(broker, backend, tmp_path, name="soft", soft_time_limit=2)
    worker.start(client)
    app = make_app(load_settings(broker_url=broker, result_backend=backend))  # floor 60 s
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await _live(pilot, app)
            uuid = client.send_task(STUBBORN, args=[120]).id
            key = f"task-stuck:{uuid}"
            # the worker's limit comes with its inspect stats (polled every 5 s)
            alert = await until(
                pilot,
                lambda: app.monitor.alerts.get(key),
                timeout=30,
                what="the stuck alert from the worker's soft time limit",
            )
            assert alert.title.startswith(f"stuck: {STUBBORN} on {worker.hostname} for ")
            assert "past its soft time limit of 2s" in alert.detail
            assert app.monitor.state.workers[worker.hostname].soft_time_limit == 2.0
    finally:
        worker.stop()
        client.close()


async def test_x_and_capital_x_on_a_chord_tree_stop_the_whole_canvas(cluster):
    client = cluster[2]
    # one session sees the chord from its first task-sent: read-only first, then writable
    app = _app(cluster, read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await _live(pilot, app)
        launcher = client.send_task(LAUNCH, args=[10, 60]).id

        def members() -> list:
            chain = app.monitor.state.chain(launcher)
            return [n.task for _, n in chain.walk()][1:] if chain else []

        app.show_task(launcher)
        detail = await mounted_screen(pilot, app, TaskDetailScreen, "the launcher's detail")
        await until(
            pilot,
            lambda: len(members()) == 10 and sum(t.state == STARTED for t in members()) == 2,
            what="10 members, 2 of them running (concurrency 2)",
        )
        await until(
            pilot,
            lambda: "11 tasks, 10 unfinished, 2 running" in heading(detail),
            what="the chain heading with the canvas keys",
        )
        detail.query_one(ChainTree).focus()
        await pilot.press("x")
        await until(pilot, lambda: "read-only: revoke refused" in notices(app), what="refusal")
        await pilot.press("X")
        await until(pilot, lambda: "read-only: terminate refused" in notices(app), what="refusal")
        assert not isinstance(app.screen, ConfirmDialog)

        app.settings.read_only = app.monitor.controller.read_only = False
        await pilot.press("x")
        dialog = await mounted_screen(pilot, app, ConfirmDialog, "the canvas revoke confirmation")
        assert dialog._question.startswith("Revoke the 10 unfinished members of this canvas")
        await pilot.press("y")
        await until(
            pilot,
            lambda: sum(t.state == REVOKED for t in members()) == 8,
            timeout=20,
            what="the 8 members not running revoked",
        )
        assert sum(t.state == STARTED for t in members()) == 2  # revoke does not kill
        detail.query_one(ChainTree).focus()
        await pilot.press("X")
        dialog = await mounted_screen(pilot, app, ConfirmDialog, "the terminate confirmation")
        assert dialog._question.startswith("Terminate the 2 running members of this canvas")
        await pilot.press("y")
        await until(
            pilot,
            lambda: all(t.state == REVOKED for t in members()),
            timeout=20,
            what="every member revoked",
        )
        await until(pilot, lambda: "11 tasks, all finished" in heading(detail), what="the heading")
