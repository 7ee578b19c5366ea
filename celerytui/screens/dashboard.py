"""Screen 1, the dashboard: alerts, workers, checks, throughput and the newest tasks."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer

from celerytui.core.model import Changes
from celerytui.screens import ClusterScreen
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.checks_panel import ChecksPanel
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.task_tail import TaskTail
from celerytui.widgets.throughput import Throughput
from celerytui.widgets.worker_grid import WorkerGrid


class DashboardScreen(ClusterScreen):
    """Everything at a glance; every part redraws only what changed."""

    TITLE = "Dashboard"

    def __init__(self) -> None:
        super().__init__()
        self._second = -1

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        with Horizontal(id="dash-top"):
            with Vertical(id="workers-box", classes="box") as box:
                box.border_title = "Workers"
                yield WorkerGrid()
            with Vertical(id="checks-box", classes="box") as box:
                box.border_title = "Checks"
                yield ChecksPanel()
        with Vertical(id="throughput-box", classes="box") as box:
            box.border_title = "Throughput"
            yield Throughput()
        with Vertical(id="tail-box", classes="box") as box:
            box.border_title = "Newest tasks"
            yield TaskTail()
        yield Footer()

    def on_resize(self) -> None:
        wide = self.size.width >= 120
        self.query_one("#checks-box").styles.width = 64 if wide else 40

    def refresh_view(self, monitor: Any, changes: Changes | None) -> None:
        state = monitor.state
        app = self.app
        now = app.now()
        second = int(now)
        new_second = second != self._second
        self._second = second
        self.query_one(WorkerGrid).show(
            state.workers, lambda host: state.worker_series(host, 60), now,
            None if changes is None else changes.workers)
        if changes is None or changes.checks or new_second:
            settings = app.settings
            self.query_one(ChecksPanel).show(
                state.http_checks, state.disk_checks, settings.http_targets,
                [h.name for h in settings.disk_hosts], now,
                settings.thresholds.disk_percent)
        if changes is None or new_second:
            throughput = self.query_one(Throughput)
            self.query_one(Throughput).show(state.throughput(throughput.width_wanted() + 1))
        if changes is None:
            self.query_one(TaskTail).show(state.tasks, None, (), (), app.format_time)
        elif changes.tasks or changes.removed_tasks:
            self.query_one(TaskTail).show(state.tasks, changes.tasks, changes.new_tasks,
                                          changes.removed_tasks, app.format_time)

    def selected_task(self) -> str | None:
        return self.query_one(TaskTail).selected_uuid()

    @on(DataTable.RowSelected)
    def _open_task(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.show_task(str(event.row_key.value))
