"""Screen 2, Tasks: every kept task through a filter, sorted, following the newest."""

from __future__ import annotations

from collections import ChainMap

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from celerytui.core.filters import FilterError, time_bounds
from celerytui.core.model import Changes, Task
from celerytui.core.monitor_view import MonitorView
from celerytui.redaction import one_line
from celerytui.screens.journal_lookup import JournalLookup
from celerytui.screens.live import LiveScreen
from celerytui.screens.task_actions import TASK_ACTION_BINDINGS, TaskActions
from celerytui.text_safety import literal_content
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.task_table import COLUMNS, TaskTable

FILTER_DELAY = 0.25  # seconds of typing quiet before a rescan
JOURNAL_ROWS = 2_000  # tasks a since:/until: search reads from the journal
HEADINGS = {key: heading for key, heading, _f in COLUMNS}


class TasksScreen(TaskActions, LiveScreen):
    """The live task table; ``/`` filters, ``s``/``r`` sort, ``f`` follows the newest."""

    TITLE = "Tasks"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="tasks-filter", key_display="/"),
        Binding("s", "cycle_sort", "Sort", id="tasks-sort"),
        Binding("r", "reverse_sort", "Reverse", id="tasks-reverse"),
        Binding("f", "toggle_follow", "Follow", id="tasks-follow"),
        Binding("escape", "clear_filter", "Clear filter", id="tasks-clear", show=False),
        *TASK_ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self.filter_error: str | None = None
        self._timer: Timer | None = None
        # a since:/until: search also asks the journal (off the event loop): the tasks it
        # found that memory does not hold, oldest first, and what the status line says of it
        self.journal_tasks: dict[str, Task] = {}
        self.journal_note = ""

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        yield Static("", id="tasks-status", classes="screen-status")
        yield TaskTable(id="task-table")
        yield Input(
            placeholder="filter: regex, name: state: worker: args: queue: since: until:, ! negates",
            id="tasks-filter-input",
            classes="filter-input",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tasks-filter-input").display = False
        self._show_status()

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    # -- live ------------------------------------------------------------------------------
    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        if changes is not None and not (changes.tasks or changes.removed_tasks):
            return
        tasks = monitor.state.tasks
        if changes is None:
            self.table.rescan(self._all_tasks(tasks), self.app.format_time)
        else:
            merged = ChainMap(tasks, self.journal_tasks) if self.journal_tasks else tasks
            self.table.apply(merged, changes.tasks, changes.removed_tasks, self.app.format_time)
        self._show_status()

    def _show_status(self) -> None:
        table = self.table
        arrow = "↓" if table.sort_reverse else "↑"
        if self.filter_text:
            parts = [f"{table.row_count} shown of {table.matching:,} matching {self.filter_text}"]
        else:
            kept = len(self.app.monitor.state.tasks)
            parts = [f"{table.row_count} newest of {kept:,} kept"]
        if self.journal_note:
            parts.append(f"· {self.journal_note}")
        parts.append(f"· sort {HEADINGS[table.sort_column]} {arrow}")
        parts.append("· follow on" if table.follow else "· follow off")
        text = literal_content(" ".join(parts))
        if self.filter_error:
            text = literal_content(self.filter_error, style="bold $error")
        self.query_one("#tasks-status", Static).update(text)

    # -- filter ----------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#tasks-filter-input", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    @on(Input.Changed, "#tasks-filter-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(FILTER_DELAY, lambda: self.apply_filter(event.value))

    @on(Input.Submitted, "#tasks-filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self.apply_filter(event.value):
            event.input.display = False
            self.table.focus()

    def apply_filter(self, expr: str) -> bool:
        """Rescan every kept task with ``expr``; a bad filter shows its one-line error."""
        expr = expr.strip()
        monitor = self.app.monitor
        try:
            bounded = time_bounds(expr) != (None, None)
            with monitor.lock, self.app.batch_update():
                self.table.set_filter(expr, monitor.state.tasks, self.app.format_time)
        except FilterError as exc:
            self.filter_error = f"filter error: {exc}"
            self._show_status()
            return False
        self.filter_text = expr
        self.filter_error = None
        self.journal_tasks = {}
        journal = self.app.journal
        self.journal_note = "searching the journal…" if bounded and journal else ""
        if bounded and journal is not None:
            self._search_journal(journal, expr)
        self._show_status()
        return True

    # -- the journal: tasks older than the in-memory window ---------------------------------
    def _all_tasks(self, tasks: dict[str, Task]) -> dict[str, Task]:
        return {**self.journal_tasks, **tasks} if self.journal_tasks else tasks

    @work(thread=True, exclusive=True, group="tasks-journal", exit_on_error=False)
    def _search_journal(self, journal: JournalLookup, expr: str) -> None:
        try:
            found, note = journal.search(expr, JOURNAL_ROWS), None
        except Exception as exc:  # the live table stays; the status says why
            found, note = [], f"journal: {one_line(exc)}"
        self.app.call_from_thread(self._show_journal, expr, found, note)

    def _show_journal(self, expr: str, found: list[Task], note: str | None) -> None:
        if expr != self.filter_text:
            return  # the filter moved on meanwhile
        monitor = self.app.monitor
        with monitor.lock, self.app.batch_update():
            older = [t for t in reversed(found) if t.uuid not in monitor.state.tasks]
            for index, task in enumerate(older):  # older than any kept task, in their order
                task.seq = index - len(older)
            self.journal_tasks = {t.uuid: t for t in older}
            self.table.rescan(self._all_tasks(monitor.state.tasks), self.app.format_time)
        self.journal_note = note or f"{len(older):,} more from the journal"
        self._show_status()

    def action_clear_filter(self) -> None:
        box = self.query_one("#tasks-filter-input", Input)
        if box.display:
            box.display = False
            self.filter_error = None
            self.table.focus()
            self._show_status()
            return
        if self.filter_text:
            self.apply_filter("")

    # -- sort, follow, select ----------------------------------------------------------------
    def action_cycle_sort(self) -> None:
        self.table.cycle_sort()
        self._show_status()

    def action_reverse_sort(self) -> None:
        self.table.toggle_reverse()
        self._show_status()

    def action_toggle_follow(self) -> None:
        table = self.table
        table.follow = not table.follow
        if table.follow:
            table.follow_newest()
        self._show_status()

    def selected_task(self) -> str | None:
        return self.table.selected_uuid()
