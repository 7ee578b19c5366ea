"""The live TUI reading the journal (a real SQLite journal at this cluster's default place):
the Failures screen shows the failures recorded before this session in a history section,
``/`` with a since: term finds tasks memory never held, and their detail opens from the
journal. The queries run in thread workers; the screens wait for their answers."""

from __future__ import annotations

from datetime import UTC, datetime

from celerytui.app import make_app
from celerytui.core.journal import default_store_path
from celerytui.core.journal.recorder import journal_cluster
from celerytui.screens.failures import FailuresScreen
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.tasks import TasksScreen
from celerytui.text_safety import escape_controls
from celerytui.widgets.failure_table import FailureTable
from tests.support.replay_journals import record_synthetic
from tests.support.screens_ui import until
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import build_monitor, snapshot_settings


async def test_failures_search_and_detail_read_the_journal(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = snapshot_settings()
    path = default_store_path(journal_cluster(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = record_synthetic(str(path), n=3_000)
    t0, t1 = recorded.span
    past = {u: t for u, t in recorded.live.tasks.items() if t.state in ("FAILURE", "RETRY")}
    monitor = build_monitor()  # this session's own cluster: other tasks, other failures
    app = make_app(settings, monitor, start_monitor=False, clock=lambda: t1 + 60)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        screen = await until(pilot, lambda: isinstance(app.screen, FailuresScreen) and app.screen)
        history = screen.query_one("#failure-history", FailureTable)
        await until(pilot, lambda: history.row_count == len(past), what="the journal's failures")
        failed = sum(1 for t in past.values() if t.state == "FAILURE")
        heading = f"before this session: {failed} failed, {len(past) - failed} retried"
        # the table's rows are counted before the screen is drawn again: wait for the drawing
        await until(pilot, lambda: heading in screen_text(app), what="the history heading")
        live_table = screen.query_one("#failure-table", FailureTable)
        assert not set(live_table._rows) & set(past)  # the live table is this session's only
        # enter on a history row: the detail, from the journal
        history.focus()
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen) and app.screen)
        task = past[detail.uuid]
        await until(pilot, lambda: "from the journal (no longer in memory)" in screen_text(app))
        text = screen_text(app)
        assert escape_controls(task.name) in text and task.state in text  # shown literally
        assert "\x1b" not in text
        await pilot.press("escape")
        # / with a since: term: tasks from the journal, off the event loop
        await pilot.press("2")
        tasks = await until(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen)
        since = datetime.fromtimestamp(t0 + (t1 - t0) / 2, UTC).isoformat(timespec="seconds")
        wanted = {
            u
            for u, t in recorded.live.tasks.items()
            if t.name and "risky" in t.name and (t.timestamp or 0) >= t0 + (t1 - t0) / 2 - 1
        }
        await pilot.press("slash")
        await pilot.press(*f"name:risky since:{since}", "enter")
        await until(pilot, lambda: "more from the journal" in screen_text(app), what="search")
        shown = set(tasks.table._rows)
        assert shown and shown <= wanted
        assert f"{len(tasks.journal_tasks):,} more from the journal" in screen_text(app)
        assert set(tasks.journal_tasks) == shown
