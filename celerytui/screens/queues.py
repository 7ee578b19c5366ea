"""Screen 5, Queues: how many messages wait where, for how long (the oldest task sent and not
received, from events), who consumes them; ``P`` purges one."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from celerytui.core.model import Changes
from celerytui.core.monitor_view import MonitorView
from celerytui.screens.dialogs import ConfirmDialog
from celerytui.screens.live import LiveScreen
from celerytui.screens.read_only import MUTATING_ACTIONS, ReadOnlyKeys
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.queue_table import QueueTable


class QueuesScreen(ReadOnlyKeys, LiveScreen):
    """Queue depths as the monitor's poller last saw them (every few seconds)."""

    TITLE = "Queues"
    BINDINGS = [Binding("P", "purge_queue", "Purge queue", id="queue-purge")]

    def __init__(self) -> None:
        super().__init__()
        self._depths: object = None
        self._waits: object = None

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield AlertBanner()
        yield Static(
            "asking the broker for queue depths…", id="queues-status", classes="screen-status"
        )
        yield QueueTable(id="queue-table")
        yield Footer()

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        depths = monitor.queue_depths or []
        waits = monitor.queue_waits  # replaced whole once a second
        same = depths is self._depths and waits is self._waits
        if changes is not None and same and not changes.workers:
            return
        self._depths, self._waits = depths, waits
        self.query_one(QueueTable).show(
            depths, monitor.queue_history, monitor.state.workers, waits, self.app.now()
        )
        if depths:
            waiting = sum(d.messages for d in depths)
            queues = "1 queue" if len(depths) == 1 else f"{len(depths)} queues"
            messages = "1 message" if waiting == 1 else f"{waiting:,} messages"
            text = f"{queues}, {messages} waiting · polled every few s"
            if not waits.known:
                text += " · oldest wait ?: no task-sent events (task_send_sent_event off?)"
        else:
            text = "no queue depths yet (the broker is polled every few seconds)"
        self.query_one("#queues-status", Static).update(text)

    def action_purge_queue(self) -> None:
        name = self.query_one(QueueTable).selected_queue()
        if name is None:
            self.app.notify("no queue selected", severity="warning")
            return
        if self.app.refuse_if_read_only(MUTATING_ACTIONS["purge_queue"], sends_message=False):
            return

        def purged(count: Any) -> None:
            self.app.notify(f"purged {count} message(s) from {name}", markup=False)

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.controller_call("purge", name, label=f"purge {name}", on_done=purged)

        self.app.push_screen(
            ConfirmDialog(f"Delete every message waiting in queue {name}?"), answered
        )
