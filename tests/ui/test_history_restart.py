"""A TUI restart, on a real worker: the first dashboard records a workload's failures into
the journal and quits; the second, on the same journal, shows them on its Failures screen in
the history section (the live table holds only its own session's failures), and
`celerytui history --failures` lists the failures of both sessions."""

from __future__ import annotations

import json

from celerytui.app import make_app
from celerytui.core.journal import open_store
from celerytui.screens.failures import FailuresScreen
from celerytui.tasks import make_celery_app
from celerytui.widgets.failure_table import FailureTable
from tests.support.commands import celerytui, command_env
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text


def _fail(client, n: int) -> list[str]:
    """``n`` risky_operation calls that retry 3 times, then end in FAILURE."""
    risky = client.tasks["celerytui.tasks.risky_operation"]
    return [risky.delay(fail_times=9).id for _ in range(n)]


def _recorded_failures(store: str) -> set[str]:
    reader = open_store(store, cluster="x", write=False)
    try:
        return {row.uuid for row in reader.find_tasks(states=["FAILURE"], limit=1000)}
    finally:
        reader.close()


def _recording(app) -> bool:
    recorder = app._recorder  # a child process (celerytui/journal_process.py)
    return recorder is not None and recorder.status.recording


async def _session(settings, client, n: int, store: str, check=None) -> list[str]:
    """One dashboard session recording into ``store`` while ``n`` tasks fail."""
    app = make_app(settings, record=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.monitor.events.status.connected, 30, "connected")
        await wait_until(pilot, lambda: _recording(app), 30, "the recorder process listening")
        recorder = app._recorder
        assert app.monitor.journal is None  # nothing is encoded or written in this process
        failed = _fail(client, n)

        def done() -> bool:
            with app.monitor.lock:
                tasks = app.monitor.state.tasks
                return all(u in tasks and tasks[u].state == "FAILURE" for u in failed)

        await wait_until(pilot, done, 60, "the failures seen live")
        await wait_until(pilot, lambda: set(failed) <= _recorded_failures(store), 15, "recorded")
        if check is not None:
            await check(app, pilot, failed)
        await app.action_quit()
        assert recorder.ended.is_set()  # q left no recorder process behind
    return failed


async def test_failures_from_before_a_restart(ui_settings, tmp_path) -> None:
    store = str(tmp_path / "journal.sqlite3")
    settings = ui_settings(store=store)
    client = make_celery_app(settings)
    try:
        first = await _session(settings, client, 2, store)

        async def failures_screen(app, pilot, failed: list[str]) -> None:
            await pilot.press("3")
            screen = await wait_until(
                pilot, lambda: isinstance(app.screen, FailuresScreen) and app.screen
            )
            history = screen.query_one("#failure-history", FailureTable)
            live = screen.query_one("#failure-table", FailureTable)
            await wait_until(pilot, lambda: set(history._rows) == set(first), 15, "history")
            await wait_until(pilot, lambda: set(failed) <= set(live._rows), 15, "live rows")
            assert not set(live._rows) & set(first)
            assert "before this session: 2 failed" in screen_text(app)

        second = await _session(settings, client, 1, store, failures_screen)
    finally:
        client.close()
    env = command_env(XDG_DATA_HOME=str(tmp_path / "data"))
    run = celerytui("history", "--store", store, "--failures", "--json", env=env)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert {r["uuid"] for r in rows} == set(first + second)
    assert {r["name"] for r in rows} == {"celerytui.tasks.risky_operation"}
    assert all(r["exception"] and r["worker"] for r in rows)
