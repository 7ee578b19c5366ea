"""Screen 1, the dashboard: alerts, workers, checks, throughput and the newest tasks."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from celerytui.core.model import Changes
from celerytui.core.monitor_view import MonitorView
from celerytui.screens import ClusterScreen
from celerytui.text_safety import literal
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.checks_panel import ChecksPanel
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.task_tail import TAIL_ROWS, TaskTail
from celerytui.widgets.throughput import Throughput
from celerytui.widgets.worker_grid import WorkerGrid

TAIL_CALM = 20  # changed + new tasks per tick that the tail applies at once
# seconds between tail redraws when more arrive: in a flood each is a rebuild of the window
# (100 rows) and a repaint of every row in view, the costliest frame of the dashboard (0.3 s
# made it three a second); twice a second keeps the newest tasks well under a second old
TAIL_INTERVAL = 0.5


class DashboardScreen(ClusterScreen):
    """Everything at a glance; every part redraws only what changed."""

    TITLE = "Dashboard"

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._tail_pending = Changes()
        self._tail_drawn = 0.0
        self._workers = WorkerGrid()
        self._checks = ChecksPanel()
        self._throughput = Throughput()
        self._tail = TaskTail()

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        with Horizontal(id="dash-top"):
            with Vertical(id="workers-box", classes="box") as box:
                box.border_title = "Workers"
                yield self._workers
            with Vertical(id="checks-box", classes="box") as box:
                box.border_title = "Checks"
                yield self._checks
        with Vertical(id="throughput-box", classes="box") as box:
            box.border_title = "Throughput"
            yield self._throughput
        with Vertical(id="tail-box", classes="box") as box:
            box.border_title = "Newest tasks"
            yield self._tail
        notice = self.app.notice
        if notice:
            yield Static(literal(notice), id="notice")
        yield Footer()

    def on_resize(self) -> None:
        wide = self.size.width >= 120
        self.query_one("#checks-box").styles.width = 64 if wide else 40

    def refresh_view(self, monitor: MonitorView, changes: Changes | None) -> None:
        state = monitor.state
        app = self.app
        now = app.now()
        second = int(now)
        new_second = second != self._second
        self._second = second
        self._workers.show(
            state.workers,
            lambda host: state.worker_series(host, 60),
            now,
            None if changes is None else changes.workers,
        )
        if changes is None or changes.checks or new_second or self._checks.stale:
            settings = app.settings
            self._checks.show(
                state.http_checks,
                state.disk_checks,
                settings.http_targets,
                [h.name for h in settings.disk_hosts],
                now,
                settings.thresholds.disk_percent,
            )
        if changes is None or new_second or self._throughput.stale:
            throughput = self._throughput
            throughput.show(state.throughput(throughput.width_wanted() + 1))
        self._refresh_tail(state, changes)

    def _refresh_tail(self, state: Any, changes: Changes | None) -> None:
        """The tail at every tick while calm; at most TAIL_INTERVAL apart in a flood."""
        tail = self._tail
        if changes is None:
            self._tail_pending = Changes()
            self._tail_drawn = time.monotonic()
            tail.show(state.tasks, None, (), (), self.app.format_time)
            return
        pending = self._tail_pending
        pending.tasks |= changes.tasks
        pending.new_tasks.extend(changes.new_tasks)
        pending.removed_tasks |= changes.removed_tasks
        if not (pending.tasks or pending.removed_tasks):
            return
        calm = len(pending.new_tasks) + len(pending.tasks) <= TAIL_CALM
        if not calm and time.monotonic() - self._tail_drawn < TAIL_INTERVAL:
            return
        self._tail_pending = Changes()
        self._tail_drawn = time.monotonic()
        tail.show(
            state.tasks,
            pending.tasks,
            pending.new_tasks[-TAIL_ROWS:],
            pending.removed_tasks,
            self.app.format_time,
        )

    def selected_task(self) -> str | None:
        return self._tail.selected_uuid()
