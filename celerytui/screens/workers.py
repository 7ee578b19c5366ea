"""Screen 4, Workers: every worker in a table; enter opens its detail (from inspect)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Static

from celerytui.core.model import WORKER_ONLINE, Changes
from celerytui.core.monitor_view import MonitorView
from celerytui.screens.live import LiveScreen
from celerytui.screens.worker_actions import WORKER_ACTION_BINDINGS, WorkerActions
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.worker_table import WorkerTable


class WorkersScreen(WorkerActions, LiveScreen):
    """The worker table, live; remote-control keys act on the selected worker."""

    TITLE = "Workers"
    BINDINGS = [*WORKER_ACTION_BINDINGS]

    def __init__(self) -> None:
        super().__init__()
        self._second = -1

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        yield Static("no workers seen yet", id="workers-status", classes="screen-status")
        yield WorkerTable(id="worker-table")
        yield Footer()

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        now = self.app.now()
        second = int(now)
        workers = monitor.state.workers
        if changes is None or second != self._second:
            changed = None  # heartbeat ages move every second
        elif changes.workers:
            changed = changes.workers
        else:
            return
        self._second = second
        self.query_one(WorkerTable).show(workers, now, changed)
        online = sum(1 for w in workers.values() if w.status == WORKER_ONLINE)
        text = (
            f"{online} of {len(workers)} online · enter: details (inspect)"
            if workers
            else "no workers seen yet"
        )
        quiet = sum(1 for w in workers.values() if w.heartbeats_off)
        if quiet:
            text += f" · heartbeats off on {quiet}: counts from inspect stats"
        self.query_one("#workers-status", Static).update(text)

    def selected_worker(self) -> str | None:
        return self.query_one(WorkerTable).selected_hostname()
