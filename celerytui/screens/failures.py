"""Screen 3, Failures: failed and retried tasks, newest first; enter shows the traceback."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Static

from celerytui.core.model import Changes
from celerytui.core.monitor_view import MonitorView
from celerytui.screens.live import LiveScreen
from celerytui.screens.task_actions import TASK_ACTION_BINDINGS, TaskActions
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.failure_table import FailureTable
from celerytui.widgets.header_bar import HeaderBar


class FailuresScreen(TaskActions, LiveScreen):
    """The state's failures ring as a table; ``enter`` opens the task at its traceback."""

    TITLE = "Failures"
    BINDINGS = [*TASK_ACTION_BINDINGS]

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        yield Static("no failures yet", id="failures-status", classes="screen-status")
        yield FailureTable(id="failure-table")
        yield Footer()

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        table = self.query_one(FailureTable)
        state = monitor.state
        if changes is not None and not (
            changes.new_failures
            or changes.new_retries
            or changes.removed_tasks
            or table.shows(changes.tasks)
        ):
            return
        table.show(state.tasks, state.failures, self.app.format_time)
        states = table.states()
        failed = states.count("FAILURE")
        refused = states.count("REJECTED")  # a worker refused the message (e.g. its signature)
        retried = len(states) - failed - refused
        also = f", {refused} rejected" if refused else ""
        text = (
            (
                f"{failed} failed, {retried} retrying or retried{also} · newest first · "
                "enter: full traceback"
            )
            if table.row_count
            else "no failures yet"
        )
        self.query_one("#failures-status", Static).update(text)

    def selected_task(self) -> str | None:
        return self.query_one(FailureTable).selected_uuid()
