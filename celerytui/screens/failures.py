"""Screen 3, Failures: failed and retried tasks, newest first; enter shows the traceback.

Below the live table, the journal's failures from before this session (marked as history:
a section of their own, with its heading), read once in a thread worker when the screen
first shows.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from celerytui.core.model import Changes, Task
from celerytui.core.monitor_view import MonitorView
from celerytui.redaction import one_line
from celerytui.screens.journal_lookup import JournalLookup
from celerytui.screens.live import LiveScreen
from celerytui.screens.task_actions import TASK_ACTION_BINDINGS, TaskActions
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.failure_table import FailureTable
from celerytui.widgets.header_bar import HeaderBar

HISTORY_ROWS = 500  # failures read from the journal, newest first


class FailuresScreen(TaskActions, LiveScreen):
    """The state's failures ring as a table; ``enter`` opens the task at its traceback."""

    TITLE = "Failures"
    BINDINGS = [*TASK_ACTION_BINDINGS]

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, Task] = {}  # from the journal, before this session
        self._history_asked = False

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        yield Static("no failures yet", id="failures-status", classes="screen-status")
        yield FailureTable(id="failure-table")
        yield Static("", id="failures-history-status", classes="screen-status")
        yield FailureTable(id="failure-history")
        yield Footer()

    def on_mount(self) -> None:
        for node in (self._history_table, self.query_one("#failures-history-status")):
            node.display = False

    @property
    def _history_table(self) -> FailureTable:
        return self.query_one("#failure-history", FailureTable)

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        if not self._history_asked:
            self._history_asked = True
            journal = self.app.journal
            if journal is not None:
                self._read_history(journal, self.app.now())
        table = self.query_one("#failure-table", FailureTable)
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

    # -- history: the journal's failures from before this session ----------------------------
    @work(thread=True, exclusive=True, group="failures-history", exit_on_error=False)
    def _read_history(self, journal: JournalLookup, before: float) -> None:
        try:
            found, problem = journal.failures(before, HISTORY_ROWS), None
        except Exception as exc:  # a journal problem leaves the live table alone
            found, problem = [], f"journal: {one_line(exc)}"
        self.app.call_from_thread(self._show_history, found, problem)

    def _show_history(self, found: list[Task], problem: str | None) -> None:
        """UI thread: the journal's answer (no journal recorded yet: nothing shown)."""
        live = self.app.monitor.state.tasks
        self.history = {t.uuid: t for t in reversed(found) if t.uuid not in live}  # oldest first
        status = self.query_one("#failures-history-status", Static)
        table = self._history_table
        if not self.history:
            status.update(problem or "")
            status.display, table.display = bool(problem), False
            return
        table.show(self.history, list(self.history), self.app.format_time)
        failed = sum(1 for t in self.history.values() if t.state == "FAILURE")
        status.update(
            f"history — from the journal, before this session: {failed} failed, "
            f"{len(self.history) - failed} retried"
        )
        status.display = table.display = True

    def selected_task(self) -> str | None:
        if self._history_table.has_focus:
            return self._history_table.selected_uuid()
        return self.query_one("#failure-table", FailureTable).selected_uuid()
